"""Database URLs and the embedded server used when DATABASE_URL is unset."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from fintropy.errors import ConfigError
from fintropy.persistence import db, migrate
from fintropy.settings import Settings


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/x",
            "postgresql+psycopg://postgres:@/postgres?host=%2Ftmp%2Fx",
        ),
    ],
)
def test_urls_are_normalised_to_psycopg(given: str, expected: str) -> None:
    assert db.normalize_url(given) == expected


def test_non_postgres_url_is_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError, match="must point at PostgreSQL, not 'sqlite'") as caught:
        db.normalize_url("sqlite:///fintropy.db")

    assert "unset DATABASE_URL" in caught.value.remediation


def test_database_url_wins_over_the_embedded_server(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql://u@h/d", data_dir=tmp_path, card_token_secret="x")

    assert db.resolve_database_url(settings) == "postgresql+psycopg://u@h/d"
    assert not (tmp_path / "pgdata").exists()


def test_embedded_server_starts_migrates_and_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unset for the test, restored afterwards (setenv first, so monkeypatch records it).
    monkeypatch.setenv("XDG_RUNTIME_DIR", "placeholder")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    settings = Settings(database_url=None, data_dir=tmp_path / "data", card_token_secret="x")

    url = db.resolve_database_url(settings)
    try:
        migrate.upgrade(url)
        engine = db.create_engine_for(url)
        with engine.connect() as connection:
            role = connection.execute(text("SELECT current_user")).scalar_one()
        engine.dispose()
    finally:
        db.stop_embedded_server()

    assert url.startswith("postgresql+psycopg://postgres")
    assert role == "fintropy_app"
    assert (tmp_path / "data" / "pgdata" / "PG_VERSION").exists()
