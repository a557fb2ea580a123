"""Normalization benchmark: the AWS CUR sample replicated to N rows, CSV and Parquet to FOCUS.

Usage::

    uv run python benchmarks/normalize_billing.py              # 10,000,000 rows
    uv run python benchmarks/normalize_billing.py --rows 500000

The public legacy-CUR sample (1,281 rows, 94 columns) is replicated to ``--rows`` rows, each
replica with its own line-item IDs and shifted by whole months so the output spans several
billing periods. The inputs are generated once per size under ``--work-dir`` (default: a
folder in the system temp dir) and reused by later runs.

Each case runs in a fresh child process that converts with ``aws_cur.to_focus`` and writes
partitioned Parquet with ``write_focus``: the time covers reading, converting and writing.
Peak memory is the child's maximum resident set size (``getrusage``), so each case is measured
alone. Targets (issue #7): >= 250,000 rows/s from CSV, >= 1,000,000 rows/s from Parquet, and
peak memory under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

REPO = Path(__file__).resolve().parent.parent
SAMPLE_NAME = "sample-anonymous-aws-export-dataset.csv"
SAMPLE_CANDIDATES = (
    REPO / "tests" / "data" / "billing" / "aws" / SAMPLE_NAME,
    REPO.parent
    / "shared"
    / "data"
    / "billing"
    / "focus-converters"
    / "aws-cur-legacy"
    / SAMPLE_NAME,
)
TARGETS = {"csv": 250_000, "parquet": 1_000_000}
MEMORY_TARGET_MIB = 1024
REPLICAS_PER_BATCH = 200


def find_sample() -> Path:
    """The CUR sample file: the repo's test copy, or the shared data folder."""
    for candidate in SAMPLE_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise SystemExit(f"CUR sample not found; looked in: {[str(c) for c in SAMPLE_CANDIDATES]}")


def generate(rows: int, work_dir: Path) -> dict[str, Path]:
    """Write the replicated CSV and Parquet inputs (once per size) and return their paths."""
    import polars as pl
    import pyarrow.parquet as pq

    csv_path = work_dir / f"cur-{rows}.csv"
    parquet_path = work_dir / f"cur-{rows}.parquet"
    done = work_dir / f"cur-{rows}.v2.done"
    if done.exists() and csv_path.exists() and parquet_path.exists():
        return {"csv": csv_path, "parquet": parquet_path}

    work_dir.mkdir(parents=True, exist_ok=True)
    sample = pl.read_csv(find_sample(), infer_schema=False)
    time_columns = [
        c for c in sample.columns if c.endswith(("Date", "StartDate", "EndDate")) and "/" in c
    ]
    replicas_needed = -(-rows // sample.height)
    written = 0
    writer: pq.ParquetWriter | None = None
    started = time.perf_counter()
    with csv_path.open("wb") as csv_file:
        for first in range(0, replicas_needed, REPLICAS_PER_BATCH):
            count = min(REPLICAS_PER_BATCH, replicas_needed - first)
            batch = _replicate(sample, first, count, time_columns)
            batch = batch.head(rows - written)
            batch.write_csv(csv_file, include_header=written == 0)
            table = batch.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(parquet_path, table.schema, compression="zstd")
            # Row groups of 64k rows, like AWS's own CUR Parquet files (tens of MB each).
            writer.write_table(table, row_group_size=65_536)
            written += batch.height
    if writer is not None:
        writer.close()
    done.write_text(str(written))
    print(
        f"generated {written:,} rows in {time.perf_counter() - started:.1f}s: "
        f"CSV {csv_path.stat().st_size / 2**30:.2f} GiB, "
        f"Parquet {parquet_path.stat().st_size / 2**20:.0f} MiB",
        flush=True,
    )
    return {"csv": csv_path, "parquet": parquet_path}


def _replicate(
    sample: pl.DataFrame, first: int, count: int, time_columns: list[str]
) -> pl.DataFrame:
    """``count`` copies of the sample; copy r gets new IDs and is shifted by r % 6 months."""
    import polars as pl

    replica = pl.DataFrame({"_r": pl.arange(first, first + count, eager=True)})
    frame = sample.join(replica, how="cross")
    months = pl.format("{}mo", pl.col("_r") % 6)
    shifted = [
        pl.col(c)
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", strict=False)
        .dt.offset_by(months)
        .dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        .alias(c)
        for c in time_columns
    ]
    return frame.with_columns(
        *shifted,
        (pl.col("identity/LineItemId") + pl.lit("-") + pl.col("_r").cast(pl.String)).alias(
            "identity/LineItemId"
        ),
    ).drop("_r")


def run_case(fmt: str, source: Path, out_dir: Path) -> dict[str, float]:
    """Convert ``source`` and write Parquet output; runs inside the measuring child."""
    sys.path.insert(0, str(REPO))
    import polars as pl

    from adapters.billing import aws_cur
    from adapters.billing.writer import write_focus

    started = time.perf_counter()
    files = write_focus(aws_cur.to_focus(source), out_dir, "parquet", name="bench")
    seconds = time.perf_counter() - started
    rows = pl.scan_parquet(files).select(pl.len()).collect().item()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mib": peak_rss_mib(),
        "files": len(files),
    }


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB.

    /proc's VmHWM is per process image; getrusage's ru_maxrss survives exec on Linux and would
    report the parent's peak (the input generator) for a child started right after it.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fmt: str, source: Path, work_dir: Path) -> dict[str, float]:
    """Run one case in a fresh process and return its figures."""
    out_dir = work_dir / f"out-{fmt}"
    shutil.rmtree(out_dir, ignore_errors=True)
    command = [sys.executable, __file__, "--child", fmt, str(source), str(out_dir)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    shutil.rmtree(out_dir, ignore_errors=True)
    if result.returncode != 0:
        raise SystemExit(f"{fmt} case failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Generate inputs, measure both cases, print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows to replicate to")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fintropy-bench-billing",
        help="where the generated inputs are kept between runs",
    )
    parser.add_argument(
        "--no-fail", action="store_true", help="exit 0 even when a target is missed"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        fmt, source, out_dir = args.child
        print(json.dumps(run_case(fmt, Path(source), Path(out_dir))))
        return 0

    inputs = generate(args.rows, args.work_dir)
    missed = []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"normalize_billing: AWS CUR sample replicated to {args.rows:,} rows; "
        f"{os.cpu_count()} CPUs, load average {load:.1f} at start"
    )
    for fmt in ("csv", "parquet"):
        figures = measure(fmt, inputs[fmt], args.work_dir)
        rate = figures["rows"] / figures["seconds"]
        ok_rate = rate >= TARGETS[fmt]
        ok_memory = figures["peak_mib"] < MEMORY_TARGET_MIB
        print(
            f"  from {fmt:<7}: {figures['rows']:,.0f} rows in {figures['seconds']:.2f}s = "
            f"{rate:,.0f} rows/s (target {TARGETS[fmt]:,}: {'ok' if ok_rate else 'MISSED'}); "
            f"peak RSS {figures['peak_mib']:,.0f} MiB "
            f"(target < {MEMORY_TARGET_MIB}: {'ok' if ok_memory else 'MISSED'}); "
            f"CPU {figures['cpu_seconds']:.1f}s; {figures['files']:.0f} output files",
            flush=True,
        )
        if not (ok_rate and ok_memory):
            missed.append(fmt)
    return 1 if missed and not args.no_fail else 0


if __name__ == "__main__":
    sys.exit(main())
