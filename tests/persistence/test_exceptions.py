"""Exceptions (snoozes): which findings each scope covers, and the snooze/expiry round trip."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fintropy.domain import FindingStatus
from fintropy.errors import ConfigError
from fintropy.persistence import exceptions as store
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session
from tests.persistence.data import ACCOUNT, T0, fid, unattached, volume
from tests.persistence.test_findings import _scan

OPEN = (FindingStatus.OPEN.value,)


@pytest.fixture
def three_volumes(engine: Any, tenant: Any) -> tuple[str, list[Any]]:
    tenant_id = tenant.id
    vols = [volume("vol-a", team="data"), volume("vol-b", team="web"),
            volume("vol-c", "us-east-1", team="data")]
    _scan(engine, tenant_id, "scan-x", vols)
    return tenant_id, vols


@pytest.mark.parametrize(
    ("scope", "value", "expected"),
    [
        ("finding", None, ["vol-a"]),
        ("resource", "vol-b", ["vol-b"]),
        ("tag", "team=data", ["vol-a", "vol-c"]),
        ("account", ACCOUNT, ["vol-a", "vol-b", "vol-c"]),
        ("rule", "aws_ebs_volume_unattached", ["vol-a", "vol-b", "vol-c"]),
        ("account", "999999999999", []),
        ("tag", "team=nobody", []),
    ],
)
def test_each_scope_covers_exactly_its_findings(engine, three_volumes, scope, value, expected):
    tenant_id, vols = three_volumes
    ids = {fid(tenant_id, unattached(v)): v.resource_id for v in vols}
    value = value or fid(tenant_id, unattached(vols[0]))

    with tenant_session(engine, tenant_id) as session:
        covered = store.findings_in_scope(session, tenant_id, scope, value, OPEN)

    assert sorted(ids[c] for c in covered) == expected


def test_bad_scopes_are_refused_with_the_valid_choices(engine, three_volumes):
    tenant_id, _ = three_volumes
    with tenant_session(engine, tenant_id) as session:
        with pytest.raises(ConfigError, match="finding, resource, tag, account, rule"):
            store.findings_in_scope(session, tenant_id, "region", "eu-west-1", OPEN)
        with pytest.raises(ConfigError, match="key=value"):
            store.create_exception(session, tenant_id, exception_id="ex-1", scope="tag",
                                   scope_value="team", owner="alice", reason="r",
                                   expires_at=T0 + timedelta(days=1), now=T0)


def test_snoozed_finding_is_not_reopened_by_rescan_and_expiry_reopens_it(engine, three_volumes):
    tenant_id, vols = three_volumes
    target = fid(tenant_id, unattached(vols[0]))
    with tenant_session(engine, tenant_id) as session:
        repo.set_finding_status(session, tenant_id, target, FindingStatus.SNOOZED,
                                expected=[FindingStatus.OPEN])

    _scan(engine, tenant_id, "scan-y", vols, at=T0 + timedelta(hours=1))
    with tenant_session(engine, tenant_id) as session:
        after_rescan = repo.get_finding(session, tenant_id, target).status
        reopened = repo.reopen_finding(session, tenant_id, target,
                                       expected=FindingStatus.SNOOZED)
        again = repo.reopen_finding(session, tenant_id, target, expected=FindingStatus.SNOOZED)
        final = repo.get_finding(session, tenant_id, target)

    assert after_rescan == "snoozed"
    assert reopened is True
    assert again is False
    assert final.status == "open"
    assert final.workflow_id is None
    assert final.card_refs == []
