"""moto fixtures: a real moto server (never a mock of boto3) and the seeded sandbox estate.

- ``moto_endpoint`` (session): an in-process ``ThreadedMotoServer``; its endpoint URL.
- ``moto_reset`` (function): wipes that server (``POST /moto-api/reset``) before the test and
  returns the endpoint. moto keeps state in process globals, so every in-process server
  shares it: tests that build their own resources use this.
- ``sandbox`` (session): the sandbox estate seeded once into a moto server in a child process,
  which no ``moto_reset`` can wipe; returns ``(endpoint_url, manifest)``. Treat it as shared:
  a test that changes a sandbox resource must own that resource (no other test reads it).

When the collected tests use ``sandbox``, the child process starts seeding right after
collection, on the other core, while the first tests run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from adapters.aws.moto_server import PendingMotoProcess
    from adapters.aws.sandbox import SandboxManifest

_pending: list[PendingMotoProcess] = []


def _spawn_sandbox() -> PendingMotoProcess:
    from adapters.aws.moto_server import spawn_moto_process

    if not _pending:
        _pending.append(spawn_moto_process(seed_now=datetime.now(UTC)))
    return _pending[0]


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Start seeding the sandbox early when any collected test needs it."""
    if any("sandbox" in getattr(item, "fixturenames", ()) for item in items):
        _spawn_sandbox()


def pytest_unconfigure() -> None:
    """Stop a sandbox process that was started but never used."""
    for pending in _pending:
        pending.stop()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start one in-process moto server for the session; yield its endpoint URL."""
    from adapters.aws.moto_server import start_moto_server

    server, endpoint_url = start_moto_server()
    yield endpoint_url
    server.stop()


@pytest.fixture
def moto_reset(moto_endpoint: str) -> str:
    """Wipe the in-process moto server before the test; return its endpoint URL."""
    response = requests.post(f"{moto_endpoint}/moto-api/reset", timeout=30)
    response.raise_for_status()
    return moto_endpoint


@pytest.fixture(scope="session")
def sandbox() -> Iterator[tuple[str, SandboxManifest]]:
    """The sandbox estate, seeded once in a dedicated moto child process."""
    process = _spawn_sandbox().wait(timeout=180)
    assert process.manifest is not None
    yield process.endpoint_url, process.manifest
    process.stop()
