"""Process settings, read from the environment (and a ``.env`` file) by pydantic-settings.

Most variables carry the ``FINTROPY_`` prefix (``FINTROPY_DATA_DIR``, ``FINTROPY_TASK_QUEUE``).
The ones other tools already know by name are read unprefixed: ``DATABASE_URL``,
``TEMPORAL_ADDRESS``, ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET`` and ``SLACK_API_URL``.

Importing this module does no I/O. Building a ``Settings`` creates the data folder and, when
``FINTROPY_CARD_TOKEN_SECRET`` is unset, reads (or the first time generates) the secret that
signs card button tokens, kept in ``<data_dir>/card_token_secret`` with mode 0600 so tokens
stay valid across restarts.
"""

from __future__ import annotations

import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

CARD_TOKEN_SECRET_FILE = "card_token_secret"


def _default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("fintropy", appauthor=False)


def _unprefixed(name: str) -> AliasChoices:
    # Accept the well-known name and the prefixed one; the well-known name wins.
    return AliasChoices(name, f"FINTROPY_{name}")


class Settings(BaseSettings):
    """Everything a Fintropy process needs to know about its surroundings."""

    model_config = SettingsConfigDict(
        env_prefix="FINTROPY_",
        env_file=".env",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=_unprefixed("DATABASE_URL"),
        description="PostgreSQL URL; unset means the embedded pgserver under data_dir.",
    )
    temporal_address: str | None = Field(
        default=None,
        validation_alias=_unprefixed("TEMPORAL_ADDRESS"),
        description="host:port of a Temporal frontend; unset means the embedded dev server.",
    )
    temporal_namespace: str = "default"
    task_queue: str = "fintropy"
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=_unprefixed("SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=_unprefixed("SLACK_SIGNING_SECRET")
    )
    slack_api_url: str | None = Field(
        default=None,
        validation_alias=_unprefixed("SLACK_API_URL"),
        description="Base URL of the Slack Web API (tests point it at a local server).",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    approval_timeout_hours: float = Field(default=72, gt=0)
    console_transcript: Path | None = Field(
        default=None, description="Console channel transcript; <data_dir>/transcript.md"
    )
    card_token_secret: SecretStr | None = Field(
        default=None, description="Key for card button tokens; generated in data_dir when unset."
    )

    @model_validator(mode="after")
    def _fill_derived(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        if self.console_transcript is None:
            self.console_transcript = self.data_dir / "transcript.md"
        if self.card_token_secret is None:
            self.card_token_secret = SecretStr(load_or_create_secret(self.data_dir))
        return self

    @property
    def has_slack(self) -> bool:
        """True when both Slack credentials are configured (otherwise the console channel)."""
        return self.slack_bot_token is not None and self.slack_signing_secret is not None


def load_or_create_secret(data_dir: Path) -> str:
    """Return the card token secret kept in ``data_dir``, creating it the first time."""
    path = data_dir / CARD_TOKEN_SECRET_FILE
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)

    # Create with 0600 from the start so the secret is never world-readable, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    logger.info("card token secret created", extra={"path": str(path)})
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built once on first use (call ``cache_clear`` in tests)."""
    return Settings()
