"""The command line: fast start-up, clear errors, and the commands that need no server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = (
    "boto3",
    "botocore",
    "temporalio",
    "sqlalchemy",
    "moto",
    "slack_bolt",
    "polars",
    "psycopg",
    "aiohttp",
)

PROBE = f"""
import sys
sys.argv = ["fintropy"] + sys.argv[1:]
from fintropy.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))
print("HEAVY=" + ",".join(heavy))
"""


def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_help_lists_commands_without_importing_sdks():
    done = _run("--help")

    assert done.returncode == 0, done.stderr
    for command in (
        "demo",
        "serve",
        "scan",
        "findings",
        "show",
        "approve",
        "reject",
        "audit",
        "rules",
    ):
        assert command in done.stdout
    assert "HEAVY=\n" in done.stdout or done.stdout.rstrip().endswith("HEAVY=")


def test_findings_lists_json_from_the_database(database_url, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fintropy.cli", "findings", "--tenant", "nobody", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": database_url, "FINTROPY_DATA_DIR": str(tmp_path)},
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_scan_without_a_service_says_how_to_start_one(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fintropy.cli", "scan"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FINTROPY_DATA_DIR": str(tmp_path), "TEMPORAL_ADDRESS": ""},
    )

    assert done.returncode == 2
    assert "fintropy serve" in done.stdout + done.stderr


def test_audit_of_unknown_finding_is_a_clear_error(database_url, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "fintropy.cli", "audit", "f-000000000000", "--tenant", "nobody"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": database_url, "FINTROPY_DATA_DIR": str(tmp_path)},
    )

    assert done.returncode == 2
    assert "No audit events for f-000000000000" in done.stderr
