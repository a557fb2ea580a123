"""Red-team fixtures: a sandbox estate of our own, seeded while collection finishes.

The red team deletes and restores sandbox resources, so it never shares the session's
``sandbox`` with the read-only inventory tests: it gets its own moto child process. Seeding
takes ~15 s, so the child starts right after collection (when any red-team test needs it) and
seeds on the other core while the first tests run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

_pending: list[Any] = []


def _spawn() -> Any:
    from adapters.aws.moto_server import spawn_moto_process

    if not _pending:
        _pending.append(spawn_moto_process(seed_now=datetime.now(UTC)))
    return _pending[0]


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Start seeding the red team's sandbox early when a collected test needs it."""
    if any("redteam_sandbox" in getattr(item, "fixturenames", ()) for item in items):
        _spawn()


def pytest_unconfigure() -> None:
    """Stop a sandbox child that was started but never used."""
    for pending in _pending:
        pending.stop()


@pytest.fixture(scope="session")
def redteam_sandbox() -> Iterator[Any]:
    """A seeded sandbox estate (``MotoProcess``: ``endpoint_url`` and ``manifest``) to mutate."""
    process = _spawn().wait(timeout=180)
    assert process.manifest is not None
    yield process
    process.stop()
