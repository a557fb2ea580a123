"""Finding upserts (stable ids, lifecycle, scope), compare-and-set status, cards, listings."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from fintropy.domain import FindingStatus, MessageRef, ReadError
from fintropy.errors import NotFoundError
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session
from tests.persistence.data import ACCOUNT, T0, fid, unattached, volume


def _scan(
    engine: Any,
    tenant_id: str,
    scan_id: str,
    resources: list,
    *,
    at: Any = T0,
    errors: tuple = (),
    regions: tuple = ("eu-west-1", "us-east-1"),
) -> tuple:
    """Record a scan over ``regions`` that saw ``resources``; upsert one finding per resource."""
    with tenant_session(engine, tenant_id) as session:
        repo.record_scan_started(session, tenant_id, scan_id, now=at)
        for region in regions:
            in_region = [r for r in resources if r.region == region]
            region_errors = [e for e in errors if e.region == region]
            repo.store_resources(
                session,
                tenant_id,
                scan_id,
                in_region,
                account_id=ACCOUNT,
                region=region,
                errors=region_errors,
            )
        return repo.upsert_findings(
            session, tenant_id, scan_id, [unattached(r) for r in resources], at
        )


def _get(engine: Any, tenant_id: str, finding_id: str) -> Any:
    with tenant_session(engine, tenant_id) as session:
        return repo.get_finding(session, tenant_id, finding_id)


def test_first_scan_opens_findings_under_stable_ids(engine: Any, tenant: Any) -> None:
    resources = [volume("vol-a"), volume("vol-b", "us-east-1")]

    opened, still_open, resolved = _scan(engine, tenant.id, "s1", resources)

    expected = sorted(fid(tenant.id, unattached(r)) for r in resources)
    assert (opened, still_open, resolved) == (expected, [], [])
    assert all(f.startswith("f-") for f in opened)


def test_rescan_keeps_first_seen_and_moves_last_seen(engine: Any, tenant: Any) -> None:
    resources = [volume("vol-a")]
    _scan(engine, tenant.id, "s1", resources)

    later = T0 + timedelta(days=1)
    opened, still_open, resolved = _scan(engine, tenant.id, "s2", resources, at=later)

    row = _get(engine, tenant.id, fid(tenant.id, unattached(resources[0])))
    assert (opened, still_open, resolved) == ([], [row.id], [])
    assert (row.first_seen_at, row.last_seen_at, row.last_scan_id) == (T0, later, "s2")


def test_finding_not_detected_again_is_resolved(engine: Any, tenant: Any) -> None:
    kept, gone = volume("vol-kept"), volume("vol-gone")
    _scan(engine, tenant.id, "s1", [kept, gone])

    _, still_open, resolved = _scan(engine, tenant.id, "s2", [kept])

    gone_id = fid(tenant.id, unattached(gone))
    assert resolved == [gone_id]
    assert still_open == [fid(tenant.id, unattached(kept))]
    assert _get(engine, tenant.id, gone_id).status == FindingStatus.RESOLVED


def test_resolved_finding_detected_again_reopens_with_a_fresh_cycle(
    engine: Any, tenant: Any
) -> None:
    resource = volume("vol-a")
    finding_id = fid(tenant.id, unattached(resource))
    _scan(engine, tenant.id, "s1", [resource])
    with tenant_session(engine, tenant.id) as session:
        repo.set_finding_status(
            session,
            tenant.id,
            finding_id,
            "awaiting_approval",
            expected=["open"],
            workflow_id="wf-old",
        )
        repo.add_card_ref(session, tenant.id, finding_id, MessageRef("slack", "C1", "1.0"))
    _scan(engine, tenant.id, "s2", [])

    opened, _, _ = _scan(engine, tenant.id, "s3", [resource])

    row = _get(engine, tenant.id, finding_id)
    assert opened == [finding_id]
    assert (row.status, row.workflow_id, row.card_refs, row.first_seen_at) == ("open", None, [], T0)


def test_unreadable_region_resolves_nothing_there(engine: Any, tenant: Any) -> None:
    west, east = volume("vol-w"), volume("vol-e", "us-east-1")
    _scan(engine, tenant.id, "s1", [west, east])
    denied = ReadError(ACCOUNT, "us-east-1", "ec2", "AccessDenied", "ec2:DescribeVolumes")

    _, _, resolved = _scan(engine, tenant.id, "s2", [], errors=(denied,))

    assert resolved == [fid(tenant.id, unattached(west))]
    assert _get(engine, tenant.id, fid(tenant.id, unattached(east))).status == "open"


def test_account_wide_error_protects_every_region(engine: Any, tenant: Any) -> None:
    _scan(engine, tenant.id, "s1", [volume("vol-w"), volume("vol-e", "us-east-1")])
    no_role = ReadError(ACCOUNT, "", "sts", "AccessDenied", "cannot assume the read role")
    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s2")
        for region in ("eu-west-1", "us-east-1"):
            repo.store_resources(session, tenant.id, "s2", [], account_id=ACCOUNT, region=region)

        _, _, resolved = repo.upsert_findings(session, tenant.id, "s2", [], T0, errors=[no_role])

    assert resolved == []


def test_explicit_scope_limits_resolution(engine: Any, tenant: Any) -> None:
    west, east = volume("vol-w"), volume("vol-e", "us-east-1")
    _scan(engine, tenant.id, "s1", [west, east])
    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s2")

        _, _, resolved = repo.upsert_findings(
            session, tenant.id, "s2", [], T0, scope=[repo.ScopeKey("aws", ACCOUNT, "us-east-1")]
        )

    assert resolved == [fid(tenant.id, unattached(east))]


def test_region_not_scanned_is_out_of_scope(engine: Any, tenant: Any) -> None:
    east = volume("vol-e", "us-east-1")
    _scan(engine, tenant.id, "s1", [east])

    _, _, resolved = _scan(engine, tenant.id, "s2", [], regions=("eu-west-1",))

    assert resolved == []


@pytest.mark.parametrize(
    "status", ["approved", "remediating", "remediated", "verified", "rejected", "failed"]
)
def test_decided_findings_are_not_resolved_by_a_scan(engine: Any, tenant: Any, status: str) -> None:
    resource = volume("vol-a")
    finding_id = fid(tenant.id, unattached(resource))
    _scan(engine, tenant.id, "s1", [resource])
    with tenant_session(engine, tenant.id) as session:
        session.execute(text("UPDATE findings SET status = :s"), {"s": status})

    _, _, resolved = _scan(engine, tenant.id, "s2", [])

    assert resolved == []
    assert _get(engine, tenant.id, finding_id).status == status


def test_compare_and_set_moves_only_from_expected_status(engine: Any, tenant: Any) -> None:
    resource = volume("vol-a")
    finding_id = fid(tenant.id, unattached(resource))
    _scan(engine, tenant.id, "s1", [resource])

    with tenant_session(engine, tenant.id) as session:
        first = repo.set_finding_status(
            session,
            tenant.id,
            finding_id,
            FindingStatus.AWAITING_APPROVAL,
            expected=[FindingStatus.OPEN],
            workflow_id="wf-1",
        )
        second = repo.set_finding_status(
            session,
            tenant.id,
            finding_id,
            FindingStatus.AWAITING_APPROVAL,
            expected=[FindingStatus.OPEN],
            workflow_id="wf-2",
        )
        unknown = repo.set_finding_status(
            session, tenant.id, "f-000000000000", "approved", expected=["awaiting_approval"]
        )

    row = _get(engine, tenant.id, finding_id)
    assert (first, second, unknown) == (True, False, False)
    assert (row.status, row.workflow_id) == ("awaiting_approval", "wf-1")


def test_two_racing_approvals_move_the_finding_once(engine: Any, tenant: Any) -> None:
    resource = volume("vol-a")
    finding_id = fid(tenant.id, unattached(resource))
    _scan(engine, tenant.id, "s1", [resource])
    with tenant_session(engine, tenant.id) as session:
        repo.set_finding_status(
            session, tenant.id, finding_id, "awaiting_approval", expected=["open"]
        )
    results: dict[str, bool] = {}
    holding = threading.Event()
    release = threading.Event()

    def approve(name: str, hold: bool) -> None:
        with tenant_session(engine, tenant.id) as session:
            results[name] = repo.set_finding_status(
                session,
                tenant.id,
                finding_id,
                "approved",
                expected=["awaiting_approval"],
                decided_by=[{"person_id": name, "decision": "approve"}],
            )
            if hold:  # keep the row lock until the other writer is blocked on it
                holding.set()
                release.wait(5)

    first = threading.Thread(target=approve, args=("alice", True))
    first.start()
    holding.wait(5)
    second = threading.Thread(target=approve, args=("bob", False))
    second.start()
    second.join(0.5)
    blocked = second.is_alive()  # bob waits on alice's row lock instead of reading stale data
    release.set()
    first.join(5)
    second.join(5)

    row = _get(engine, tenant.id, finding_id)
    assert blocked
    assert results == {"alice": True, "bob": False}
    assert row.decided_by == [{"person_id": "alice", "decision": "approve"}]


def test_set_status_refuses_unknown_status(engine: Any, tenant: Any) -> None:
    with pytest.raises(ValueError, match="'done' is not a valid FindingStatus"):
        with tenant_session(engine, tenant.id) as session:
            repo.set_finding_status(session, tenant.id, "f-1", "done", expected=["open"])


def test_card_refs_are_added_once(engine: Any, tenant: Any) -> None:
    resource = volume("vol-a")
    finding_id = fid(tenant.id, unattached(resource))
    _scan(engine, tenant.id, "s1", [resource])
    first, second = MessageRef("slack", "C1", "1.1"), MessageRef("console", "console", "7")

    with tenant_session(engine, tenant.id) as session:
        added = [
            repo.add_card_ref(session, tenant.id, finding_id, ref) for ref in (first, second, first)
        ]
        in_session = repo.get_finding(session, tenant.id, finding_id).card_refs

    stored = _get(engine, tenant.id, finding_id).card_refs
    assert added == [True, True, False]
    assert (
        stored
        == in_session
        == [
            {"channel_kind": "slack", "channel_id": "C1", "message_id": "1.1"},
            {"channel_kind": "console", "channel_id": "console", "message_id": "7"},
        ]
    )


def test_card_ref_on_unknown_finding_is_not_found(engine: Any, tenant: Any) -> None:
    with pytest.raises(NotFoundError, match="No finding f-nope"):
        with tenant_session(engine, tenant.id) as session:
            repo.add_card_ref(session, tenant.id, "f-nope", MessageRef("slack", "C", "1"))


def test_list_findings_filters_and_orders_by_savings(engine: Any, tenant: Any) -> None:
    small, big, east = volume("vol-small"), volume("vol-big"), volume("vol-e", "us-east-1")
    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s1")
        repo.upsert_findings(
            session,
            tenant.id,
            "s1",
            [unattached(small, 2.5), unattached(big, 40.0), unattached(east, 10.0)],
            T0,
        )
        repo.set_finding_status(
            session, tenant.id, fid(tenant.id, unattached(east)), "rejected", expected=["open"]
        )

        everything = repo.list_findings(session, tenant.id)
        still_open = repo.list_findings(
            session, tenant.id, status="open", severity="medium", provider="aws", account=ACCOUNT
        )
        open_only = repo.list_findings(session, tenant.id, open_only=True)
        other_account = repo.list_findings(session, tenant.id, account="999999999999")

    assert [f.resource_id for f in everything] == ["vol-big", "vol-e", "vol-small"]
    assert [f.resource_id for f in still_open] == ["vol-big", "vol-small"]
    assert [f.resource_id for f in open_only] == ["vol-big", "vol-small"]
    assert other_account == []


def test_list_findings_rejects_unknown_severity(engine: Any, tenant: Any) -> None:
    with pytest.raises(ValueError, match="unknown severity urgent; choose from low, medium"):
        with tenant_session(engine, tenant.id) as session:
            repo.list_findings(session, tenant.id, severity="urgent")


def test_stored_finding_round_trips_to_domain_and_card(engine: Any, tenant: Any) -> None:
    resource = volume("vol-a")
    finding = unattached(resource, 8.13)
    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s1")
        repo.upsert_findings(session, tenant.id, "s1", [finding], T0)

    row = _get(engine, tenant.id, fid(tenant.id, finding))
    card = repo.finding_card(row, action_token="tok")

    assert repo.to_domain(row) == finding
    assert card.resource_label == f"vol-a (name-vol-a), {ACCOUNT} / eu-west-1"
    assert (card.action_verb, card.status, card.savings_usd_month) == (
        "Snapshot, then delete the volume",
        "open",
        8.13,
    )


def test_actionable_without_workflow_lists_open_unclaimed(engine: Any, tenant: Any) -> None:
    a, b = volume("vol-a"), volume("vol-b")
    _scan(engine, tenant.id, "s1", [a, b])
    with tenant_session(engine, tenant.id) as session:
        repo.set_finding_status(
            session,
            tenant.id,
            fid(tenant.id, unattached(a)),
            "awaiting_approval",
            expected=["open"],
            workflow_id="wf-a",
        )
        pending = repo.actionable_without_workflow(session, tenant.id)

    assert pending == [fid(tenant.id, unattached(b))]


def test_finding_as_dict_is_json_ready(engine: Any, tenant: Any) -> None:
    import json

    resource = volume("vol-a")
    _scan(engine, tenant.id, "s1", [resource])

    data = repo.finding_as_dict(_get(engine, tenant.id, fid(tenant.id, unattached(resource))))

    assert json.loads(json.dumps(data)) == data
    assert data["savings_usd_month"] == 8.0
    assert data["first_seen_at"] == T0.isoformat()
    assert data["resource_label"] == f"vol-a (name-vol-a), {ACCOUNT} / eu-west-1"
