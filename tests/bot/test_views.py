"""Card and listing builders: escaping, buttons, and Block Kit limits."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.backend import AuditLine, FindingSummary
from bot.views import (
    ACTION_APPROVE,
    ACTION_DETAILS,
    ACTION_REJECT,
    audit_blocks,
    finding_blocks,
    finding_detail_blocks,
    finding_text,
    findings_blocks,
    help_blocks,
    reject_reason_view,
)
from fintropy.domain import FindingCard

SNAPSHOTS = Path(__file__).parent / "snapshots"
HOSTILE = "<script>alert(1)</script> *bold* _it_ ~s~ & <!channel> <https://evil|click>"


def _card(**changes: Any) -> FindingCard:
    card = FindingCard(
        tenant_id="acme",
        finding_id="f-0123456789ab",
        title="Unattached EBS volume",
        severity="high",
        status="awaiting_approval",
        resource_label="vol-0abc (data-archive), 123456789012 / eu-west-1",
        explanation="Volume vol-0abc has been unattached for 41 days and still costs money.",
        savings_usd_month=40.0,
        savings_formula="500 GiB x $0.08/GiB-month = $40.00/month",
        price_basis="list",
        action_verb="Snapshot, then delete the volume",
        reversibility="restorable",
        risk="medium",
        rule_id="aws.ebs.unattached_volume",
        rule_version="1.0.0",
        action_token="v1.token.value",
    )
    return dataclasses.replace(card, **changes)


def _texts(node: Any) -> Iterator[tuple[str, str]]:
    """Every (type, text) text object in a payload."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node["type"], node["text"]
        for value in node.values():
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def _outside_code(mrkdwn: str) -> str:
    return re.sub(r"`[^`]*`", "", mrkdwn)


def _assert_mrkdwn_is_inert(blocks: list[dict[str, Any]]) -> None:
    for kind, text in _texts(blocks):
        if kind != "mrkdwn":
            continue
        assert "<" not in text, text
        assert ">" not in text, text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
        bare = _outside_code(text)
        for mark in ("*bold*", "_it_", "~s~"):
            assert mark not in bare, text


def _actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "actions"]


def test_card_escapes_hostile_text_from_resources() -> None:
    card = _card(
        title=HOSTILE,
        resource_label=HOSTILE,
        explanation=HOSTILE,
        savings_formula=HOSTILE,
        decided_by=(HOSTILE,),
        outcome=HOSTILE,
    )

    blocks = finding_blocks(card)

    _assert_mrkdwn_is_inert(blocks)
    payload = json.dumps(blocks)
    assert "&lt;script&gt;" in payload  # the resource label, escaped inside its code span
    plain = [text for kind, text in _texts(blocks) if kind == "plain_text"]
    assert HOSTILE in plain  # the explanation is shown as plain text, untouched


def test_card_fallback_text_escapes_hostile_text() -> None:
    text = finding_text(_card(title=HOSTILE, resource_label=HOSTILE))

    assert "<" not in text
    assert ">" not in text
    assert "*bold*" not in _outside_code(text)
    assert "$40.00/month" in text


def test_card_shows_savings_severity_resource_rule_formula_and_status() -> None:
    blocks = finding_blocks(_card(decided_by=("Ann Approver",), outcome="Snapshot snap-1 kept."))

    texts = " ".join(text for _, text in _texts(blocks))
    for expected in (
        "$40.00/month",
        "High",
        "vol-0abc (data-archive)",
        "aws.ebs.unattached_volume",
        "v1.0.0",
        "500 GiB x $0.08/GiB-month",
        "list prices",
        "Awaiting approval",
        "Decided by: Ann Approver",
        "Outcome: Snapshot snap-1 kept.",
    ):
        assert expected in texts
    assert blocks[0] == {
        "type": "header",
        "block_id": "finding_header",
        "text": {"type": "plain_text", "text": "Unattached EBS volume", "emoji": False},
    }


def test_card_buttons_carry_the_token_and_ids() -> None:
    blocks = finding_blocks(_card())

    (actions,) = _actions(blocks)
    buttons = actions["elements"]
    assert [b["action_id"] for b in buttons] == [ACTION_APPROVE, ACTION_REJECT, ACTION_DETAILS]
    assert {b["value"] for b in buttons} == {"v1.token.value"}
    assert buttons[0]["style"] == "primary"


def test_destructive_action_asks_for_confirmation() -> None:
    (actions,) = _actions(finding_blocks(_card()))

    confirm = actions["elements"][0]["confirm"]
    assert confirm["title"]["text"] == "Approve this action?"
    assert "Snapshot, then delete the volume" in confirm["text"]["text"]


