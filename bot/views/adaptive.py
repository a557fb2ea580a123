"""Adaptive Cards 1.5 for Microsoft Teams: the finding card, its details, listings.

The Teams twin of the Block Kit builders in this package, and as pure: a function of the
presentation model (``FindingCard``, ``FindingSummary``, ``AuditLine``) returning plain JSON.
Buttons are ``Action.Execute`` (Universal Actions), so a click reaches the bot as an
``adaptiveCard/action`` invoke whose ``data`` carries only the card's opaque token; typed inputs
(a rejection reason, a snooze duration) are merged into that data by Teams.

Adaptive Card ``TextBlock``, ``Fact`` and ``TextRun`` values accept a subset of markdown, so a
resource name such as ``[pay here](https://evil.example)`` would become a link. Every value that
did not come from this module (titles, resource labels, explanations, names, outcomes) goes
through ``neutral``, which swaps the markdown marks ``[ ] ( ) * _`` for look-alikes and cuts
the text to its field's limit. Nothing else needs escaping: Adaptive Cards render no HTML.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot import messages
from bot.backend import AuditLine, FindingSummary
from bot.views.finding import is_destructive
from bot.views.text import one_line, truncate
from fintropy.domain import FindingCard

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"

VERB_APPROVE = "approve"
VERB_REJECT = "reject"
VERB_SNOOZE = "snooze"
VERB_DETAILS = "details"
VERB_REFRESH = "refresh"
VERBS = (VERB_APPROVE, VERB_REJECT, VERB_SNOOZE, VERB_DETAILS, VERB_REFRESH)
TOKEN_KEY = "token"
REASON_INPUT_ID = "reason"
DURATION_INPUT_ID = "duration"

# Teams refreshes a card automatically for at most 60 listed users.
MAX_REFRESH_USERS = 60
# Teams refuses bot messages over about 28 KB of card JSON; every builder stays under it.
MAX_CARD_BYTES = 28_000
MAX_LISTED_FINDINGS = 40
MAX_AUDIT_LINES = 30
MAX_DECIDERS = 20

# -- Texts Teams needs that bot.messages does not have yet (move them there: one catalogue) ---
BUTTON_SNOOZE = "Snooze"
SNOOZE_LABEL = "Snooze for"
SNOOZE_DURATIONS: tuple[tuple[str, str], ...] = (
    ("1d", "1 day"),
    ("7d", "7 days"),
    ("30d", "30 days"),
)
DETAILS_TITLE = "Details"

_MARKS = str.maketrans({"[": "⁅", "]": "⁆", "(": "❨", ")": "❩", "*": "∗", "_": "ˍ"})
_SEVERITY_COLOR = {"critical": "Attention", "high": "Attention", "medium": "Warning"}


def neutral(text: str, limit: int) -> str:
    """Untrusted text for a markdown field: one line, marks neutralised, at most ``limit``."""
    return truncate(one_line(text).translate(_MARKS), limit) or "-"


def plain(text: str, limit: int) -> str:
    """Our own text (catalogue labels, rule ids): one line, at most ``limit`` characters."""
    return truncate(one_line(text), limit) or "-"


def finding_card(
    card: FindingCard,
    *,
    viewer_can_decide: bool,
    approver_ids: Sequence[str] = (),
    notice: str = "",
    notice_is_problem: bool = False,
) -> dict[str, Any]:
    """The finding card for one viewer.

    While the card takes decisions (``buttons_enabled`` with a token), ``viewer_can_decide``
    selects the approver's view (Approve, Reject, Snooze, Details) or everyone else's (Details
    only), and ``refresh`` asks Teams to fetch the approver's view for ``approver_ids`` (Teams
    user ids, at most 60; empty means people refresh by hand). A decided, expired or remediated
    card has no actions and no refresh. ``notice`` shows one line at the top, such as the result
    of the viewer's own click.
    """
    body: list[dict[str, Any]] = []
    if notice:
        body.append(_notice(notice, notice_is_problem))
    body += _card_body(card)
    live = card.buttons_enabled and bool(card.action_token)
    result = _card(body, fallback=_fallback(card))
    if live:
        result["refresh"] = _refresh(card.action_token, approver_ids)
        result["actions"] = (
            _decision_actions(card) if viewer_can_decide else [_details(card.action_token)]
        )
    return result


def finding_detail_card(card: FindingCard, trail: Sequence[AuditLine] = ()) -> dict[str, Any]:
    """The card without actions, followed by the finding's latest audit events."""
    body = _card_body(card)
    if trail:
        body.append(_text(messages.LABEL_AUDIT, weight="Bolder", separator=True))
        body += _audit_lines(trail)
    return _card(body, fallback=_fallback(card))


