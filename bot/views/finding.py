"""Block Kit for a finding card, its text fallback and its detail view.

Pure functions of a ``FindingCard``: the workflow's ChatPort and the Slack handlers render the
same card the same way. Blocks are built with ``slack_sdk.models`` so Block Kit's limits are
checked here, not discovered in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import messages
from bot.backend import AuditLine
from bot.views.lists import audit_sections
from bot.views.text import code, escape_limited, inline, one_line, severity_label, truncate
from fintropy.domain import ACTIONS, FindingCard, Reversibility

ACTION_APPROVE = "finding_approve"
ACTION_REJECT = "finding_reject"
ACTION_DETAILS = "finding_details"
ACTIONS_BLOCK_ID = "finding_actions"

_CONTEXT_LIMIT = 2000


def finding_blocks(card: FindingCard) -> list[dict[str, Any]]:
    """The card: header, explanation, facts, formula, status, and buttons while enabled."""
    blocks: list[Block] = _card_body(card)
    if card.buttons_enabled and card.action_token:
        blocks.append(_actions(card))
    return [block.to_dict() for block in blocks]


def finding_text(card: FindingCard) -> str:
    """The one-line fallback used in notifications and by clients that cannot show blocks."""
    return " · ".join(
        (
            severity_label(card.severity),
            inline(card.title, 150),
            code(card.resource_label, 200),
            f"saves {messages.per_month(card.savings_usd_month)}",
            messages.status_label(card.status),
        )
    )


def finding_detail_blocks(
    card: FindingCard, trail: Sequence[AuditLine] = ()
) -> list[dict[str, Any]]:
    """The card without buttons, followed by the finding's recent audit trail."""
    blocks: list[Block] = _card_body(card)
    if trail:
        blocks.append(DividerBlock())
        blocks += audit_sections(trail, max_sections=8)
    return [block.to_dict() for block in blocks]


def is_destructive(card: FindingCard) -> bool:
    """True when approving may delete or irreversibly change something (needs a confirm)."""
    spec = next((s for s in ACTIONS.values() if s.verb == card.action_verb), None)
    if spec is not None and spec.destructive:
        return True
    return card.reversibility in (Reversibility.RESTORABLE, Reversibility.IRREVERSIBLE)


def _card_body(card: FindingCard) -> list[Block]:
    blocks: list[Block] = [
        HeaderBlock(
            block_id="finding_header",
            text=PlainTextObject(text=truncate(one_line(card.title) or "-", 150), emoji=False),
        ),
        SectionBlock(
            block_id="finding_explanation",
            text=PlainTextObject(text=truncate(card.explanation or "-", 3000), emoji=False),
        ),
        SectionBlock(block_id="finding_facts", fields=_facts(card)),
        ContextBlock(
            block_id="finding_formula",
            elements=[
                _mrkdwn(f"*{messages.LABEL_FORMULA}:* {code(card.savings_formula, 1800)}"),
                _mrkdwn(f"*{messages.LABEL_PRICE_BASIS}:* {_price_basis(card.price_basis)}"),
            ],
        ),
        ContextBlock(block_id="finding_status", elements=_status(card)),
    ]
    return blocks


def _facts(card: FindingCard) -> list[MarkdownTextObject]:
    action = messages.action_line(card.action_verb, card.reversibility, card.risk)
    rule = f"{code(card.rule_id, 200)} v{inline(card.rule_version, 40)}"
    return [
        _field(messages.LABEL_SAVINGS, messages.per_month(card.savings_usd_month)),
        _field(messages.LABEL_SEVERITY, severity_label(card.severity)),
        _field(messages.LABEL_RESOURCE, code(card.resource_label, 1800)),
        _field(messages.LABEL_RULE, rule),
        _field(messages.LABEL_ACTION, escape_limited(one_line(action), 1800)),
    ]


def _status(card: FindingCard) -> list[MarkdownTextObject | PlainTextObject]:
    elements: list[MarkdownTextObject | PlainTextObject] = [
        _mrkdwn(f"*{messages.LABEL_STATUS}:* {inline(messages.status_label(card.status), 200)}")
    ]
    if card.decided_by:
        names = ", ".join(one_line(name) for name in card.decided_by)
        elements.append(_plain(f"{messages.LABEL_DECIDED_BY}: {names}"))
    if card.outcome:
        elements.append(_plain(f"{messages.LABEL_OUTCOME}: {one_line(card.outcome)}"))
    return elements


def _actions(card: FindingCard) -> ActionsBlock:
    buttons: list[ButtonElement] = []
    if card.action_verb:
        buttons.append(
            ButtonElement(
                text=messages.BUTTON_APPROVE,
                action_id=ACTION_APPROVE,
                value=card.action_token,
                style="primary",
                confirm=_confirm(card) if is_destructive(card) else None,
            )
        )
    buttons.append(
        ButtonElement(text=messages.BUTTON_REJECT, action_id=ACTION_REJECT, value=card.action_token)
    )
    buttons.append(
        ButtonElement(
            text=messages.BUTTON_DETAILS, action_id=ACTION_DETAILS, value=card.action_token
        )
    )
    return ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=buttons)


def _confirm(card: FindingCard) -> ConfirmObject:
    text = messages.confirm_text(one_line(card.action_verb or ""), card.reversibility)
    return ConfirmObject(
        title=PlainTextObject(text=messages.CONFIRM_TITLE),
        text=PlainTextObject(text=truncate(text, 300), emoji=False),
        confirm=PlainTextObject(text=messages.CONFIRM_YES),
        deny=PlainTextObject(text=messages.CONFIRM_NO),
        style="danger",
    )


def _price_basis(basis: str) -> str:
    return inline(messages.PRICE_BASIS.get(basis, basis), 200)


def _field(label: str, value_mrkdwn: str) -> MarkdownTextObject:
    return _mrkdwn(f"*{label}*\n{value_mrkdwn}")


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: no auto-linking of URLs, channel names or @-mentions in our text.
    return MarkdownTextObject(text=text, verbatim=True)


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, _CONTEXT_LIMIT), emoji=False)
