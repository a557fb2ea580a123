"""Fixtures for the Teams tests: the recording connector, a fake backend, the served bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from aiohttp import test_utils

from bot.service import build_web_app
from bot.teams.app import TeamsApp, build_teams_app
from bot.teams.config import TeamsConfig
from bot.teams.store import MemoryConversationStore
from tests.bot.teams.support import TOKEN_SECRET, FakeBackend, RecordingConnector


@pytest.fixture(scope="session")
def connector_server() -> Iterator[RecordingConnector]:
    server = RecordingConnector().start()
    yield server
    server.stop()


@pytest.fixture
def connector(connector_server: RecordingConnector) -> RecordingConnector:
    connector_server.clear()
    return connector_server


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def store() -> MemoryConversationStore:
    return MemoryConversationStore()


@pytest.fixture
def teams_app(backend: FakeBackend, store: MemoryConversationStore) -> TeamsApp:
    return build_teams_app(
        backend,
        config=TeamsConfig(),
        token_secret=TOKEN_SECRET,
        store=store,
        retry_delays=(0.01, 0.01),
    )


@pytest_asyncio.fixture
async def http(teams_app: TeamsApp) -> AsyncIterator[test_utils.TestClient]:
    client = test_utils.TestClient(
        test_utils.TestServer(build_web_app(None, teams_handler=teams_app.handle))
    )
    await client.start_server()
    yield client
    await client.close()