def findings_card(
    findings: Sequence[FindingSummary], *, limit: int | None = None
) -> dict[str, Any]:
    """A findings listing, largest savings first as given; a hint when the page is full."""
    if not findings:
        return _card([_text(messages.NO_FINDINGS)], fallback=messages.NO_FINDINGS)
    shown = list(findings)[:MAX_LISTED_FINDINGS]
    total = sum(f.savings_usd_month for f in findings)
    header = messages.findings_header(len(findings))
    body: list[dict[str, Any]] = [
        _text(header, size="Medium", weight="Bolder"),
        _facts([(messages.LABEL_SAVINGS, messages.per_month(total))]),
    ]
    body += [_finding_row(f) for f in shown]
    if len(shown) < len(findings) or (limit is not None and len(findings) >= limit):
        body.append(_text(messages.findings_truncated(len(shown), len(findings)), subtle=True))
    return _card(body, fallback=header)


def audit_card(finding_id: str, trail: Sequence[AuditLine]) -> dict[str, Any]:
    """A finding's audit trail, oldest first (the newest events win when it is cut)."""
    if not trail:
        text = messages.audit_empty(finding_id)
        return _card([_text(text)], fallback=text)
    title = f"{messages.LABEL_AUDIT}: {plain(finding_id, 40)}"
    body = [_text(title, size="Medium", weight="Bolder"), *_audit_lines(trail)]
    return _card(body, fallback=title)


def card_attachment(card: dict[str, Any]) -> dict[str, Any]:
    """The Bot Framework attachment that carries ``card`` in a message activity."""
    return {"contentType": CONTENT_TYPE, "content": card}


