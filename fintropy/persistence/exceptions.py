"""Exceptions (snoozes): a scope of findings that is not raised until the exception expires.

A scope is one finding, one resource, one tag (``key=value``), one account or one rule.
Creating an exception snoozes the open findings it covers; expiry re-opens them.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from fintropy.domain import FindingStatus
from fintropy.errors import ConfigError
from fintropy.persistence.models import ExceptionRecord, FindingRecord, ResourceSeen

SCOPES = ("finding", "resource", "tag", "account", "rule")
SNOOZABLE = (FindingStatus.OPEN.value, FindingStatus.AWAITING_APPROVAL.value)


def create_exception(
    session: Session,
    tenant_id: str,
    *,
    exception_id: str,
    scope: str,
    scope_value: str,
    owner: str,
    reason: str,
    expires_at: datetime,
    now: datetime,
) -> ExceptionRecord:
    """Record an exception (idempotent on its id)."""
    if scope not in SCOPES:
        raise ConfigError(
            f"Unknown exception scope {scope!r}.", f"Use one of: {', '.join(SCOPES)}."
        )
    if scope == "tag" and "=" not in scope_value:
        raise ConfigError(f"Tag scope {scope_value!r} has no value.", "Write it as key=value.")
    existing = session.get(ExceptionRecord, (tenant_id, exception_id))
    if existing is not None:
        return existing
    record = ExceptionRecord(
        tenant_id=tenant_id,
        id=exception_id,
        scope=scope,
        scope_value=scope_value,
        owner=owner,
        reason=reason,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(record)
    session.flush()
    return record


def get_exception(session: Session, tenant_id: str, exception_id: str) -> ExceptionRecord | None:
    """One exception, or None."""
    return session.get(ExceptionRecord, (tenant_id, exception_id))


def list_exceptions(
    session: Session, tenant_id: str, *, active_at: datetime | None = None
) -> list[ExceptionRecord]:
    """The tenant's exceptions (only those still active at ``active_at`` when given)."""
    query = select(ExceptionRecord).where(ExceptionRecord.tenant_id == tenant_id)
    if active_at is not None:
        query = query.where(col(ExceptionRecord.expires_at) > active_at)
    return list(session.exec(query.order_by(col(ExceptionRecord.expires_at))).all())


def findings_in_scope(
    session: Session, tenant_id: str, scope: str, value: str, statuses: tuple[str, ...]
) -> list[str]:
    """Ids of the findings in ``statuses`` that an exception of this scope covers, sorted."""
    query = select(FindingRecord.id).where(
        FindingRecord.tenant_id == tenant_id, col(FindingRecord.status).in_(statuses)
    )
    if scope == "finding":
        query = query.where(FindingRecord.id == value)
    elif scope == "resource":
        query = query.where(FindingRecord.resource_id == value)
    elif scope == "account":
        query = query.where(FindingRecord.account_id == value)
    elif scope == "rule":
        query = query.where(FindingRecord.rule_id == value)
    elif scope == "tag":
        key, _, wanted = value.partition("=")
        tagged = select(ResourceSeen.resource_id).where(
            ResourceSeen.tenant_id == tenant_id,
            col(ResourceSeen.scan_id) == col(FindingRecord.last_scan_id),
            col(ResourceSeen.tags)[key].astext == wanted,
        )
        query = query.where(col(FindingRecord.resource_id).in_(tagged))
    else:
        raise ConfigError(
            f"Unknown exception scope {scope!r}.", f"Use one of: {', '.join(SCOPES)}."
        )
    return sorted(session.exec(query).all())
