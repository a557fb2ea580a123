"""Tenants, their cloud accounts, people, roles and chat bindings.

Provisioning runs in ``admin_session`` (the application role may not create tenants). Every
other function runs in a ``tenant_session`` for the tenant it names, except
``resolve_tenant_for_chat`` and ``list_tenant_ids``, which must work before a tenant is known.

How chat routing works without weakening Row-Level Security: the migration creates the SQL
functions ``fintropy_resolve_chat_tenant`` and ``fintropy_tenant_ids`` as SECURITY DEFINER,
owned by the NOLOGIN role ``fintropy_router``. That role may SELECT ``chat_bindings`` and
``tenants`` across tenants (through a policy of its own) and nothing else, and the functions
return only tenant ids. The application role may call them but still cannot read another
tenant's bindings directly.
"""

from __future__ import annotations

import logging
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fintropy.domain import CloudAccount, Role
from fintropy.errors import ConfigError
from fintropy.persistence.db import TENANT_SETTING, admin_session
from fintropy.persistence.models import (
    ChatBinding,
    ChatIdentity,
    CloudAccountRecord,
    Person,
    RoleAssignment,
    Tenant,
)

logger = logging.getLogger(__name__)

# Chat identities: Slack, Teams, and "cli" (a person deciding from the terminal).
IdentityPlatform = Literal["slack", "teams", "cli"]
# Channel bindings: Slack, Teams, and "console" (the local channel of demo and serve).
BindingPlatform = Literal["slack", "teams", "console"]
_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChatIdentitySpec(_Spec):
    """A chat user: Slack user id in a Slack team, or Entra object id in a Teams tenant."""

    platform: IdentityPlatform
    workspace_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)


class PersonSpec(_Spec):
    """A person to provision, with their role in the tenant and their chat identities."""

    id: str = Field(pattern=_ID_PATTERN)
    display_name: str = Field(min_length=1)
    email: str | None = None
    role: Role = Role.VIEWER
    on_call: bool = False
    identities: tuple[ChatIdentitySpec, ...] = ()


class ChatBindingSpec(_Spec):
    """A workspace (``channel_id`` None: every channel) or one channel bound to the tenant."""

    platform: BindingPlatform
    workspace_id: str = Field(min_length=1)
    channel_id: str | None = None
    is_default_channel: bool = False


class TenantSpec(_Spec):
    """Everything ``provision_tenant`` writes for one tenant; reviewable as a YAML file."""

    id: str = Field(pattern=_ID_PATTERN)
    name: str = Field(min_length=1)
    timezone: str = "UTC"
    dry_run: bool = False
    max_actions_per_account_per_day: int = Field(default=20, ge=0)
    accounts: tuple[CloudAccount, ...] = ()
    people: tuple[PersonSpec, ...] = ()
    bindings: tuple[ChatBindingSpec, ...] = ()
    rule_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    approval_policy: dict[str, Any] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/Paris' or 'UTC'"
            ) from exc
        return value


def tenant_spec_from(config: Any) -> TenantSpec:
    """Build a ``TenantSpec`` from an object with the tenant file's attribute names."""
    people = [
        PersonSpec(
            id=person.id,
            display_name=person.display_name,
            email=person.email or None,
            role=Role(person.role),
            on_call=bool(getattr(person, "on_call", False)),
            identities=tuple(
                ChatIdentitySpec(
                    platform=chat.platform, workspace_id=chat.workspace_id, user_id=chat.user_id
                )
                for chat in _first_attr(person, "identities", "chat")
            ),
        )
        for person in getattr(config, "people", ())
    ]
    bindings = [
        ChatBindingSpec(
            platform=channel.platform,
            workspace_id=channel.workspace_id,
            channel_id=channel.channel_id,
            is_default_channel=bool(
                getattr(channel, "is_default_channel", getattr(channel, "default", False))
            ),
        )
        for channel in _first_attr(config, "bindings", "channels")
    ]
    return TenantSpec(
        id=config.id,
        name=config.name,
        timezone=getattr(config, "timezone", "UTC"),
        dry_run=bool(getattr(config, "dry_run", False)),
        max_actions_per_account_per_day=int(getattr(config, "max_actions_per_account_per_day", 20)),
        accounts=tuple(getattr(config, "accounts", ())),
        people=tuple(people),
        bindings=tuple(bindings),
        rule_params=dict(getattr(config, "rule_params", None) or {}),
        approval_policy=dict(getattr(config, "approval_policy", None) or {}),
    )


def _first_attr(obj: Any, *names: str) -> tuple[Any, ...]:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return tuple(value)
    return ()


class PersonIdentity(NamedTuple):
    """Who is behind a chat identity, and the highest role they hold in the tenant."""

    person_id: str
    display_name: str
    role: Role


