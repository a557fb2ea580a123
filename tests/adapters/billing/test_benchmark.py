"""The normalization benchmark runs end to end at a small size (CI runs the full size)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "normalize_billing.py"
FIGURES = re.compile(
    r"from (csv|parquet)\s*: ([\d,]+) rows in [\d.]+s = ([\d,]+) rows/s"
    r".*peak RSS ([\d,]+) MiB"
)


def test_benchmark_prints_rate_and_memory_for_csv_and_parquet(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(BENCHMARK),
            "--rows",
            "5000",
            "--work-dir",
            str(tmp_path),
            "--no-fail",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = {match.group(1): match for match in FIGURES.finditer(result.stdout)}
    assert set(lines) == {"csv", "parquet"}, result.stdout
    for match in lines.values():
        assert match.group(2) == "5,000"
        assert int(match.group(3).replace(",", "")) > 0
        assert 0 < int(match.group(4).replace(",", "")) < 1024
    # Inputs are generated once and reused.
    assert sorted(p.suffix for p in tmp_path.glob("cur-5000.*")) == [".csv", ".done", ".parquet"]
