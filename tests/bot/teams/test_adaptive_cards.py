"""Adaptive Card builders: every shape validates against the official 1.5 schema, untrusted
text cannot become markdown, sizes stay under Teams' limit, and buttons follow the card state.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.backend import AuditLine, FindingSummary
from bot.views.adaptive import (
    MAX_CARD_BYTES,
    MAX_REFRESH_USERS,
    audit_card,
    card_bytes,
    finding_card,
    finding_detail_card,
    findings_card,
    neutral,
)
from fintropy.domain import FindingCard
from tests.bot.teams.support import card_token, make_card

SCHEMA_PATH = Path(__file__).parents[2] / "data" / "schemas" / "adaptive-card-1.5.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft6Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema)


def _hostile() -> FindingCard:
    long = "x" * 20_000
    return make_card(
        title="[Click](https://evil.example) **now** _please_ " + long,
        resource_label="vol-0abc ![img](https://evil.example/p.png) " + long,
        explanation="Line one\n\n# Heading\n- list " + long,
        savings_formula="2 * 3 * " + long,
        decided_by=tuple(f"[Name {i}](https://evil.example)" for i in range(50)),
        outcome="(failed) " + long,
    )


def _all_shapes() -> dict[str, dict[str, Any]]:
    awaiting = make_card()
    advice = make_card(action_verb=None, reversibility=None, risk=None)
    decided = make_card(
        status="remediated",
        decided_by=("Ann",),
        outcome="done",
        buttons_enabled=False,
        action_token="",
    )
    trail = [AuditLine(i, "2026-12-04T10:00:00Z", "Ann", "a.b", "f-1", "d") for i in range(45)]
    summaries = [
        FindingSummary(f"f-{i:012x}", "Idle thing", "low", "open", "r (x)", 1.5, "1", "aws")
        for i in range(60)
    ]
    return {
        "approver view": finding_card(awaiting, viewer_can_decide=True, approver_ids=["29:a"]),
        "viewer view": finding_card(awaiting, viewer_can_decide=False),
        "advice only": finding_card(advice, viewer_can_decide=True),
        "decided": finding_card(decided, viewer_can_decide=True),
        "with notice": finding_card(awaiting, viewer_can_decide=False, notice="Approved."),
        "hostile": finding_card(_hostile(), viewer_can_decide=True),
        "details": finding_detail_card(awaiting, trail),
        "details, no trail": finding_detail_card(decided),
        "findings": findings_card(summaries, limit=20),
        "no findings": findings_card([]),
        "audit": audit_card("f-0123456789ab", trail),
        "audit, empty": audit_card("f-0123456789ab", []),
    }


@pytest.mark.parametrize("shape", list(_all_shapes()))
def test_every_card_shape_validates_against_the_adaptive_card_1_5_schema(validator, shape) -> None:
    card = _all_shapes()[shape]

    errors = sorted(validator.iter_errors(card), key=lambda e: list(e.path))

    assert [f"{list(e.path)}: {e.message[:200]}" for e in errors] == []
    assert card["version"] == "1.5"
    assert card_bytes(card) < MAX_CARD_BYTES


def test_the_schema_catches_a_malformed_card(validator) -> None:
    card = finding_card(make_card(), viewer_can_decide=True)
    card["body"][0]["colour"] = "Good"
    card["actions"][0]["type"] = "Action.Http"

    assert len(list(validator.iter_errors(card))) >= 1


def test_untrusted_text_cannot_form_links_or_emphasis() -> None:
    card = finding_card(_hostile(), viewer_can_decide=True)

    text = json.dumps(card, ensure_ascii=False)
    for mark in ("[Click]", "](https", "**now**", "_please_", "![img]", "(failed)", "[Name"):
        assert mark not in text
    assert "⁅Click⁆❨https://evil.example❩ ∗∗now∗∗ ˍpleaseˍ" in text


def test_long_fields_are_cut_to_their_limits() -> None:
    card = finding_card(_hostile(), viewer_can_decide=True)

    title = card["body"][0]["text"]
    decided = card["body"][3]["facts"][1]["value"]
    assert len(title) == 150 and title.endswith("…")
    assert decided.endswith("+30")
    assert "\n" not in card["body"][1]["text"]


def test_neutral_keeps_ordinary_text_as_it_is() -> None:
    assert neutral("vol-0abc, 123456789012 / eu-west-1", 100) == (
        "vol-0abc, 123456789012 / eu-west-1"
    )
    assert neutral("", 10) == "-"


def test_approver_view_has_the_four_actions_with_token_only_data() -> None:
    card = finding_card(make_card(), viewer_can_decide=True)

    executes = _executes(card)
    assert [a["verb"] for a in executes] == ["approve", "reject", "snooze", "details"]
    assert all(a["data"] == {"token": card_token()} for a in executes)
    assert [a["title"] for a in card["actions"]] == ["Approve", "Reject", "Snooze", "Details"]


def test_destructive_approval_asks_for_confirmation_first() -> None:
    card = finding_card(make_card(), viewer_can_decide=True)

    approve = card["actions"][0]
    assert approve["type"] == "Action.ShowCard"
    assert approve["card"]["body"][0]["text"] == "Approve this action?"
    assert "restorable from the restore point" in approve["card"]["body"][1]["text"]


def test_reversible_approval_is_one_click() -> None:
    card = finding_card(
        make_card(action_verb="Stop the instance", reversibility="reversible", risk="medium"),
        viewer_can_decide=True,
    )

    assert card["actions"][0]["type"] == "Action.Execute"
    assert card["actions"][0]["verb"] == "approve"


def test_reject_needs_a_reason_and_snooze_offers_durations() -> None:
    card = finding_card(make_card(), viewer_can_decide=True)

    reason = card["actions"][1]["card"]["body"][1]
    duration = card["actions"][2]["card"]["body"][0]
    assert (reason["type"], reason["id"], reason["isRequired"]) == ("Input.Text", "reason", True)
    assert reason["maxLength"] == 500
    assert duration["type"] == "Input.ChoiceSet"
    assert [c["value"] for c in duration["choices"]] == ["1d", "7d", "30d"]


def test_advice_only_card_has_no_approve() -> None:
    card = finding_card(
        make_card(action_verb=None, reversibility=None, risk=None), viewer_can_decide=True
    )

    assert [a["verb"] for a in _executes(card)] == ["reject", "snooze", "details"]


@pytest.mark.parametrize("status", ["approved", "rejected", "expired", "remediated", "failed"])
def test_disabled_card_has_no_actions_and_no_refresh(status) -> None:
    card = make_card(status=status, buttons_enabled=False)

    rendered = finding_card(card, viewer_can_decide=True)

    assert "actions" not in rendered
    assert "refresh" not in rendered


def test_refresh_targets_at_most_sixty_distinct_approvers() -> None:
    ids = [f"29:user-{i}" for i in range(70)] + ["29:user-0"]

    card = finding_card(make_card(), viewer_can_decide=False, approver_ids=ids)

    assert card["refresh"]["action"] == {
        "type": "Action.Execute",
        "verb": "refresh",
        "data": {"token": card_token()},
    }
    assert card["refresh"]["userIds"] == ids[:MAX_REFRESH_USERS]


def test_notice_shows_first_in_the_colour_of_its_outcome() -> None:
    good = finding_card(make_card(), viewer_can_decide=False, notice="Approved.")
    bad = finding_card(
        make_card(), viewer_can_decide=True, notice="Not done: no.", notice_is_problem=True
    )

    assert (good["body"][0]["text"], good["body"][0]["color"]) == ("Approved.", "Good")
    assert (bad["body"][0]["text"], bad["body"][0]["color"]) == ("Not done: no.", "Attention")


def test_findings_listing_is_capped_with_a_hint() -> None:
    summaries = [
        FindingSummary(f"f-{i:012x}", "Idle", "low", "open", "r", 2.0, "1", "aws")
        for i in range(60)
    ]

    card = findings_card(summaries, limit=20)

    rows = [b for b in card["body"] if b["type"] == "Container"]
    assert len(rows) == 40
    assert card["body"][1]["facts"][0]["value"] == "$120.00/month"
    assert card["body"][-1]["text"].startswith("Showing 40 of 60.")


def test_audit_card_keeps_the_newest_events() -> None:
    trail = [AuditLine(i, "t", "Ann", "a", "f", "") for i in range(1, 46)]

    card = audit_card("f-0123456789ab", trail)

    texts = [b["text"] for b in card["body"]]
    assert texts[1] == "… 15 earlier events not shown."
    assert texts[2].startswith("#16 ") and texts[-1].startswith("#45 ")


def test_builders_do_not_change_the_card_they_render() -> None:
    card = make_card()
    before = dataclasses.asdict(card)

    finding_card(card, viewer_can_decide=True)

    assert dataclasses.asdict(card) == before


def _executes(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for action in card.get("actions", []):
        if action["type"] == "Action.ShowCard":
            found += action["card"]["actions"]
        else:
            found.append(action)
    return found


def test_the_readme_card_renders_to_a_png(validator, tmp_path) -> None:
    from tests.bot.teams.card_png import render, sample_card

    card = finding_card(sample_card(), viewer_can_decide=True)

    path = render(card, tmp_path / "teams-card.png")

    assert list(validator.iter_errors(card)) == []
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