def test_reversible_action_needs_no_confirmation() -> None:
    card = _card(action_verb="Stop the instance", reversibility="reversible")

    (actions,) = _actions(finding_blocks(card))

    assert "confirm" not in actions["elements"][0]


@pytest.mark.parametrize("status", ["approved", "rejected", "expired", "verified"])
def test_disabled_buttons_leave_no_actions_block(status: str) -> None:
    blocks = finding_blocks(_card(status=status, buttons_enabled=False))

    assert _actions(blocks) == []


def test_card_without_token_has_no_buttons() -> None:
    assert _actions(finding_blocks(_card(action_token=""))) == []


def test_advice_only_card_has_no_approve_button() -> None:
    blocks = finding_blocks(_card(action_verb=None, reversibility=None, risk=None))

    (actions,) = _actions(blocks)
    assert [b["action_id"] for b in actions["elements"]] == [ACTION_REJECT, ACTION_DETAILS]
    assert "Advice only" in json.dumps(blocks)


def test_very_long_texts_stay_within_block_kit_limits() -> None:
    huge = ("data-archive-" * 800) + "&<>" * 500
    card = _card(
        title=huge,
        resource_label=huge,
        explanation=huge,
        savings_formula=huge,
        rule_version=huge,
        decided_by=(huge, huge),
        outcome=huge,
        severity=huge,
    )

    blocks = finding_blocks(card)  # slack_sdk validates its limits while building

    assert len(blocks) <= 50
    header = blocks[0]["text"]["text"]
    assert len(header) == 150
    assert header.endswith("…")
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
    _assert_mrkdwn_is_inert(blocks)


def test_detail_view_has_no_buttons_and_shows_the_trail() -> None:
    trail = [
        AuditLine(
            1,
            "2026-01-01T10:00:00Z",
            "Ann *Approver*",
            "finding.approved",
            "f-0123456789ab",
            "reason <b>",
        )
    ]

    blocks = finding_detail_blocks(_card(), trail)

    assert _actions(blocks) == []
    assert "finding.approved" in json.dumps(blocks)
    _assert_mrkdwn_is_inert(blocks)


def _summary(i: int, label: str = "vol-1") -> FindingSummary:
    return FindingSummary(
        f"f-{i:012x}",
        "Idle load balancer",
        "medium",
        "awaiting_approval",
        label,
        10.0 + i,
        "123456789012",
        "aws",
    )


def test_findings_listing_shows_each_finding_and_the_total() -> None:
    blocks = findings_blocks([_summary(1), _summary(2, HOSTILE)])

    payload = json.dumps(blocks)
    assert "f-000000000001" in payload
    assert "f-000000000002" in payload
    assert "$23.00/month" in payload  # 11 + 12
    _assert_mrkdwn_is_inert(blocks)


def test_findings_listing_of_hundreds_fits_one_message() -> None:
    blocks = findings_blocks([_summary(i) for i in range(300)])

    assert len(blocks) <= 50
    assert "Showing 40 of 300" in json.dumps(blocks)


def test_empty_findings_listing_says_so() -> None:
    assert "No open findings match" in json.dumps(findings_blocks([]))


def test_help_lists_every_command() -> None:
    text = json.dumps(help_blocks())

    for usage in (
        "findings [--provider P] [--severity S] [--account A]",
        "show ID",
        "approve ID",
        "reject ID REASON",
        "audit ID",
        "scan",
        "help",
    ):
        assert usage in text


def test_audit_view_of_a_long_trail_fits_one_message() -> None:
    trail = [
        AuditLine(
            i,
            "2026-01-01T10:00:00Z",
            f"person {i} <x>",
            "card.updated",
            "f-0123456789ab",
            "d" * 500,
        )
        for i in range(1, 600)
    ]

    blocks = audit_blocks("f-0123456789ab", trail)

    assert len(blocks) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "`#599`" in json.dumps(blocks)  # the newest events are kept
    assert "earlier events not shown" in json.dumps(blocks)
    _assert_mrkdwn_is_inert(blocks)


def test_reject_modal_asks_for_a_bounded_reason() -> None:
    view = reject_reason_view(finding_title=HOSTILE * 100, private_metadata='{"token": "t"}')

    assert view["callback_id"] == "finding_reject_reason"
    assert view["blocks"][1]["element"]["max_length"] == 500
    assert view["private_metadata"] == '{"token": "t"}'
    assert len(view["title"]["text"]) <= 24


def test_card_matches_snapshot() -> None:
    blocks = finding_blocks(_card(decided_by=("Ann Approver",)))
    path = SNAPSHOTS / "finding_card.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(blocks, indent=2, sort_keys=True) + "\n")

    assert blocks == json.loads(path.read_text())
