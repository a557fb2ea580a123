"""Pure builders for chat payloads (Slack Block Kit today; Teams Adaptive Cards beside them).

Handlers and the ChatPort implementations take card and listing payloads only from here, so a
card looks the same whether a workflow posted it or a person asked for it.
"""

from bot.views.finding import (
    ACTION_APPROVE,
    ACTION_DETAILS,
    ACTION_REJECT,
    ACTIONS_BLOCK_ID,
    finding_blocks,
    finding_detail_blocks,
    finding_text,
    is_destructive,
)
from bot.views.lists import audit_blocks, findings_blocks, findings_text, help_blocks
from bot.views.modals import (
    REASON_ACTION_ID,
    REASON_BLOCK_ID,
    REJECT_CALLBACK_ID,
    reject_reason_view,
)
from bot.views.text import code, escape_mrkdwn, inline

__all__ = [
    "ACTIONS_BLOCK_ID",
    "ACTION_APPROVE",
    "ACTION_DETAILS",
    "ACTION_REJECT",
    "REASON_ACTION_ID",
    "REASON_BLOCK_ID",
    "REJECT_CALLBACK_ID",
    "audit_blocks",
    "code",
    "escape_mrkdwn",
    "finding_blocks",
    "finding_detail_blocks",
    "finding_text",
    "findings_blocks",
    "findings_text",
    "help_blocks",
    "inline",
    "is_destructive",
    "reject_reason_view",
]
