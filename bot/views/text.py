"""Safe text for Slack: mrkdwn escaping, code spans and length limits.

Slack treats ``&``, ``<`` and ``>`` as control characters in mrkdwn (links, mentions such as
``<!channel>``); text that came from a resource, a tag or a person must have them replaced by
entities. Formatting marks (``*bold*``) cannot be escaped in mrkdwn at all, so untrusted values
go either into plain_text objects (no markup is interpreted) or into inline code spans (no
formatting inside). Plain text needs no escaping, only truncation to the field's limit.
"""

from __future__ import annotations

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
ELLIPSIS = "…"


def escape_mrkdwn(text: str) -> str:
    """Replace Slack's control characters with entities."""
    return "".join(_ENTITIES.get(ch, ch) for ch in str(text))


def code(text: str, limit: int = 300) -> str:
    """``text`` as an escaped inline code span on one line, at most ``limit`` characters."""
    flat = " ".join(str(text).replace("`", "'").split()) or "-"
    return "`" + escape_limited(flat, limit - 2) + "`"


def escape_limited(text: str, limit: int) -> str:
    """Escape ``text`` for mrkdwn so that the result has at most ``limit`` characters.

    Truncation happens on the raw characters, so an entity is never cut in half.
    """
    out: list[str] = []
    used = 0
    for ch in str(text):
        piece = _ENTITIES.get(ch, ch)
        if used + len(piece) > limit:
            while out and used + len(ELLIPSIS) > limit:
                used -= len(out.pop())
            out.append(ELLIPSIS)
            break
        out.append(piece)
        used += len(piece)
    return "".join(out)


def truncate(text: str, limit: int) -> str:
    """Plain text cut to at most ``limit`` characters, marked with an ellipsis when cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) to single spaces."""
    return " ".join(str(text).split())


# Lookalikes for Slack's formatting marks, for untrusted text shown in running mrkdwn (titles,
# names) where a code span would read badly. The text stays legible but cannot turn bold,
# italic, struck through or into code.
_MARKS = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})


def inline(text: str, limit: int = 300) -> str:
    """Untrusted text for running mrkdwn: one line, escaped, formatting marks neutralised."""
    return escape_limited(one_line(text).translate(_MARKS), limit)


SEVERITY_EMOJI = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":white_circle:",
}


def severity_label(severity: str) -> str:
    """Emoji and capitalised severity, for mrkdwn."""
    emoji = SEVERITY_EMOJI.get(severity, ":white_circle:")
    return f"{emoji} {inline(severity.capitalize(), 40)}"
