"""moto fixtures: a real moto server (never a mock of boto3) and the seeded sandbox estate.

- ``moto_endpoint`` (session): an in-process ``ThreadedMotoServer``; its endpoint URL.
- ``moto_reset`` (function): wipes that server (``POST /moto-api/reset``) before the test and
  returns the endpoint. moto keeps state in process globals, so every in-process server
  shares it: tests that build their own resources use this.
- ``sandbox`` (session): the sandbox estate seeded once into a moto server in a child process,
  which no ``moto_reset`` can wipe; returns ``(endpoint_url, manifest)``. Treat it as shared:
  a test that changes a sandbox resource must own that resource (no other test reads it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from adapters.aws.sandbox import SandboxManifest


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
    from adapters.aws.moto_server import start_moto_process

    process = start_moto_process(seed_now=datetime.now(UTC))
    assert process.manifest is not None
    yield process.endpoint_url, process.manifest
    process.stop()
