"""How long `fintropy --help` takes (target: under 0.5 s), over repeated runs.

Run: `.venv/bin/python benchmarks/cli_startup.py [--runs N] [--ci]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--ci", action="store_true", help="CI mode (same as the default)")
    args = parser.parse_args()
    exe = os.path.join(os.path.dirname(sys.executable), "fintropy")
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([exe, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(
        f"fintropy --help: median {median * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"over {args.runs} runs (target < 500 ms): {'OK' if median < 0.5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
