"""Block Kit for listings: findings, help, and an audit trail.

Every value that came from a resource, a tag or a person is escaped (``bot.views.text``);
messages stay under Slack's 50-block and 3,000-character section limits however long the
input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot import messages
from bot.backend import AuditLine, FindingSummary
from bot.views.text import code, escape_mrkdwn, inline, severity_label, truncate

MAX_BLOCKS = 50
MAX_LISTED_FINDINGS = 40
_SECTION_LIMIT = 3000


def findings_blocks(
    findings: Sequence[FindingSummary], *, limit: int | None = None
) -> list[dict[str, Any]]:
    """A findings listing; ``limit`` is the page size asked for (a hint shows when it is hit)."""
    if not findings:
        return [_section(escape_mrkdwn(messages.NO_FINDINGS)).to_dict()]
    shown = list(findings)[:MAX_LISTED_FINDINGS]
    total = sum(f.savings_usd_month for f in findings)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=messages.findings_header(len(findings)))),
        ContextBlock(
            elements=[_mrkdwn(f"*{messages.LABEL_SAVINGS}:* {messages.per_month(total)}")]
        ),
    ]
    blocks += [_section(_finding_line(f)) for f in shown]
    if len(shown) < len(findings) or (limit is not None and len(findings) >= limit):
        hint = messages.findings_truncated(len(shown), len(findings))
        blocks.append(ContextBlock(elements=[_mrkdwn(escape_mrkdwn(hint))]))
    return [block.to_dict() for block in blocks]


def findings_text(findings: Sequence[FindingSummary]) -> str:
    """Fallback text for a findings listing."""
    if not findings:
        return escape_mrkdwn(messages.NO_FINDINGS)
    return messages.findings_header(len(findings))


def help_blocks() -> list[dict[str, Any]]:
    """The help text as blocks."""
    return [_section(escape_mrkdwn(messages.help_text())).to_dict()]


def audit_blocks(finding_id: str, trail: Sequence[AuditLine]) -> list[dict[str, Any]]:
    """A finding's audit trail, oldest first."""
    if not trail:
        return [_section(escape_mrkdwn(messages.audit_empty(finding_id))).to_dict()]
    header = HeaderBlock(
        text=PlainTextObject(text=truncate(f"{messages.LABEL_AUDIT}: {finding_id}", 150))
    )
    blocks: list[Block] = [header, *audit_sections(trail, max_sections=MAX_BLOCKS - 2)]
    return [block.to_dict() for block in blocks]


def audit_sections(trail: Sequence[AuditLine], *, max_sections: int) -> list[Block]:
    """Audit lines packed into sections under the text limit; the newest lines win a cut."""
    lines = [_audit_line(line) for line in trail]
    sections: list[list[str]] = [[]]
    size = 0
    for text in lines:
        if size + len(text) + 1 > _SECTION_LIMIT - 100 and sections[-1]:
            sections.append([])
            size = 0
        sections[-1].append(text)
        size += len(text) + 1
    blocks: list[Block] = []
    if len(sections) > max_sections:
        dropped = sum(len(s) for s in sections[: len(sections) - max_sections + 1])
        sections = sections[len(sections) - max_sections + 1 :]
        note = f"… {dropped} earlier events not shown; `fintropy audit` prints them all."
        blocks.append(ContextBlock(elements=[_mrkdwn(note)]))
    blocks += [_section("\n".join(s)) for s in sections]
    return blocks


def _finding_line(f: FindingSummary) -> str:
    head = f"*{inline(f.title, 200)}*  {code(f.finding_id, 40)}"
    facts = " · ".join(
        (
            severity_label(f.severity),
            f"*{messages.per_month(f.savings_usd_month)}*",
            code(f.resource_label, 400),
            f"{inline(f.provider, 40)} {code(f.account_id, 80)}",
            inline(messages.status_label(f.status), 80),
        )
    )
    return f"{head}\n{facts}"


def _audit_line(line: AuditLine) -> str:
    detail = f" — {inline(line.detail, 600)}" if line.detail else ""
    return (
        f"`#{line.seq}` {inline(line.at, 40)} · *{inline(line.actor, 120)}* · "
        f"{inline(line.action, 80)} · {code(line.subject, 120)}{detail}"
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_mrkdwn(text))


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)
