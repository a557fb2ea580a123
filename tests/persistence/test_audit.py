"""The audit ledger: append-only for the app role, hash-chained, verifiable, exportable."""

from __future__ import annotations

import csv
import io
import json
import threading
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from fintropy import audit
from fintropy.persistence.db import admin_session, tenant_session


def _append(engine: Any, tenant_id: str, count: int, subject: str = "f-abc") -> None:
    with tenant_session(engine, tenant_id) as session:
        for n in range(count):
            audit.append_event(
                session,
                tenant_id,
                "bob",
                f"step.{n}",
                subject,
                actor_chat=f"slack:T{tenant_id}/U{tenant_id}-bob",
                rule_id="aws_ebs_volume_unattached",
                rule_version="1.0.0",
                workflow_id="finding-f-abc",
                details={"n": n, "savings_usd_month": 8.13, "big": 1e20, "note": "café"},
            )


def _verify(engine: Any, tenant_id: str) -> audit.VerifyResult:
    with tenant_session(engine, tenant_id) as session:
        return audit.verify_chain(session, tenant_id)


def _tamper(engine: Any, sql: str, **params: Any) -> None:
    # A superuser connection, the way an attacker with database access would come in.
    with admin_session(engine) as session:
        session.execute(text(sql), params)


def test_events_are_numbered_and_chained(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 3)

    with tenant_session(engine, tenant.id) as session:
        events = audit.trail(session, tenant.id)

    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert all(audit.event_hash(e) == e.hash for e in events)


def test_last_seq_counts_the_tenants_events(engine: Any, tenant: Any) -> None:
    with tenant_session(engine, tenant.id) as session:
        empty = audit.last_seq(session, tenant.id)
    _append(engine, tenant.id, 3)

    with tenant_session(engine, tenant.id) as session:
        assert (empty, audit.last_seq(session, tenant.id)) == (0, 3)


def test_each_tenant_has_its_own_chain(engine: Any, tenant: Any) -> None:
    from tests.support.pg_fixtures import provision_test_tenant

    other = provision_test_tenant(engine)
    _append(engine, tenant.id, 2)
    _append(engine, other.id, 1)

    with tenant_session(engine, other.id) as session:
        seqs = [e.seq for e in audit.trail(session, other.id)]

    assert seqs == [1]


def test_intact_chain_verifies(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 4)

    result = _verify(engine, tenant.id)

    assert result == audit.VerifyResult(True, 4, None, "4 events, chain intact")


def test_empty_chain_verifies(engine: Any, tenant: Any) -> None:
    assert _verify(engine, tenant.id).ok


def test_app_role_cannot_update_audit_rows(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 1)

    with pytest.raises(ProgrammingError, match="permission denied for table audit_events"):
        with tenant_session(engine, tenant.id) as session:
            session.execute(text("UPDATE audit_events SET actor = 'mallory'"))


def test_app_role_cannot_delete_audit_rows(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 1)

    with pytest.raises(ProgrammingError, match="permission denied for table audit_events"):
        with tenant_session(engine, tenant.id) as session:
            session.execute(text("DELETE FROM audit_events"))


def test_app_role_cannot_truncate_audit_rows(engine: Any, tenant: Any) -> None:
    with pytest.raises(ProgrammingError, match="permission denied for table audit_events"):
        with tenant_session(engine, tenant.id) as session:
            session.execute(text("TRUNCATE audit_events"))


def test_altered_row_is_named(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 5)
    _tamper(
        engine,
        "UPDATE audit_events SET details = '{\"n\": 99}' WHERE tenant_id = :t AND seq = 3",
        t=tenant.id,
    )

    result = _verify(engine, tenant.id)

    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert "event 3 was altered" in result.reason


def test_altered_actor_is_named(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 2)
    _tamper(
        engine,
        "UPDATE audit_events SET actor = 'alice' WHERE tenant_id = :t AND seq = 1",
        t=tenant.id,
    )

    assert _verify(engine, tenant.id).first_bad_seq == 1


def test_removed_row_is_named(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 5)
    _tamper(engine, "DELETE FROM audit_events WHERE tenant_id = :t AND seq = 2", t=tenant.id)

    result = _verify(engine, tenant.id)

    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "event 2 is missing" in result.reason


