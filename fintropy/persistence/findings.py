"""Findings and their lifecycle: upsert after a scan, compare-and-set status changes, cards.

A finding's id is ``fintropy.domain.finding_id(tenant, rule, resource)``, so the same waste
found by two scans is one row: ``first_seen_at`` stays, ``last_seen_at`` moves on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from fintropy.domain import (
    ACTIONS,
    OPEN_STATUSES,
    Finding,
    FindingCard,
    FindingStatus,
    MessageRef,
    ReadError,
    ResourceRef,
    Reversibility,
    Risk,
    Severity,
    finding_id,
)
from fintropy.errors import NotFoundError
from fintropy.persistence.models import FindingRecord, utcnow
from fintropy.persistence.scans import ScopeKey, covers, readable_scope

logger = logging.getLogger(__name__)

# A later scan that no longer sees the waste closes these; later statuses belong to people.
RESOLVABLE_STATUSES = (FindingStatus.OPEN, FindingStatus.AWAITING_APPROVAL)


def upsert_findings(
    session: Session,
    tenant_id: str,
    scan_id: str,
    findings: Sequence[Finding],
    now: datetime,
    *,
    scope: Iterable[ScopeKey] | None = None,
    errors: Iterable[ReadError] = (),
) -> tuple[list[str], list[str], list[str]]:
    """Merge one scan's findings; return ``(opened, still_open, resolved)`` ids, each sorted.

    - opened: new findings, and resolved ones detected again (re-opened with a fresh card
      and no workflow, so a new decision cycle starts);
    - still_open: detected again while open, awaiting approval or approved;
    - resolved: open or awaiting approval, inside the scan's readable scope, not detected.

    Findings in other statuses (rejected, remediating, verified...) only get ``last_seen_at``
    and their content refreshed. The scope defaults to ``readable_scope(scan_id, errors)``.
    """
    by_id = {finding_id(tenant_id, f.rule_id, f.resource): f for f in findings}
    existing = findings_by_id(session, tenant_id, by_id)
    opened: list[str] = []
    still_open: list[str] = []
    for fid in sorted(by_id):
        row = existing.get(fid)
        if row is None:
            row = FindingRecord(
                tenant_id=tenant_id, id=fid, first_seen_at=now, **_content(by_id[fid], now, scan_id)
            )
            opened.append(fid)
        else:
            for name, value in _content(by_id[fid], now, scan_id).items():
                setattr(row, name, value)
            if row.status == FindingStatus.RESOLVED:
                _reopen(row)
                opened.append(fid)
            elif row.status in OPEN_STATUSES:
                still_open.append(fid)
        session.add(row)
    session.flush()

    # Resolve what this scan could have seen but did not.
    errors = list(errors)
    if scope is None:
        readable = readable_scope(session, tenant_id, scan_id, errors)
    else:
        readable = {key for key in scope if not any(covers(e, key) for e in errors)}
    candidates = session.exec(
        select(FindingRecord).where(
            FindingRecord.tenant_id == tenant_id,
            col(FindingRecord.status).in_([s.value for s in RESOLVABLE_STATUSES]),
            FindingRecord.last_scan_id != scan_id,
        )
    ).all()
    resolved = sorted(
        row.id
        for row in candidates
        if ScopeKey(row.provider, row.account_id, row.region) in readable
    )
    if resolved:
        session.execute(
            update(FindingRecord)
            .where(
                col(FindingRecord.tenant_id) == tenant_id,
                col(FindingRecord.id).in_(resolved),
                col(FindingRecord.status).in_([s.value for s in RESOLVABLE_STATUSES]),
            )
            .values(status=FindingStatus.RESOLVED.value, updated_at=now)
        )
    logger.info(
        "findings upserted",
        extra={
            "tenant_id": tenant_id,
            "scan_id": scan_id,
            "count": len(by_id),
            "opened": len(opened),
            "resolved": len(resolved),
        },
    )
    return opened, still_open, resolved


def _content(finding: Finding, now: datetime, scan_id: str) -> dict[str, Any]:
    ref = finding.resource
    return {
        "rule_id": finding.rule_id,
        "rule_version": finding.rule_version,
        "title": finding.title,
        "severity": str(finding.severity),
        "provider": ref.provider,
        "account_id": ref.account_id,
        "region": ref.region,
        "resource_type": ref.resource_type,
        "resource_id": ref.resource_id,
        "resource_name": finding.resource_name,
        "explanation": finding.explanation,
        "evidence": json.loads(json.dumps(finding.evidence, default=str)),
        "savings_usd_month": Decimal(str(finding.savings_usd_month)).quantize(Decimal("0.01")),
        "savings_formula": finding.savings_formula,
        "price_basis": finding.price_basis,
        "action": finding.action,
        "reversibility": str(finding.reversibility) if finding.reversibility else None,
        "risk": str(finding.risk) if finding.risk else None,
        "data_used": list(finding.data_used),
        "last_seen_at": now,
        "last_scan_id": scan_id,
        "updated_at": now,
    }


def _reopen(row: FindingRecord) -> None:
    row.status = FindingStatus.OPEN.value
    row.workflow_id = None
    row.card_refs = []
    row.decided_by = []


def get_finding(session: Session, tenant_id: str, finding_id: str) -> FindingRecord | None:
    """One finding of the tenant, or None (also for another tenant's id)."""
    return session.get(FindingRecord, (tenant_id, finding_id))


def require_finding(session: Session, tenant_id: str, finding_id: str) -> FindingRecord:
    """One finding, or ``NotFoundError`` with a message for the user."""
    row = get_finding(session, tenant_id, finding_id)
    if row is None:
        raise NotFoundError(
            f"No finding {finding_id} in this workspace.",
            "List findings with `/fintropy findings` and copy an id from there.",
        )
    return row


def findings_by_id(
    session: Session, tenant_id: str, ids: Iterable[str]
) -> dict[str, FindingRecord]:
    """The tenant's findings among ``ids``, keyed by id (unknown ids are absent)."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session.exec(
        select(FindingRecord).where(
            FindingRecord.tenant_id == tenant_id, col(FindingRecord.id).in_(wanted)
        )
    ).all()
    return {row.id: row for row in rows}


def list_findings(
    session: Session,
    tenant_id: str,
    *,
    provider: str | None = None,
    severity: str | Collection[str] | None = None,
    account: str | None = None,
    status: str | Collection[str] | None = None,
    open_only: bool = False,
    limit: int | None = None,
) -> list[FindingRecord]:
    """The tenant's findings, largest savings first; each filter narrows when given.

    ``open_only`` keeps open, awaiting-approval and approved findings (ignored with ``status``).
    Unknown severities or statuses raise ``ValueError`` naming the valid ones.
    """
    query = select(FindingRecord).where(FindingRecord.tenant_id == tenant_id)
    if provider is not None:
        query = query.where(FindingRecord.provider == provider)
    if account is not None:
        query = query.where(FindingRecord.account_id == account)
    if severity is not None:
        query = query.where(col(FindingRecord.severity).in_(_values(severity, Severity)))
    if status is not None:
        query = query.where(col(FindingRecord.status).in_(_values(status, FindingStatus)))
    elif open_only:
        query = query.where(col(FindingRecord.status).in_([s.value for s in OPEN_STATUSES]))
    query = query.order_by(col(FindingRecord.savings_usd_month).desc(), col(FindingRecord.id))
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def _values(given: str | Collection[str], kind: type[Severity] | type[FindingStatus]) -> list[str]:
    names = [given] if isinstance(given, str) else list(given)
    allowed = [member.value for member in kind]
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise ValueError(
            f"unknown {kind.__name__.lower()} {', '.join(unknown)}; choose from "
            f"{', '.join(allowed)}"
        )
    return names


def set_finding_status(
    session: Session,
    tenant_id: str,
    finding_id: str,
    new_status: FindingStatus | str,
    *,
    expected: Iterable[FindingStatus | str],
    now: datetime | None = None,
    workflow_id: str | None = None,
    decided_by: Sequence[dict[str, Any]] | None = None,
) -> bool:
    """Move a finding to ``new_status`` only if it is in one of ``expected``; True if moved.

    One UPDATE with the expected statuses in its WHERE clause: of two racing writers, the
    second waits for the first's row lock, re-checks the status, and matches nothing.
    ``workflow_id`` and ``decided_by`` (replacing the list) are written with the status.
    """
    allowed = [FindingStatus(s).value for s in expected]
    if not allowed:
        raise ValueError("set_finding_status needs at least one expected status")
    values: dict[str, Any] = {
        "status": FindingStatus(new_status).value,
        "updated_at": now or utcnow(),
    }
    if workflow_id is not None:
        values["workflow_id"] = workflow_id
    if decided_by is not None:
        values["decided_by"] = [dict(entry) for entry in decided_by]
    result = session.execute(
        update(FindingRecord)
        .where(
            col(FindingRecord.tenant_id) == tenant_id,
            col(FindingRecord.id) == finding_id,
            col(FindingRecord.status).in_(allowed),
        )
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    moved = result.rowcount == 1  # type: ignore[attr-defined]
    logger.info(
        "finding status set" if moved else "finding status unchanged",
        extra={"tenant_id": tenant_id, "finding_id": finding_id, "status": values["status"]},
    )
    return moved


def add_card_ref(session: Session, tenant_id: str, finding_id: str, ref: MessageRef) -> bool:
    """Remember where a card for the finding was posted; False when it was already known.

    Atomic in SQL, so two activities adding cards at once both land.
    """
    entry = json.dumps([asdict(ref)])
    updated = session.execute(
        text(
            "UPDATE findings SET card_refs = card_refs || CAST(:entry AS jsonb) "
            "WHERE tenant_id = :tenant AND id = :id AND NOT card_refs @> CAST(:entry AS jsonb) "
            "RETURNING card_refs"
        ),
        {"entry": entry, "tenant": tenant_id, "id": finding_id},
    ).first()
    row = require_finding(session, tenant_id, finding_id)
    if updated is None:
        return False
    # Keep an already loaded copy of the row in step with what the UPDATE wrote.
    set_committed_value(row, "card_refs", updated[0])
    return True


def actionable_without_workflow(session: Session, tenant_id: str) -> list[str]:
    """Open findings that name an action and have no finding workflow yet, sorted by id."""
    return list(
        session.exec(
            select(FindingRecord.id)
            .where(
                FindingRecord.tenant_id == tenant_id,
                FindingRecord.status == FindingStatus.OPEN.value,
                col(FindingRecord.action).is_not(None),
                col(FindingRecord.workflow_id).is_(None),
            )
            .order_by(col(FindingRecord.id))
        ).all()
    )


def to_domain(row: FindingRecord) -> Finding:
    """The stored finding as the rule engine produced it (without lifecycle fields)."""
    return Finding(
        rule_id=row.rule_id,
        rule_version=row.rule_version,
        title=row.title,
        severity=Severity(row.severity),
        resource=ResourceRef(
            row.provider, row.account_id, row.region, row.resource_type, row.resource_id
        ),
        resource_name=row.resource_name,
        explanation=row.explanation,
        evidence=dict(row.evidence),
        savings_usd_month=float(row.savings_usd_month),
        savings_formula=row.savings_formula,
        price_basis=row.price_basis,
        action=row.action,
        reversibility=Reversibility(row.reversibility) if row.reversibility else None,
        risk=Risk(row.risk) if row.risk else None,
        data_used=tuple(row.data_used),
    )


def resource_label(row: FindingRecord) -> str:
    """``vol-0abc (data-archive), 123456789012 / eu-west-1``: the resource as cards name it."""
    name = f" ({row.resource_name})" if row.resource_name else ""
    return f"{row.resource_id}{name}, {row.account_id} / {row.region}"


def finding_as_dict(row: FindingRecord) -> dict[str, Any]:
    """Every stored field as JSON-ready values (times in ISO 8601, money as float), plus
    ``resource_label``: the shape of ``--json`` output."""
    data = row.model_dump()
    for name, value in data.items():
        if isinstance(value, datetime):
            data[name] = value.isoformat()
        elif isinstance(value, Decimal):
            data[name] = float(value)
    data["resource_label"] = resource_label(row)
    return data


def finding_card(
    row: FindingRecord,
    *,
    status: str | None = None,
    decided_by: Sequence[str] = (),
    outcome: str = "",
    buttons_enabled: bool = True,
    action_token: str = "",
) -> FindingCard:
    """The presentation model of a stored finding, for chat front ends to render."""
    spec = ACTIONS.get(row.action or "")
    return FindingCard(
        tenant_id=row.tenant_id,
        finding_id=row.id,
        title=row.title,
        severity=row.severity,
        status=status or row.status,
        resource_label=resource_label(row),
        explanation=row.explanation,
        savings_usd_month=float(row.savings_usd_month),
        savings_formula=row.savings_formula,
        price_basis=row.price_basis,
        action_verb=spec.verb if spec else None,
        reversibility=row.reversibility,
        risk=row.risk,
        rule_id=row.rule_id,
        rule_version=row.rule_version,
        decided_by=tuple(decided_by),
        outcome=outcome,
        buttons_enabled=buttons_enabled,
        action_token=action_token,
    )


def reopen_finding(session: Session, tenant_id: str, fid: str, *, expected: FindingStatus) -> bool:
    """Move a finding from ``expected`` back to open with a clean slate (new workflow, cards).

    Returns False when the finding was not in ``expected``.
    """
    row = session.get(FindingRecord, (tenant_id, fid))
    if row is None or row.status != expected.value:
        return False
    _reopen(row)
    session.add(row)
    session.flush()
    return True
