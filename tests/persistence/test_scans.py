"""Scans and inventory snapshots: store, reload, retry, scope."""

from __future__ import annotations

from typing import Any

import pytest

from fintropy.domain import ReadError
from fintropy.errors import NotFoundError
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session
from tests.persistence.data import ACCOUNT, T0, volume


def test_resources_round_trip_through_a_scan(engine: Any, tenant: Any) -> None:
    resources = [volume("vol-b", owner="data-team"), volume("vol-a", "us-east-1")]

    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s1", "alice")
        stored = repo.store_resources(session, tenant.id, "s1", resources)
    with tenant_session(engine, tenant.id) as session:
        loaded = repo.load_resources(session, tenant.id, "s1")
        tags = repo.get_resource_tags(session, tenant.id, "s1", "vol-b")
        missing = repo.get_resource_tags(session, tenant.id, "s1", "vol-zzz")

    assert stored == 2
    assert loaded == sorted(resources, key=lambda r: r.ref.key)
    assert (tags, missing) == ({"owner": "data-team"}, {})


def test_retried_collection_replaces_the_targets_rows(engine: Any, tenant: Any) -> None:
    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s1")
        repo.store_resources(
            session,
            tenant.id,
            "s1",
            [volume("vol-a"), volume("vol-b")],
            account_id=ACCOUNT,
            region="eu-west-1",
        )
        repo.store_resources(
            session, tenant.id, "s1", [volume("vol-a")], account_id=ACCOUNT, region="eu-west-1"
        )

        loaded = [r.resource_id for r in repo.load_resources(session, tenant.id, "s1")]

    assert loaded == ["vol-a"]


def test_scope_leaves_out_targets_with_read_errors(engine: Any, tenant: Any) -> None:
    throttled = ReadError(ACCOUNT, "us-east-1", "ec2", "Throttling", "rate exceeded")

    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s1")
        repo.store_resources(session, tenant.id, "s1", [], account_id=ACCOUNT, region="eu-west-1")
        repo.store_resources(
            session, tenant.id, "s1", [], account_id=ACCOUNT, region="us-east-1", errors=[throttled]
        )
        scope = repo.readable_scope(session, tenant.id, "s1")

    assert scope == {repo.ScopeKey("aws", ACCOUNT, "eu-west-1")}


def test_finished_scan_with_errors_is_partial(engine: Any, tenant: Any) -> None:
    denied = ReadError(ACCOUNT, "us-east-1", "rds", "AccessDenied", "rds:DescribeDBInstances")

    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s1", "alice", now=T0)
        repo.record_scan_started(session, tenant.id, "s1", "retry", now=T0)
        repo.record_scan_finished(
            session, tenant.id, "s1", resource_count=3, finding_count=1, errors=[denied], now=T0
        )
        scan = repo.get_scan(session, tenant.id, "s1")
        latest = repo.latest_scan(session, tenant.id)

    assert (scan.status, scan.requested_by, scan.resource_count) == ("partial", "alice", 3)
    assert scan.errors == [
        {
            "account_id": ACCOUNT,
            "region": "us-east-1",
            "service": "rds",
            "code": "AccessDenied",
            "message": "rds:DescribeDBInstances",
        }
    ]
    assert latest.id == "s1"


def test_finishing_an_unknown_scan_is_not_found(engine: Any, tenant: Any) -> None:
    with pytest.raises(NotFoundError, match="Scan s-nope does not exist"):
        with tenant_session(engine, tenant.id) as session:
            repo.record_scan_finished(
                session, tenant.id, "s-nope", resource_count=0, finding_count=0
            )