def test_removed_and_renumbered_rows_are_named(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 4)
    _tamper(engine, "DELETE FROM audit_events WHERE tenant_id = :t AND seq = 2", t=tenant.id)
    for seq in (3, 4):
        _tamper(
            engine,
            "UPDATE audit_events SET seq = seq - 1 WHERE tenant_id = :t AND seq = :s",
            t=tenant.id,
            s=seq,
        )

    result = _verify(engine, tenant.id)

    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "does not follow event 1" in result.reason


def test_swapped_rows_are_named(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 5)
    for old, new in ((2, -2), (4, 2), (-2, 4)):  # (tenant_id, seq) is unique at every step
        _tamper(
            engine,
            "UPDATE audit_events SET seq = :new WHERE tenant_id = :t AND seq = :old",
            t=tenant.id,
            old=old,
            new=new,
        )

    result = _verify(engine, tenant.id)

    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "does not follow event 1" in result.reason


def test_trail_by_subject_includes_events_naming_it(engine: Any, tenant: Any) -> None:
    with tenant_session(engine, tenant.id) as session:
        audit.append_event(session, tenant.id, "system", "finding.opened", "f-1")
        audit.append_event(session, tenant.id, "system", "finding.opened", "f-2")
        audit.append_event(
            session,
            tenant.id,
            "bob",
            "remediation.executed",
            "run-1",
            details={"finding_id": "f-1"},
        )

        actions = [(e.subject, e.action) for e in audit.trail(session, tenant.id, "f-1")]

    assert actions == [("f-1", "finding.opened"), ("run-1", "remediation.executed")]


@pytest.mark.parametrize(
    "details",
    [
        {"slack_bot_token": "xoxb-1"},
        {"nested": {"signing_secret": "s"}},
        {"text": "hello"},
        {"items": [{"password": "p"}]},
    ],
)
def test_secrets_and_message_text_are_refused(engine: Any, tenant: Any, details: dict) -> None:
    with pytest.raises(ValueError, match="may not carry details"):
        with tenant_session(engine, tenant.id) as session:
            audit.append_event(session, tenant.id, "bob", "card.posted", "f-1", details=details)


def test_non_json_details_are_refused(engine: Any, tenant: Any) -> None:
    with pytest.raises(ValueError, match="must be plain JSON"):
        with tenant_session(engine, tenant.id) as session:
            audit.append_event(session, tenant.id, "bob", "x", "f-1", details={"v": object()})


def test_concurrent_writers_keep_one_gapless_chain(database_url: str, tenant: Any) -> None:
    from fintropy.persistence.db import create_engine_for

    pool = create_engine_for(database_url, pool_size=4)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                _append(pool, tenant.id, 1)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    result = _verify(pool, tenant.id)
    pool.dispose()

    assert errors == []
    assert (result.ok, result.checked) == (True, 20)


def test_csv_export_holds_every_event(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 3)

    with tenant_session(engine, tenant.id) as session:
        rows = list(csv.DictReader(io.StringIO(audit.export(session, tenant.id, "csv"))))

    assert [r["seq"] for r in rows] == ["1", "2", "3"]
    assert list(rows[0]) == list(audit.EXPORT_COLUMNS)
    assert json.loads(rows[1]["details"])["note"] == "café"
    assert rows[2]["prev_hash"] == rows[1]["hash"]


def test_json_export_can_be_verified_offline(engine: Any, tenant: Any) -> None:
    _append(engine, tenant.id, 2)

    with tenant_session(engine, tenant.id) as session:
        exported = json.loads(audit.export(session, tenant.id, "json"))

    # An auditor recomputes the chain from the export alone.
    previous = audit.GENESIS_HASH
    for row in exported:
        fields = {k: v for k, v in row.items() if k != "hash"}
        assert row["prev_hash"] == previous
        import hashlib

        digest = hashlib.sha256(audit.canonical_json(fields).encode()).hexdigest()
        assert digest == row["hash"]
        previous = row["hash"]
    assert [row["seq"] for row in exported] == [1, 2]


def test_export_rejects_unknown_format(engine: Any, tenant: Any) -> None:
    with pytest.raises(
        ValueError, match="unknown audit export format 'xml'; choose one of csv, json"
    ):
        with tenant_session(engine, tenant.id) as session:
            audit.export(session, tenant.id, "xml")
