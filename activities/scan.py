"""Scan activities: collect one account-region's inventory, then evaluate the rule catalogue.

Inventories travel through the database (``resources_seen`` rows keyed by scan id), never
through workflow history, so a large estate cannot blow Temporal's payload limits. Collecting
the same account and region twice for one scan replaces the earlier rows, so retries are safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio import activity

from fintropy import audit
from fintropy.domain import ACTIONS, CloudAccount, ReadError
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session

logger = logging.getLogger(__name__)


@dataclass
class ScanStartInput:
    tenant_id: str
    scan_id: str
    requested_by: str
    workflow_id: str


@dataclass
class ScanTarget:
    account: CloudAccount
    region: str


@dataclass
class PlanScanResult:
    targets: list[ScanTarget]


@dataclass
class CollectInput:
    tenant_id: str
    scan_id: str
    account: CloudAccount
    region: str
    now: datetime


@dataclass
class CollectResult:
    account_id: str
    region: str
    resource_count: int
    errors: list[ReadError] = field(default_factory=list)


@dataclass
class EvaluateInput:
    tenant_id: str
    scan_id: str
    now: datetime
    errors: list[ReadError]
    workflow_id: str


@dataclass
class EvaluateResult:
    resource_count: int
    finding_count: int
    opened: list[str]
    actionable_open: list[str]  # open findings with an action and no finding workflow yet
    resolved: list[str]
    savings_usd_month: float


# adapter_for(account) -> an adapter with collect(account, region, now) -> Inventory
AdapterLookup = Callable[[CloudAccount], Any]


class ScanActivities:
    """Inventory collection and rule evaluation."""

    def __init__(
        self, engine: Any, adapter_for: AdapterLookup, catalogue_loader: Callable[[], Any]
    ):
        self._engine = engine
        self._adapter_for = adapter_for
        self._load_catalogue = catalogue_loader

    @activity.defn
    def start_scan(self, inp: ScanStartInput) -> PlanScanResult:
        """Record the scan and return the account-region pairs it will read."""
        with tenant_session(self._engine, inp.tenant_id) as session:
            repo.record_scan_started(session, inp.tenant_id, inp.scan_id, inp.requested_by)
            accounts = repo.list_accounts(session, inp.tenant_id)
            audit.append_event(
                session,
                inp.tenant_id,
                inp.requested_by,
                "scan.started",
                inp.scan_id,
                workflow_id=inp.workflow_id,
                details={"accounts": [a.account_id for a in accounts]},
            )
        return PlanScanResult(
            [ScanTarget(account, region) for account in accounts for region in account.regions]
        )

    @activity.defn
    def collect_inventory(self, inp: CollectInput) -> CollectResult:
        """Read one account and region; what could not be read comes back as errors."""
        adapter = self._adapter_for(inp.account)
        inventory = adapter.collect(inp.account, inp.region, inp.now)
        activity.heartbeat()
        with tenant_session(self._engine, inp.tenant_id) as session:
            repo.store_resources(
                session,
                inp.tenant_id,
                inp.scan_id,
                list(inventory.resources),
                account_id=inp.account.account_id,
                region=inp.region,
                provider=inp.account.provider,
                errors=list(inventory.errors),
            )
        activity.logger.info(
            "inventory collected",
            extra={
                "account_id": inp.account.account_id,
                "region": inp.region,
                "count": len(inventory.resources),
            },
        )
        return CollectResult(
            inp.account.account_id, inp.region, len(inventory.resources), list(inventory.errors)
        )

    @activity.defn
    def evaluate(self, inp: EvaluateInput) -> EvaluateResult:
        """Evaluate the catalogue over the scan's inventory and upsert findings."""
        from rules import evaluate as evaluate_rules
        from rules import total_savings

        catalogue = self._load_catalogue()
        with tenant_session(self._engine, inp.tenant_id) as session:
            resources = repo.load_resources(session, inp.tenant_id, inp.scan_id)
            params = repo.rule_params(session, inp.tenant_id)
        result = evaluate_rules(catalogue, resources, now=inp.now, params=params or None)
        with tenant_session(self._engine, inp.tenant_id) as session:
            opened, still_open, resolved = repo.upsert_findings(
                session, inp.tenant_id, inp.scan_id, result.findings, inp.now, errors=inp.errors
            )
            by_id = repo.findings_by_id(session, inp.tenant_id, opened)
            for fid in opened:
                f = by_id[fid]
                audit.append_event(
                    session,
                    inp.tenant_id,
                    "system",
                    "finding.opened",
                    fid,
                    rule_id=f.rule_id,
                    rule_version=f.rule_version,
                    workflow_id=inp.workflow_id,
                    details={
                        "resource": f.resource_id,
                        "savings_usd_month": float(f.savings_usd_month),
                        "scan_id": inp.scan_id,
                    },
                )
            for fid in resolved:
                audit.append_event(
                    session,
                    inp.tenant_id,
                    "system",
                    "finding.resolved",
                    fid,
                    workflow_id=inp.workflow_id,
                    details={"scan_id": inp.scan_id},
                )
            actionable = _one_card_per_action(
                session, inp.tenant_id, repo.actionable_without_workflow(session, inp.tenant_id)
            )
            repo.record_scan_finished(
                session,
                inp.tenant_id,
                inp.scan_id,
                resource_count=len(resources),
                finding_count=len(result.findings),
                errors=inp.errors,
            )
            audit.append_event(
                session,
                inp.tenant_id,
                "system",
                "scan.finished",
                inp.scan_id,
                workflow_id=inp.workflow_id,
                details={
                    "resources": len(resources),
                    "findings": len(result.findings),
                    "unreadable": [
                        f"{e.account_id}/{e.region}/{e.service}: {e.code}" for e in inp.errors
                    ],
                },
            )
        return EvaluateResult(
            resource_count=len(resources),
            finding_count=len(result.findings),
            opened=opened,
            actionable_open=[fid for fid in actionable if fid in set(opened) | set(still_open)],
            resolved=resolved,
            savings_usd_month=total_savings(result.findings),
        )


def _one_card_per_action(session: Any, tenant_id: str, finding_ids: list[str]) -> list[str]:
    """Keep one finding per (resource, action): the one with the largest saving.

    Two rules can propose the same action on one resource (an old snapshot that is also an
    orphan); one card is enough, and its explanation names the other rules.
    """
    rows = repo.findings_by_id(session, tenant_id, finding_ids)
    best: dict[tuple[str, str, str, str], Any] = {}
    for fid in sorted(finding_ids):
        row = rows[fid]
        key = (row.account_id, row.region, row.resource_id, row.action or "")
        if key not in best or float(row.savings_usd_month) > float(best[key].savings_usd_month):
            best[key] = row
    return sorted(row.id for row in best.values())


def is_actionable(action: str | None) -> bool:
    """True when the action names a remediation the adapters can carry out."""
    return bool(action) and action in ACTIONS
