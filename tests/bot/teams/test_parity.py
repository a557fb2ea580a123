"""Parity: one FindingCard rendered as Block Kit and as an Adaptive Card says the same things.

Each renderer protects untrusted text its own way (Slack: entities, code spans, look-alike
marks; Teams: look-alike marks), so both renderings are read back to plain text before the
facts are compared. The actions compared are the approver's: Teams adds Snooze, which Slack
does not offer yet, and nothing else.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pytest

from bot import messages
from bot.views import finding_blocks
from bot.views.adaptive import finding_card
from fintropy.domain import FindingCard
from tests.bot.teams.support import make_card

_LOOKALIKES = str.maketrans(
    {"⁅": "[", "⁆": "]", "❨": "(", "❩": ")", "∗": "*", "ˍ": "_", "∼": "~", "ˋ": "`"}
)
SLACK_ACTIONS = {
    "finding_approve": "approve",
    "finding_reject": "reject",
    "finding_details": "details",
}
TEAMS_ONLY_ACTIONS = {"snooze"}

CARDS = {
    "awaiting approval": make_card(),
    "advice only": make_card(action_verb=None, reversibility=None, risk=None, severity="low"),
    "decided": make_card(
        status="remediated",
        decided_by=("Ann Approver", "Bob O'Brien"),
        outcome="Snapshot snap-0f1e taken; volume vol-0abc deleted.",
        buttons_enabled=False,
        action_token="",
    ),
    "awkward text": make_card(
        title="Idle <load> balancer & *friends*",
        resource_label="alb/app_1 (team [data]) <x> & y, 123456789012 / us-east-1",
        explanation="Served 0 requests in 14 days; costs $16.43/month.",
        price_basis="effective",
        severity="critical",
        rule_id="aws_elbv2_load_balancer_idle",
        rule_version="2.1.0",
    ),
}


def _facts(card: FindingCard) -> dict[str, str]:
    facts = {
        "title": card.title,
        "savings": messages.per_month(card.savings_usd_month),
        "severity": card.severity.capitalize(),
        "resource": card.resource_label,
        "explanation": card.explanation,
        "formula": card.savings_formula,
        "price basis": messages.PRICE_BASIS[card.price_basis],
        "rule id": card.rule_id,
        "rule version": f"v{card.rule_version}",
        "status": messages.status_label(card.status),
    }
    facts.update({f"decided by {name}": name for name in card.decided_by})
    if card.outcome:
        facts["outcome"] = card.outcome
    return facts


def _read_back(payload: Any) -> str:
    """Every string of a rendered payload, markup undone, one per line."""
    strings: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title", "value", "fallbackText") and isinstance(value, str):
                    strings.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(payload)
    text = "\n".join(strings).translate(_LOOKALIKES)
    return html.unescape(text).replace("`", "")


def _slack_actions(blocks: list[dict[str, Any]]) -> set[str]:
    return {
        SLACK_ACTIONS[element["action_id"]]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def _teams_actions(card: dict[str, Any]) -> set[str]:
    verbs = set()
    for action in card.get("actions", []):
        if action["type"] == "Action.ShowCard":
            action = action["card"]["actions"][0]
        verbs.add(action["verb"])
    return verbs


@pytest.mark.parametrize("name", list(CARDS))
def test_block_kit_and_adaptive_card_show_the_same_facts(name) -> None:
    card = CARDS[name]

    slack = _read_back(finding_blocks(card))
    teams = _read_back(finding_card(card, viewer_can_decide=True))

    missing = {
        fact: (value in slack, value in teams)
        for fact, value in _facts(card).items()
        if value not in slack or value not in teams
    }
    assert missing == {}


@pytest.mark.parametrize("name", list(CARDS))
def test_block_kit_and_adaptive_card_offer_the_same_actions(name) -> None:
    card = CARDS[name]

    slack = _slack_actions(finding_blocks(card))
    teams = _teams_actions(finding_card(card, viewer_can_decide=True))

    assert slack == teams - TEAMS_ONLY_ACTIONS
    assert bool(teams) == (card.buttons_enabled and bool(card.action_token))
    if teams:
        assert ("approve" in teams) == bool(card.action_verb)


def test_both_renderings_carry_the_same_opaque_token() -> None:
    card = CARDS["awaiting approval"]

    slack = json.dumps(finding_blocks(card))
    teams = finding_card(card, viewer_can_decide=True)

    assert card.action_token in slack
    assert teams["refresh"]["action"]["data"] == {"token": card.action_token}