def provision_tenant(session: Session | Engine, spec: TenantSpec | Any) -> None:
    """Create or update a tenant with its accounts, people, identities, roles and bindings.

    Idempotent: running it again with the same spec changes nothing. It adds and updates but
    never deletes people or accounts (their history stays attributable); a listed person's
    role is replaced by the one in the spec. Give it a session from ``admin_session``, or an
    engine (it then opens one). ``spec`` may also be any object shaped like a tenant file
    entry (``chat`` for identities, ``channels`` with ``default`` for bindings). Raises
    ``ConfigError`` when a workspace or channel is already bound to another tenant.
    """
    if isinstance(session, Engine):
        with admin_session(session) as owned:
            provision_tenant(owned, spec)
        return
    spec = spec if isinstance(spec, TenantSpec) else tenant_spec_from(spec)
    # Set the tenant for this transaction too, so a non-superuser owner passes the policies.
    session.execute(
        text("SELECT set_config(:name, :tenant, true)"),
        {"name": TENANT_SETTING, "tenant": spec.id},
    )
    _upsert(
        session,
        Tenant,
        ["id"],
        {
            "id": spec.id,
            "name": spec.name,
            "timezone": spec.timezone,
            "dry_run": spec.dry_run,
            "max_actions_per_account_per_day": spec.max_actions_per_account_per_day,
            "rule_params": spec.rule_params,
            "approval_policy": spec.approval_policy,
        },
    )
    for account in spec.accounts:
        _upsert_account(session, spec.id, account)
    for person in spec.people:
        _upsert_person(session, spec.id, person)
    for binding in spec.bindings:
        _bind(session, spec.id, binding)
    logger.info(
        "tenant provisioned",
        extra={"tenant_id": spec.id, "count": len(spec.people) + len(spec.accounts)},
    )


def _upsert(session: Session, model: Any, keys: list[str], values: dict[str, Any]) -> None:
    statement = insert(model).values(**values)
    updates = {name: statement.excluded[name] for name in values if name not in keys}
    if updates:
        statement = statement.on_conflict_do_update(index_elements=keys, set_=updates)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement)


def _upsert_account(session: Session, tenant_id: str, account: CloudAccount) -> None:
    _upsert(
        session,
        CloudAccountRecord,
        ["tenant_id", "provider", "account_id"],
        {
            "tenant_id": tenant_id,
            "provider": account.provider,
            "account_id": account.account_id,
            "name": account.name,
            "role_arn": account.role_arn,
            "regions": list(account.regions),
            "environment": account.environment,
        },
    )


def _upsert_person(session: Session, tenant_id: str, person: PersonSpec) -> None:
    _upsert(
        session,
        Person,
        ["tenant_id", "id"],
        {
            "tenant_id": tenant_id,
            "id": person.id,
            "display_name": person.display_name,
            "email": person.email,
            "on_call": person.on_call,
        },
    )
    session.execute(
        delete(RoleAssignment).where(
            col(RoleAssignment.tenant_id) == tenant_id, col(RoleAssignment.person_id) == person.id
        )
    )
    session.add(RoleAssignment(tenant_id=tenant_id, person_id=person.id, role=person.role.value))
    for identity in person.identities:
        _upsert(
            session,
            ChatIdentity,
            ["tenant_id", "platform", "workspace_id", "user_id"],
            {
                "tenant_id": tenant_id,
                "platform": identity.platform,
                "workspace_id": identity.workspace_id,
                "user_id": identity.user_id,
                "person_id": person.id,
            },
        )
    session.flush()


