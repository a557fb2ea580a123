"""Tenant configuration as reviewable YAML: accounts, people, roles, chat bindings.

``FINTROPY_TENANTS_FILE`` names the file; without it the shipped demo tenant is used. Loading
validates everything first and provisions nothing when any part is wrong, naming the tenant,
the entry and the field, so a bad file is never half-applied.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fintropy.domain import CloudAccount, Role
from fintropy.errors import ConfigError
from fintropy.policy import validate_policy

DEMO_FILE = Path(__file__).parent / "data" / "demo-tenant.yaml"


@dataclass(frozen=True)
class ChatIdentity:
    platform: str
    workspace_id: str
    user_id: str


@dataclass(frozen=True)
class PersonSpec:
    id: str
    display_name: str
    email: str
    role: Role
    chat: tuple[ChatIdentity, ...] = ()
    on_call: bool = False


@dataclass(frozen=True)
class ChannelSpec:
    platform: str
    workspace_id: str
    channel_id: str | None
    default: bool = False


@dataclass(frozen=True)
class TenantSpec:
    id: str
    name: str
    timezone: str = "UTC"
    dry_run: bool = False
    max_actions_per_account_per_day: int = 20
    accounts: tuple[CloudAccount, ...] = ()
    people: tuple[PersonSpec, ...] = ()
    channels: tuple[ChannelSpec, ...] = field(default_factory=tuple)
    approval_policy: dict = field(default_factory=dict)


def _need(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise ConfigError(f"{where}: missing {key!r}.", f"Add {key}: to that entry.")
    return entry[key]


def parse_tenants(data: Any, source: str) -> list[TenantSpec]:
    """Validate parsed YAML into tenant specs; raises ConfigError naming what is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("tenants"), list):
        raise ConfigError(
            f"{source}: expected a top-level 'tenants:' list.",
            "See fintropy/data/demo-tenant.yaml for the shape.",
        )
    specs = []
    for i, t in enumerate(data["tenants"]):
        where = f"{source}: tenants[{i}]"
        tid = str(_need(t, "id", where))
        accounts = []
        for j, a in enumerate(t.get("accounts") or []):
            w = f"{where} ({tid}) accounts[{j}]"
            env = a.get("environment", "nonprod")
            if env not in ("prod", "nonprod"):
                raise ConfigError(f"{w}: environment {env!r} is not valid.", "Use prod or nonprod.")
            accounts.append(
                CloudAccount(
                    provider=str(_need(a, "provider", w)),
                    account_id=str(_need(a, "account_id", w)),
                    name=str(a.get("name", "")),
                    role_arn=a.get("role_arn"),
                    regions=tuple(a.get("regions") or ()),
                    environment=env,
                )
            )
        people = []
        for j, p in enumerate(t.get("people") or []):
            w = f"{where} ({tid}) people[{j}]"
            role = str(_need(p, "role", w))
            if role not in {r.value for r in Role}:
                raise ConfigError(
                    f"{w}: role {role!r} is not valid.",
                    f"Use one of: {', '.join(r.value for r in Role)}.",
                )
            chats = tuple(
                ChatIdentity(
                    str(_need(c, "platform", w)),
                    str(_need(c, "workspace_id", w)),
                    str(_need(c, "user_id", w)),
                )
                for c in p.get("chat") or []
            )
            people.append(
                PersonSpec(
                    str(_need(p, "id", w)),
                    str(p.get("display_name") or p["id"]),
                    str(p.get("email", "")),
                    Role(role),
                    chats,
                    on_call=bool(p.get("on_call", False)),
                )
            )
        channels = tuple(
            ChannelSpec(
                str(_need(c, "platform", where)),
                str(_need(c, "workspace_id", where)),
                c.get("channel_id"),
                bool(c.get("default", False)),
            )
            for c in t.get("channels") or []
        )
        cap = t.get("max_actions_per_account_per_day", 20)
        if not isinstance(cap, int) or cap < 0:
            raise ConfigError(
                f"{where} ({tid}): max_actions_per_account_per_day must be a "
                f"whole number >= 0, not {cap!r}.",
                "Use e.g. 20.",
            )
        specs.append(
            TenantSpec(
                tid,
                str(t.get("name") or tid),
                str(t.get("timezone", "UTC")),
                bool(t.get("dry_run", False)),
                cap,
                tuple(accounts),
                tuple(people),
                channels,
                validate_policy(t.get("approval_policy"), f"{where} ({tid}) approval_policy")
                if t.get("approval_policy") is not None
                else {},
            )
        )
    ids = [s.id for s in specs]
    if len(ids) != len(set(ids)):
        raise ConfigError(f"{source}: tenant ids repeat.", "Give every tenant its own id.")
    return specs


def load_tenants(path: str | os.PathLike[str] | None = None) -> list[TenantSpec]:
    """Load and validate the tenants file (default: FINTROPY_TENANTS_FILE, else the demo)."""
    import yaml

    chosen = Path(path or os.environ.get("FINTROPY_TENANTS_FILE") or DEMO_FILE)
    if not chosen.exists():
        raise ConfigError(
            f"Tenants file {chosen} does not exist.",
            "Set FINTROPY_TENANTS_FILE to a YAML file shaped like the demo one.",
        )
    try:
        data = yaml.safe_load(chosen.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{chosen} is not valid YAML: {err}", "Fix the syntax.") from err
    return parse_tenants(data, str(chosen))