def card_bytes(card: dict[str, Any]) -> int:
    """The size of ``card`` as sent (compact UTF-8 JSON)."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode())


def fallback_text(card: FindingCard) -> str:
    """The one-line summary Teams shows in notifications and activity feeds."""
    return _fallback(card)


# -- body -------------------------------------------------------------------------------------


def _card_body(card: FindingCard) -> list[dict[str, Any]]:
    severity = card.severity.lower()
    return [
        _text(neutral(card.title, 150), size="Medium", weight="Bolder"),
        _text(neutral(card.explanation, 2000)),
        _facts(
            [
                (messages.LABEL_SAVINGS, messages.per_month(card.savings_usd_month)),
                (messages.LABEL_SEVERITY, plain(severity.capitalize(), 40)),
                (messages.LABEL_RESOURCE, neutral(card.resource_label, 500)),
                (messages.LABEL_RULE, _rule(card)),
                (messages.LABEL_ACTION, _action(card)),
                (messages.LABEL_FORMULA, neutral(card.savings_formula, 1000)),
                (messages.LABEL_PRICE_BASIS, _price_basis(card.price_basis)),
            ],
            color=_SEVERITY_COLOR.get(severity),
        ),
        _facts(_status(card), separator=True),
    ]


def _status(card: FindingCard) -> list[tuple[str, str]]:
    facts = [(messages.LABEL_STATUS, plain(messages.status_label(card.status), 200))]
    if card.decided_by:
        names = [neutral(name, 80) for name in card.decided_by[:MAX_DECIDERS]]
        more = len(card.decided_by) - len(names)
        facts.append((messages.LABEL_DECIDED_BY, ", ".join(names) + (f" +{more}" if more else "")))
    if card.outcome:
        facts.append((messages.LABEL_OUTCOME, neutral(card.outcome, 1000)))
    return facts


def _rule(card: FindingCard) -> str:
    return f"{plain(card.rule_id, 200)} v{plain(card.rule_version, 40)}"


def _action(card: FindingCard) -> str:
    return plain(messages.action_line(card.action_verb, card.reversibility, card.risk), 300)


def _price_basis(basis: str) -> str:
    return plain(messages.PRICE_BASIS.get(basis, basis), 200)


def _fallback(card: FindingCard) -> str:
    return " · ".join(
        (
            plain(card.severity.capitalize(), 40),
            neutral(card.title, 150),
            neutral(card.resource_label, 200),
            f"saves {messages.per_month(card.savings_usd_month)}",
            messages.status_label(card.status),
        )
    )


def _notice(text: str, is_problem: bool) -> dict[str, Any]:
    block = _text(neutral(text, 1000), weight="Bolder")
    block["color"] = "Attention" if is_problem else "Good"
    return block


def _finding_row(f: FindingSummary) -> dict[str, Any]:
    facts = " · ".join(
        (
            plain(f.severity.capitalize(), 40),
            messages.per_month(f.savings_usd_month),
            neutral(f.resource_label, 300),
            f"{neutral(f.provider, 40)} {neutral(f.account_id, 80)}",
            plain(messages.status_label(f.status), 80),
        )
    )
    return {
        "type": "Container",
        "separator": True,
        "items": [
            _text(f"{neutral(f.title, 150)} · {neutral(f.finding_id, 40)}", weight="Bolder"),
            _text(facts, subtle=True),
        ],
    }


def _audit_lines(trail: Sequence[AuditLine]) -> list[dict[str, Any]]:
    shown = list(trail)[-MAX_AUDIT_LINES:]
    blocks: list[dict[str, Any]] = []
    if len(shown) < len(trail):
        dropped = len(trail) - len(shown)
        blocks.append(_text(f"… {dropped} earlier events not shown.", subtle=True))
    for line in shown:
        detail = f" — {neutral(line.detail, 300)}" if line.detail else ""
        text = (
            f"#{line.seq} {neutral(line.at, 40)} · {neutral(line.actor, 120)} · "
            f"{neutral(line.action, 80)} · {neutral(line.subject, 80)}{detail}"
        )
        blocks.append(_text(text, spacing="Small"))
    return blocks


# -- actions ----------------------------------------------------------------------------------


def _decision_actions(card: FindingCard) -> list[dict[str, Any]]:
    token = card.action_token
    actions: list[dict[str, Any]] = []
    if card.action_verb:
        approve = _execute(VERB_APPROVE, messages.BUTTON_APPROVE, token, style="positive")
        actions.append(_confirm_approve(card, approve) if is_destructive(card) else approve)
    reason = {
        "type": "Input.Text",
        "id": REASON_INPUT_ID,
        "label": messages.REJECT_REASON_LABEL,
        "placeholder": messages.REJECT_REASON_PLACEHOLDER,
        "isMultiline": True,
        "isRequired": True,
        "maxLength": messages.REASON_MAX_CHARS,
        "errorMessage": messages.REASON_EMPTY_MODAL,
    }
    actions.append(
        _show_card(
            VERB_REJECT,
            messages.BUTTON_REJECT,
            [_text(messages.REJECT_REASON_HINT, subtle=True), reason],
            _execute(VERB_REJECT, messages.REJECT_MODAL_SUBMIT, token, style="destructive"),
        )
    )
    duration = {
        "type": "Input.ChoiceSet",
        "id": DURATION_INPUT_ID,
        "label": SNOOZE_LABEL,
        "isRequired": True,
        "value": SNOOZE_DURATIONS[1][0],
        "choices": [{"title": title, "value": value} for value, title in SNOOZE_DURATIONS],
    }
    actions.append(
        _show_card(
            VERB_SNOOZE, BUTTON_SNOOZE, [duration], _execute(VERB_SNOOZE, BUTTON_SNOOZE, token)
        )
    )
    actions.append(_details(token))
    return actions


def _confirm_approve(card: FindingCard, approve: dict[str, Any]) -> dict[str, Any]:
    # Block Kit asks "are you sure?" in a confirm dialog; Adaptive Cards have none, so a
    # destructive approval opens an inline confirmation holding the real Approve button.
    text = messages.confirm_text(plain(card.action_verb or "", 300), card.reversibility)
    body = [_text(messages.CONFIRM_TITLE, weight="Bolder"), _text(text)]
    return _show_card(VERB_APPROVE, messages.BUTTON_APPROVE, body, approve)


def _details(token: str) -> dict[str, Any]:
    return _execute(VERB_DETAILS, messages.BUTTON_DETAILS, token)


def _refresh(token: str, approver_ids: Sequence[str]) -> dict[str, Any]:
    return {
        "action": {"type": "Action.Execute", "verb": VERB_REFRESH, "data": {TOKEN_KEY: token}},
        "userIds": list(dict.fromkeys(approver_ids))[:MAX_REFRESH_USERS],
    }


def _execute(verb: str, title: str, token: str, *, style: str = "default") -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "id": f"{verb}-execute",
        "verb": verb,
        "title": title,
        "data": {TOKEN_KEY: token},
    }
    if style != "default":
        action["style"] = style
    return action


def _show_card(
    verb: str, title: str, body: list[dict[str, Any]], submit: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "Action.ShowCard",
        "id": f"{verb}-open",
        "title": title,
        "card": {"type": "AdaptiveCard", "body": body, "actions": [submit]},
    }


# -- elements ---------------------------------------------------------------------------------


def _card(body: list[dict[str, Any]], *, fallback: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": CARD_VERSION,
        "fallbackText": fallback,
        "body": body,
    }


def _text(
    text: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    subtle: bool = False,
    separator: bool = False,
    spacing: str | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": True}
    if size:
        block["size"] = size
    if weight:
        block["weight"] = weight
    if subtle:
        block["isSubtle"] = True
    if separator:
        block["separator"] = True
    if spacing:
        block["spacing"] = spacing
    return block


def _facts(
    facts: list[tuple[str, str]], *, color: str | None = None, separator: bool = False
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "FactSet",
        "facts": [{"title": title, "value": value} for title, value in facts],
    }
    if separator:
        element["separator"] = True
    if color:
        # FactSet has no colour of its own; a container styled by severity carries it.
        return {"type": "Container", "style": _container_style(color), "items": [element]}
    return element


def _container_style(color: str) -> str:
    return {"Attention": "attention", "Warning": "warning"}.get(color, "default")
