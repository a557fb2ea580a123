"""Teams settings, read from the environment.

``TEAMS_APP_ID`` and ``TEAMS_APP_PASSWORD`` are the bot's Microsoft Entra app registration;
``TEAMS_TENANT_ID`` makes it a single-tenant bot (the registration type Azure Bot Service
creates today), otherwise it is multi-tenant. With no app id at all, inbound activities are not
authenticated: that is only for local runs against the Bot Framework Emulator or tests, and the
bot logs a WARNING saying so when it starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

from fintropy.errors import ConfigError

ENV_APP_ID = "TEAMS_APP_ID"
ENV_APP_PASSWORD = "TEAMS_APP_PASSWORD"
ENV_TENANT_ID = "TEAMS_TENANT_ID"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class TeamsConfig:
    """The Bot Framework identity of the Fintropy bot (empty app id: authentication off)."""

    app_id: str = ""
    app_password: str = field(default="", repr=False)
    tenant_id: str = ""

    def __post_init__(self) -> None:
        if self.app_password and not self.app_id:
            raise ConfigError(
                f"{ENV_APP_PASSWORD} is set but {ENV_APP_ID} is empty.",
                f"Set {ENV_APP_ID} to the bot's Microsoft App ID, or unset both for a local run "
                "without authentication.",
            )
        if self.app_id and not self.app_password:
            raise ConfigError(
                f"{ENV_APP_ID} is set but {ENV_APP_PASSWORD} is empty.",
                f"Set {ENV_APP_PASSWORD} to a client secret of the app registration.",
            )
        for name, value in ((ENV_APP_ID, self.app_id), (ENV_TENANT_ID, self.tenant_id)):
            if value and not _ID.match(value):
                raise ConfigError(
                    f"{name} is not a valid id: {value[:40]!r}.",
                    f"Copy {name} from the Azure Bot resource (a GUID such as "
                    "00000000-0000-0000-0000-000000000000).",
                )
        if self.tenant_id and not self.app_id:
            raise ConfigError(
                f"{ENV_TENANT_ID} is set but {ENV_APP_ID} is empty.",
                f"Set {ENV_APP_ID} and {ENV_APP_PASSWORD} as well, or unset {ENV_TENANT_ID}.",
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TeamsConfig:
        """Read the three variables (surrounding spaces ignored)."""
        env = os.environ if environ is None else environ
        return cls(
            app_id=env.get(ENV_APP_ID, "").strip(),
            app_password=env.get(ENV_APP_PASSWORD, "").strip(),
            tenant_id=env.get(ENV_TENANT_ID, "").strip(),
        )

    @property
    def auth_enabled(self) -> bool:
        """True when inbound activities must carry a valid Bot Framework token."""
        return bool(self.app_id)

    def bot_framework_settings(self) -> SimpleNamespace:
        """The attribute names botbuilder's configuration classes read."""
        return SimpleNamespace(
            APP_ID=self.app_id,
            APP_PASSWORD=self.app_password,
            APP_TYPE="SingleTenant" if self.tenant_id else "MultiTenant",
            APP_TENANTID=self.tenant_id,
        )
