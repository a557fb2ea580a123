"""Scans and the inventory snapshot each one saw (``resources_seen``, ``scan_targets``).

Activities hand each other a scan id, never an inventory: collectors store resources here and
the evaluator loads them back. Each account-region a scan collected is recorded as a target,
with the read errors it met; that defines which findings the scan may resolve.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from fintropy.domain import ReadError, Resource
from fintropy.errors import NotFoundError
from fintropy.persistence.models import ResourceSeen, Scan, ScanTarget, utcnow

logger = logging.getLogger(__name__)

# Error regions that mean "the whole account could not be read".
ACCOUNT_WIDE_REGIONS = frozenset({"", "*", "global"})


class ScopeKey(NamedTuple):
    """One account and region a scan read: the unit a scan may resolve findings in."""

    provider: str
    account_id: str
    region: str


def record_scan_started(
    session: Session,
    tenant_id: str,
    scan_id: str,
    requested_by: str = "system",
    *,
    now: datetime | None = None,
) -> None:
    """Record that a scan started (a retried call leaves the first record as it was)."""
    session.execute(
        insert(Scan)
        .values(
            tenant_id=tenant_id,
            id=scan_id,
            started_at=now or utcnow(),
            status="running",
            requested_by=requested_by,
            resource_count=0,
            finding_count=0,
            errors=[],
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
    )


def record_scan_finished(
    session: Session,
    tenant_id: str,
    scan_id: str,
    *,
    resource_count: int,
    finding_count: int,
    errors: Sequence[ReadError] = (),
    status: str | None = None,
    now: datetime | None = None,
) -> Scan:
    """Close a scan. ``status`` defaults to ``partial`` when anything was unreadable."""
    scan = session.get(Scan, (tenant_id, scan_id))
    if scan is None:
        raise NotFoundError(f"Scan {scan_id} does not exist.", "Start the scan first.")
    scan.finished_at = now or utcnow()
    scan.status = status or ("partial" if errors else "succeeded")
    scan.resource_count = resource_count
    scan.finding_count = finding_count
    scan.errors = [asdict(error) for error in errors]
    session.add(scan)
    session.flush()
    return scan


def get_scan(session: Session, tenant_id: str, scan_id: str) -> Scan | None:
    """One scan, or None."""
    return session.get(Scan, (tenant_id, scan_id))


def latest_scan(session: Session, tenant_id: str) -> Scan | None:
    """The most recently started scan, or None."""
    return session.exec(
        select(Scan).where(Scan.tenant_id == tenant_id).order_by(col(Scan.started_at).desc())
    ).first()


def store_resources(
    session: Session,
    tenant_id: str,
    scan_id: str,
    resources: Sequence[Resource],
    *,
    account_id: str | None = None,
    region: str | None = None,
    provider: str | None = None,
    errors: Sequence[ReadError] = (),
) -> int:
    """Store what a scan saw; return how many resources were stored.

    With ``account_id`` and ``region`` the call stands for one collected target: earlier rows
    of that target in this scan are replaced (so a retried collector is harmless) and the
    target is recorded with ``errors``, even when it held no resources. ``provider`` defaults
    to the resources' provider, or ``aws`` when there are none.
    """
    if account_id is not None and region is not None:
        provider = provider or (resources[0].provider if resources else "aws")
        _replace_target(session, tenant_id, scan_id, provider, account_id, region)
        session.execute(
            insert(ScanTarget)
            .values(
                tenant_id=tenant_id,
                scan_id=scan_id,
                provider=provider,
                account_id=account_id,
                region=region,
                resource_count=len(resources),
                errors=[asdict(error) for error in errors],
                collected_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )
    rows = [_resource_row(tenant_id, scan_id, resource) for resource in resources]
    if rows:
        statement = insert(ResourceSeen)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    "tenant_id",
                    "scan_id",
                    "provider",
                    "account_id",
                    "region",
                    "resource_type",
                    "resource_id",
                ],
                set_={
                    name: statement.excluded[name] for name in ("name", "tags", "attrs", "metrics")
                },
            ),
            rows,
        )
    return len(rows)


def _replace_target(
    session: Session, tenant_id: str, scan_id: str, provider: str, account_id: str, region: str
) -> None:
    for model in (ResourceSeen, ScanTarget):
        session.execute(
            delete(model).where(
                col(model.tenant_id) == tenant_id,
                col(model.scan_id) == scan_id,
                col(model.provider) == provider,
                col(model.account_id) == account_id,
                col(model.region) == region,
            )
        )


def _resource_row(tenant_id: str, scan_id: str, resource: Resource) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "scan_id": scan_id,
        "provider": resource.provider,
        "account_id": resource.account_id,
        "region": resource.region,
        "resource_type": resource.resource_type,
        "resource_id": resource.resource_id,
        "name": resource.name,
        "tags": dict(resource.tags),
        # Attributes are JSON by contract (inventory_schema); anything else becomes text.
        "attrs": json.loads(json.dumps(resource.attrs, default=str)),
        "metrics": dict(resource.metrics),
    }


def load_resources(session: Session, tenant_id: str, scan_id: str) -> list[Resource]:
    """The resources a scan stored, ordered by their reference key."""
    rows = session.exec(
        select(ResourceSeen)
        .where(ResourceSeen.tenant_id == tenant_id, ResourceSeen.scan_id == scan_id)
        .order_by(
            col(ResourceSeen.provider),
            col(ResourceSeen.account_id),
            col(ResourceSeen.region),
            col(ResourceSeen.resource_type),
            col(ResourceSeen.resource_id),
        )
    ).all()
    return [
        Resource(
            provider=row.provider,
            account_id=row.account_id,
            region=row.region,
            resource_type=row.resource_type,
            resource_id=row.resource_id,
            name=row.name,
            tags=dict(row.tags),
            attrs=dict(row.attrs),
            metrics=dict(row.metrics),
        )
        for row in rows
    ]


def get_resource_tags(
    session: Session,
    tenant_id: str,
    scan_id: str,
    resource_id: str,
    *,
    account_id: str | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """The tags a scan saw on a resource (``{}`` when the scan did not see it)."""
    query = select(ResourceSeen.tags).where(
        ResourceSeen.tenant_id == tenant_id,
        ResourceSeen.scan_id == scan_id,
        ResourceSeen.resource_id == resource_id,
    )
    if account_id is not None:
        query = query.where(ResourceSeen.account_id == account_id)
    if region is not None:
        query = query.where(ResourceSeen.region == region)
    tags = session.exec(query.limit(1)).first()
    return dict(tags) if tags else {}


def readable_scope(
    session: Session, tenant_id: str, scan_id: str, errors: Iterable[ReadError] = ()
) -> set[ScopeKey]:
    """The account-regions this scan read without any error.

    Targets come from ``scan_targets`` (falling back to the account-regions of the stored
    resources when collectors did not record targets). A target with a read error, in
    ``errors`` or recorded with the target, is left out: a region that could not be read
    must never look like a region where the waste went away.
    """
    targets = session.exec(
        select(ScanTarget).where(ScanTarget.tenant_id == tenant_id, ScanTarget.scan_id == scan_id)
    ).all()
    failed = list(errors)
    if targets:
        scope = {ScopeKey(t.provider, t.account_id, t.region) for t in targets}
        failed += [ReadError(**error) for t in targets for error in t.errors]
    else:
        rows = session.exec(
            select(ResourceSeen.provider, ResourceSeen.account_id, ResourceSeen.region)
            .where(ResourceSeen.tenant_id == tenant_id, ResourceSeen.scan_id == scan_id)
            .distinct()
        ).all()
        scope = {ScopeKey(*row) for row in rows}
    return {key for key in scope if not any(covers(error, key) for error in failed)}


def covers(error: ReadError, key: ScopeKey) -> bool:
    """True when ``error`` means ``key`` could not be (fully) read."""
    if error.account_id != key.account_id:
        return False
    return error.region in ACCOUNT_WIDE_REGIONS or error.region == key.region
