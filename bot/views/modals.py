"""Modal views: the reason prompt shown when someone clicks Reject."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import messages
from bot.views.text import one_line, truncate

REJECT_CALLBACK_ID = "finding_reject_reason"
REASON_BLOCK_ID = "reason"
REASON_ACTION_ID = "reason_input"


def reject_reason_view(*, finding_title: str, private_metadata: str) -> dict[str, Any]:
    """The modal asking why a finding is rejected; ``private_metadata`` comes back on submit."""
    intro = messages.reject_modal_intro(one_line(finding_title))
    view = View(
        type="modal",
        callback_id=REJECT_CALLBACK_ID,
        title=PlainTextObject(text=messages.REJECT_MODAL_TITLE),
        submit=PlainTextObject(text=messages.REJECT_MODAL_SUBMIT),
        close=PlainTextObject(text=messages.REJECT_MODAL_CLOSE),
        private_metadata=private_metadata,
        blocks=[
            SectionBlock(text=PlainTextObject(text=truncate(intro, 3000), emoji=False)),
            InputBlock(
                block_id=REASON_BLOCK_ID,
                label=PlainTextObject(text=messages.REJECT_REASON_LABEL),
                hint=PlainTextObject(text=messages.REJECT_REASON_HINT),
                element=PlainTextInputElement(
                    action_id=REASON_ACTION_ID,
                    multiline=True,
                    max_length=messages.REASON_MAX_CHARS,
                    placeholder=PlainTextObject(text=messages.REJECT_REASON_PLACEHOLDER),
                ),
            ),
        ],
    )
    return view.to_dict()
