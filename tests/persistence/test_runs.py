"""Remediation runs and per-resource outcomes: idempotent writes, read back in order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fintropy.domain import ActionOutcome, OutcomeStatus
from fintropy.errors import NotFoundError
from fintropy.persistence import repo
from fintropy.persistence.db import tenant_session
from tests.persistence.data import T0, fid, ref, unattached, volume

ACTION = "snapshot_and_delete_volume"


@pytest.fixture
def finding_id(engine: Any, tenant: Any) -> str:
    """One stored finding in the test tenant."""
    finding = unattached(volume("vol-a"))
    with tenant_session(engine, tenant.id) as session:
        repo.record_scan_started(session, tenant.id, "s1")
        repo.upsert_findings(session, tenant.id, "s1", [finding], T0)
    return fid(tenant.id, finding)


def _start(session: Any, tenant_id: str, finding_id: str, requested_by: str = "carol") -> Any:
    return repo.start_run(
        session,
        tenant_id,
        "run-1",
        finding_id,
        "wf-1",
        ACTION,
        dry_run=False,
        requested_by=requested_by,
        approved_by=["bob"],
        now=T0,
    )


def test_starting_a_run_twice_keeps_the_first(engine: Any, tenant: Any, finding_id: str) -> None:
    with tenant_session(engine, tenant.id) as session:
        _start(session, tenant.id, finding_id)
    with tenant_session(engine, tenant.id) as session:
        again = _start(session, tenant.id, finding_id, requested_by="someone-else")

    assert (again.requested_by, again.approved_by, again.status) == ("carol", ["bob"], "running")


def test_outcomes_are_recorded_per_step_and_overwritten_on_retry(
    engine: Any, tenant: Any, finding_id: str
) -> None:
    target = ref("vol-a")
    with tenant_session(engine, tenant.id) as session:
        _start(session, tenant.id, finding_id)
        repo.record_outcome(
            session,
            tenant.id,
            "run-1",
            "plan",
            ActionOutcome(
                ACTION, target, OutcomeStatus.PLANNED, "Would snapshot then delete vol-a."
            ),
            now=T0,
        )
        repo.record_outcome(
            session,
            tenant.id,
            "run-1",
            "restore_point",
            ActionOutcome(ACTION, target, OutcomeStatus.FAILED, "Snapshot timed out."),
            now=T0 + timedelta(minutes=1),
        )
        repo.record_outcome(
            session,
            tenant.id,
            "run-1",
            "restore_point",
            ActionOutcome(
                ACTION,
                target,
                OutcomeStatus.SUCCEEDED,
                "Snapshot snap-1 taken.",
                {"snapshot_id": "snap-1"},
            ),
            now=T0 + timedelta(minutes=2),
        )
        repo.finish_run(session, tenant.id, "run-1", "succeeded", now=T0 + timedelta(minutes=3))

    with tenant_session(engine, tenant.id) as session:
        detail = repo.get_run(session, tenant.id, "run-1")
        point = repo.get_outcome(session, tenant.id, "run-1", "restore_point")
        runs = repo.runs_for_finding(session, tenant.id, finding_id)

    assert [(o.step, o.status) for o in detail.outcomes] == [
        ("plan", "planned"),
        ("restore_point", "succeeded"),
    ]
    assert point.restore_point == {"snapshot_id": "snap-1"}
    assert point.status == OutcomeStatus.SUCCEEDED
    assert (detail.run.status, detail.run.finished_at) == ("succeeded", T0 + timedelta(minutes=3))
    assert [r.id for r in runs] == ["run-1"]


def test_unknown_step_is_refused(engine: Any, tenant: Any, finding_id: str) -> None:
    outcome = ActionOutcome(ACTION, ref("vol-a"), OutcomeStatus.SUCCEEDED, "done")

    with pytest.raises(ValueError, match="unknown remediation step 'delete'"):
        with tenant_session(engine, tenant.id) as session:
            repo.record_outcome(session, tenant.id, "run-1", "delete", outcome)


def test_unknown_run_is_absent_and_cannot_finish(engine: Any, tenant: Any) -> None:
    with tenant_session(engine, tenant.id) as session:
        assert repo.get_run(session, tenant.id, "run-nope") is None

    with pytest.raises(NotFoundError, match="No remediation run run-nope"):
        with tenant_session(engine, tenant.id) as session:
            repo.finish_run(session, tenant.id, "run-nope", "failed")
