"""Remediation runs and their per-resource, per-step outcomes.

Every write here is idempotent so that a retried or restarted activity cannot double-record:
``start_run`` keeps the first record of a run id, and an outcome is keyed by run, step and
resource, so recording it again overwrites it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from fintropy.domain import ActionOutcome
from fintropy.errors import NotFoundError
from fintropy.persistence.models import (
    REMEDIATION_STEPS,
    RemediationOutcome,
    RemediationRun,
    utcnow,
)

logger = logging.getLogger(__name__)

_OUTCOME_KEY = [
    "tenant_id",
    "run_id",
    "step",
    "provider",
    "account_id",
    "region",
    "resource_type",
    "resource_id",
]


class RunDetail(NamedTuple):
    """A run with its outcomes in the order they were recorded."""

    run: RemediationRun
    outcomes: list[RemediationOutcome]


def start_run(
    session: Session,
    tenant_id: str,
    run_id: str,
    finding_id: str,
    workflow_id: str,
    action: str,
    *,
    dry_run: bool,
    requested_by: str,
    approved_by: Sequence[str] = (),
    now: datetime | None = None,
) -> RemediationRun:
    """Record a run; starting the same run id again returns the first record unchanged."""
    session.execute(
        insert(RemediationRun)
        .values(
            tenant_id=tenant_id,
            id=run_id,
            finding_id=finding_id,
            workflow_id=workflow_id,
            action=action,
            dry_run=dry_run,
            status="running",
            started_at=now or utcnow(),
            requested_by=requested_by,
            approved_by=list(approved_by),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
    )
    run = session.get(RemediationRun, (tenant_id, run_id))
    if run is None:  # the insert cannot vanish inside our own transaction
        raise RuntimeError(f"remediation run {run_id} was not recorded")
    logger.info("remediation run started", extra={"tenant_id": tenant_id, "run_id": run_id})
    return run


def record_outcome(
    session: Session,
    tenant_id: str,
    run_id: str,
    step: str,
    outcome: ActionOutcome,
    *,
    now: datetime | None = None,
) -> None:
    """Record what ``step`` did to one resource (replacing an earlier record of the same)."""
    if step not in REMEDIATION_STEPS:
        steps = ", ".join(REMEDIATION_STEPS)
        raise ValueError(f"unknown remediation step {step!r}; one of {steps}")
    ref = outcome.ref
    values = {
        "tenant_id": tenant_id,
        "run_id": run_id,
        "step": step,
        "provider": ref.provider,
        "account_id": ref.account_id,
        "region": ref.region,
        "resource_type": ref.resource_type,
        "resource_id": ref.resource_id,
        "action": outcome.action,
        "status": str(outcome.status),
        "detail": outcome.detail,
        "restore_point": json.loads(json.dumps(outcome.restore_point, default=str)),
        "at": now or utcnow(),
    }
    statement = insert(RemediationOutcome).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=_OUTCOME_KEY,
            set_={name: statement.excluded[name] for name in values if name not in _OUTCOME_KEY},
        )
    )


def finish_run(
    session: Session, tenant_id: str, run_id: str, status: str, *, now: datetime | None = None
) -> RemediationRun:
    """Close a run with its final status (succeeded, partial, failed, planned, restored)."""
    run = session.get(RemediationRun, (tenant_id, run_id))
    if run is None:
        raise NotFoundError(f"No remediation run {run_id} in this tenant.", "Check the run id.")
    run.status = status
    run.finished_at = now or utcnow()
    session.add(run)
    session.flush()
    logger.info(
        "remediation run finished",
        extra={"tenant_id": tenant_id, "run_id": run_id, "status": status},
    )
    return run


def get_run(session: Session, tenant_id: str, run_id: str) -> RunDetail | None:
    """A run and its outcomes, or None."""
    run = session.get(RemediationRun, (tenant_id, run_id))
    if run is None:
        return None
    return RunDetail(run, list_outcomes(session, tenant_id, run_id))


def list_outcomes(session: Session, tenant_id: str, run_id: str) -> list[RemediationOutcome]:
    """A run's outcomes, oldest first."""
    return list(
        session.exec(
            select(RemediationOutcome)
            .where(RemediationOutcome.tenant_id == tenant_id, RemediationOutcome.run_id == run_id)
            .order_by(col(RemediationOutcome.at), col(RemediationOutcome.resource_id))
        ).all()
    )


def get_outcome(
    session: Session, tenant_id: str, run_id: str, step: str
) -> RemediationOutcome | None:
    """The latest outcome recorded for ``step`` of a run, or None."""
    return session.exec(
        select(RemediationOutcome)
        .where(
            RemediationOutcome.tenant_id == tenant_id,
            RemediationOutcome.run_id == run_id,
            RemediationOutcome.step == step,
        )
        .order_by(col(RemediationOutcome.at).desc())
        .limit(1)
    ).first()


def runs_for_finding(session: Session, tenant_id: str, finding_id: str) -> list[RemediationRun]:
    """A finding's runs, oldest first."""
    return list(
        session.exec(
            select(RemediationRun)
            .where(RemediationRun.tenant_id == tenant_id, RemediationRun.finding_id == finding_id)
            .order_by(col(RemediationRun.started_at))
        ).all()
    )


def actions_in_account_since(
    session: Session,
    tenant_id: str,
    provider: str,
    account_id: str,
    *,
    hours: int,
    exclude_run: str | None = None,
    now: datetime | None = None,
) -> int:
    """How many non-dry-run remediations acted in one account in the last ``hours``.

    A run counts once it has an ``execute`` outcome (successful or not): a failed attempt
    still touched the account.
    """
    from datetime import UTC, timedelta

    from fintropy.persistence.models import FindingRecord

    since = (now or datetime.now(UTC)) - timedelta(hours=hours)
    query = (
        select(RemediationRun.id)
        .join(
            FindingRecord,
            (col(FindingRecord.tenant_id) == col(RemediationRun.tenant_id))
            & (col(FindingRecord.id) == col(RemediationRun.finding_id)),
        )
        .join(
            RemediationOutcome,
            (col(RemediationOutcome.tenant_id) == col(RemediationRun.tenant_id))
            & (col(RemediationOutcome.run_id) == col(RemediationRun.id)),
        )
        .where(
            RemediationRun.tenant_id == tenant_id,
            FindingRecord.provider == provider,
            FindingRecord.account_id == account_id,
            col(RemediationRun.dry_run).is_(False),
            RemediationOutcome.step == "execute",
            col(RemediationRun.started_at) >= since,
        )
        .distinct()
    )
    if exclude_run:
        query = query.where(RemediationRun.id != exclude_run)
    return len(session.exec(query).all())
