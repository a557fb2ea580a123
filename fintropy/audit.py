"""The audit ledger: an append-only, hash-chained record of who did what, per tenant.

Each tenant's events are numbered 1, 2, 3... (``seq``). An event's ``hash`` is the SHA-256 of
the canonical JSON of its fields together with ``prev_hash``, the hash of the event before it
(64 zeros for the first). Changing, removing or reordering any stored row therefore breaks the
chain at that row, and ``verify_chain`` names it. The application role may only SELECT and
INSERT audit rows (see migration 0001), so the chain can be broken only from outside the app.

What the chain cannot prove on its own: that the newest events were not cut off the end, or
that someone with owner rights did not rewrite the whole chain consistently. Exported copies
kept by auditors (``export``) close both gaps: compare their last hash with the live one.

Details carry ids, statuses and figures only: never secrets, tokens or chat message text.
``append_event`` refuses keys that look like either.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, text
from sqlmodel import Session, col, select

from fintropy.persistence.models import AuditEvent

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
EXPORT_FORMATS = ("csv", "json")
EXPORT_COLUMNS = (
    "tenant_id",
    "seq",
    "id",
    "at",
    "actor",
    "actor_chat",
    "action",
    "subject",
    "rule_id",
    "rule_version",
    "workflow_id",
    "details",
    "prev_hash",
    "hash",
)
_FORBIDDEN_KEY_PARTS = ("secret", "token", "password", "credential", "authorization", "cookie")
_FORBIDDEN_KEYS = frozenset({"text", "body", "blocks", "message_text", "raw", "payload"})


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of checking one tenant's chain; ``first_bad_seq`` is None when ``ok``."""

    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str


def canonical_json(value: Any) -> str:
    """Serialise ``value`` the one way that is hashed: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def event_hash(event: AuditEvent) -> str:
    """The hash an event must carry, computed from its stored fields and ``prev_hash``."""
    fields = {name: getattr(event, name) for name in EXPORT_COLUMNS if name != "hash"}
    fields["at"] = _iso(event.at)
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def append_event(
    session: Session,
    tenant_id: str,
    actor: str,
    action: str,
    subject: str,
    *,
    actor_chat: str | None = None,
    rule_id: str | None = None,
    rule_version: str | None = None,
    workflow_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event to the tenant's chain and return it (flushed, not yet committed).

    ``actor`` is a person id, ``"system"`` or ``"fintropy-scheduler"``; ``actor_chat`` the
    chat identity behind it (``"slack:T123/U456"``). The next ``seq`` is taken under a
    per-tenant transaction lock, so concurrent writers queue instead of forking the chain.
    """
    clean = _clean_details(details or {})
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"fintropy.audit:{tenant_id}"},
    )
    last = session.exec(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()

    event = AuditEvent(
        tenant_id=tenant_id,
        seq=last[0] + 1 if last else 1,
        id=f"ev-{uuid.uuid4().hex}",
        at=(at or datetime.now(UTC)).astimezone(UTC),
        actor=actor,
        actor_chat=actor_chat,
        action=action,
        subject=subject,
        rule_id=rule_id,
        rule_version=rule_version,
        workflow_id=workflow_id,
        details=clean,
        prev_hash=last[1] if last else GENESIS_HASH,
        hash="",
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    logger.debug(
        "audit event appended",
        extra={"tenant_id": tenant_id, "seq": event.seq, "audit_action": action},
    )
    return event


def last_seq(session: Session, tenant_id: str) -> int:
    """The seq of the tenant's newest event (0 when it has none)."""
    newest = session.exec(
        select(AuditEvent.seq)
        .where(AuditEvent.tenant_id == tenant_id)
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    return newest or 0


def trail(session: Session, tenant_id: str, subject: str | None = None) -> list[AuditEvent]:
    """The tenant's events in order; with ``subject``, those about it.

    An event is about a subject when its ``subject`` is that id or its details name it as
    ``finding_id``, ``run_id`` or ``scan_id`` (so a finding's trail includes its runs' steps).
    """
    query = select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
    if subject is not None:
        details = AuditEvent.__table__.c.details
        query = query.where(
            or_(
                AuditEvent.subject == subject,
                details["finding_id"].as_string() == subject,
                details["run_id"].as_string() == subject,
                details["scan_id"].as_string() == subject,
            )
        )
    return list(session.exec(query.order_by(col(AuditEvent.seq))).all())


def verify_chain(session: Session, tenant_id: str) -> VerifyResult:
    """Check every event of the tenant's chain; name the first row that was altered or lost."""
    previous_hash = GENESIS_HASH
    expected_seq = 1
    for event in trail(session, tenant_id):
        problem = _check(event, expected_seq, previous_hash)
        if problem is not None:
            bad_seq, reason = problem
            logger.warning(
                "audit chain broken",
                extra={"tenant_id": tenant_id, "seq": bad_seq, "checked": expected_seq - 1},
            )
            return VerifyResult(False, expected_seq - 1, bad_seq, reason)
        previous_hash = event.hash
        expected_seq += 1
    checked = expected_seq - 1
    return VerifyResult(True, checked, None, f"{checked} events, chain intact")


def _check(event: AuditEvent, expected_seq: int, previous_hash: str) -> tuple[int, str] | None:
    if event.seq != expected_seq:
        return expected_seq, (
            f"event {expected_seq} is missing: the next stored event has seq {event.seq} "
            "(rows were removed or renumbered)"
        )
    if event.prev_hash != previous_hash:
        return event.seq, (
            f"event {event.seq} does not follow event {event.seq - 1}: its prev_hash differs "
            "from that event's hash (rows were removed, inserted or reordered)"
        )
    if event_hash(event) != event.hash:
        return event.seq, f"event {event.seq} was altered: its content does not match its hash"
    return None


def export(session: Session, tenant_id: str, fmt: str = "csv") -> str:
    """The tenant's whole ledger as CSV (``details`` as canonical JSON) or as a JSON array."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"unknown audit export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    rows = [_export_row(event) for event in trail(session, tenant_id)]
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "details": canonical_json(row["details"])})
    return buffer.getvalue()


def _export_row(event: AuditEvent) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in EXPORT_COLUMNS}
    row["at"] = _iso(event.at)
    return row


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _clean_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Refuse secret-looking keys; return the details exactly as they will read back."""
    _refuse_sensitive_keys(details, path="details")
    try:
        return json.loads(canonical_json(dict(details)))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"audit details must be plain JSON (str, number, bool, None, lists, dicts): {exc}"
        ) from exc


def _refuse_sensitive_keys(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = str(key).lower()
            if name in _FORBIDDEN_KEYS or any(part in name for part in _FORBIDDEN_KEY_PARTS):
                raise ValueError(
                    f"audit details may not carry {path}.{key}: secrets, tokens and message "
                    "text stay out of the ledger; record an id or a status instead"
                )
            _refuse_sensitive_keys(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_sensitive_keys(item, f"{path}[{index}]")