def _bind(session: Session, tenant_id: str, binding: ChatBindingSpec) -> None:
    # DO NOTHING on any conflict, then claim our own row: a row that stays invisible or
    # unchanged belongs to another tenant, and must not be taken over silently.
    session.execute(
        insert(ChatBinding)
        .values(
            tenant_id=tenant_id,
            platform=binding.platform,
            workspace_id=binding.workspace_id,
            channel_id=binding.channel_id,
            is_default_channel=binding.is_default_channel,
        )
        .on_conflict_do_nothing()
    )
    claimed = session.execute(
        update(ChatBinding)
        .where(
            col(ChatBinding.tenant_id) == tenant_id,
            col(ChatBinding.platform) == binding.platform,
            col(ChatBinding.workspace_id) == binding.workspace_id,
            col(ChatBinding.channel_id).is_not_distinct_from(binding.channel_id),
        )
        .values(is_default_channel=binding.is_default_channel)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        where = binding.workspace_id + (
            f" channel {binding.channel_id}" if binding.channel_id else " (whole workspace)"
        )
        raise ConfigError(
            f"{binding.platform} workspace {where} is already bound to another tenant.",
            "Unbind it from that tenant first, or bind a different channel.",
        )


def resolve_tenant_for_chat(
    bind: Session | Engine, platform: str, workspace_id: str, channel_id: str | None
) -> str | None:
    """The tenant a chat request belongs to, or None when its workspace/channel is unbound.

    Needs no tenant: pass any session or the engine itself. A binding of the exact channel
    wins over a whole-workspace binding.
    """
    return _scalar_before_tenant(
        bind,
        "SELECT fintropy_resolve_chat_tenant(:platform, :workspace, :channel)",
        {"platform": platform, "workspace": workspace_id, "channel": channel_id},
    )


def list_tenant_ids(bind: Session | Engine) -> list[str]:
    """Every tenant id, for schedulers that iterate over tenants (needs no tenant set)."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return list(connection.execute(text("SELECT fintropy_tenant_ids()")).scalars())
    return list(bind.execute(text("SELECT fintropy_tenant_ids()")).scalars())


def _scalar_before_tenant(bind: Session | Engine, sql: str, params: dict[str, Any]) -> Any:
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return connection.execute(text(sql), params).scalar_one_or_none()
    return bind.execute(text(sql), params).scalar_one_or_none()


def get_tenant(session: Session, tenant_id: str) -> Tenant | None:
    """The tenant row, or None."""
    return session.get(Tenant, tenant_id)


def rule_params(session: Session, tenant_id: str) -> dict[str, dict[str, Any]]:
    """The tenant's per-rule parameter overrides (``{}`` when none or no such tenant)."""
    tenant = session.get(Tenant, tenant_id)
    return dict(tenant.rule_params) if tenant else {}


def list_accounts(session: Session, tenant_id: str) -> list[CloudAccount]:
    """The tenant's cloud accounts, ordered by provider and account id."""
    rows = session.exec(
        select(CloudAccountRecord)
        .where(CloudAccountRecord.tenant_id == tenant_id)
        .order_by(col(CloudAccountRecord.provider), col(CloudAccountRecord.account_id))
    ).all()
    return [_account(row) for row in rows]


def get_account(
    session: Session, tenant_id: str, provider: str, account_id: str
) -> CloudAccount | None:
    """One cloud account, or None."""
    row = session.get(CloudAccountRecord, (tenant_id, provider, account_id))
    return _account(row) if row else None


def _account(row: CloudAccountRecord) -> CloudAccount:
    return CloudAccount(
        provider=row.provider,
        account_id=row.account_id,
        name=row.name,
        role_arn=row.role_arn,
        regions=tuple(row.regions),
        environment=row.environment,
    )


def resolve_person(
    session: Session, tenant_id: str, platform: str, workspace_id: str, user_id: str
) -> PersonIdentity | None:
    """The person behind a chat identity in this tenant, or None when unknown.

    A person with no role assignment counts as a viewer.
    """
    identity = session.get(ChatIdentity, (tenant_id, platform, workspace_id, user_id))
    if identity is None:
        return None
    person = session.get(Person, (tenant_id, identity.person_id))
    if person is None:
        return None
    return PersonIdentity(
        person.id, person.display_name, _highest_role(session, tenant_id, person.id)
    )


def _highest_role(session: Session, tenant_id: str, person_id: str) -> Role:
    names = session.exec(
        select(RoleAssignment.role).where(
            RoleAssignment.tenant_id == tenant_id, RoleAssignment.person_id == person_id
        )
    ).all()
    roles = [Role(name) for name in names]
    return max(roles, key=list(Role).index) if roles else Role.VIEWER


def people_with_role(
    session: Session, tenant_id: str, role: Role
) -> list[tuple[str, str, str | None]]:
    """``(person_id, display_name, email)`` of everyone whose role includes ``role``."""
    wanted = [r.value for r in Role if r.at_least(role)]
    rows = session.exec(
        select(Person.id, Person.display_name, Person.email)
        .join(
            RoleAssignment,
            (col(RoleAssignment.tenant_id) == col(Person.tenant_id))
            & (col(RoleAssignment.person_id) == col(Person.id)),
        )
        .where(Person.tenant_id == tenant_id, col(RoleAssignment.role).in_(wanted))
        .distinct()
        .order_by(col(Person.id))
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def approvers(session: Session, tenant_id: str) -> list[str]:
    """Ids of the people who may approve or reject (role approver or admin), sorted."""
    return [person_id for person_id, _, _ in people_with_role(session, tenant_id, Role.APPROVER)]


def default_channel(session: Session, tenant_id: str, platform: str) -> ChatBinding | None:
    """The binding marked as the tenant's default channel on ``platform``, or None."""
    return session.exec(
        select(ChatBinding)
        .where(
            ChatBinding.tenant_id == tenant_id,
            ChatBinding.platform == platform,
            col(ChatBinding.is_default_channel),
            col(ChatBinding.channel_id).is_not(None),
        )
        .order_by(col(ChatBinding.id))
        .limit(1)
    ).first()


def on_call_people(session: Session, tenant_id: str) -> list[str]:
    """Ids of the tenant's on-call people (who undecided approvals escalate to)."""
    return sorted(
        session.exec(
            select(Person.id).where(Person.tenant_id == tenant_id, col(Person.on_call))
        ).all()
    )


def chat_user_ids(session: Session, tenant_id: str, person_ids: list[str]) -> list[tuple[str, str]]:
    """``(platform, user_id)`` of every chat identity of the given people, sorted."""
    if not person_ids:
        return []
    rows = session.exec(
        select(ChatIdentity.platform, ChatIdentity.user_id).where(
            ChatIdentity.tenant_id == tenant_id, col(ChatIdentity.person_id).in_(person_ids)
        )
    ).all()
    return sorted((platform, user_id) for platform, user_id in rows)
