"""Catalogue text rendered for Teams messages (Teams reads a subset of markdown).

The catalogue (``bot.messages``) writes Slack-style markup: ``*bold*`` labels, values in
backtick code spans, commands as ``/fintropy ...``. For Teams the labels become ``**bold**`` and
commands become ``@Fintropy ...`` (the way Teams users address a bot). Text that did not come
from the catalogue (a decision result written by the workflow, a person's name) is rendered
with its markdown and HTML marks swapped for look-alikes, so it cannot turn into a link,
emphasis or markup; code spans are left alone in both cases.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot import messages

BOT_HANDLE = "@Fintropy"
_COMMAND = re.compile(re.escape(messages.COMMAND) + r"(?![\w-])")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_UNTRUSTED = str.maketrans(
    {"[": "⁅", "]": "⁆", "(": "❨", ")": "❩", "*": "∗", "_": "ˍ", "<": "‹", ">": "›", "#": "＃"}
)


def catalogue(text: str) -> str:
    """Catalogue text (trusted markup) for a Teams message."""
    addressed = _COMMAND.sub(BOT_HANDLE, str(text))
    return _outside_code(addressed, lambda part: _BOLD.sub(r"**\1**", part))


def untrusted(text: str) -> str:
    """Text from outside the catalogue for a Teams message: no markup can take effect."""
    return _outside_code(text, lambda part: part.translate(_UNTRUSTED))


def _outside_code(text: str, render: Callable[[str], str]) -> str:
    pieces = str(text).split("`")
    if len(pieces) % 2 == 0:
        # An unpaired backtick: there is no code span to protect, so render it all.
        return render(str(text).replace("`", "'"))
    return "`".join(piece if i % 2 else render(piece) for i, piece in enumerate(pieces))
