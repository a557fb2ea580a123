"""Settings: prefixed and well-known variables, derived paths, the persisted card secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fintropy.settings import CARD_TOKEN_SECRET_FILE, Settings, get_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "DATABASE_URL",
        "TEMPORAL_ADDRESS",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "FINTROPY_CARD_TOKEN_SECRET",
        "FINTROPY_TASK_QUEUE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FINTROPY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)  # no stray .env from the working tree


def test_well_known_variables_are_read_unprefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/fintropy")
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "shh")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api/")
    monkeypatch.setenv("FINTROPY_TASK_QUEUE", "fintropy-test")

    settings = Settings()

    assert settings.database_url == "postgresql://u@db/fintropy"
    assert settings.temporal_address == "temporal:7233"
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-test"
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert (settings.task_queue, settings.has_slack) == ("fintropy-test", True)
    assert "xoxb-test" not in repr(settings)


def test_defaults_point_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings()

    assert settings.database_url is None
    assert settings.temporal_address is None
    assert (settings.temporal_namespace, settings.task_queue) == ("default", "fintropy")
    assert settings.approval_timeout_hours == 72
    assert settings.console_transcript == tmp_path / "data" / "transcript.md"
    assert settings.has_slack is False


def test_card_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings().card_token_secret
    second = Settings().card_token_secret

    path = tmp_path / "data" / CARD_TOKEN_SECRET_FILE
    assert first is not None
    assert second is not None
    assert first.get_secret_value() == second.get_secret_value()
    assert len(first.get_secret_value()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_configured_card_secret_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FINTROPY_CARD_TOKEN_SECRET", "configured")

    settings = Settings()

    assert settings.card_token_secret is not None
    assert settings.card_token_secret.get_secret_value() == "configured"
    assert not (tmp_path / "data" / CARD_TOKEN_SECRET_FILE).exists()


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINTROPY_APPROVAL_TIMEOUT_HOURS", "-1")

    with pytest.raises(ValueError, match="approval_timeout_hours"):
        Settings()


def test_get_settings_is_cached() -> None:
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()
