"""The console channel: finding cards in the terminal and in a Markdown transcript.

Used for local runs with no chat token. Each card is drawn as a rich Panel and appended to the
transcript file, so a demo leaves a readable record of what a chat channel would have shown.
Message ids are a sequence (continued across runs sharing a transcript); an update appends an
"updated" entry for the same id. Text from resources is never interpreted as rich markup or
Markdown.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot import messages
from fintropy.domain import FindingCard, MessageRef
from fintropy.errors import ChatDeliveryError

logger = logging.getLogger(__name__)

CHANNEL_KIND = "console"
_ENTRY = re.compile(r"^### Card (\d+) ", re.MULTILINE)
_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")
_ORDERED_ITEM = re.compile(r"^(\d+)\.")


class ConsoleChatPort:
    """``fintropy.ports.ChatPort`` that draws cards in a terminal and keeps a transcript."""

    channel_kind = CHANNEL_KIND

    def __init__(
        self,
        transcript_path: str | Path,
        console: Console | None = None,
        *,
        full_cards: int | None = None,
    ):
        # full_cards: draw only the first N posted cards in full and the rest as one line each
        # (updates are always drawn in full); None draws every card. The transcript always
        # gets every card in full.
        self._path = Path(transcript_path)
        self._console = console if console is not None else Console()
        self._full_cards = full_cards
        self._posted = 0
        self._lock = threading.Lock()
        self._last_id = self._highest_id()

    @property
    def transcript_path(self) -> Path:
        """Where the Markdown transcript is written."""
        return self._path

    def post_finding_card(self, channel_id: str, card: FindingCard) -> MessageRef:
        """Draw the card and append it to the transcript; return its sequence number."""
        with self._lock:
            self._last_id += 1
            ref = MessageRef(CHANNEL_KIND, channel_id, str(self._last_id))
            self._emit(ref, card, "posted")
        return ref

    def update_finding_card(self, ref: MessageRef, card: FindingCard) -> None:
        """Draw the updated card and append an "updated" entry for the same id."""
        if ref.channel_kind != CHANNEL_KIND:
            raise ChatDeliveryError(
                f"Cannot update a {ref.channel_kind} card on the console.",
                "Update it through the chat port of its own platform.",
            )
        with self._lock:
            self._emit(ref, card, "updated")

    def post_notice(self, ref: MessageRef, text: str, mentions: list[str]) -> None:
        """Print a reminder or escalation under a card and add it to the transcript."""
        if ref.channel_kind != CHANNEL_KIND:
            return
        line = f"  notice on card #{ref.message_id}: {text}"
        with self._lock:
            self._console.print(line, markup=False, highlight=False)
            try:
                with self._path.open("a", encoding="utf-8") as transcript:
                    transcript.write(f"\n> notice on card #{ref.message_id}: {_md(text)}\n")
            except OSError as err:
                raise ChatDeliveryError(
                    f"Could not write the console transcript {self._path}: {err.strerror}.",
                    "Check that the folder exists and is writable, or choose another path.",
                ) from err

    def _emit(self, ref: MessageRef, card: FindingCard, what: str) -> None:
        if what == "posted":
            self._posted += 1
        if what == "posted" and self._full_cards is not None and self._posted > self._full_cards:
            self._console.print(
                f"  card #{ref.message_id} posted to {ref.channel_id}: {card.rule_id} · "
                f"{card.resource_label} · ${card.savings_usd_month:,.2f}/month",
                markup=False,
                highlight=False,
            )
        else:
            self._console.print(render_panel(card, f"#{ref.message_id} {what} · {ref.channel_id}"))
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as transcript:
                transcript.write(render_markdown(card, ref, what))
        except OSError as err:
            raise ChatDeliveryError(
                f"Could not write the console transcript {self._path}: {err.strerror}.",
                "Check that the folder exists and is writable, or choose another path.",
            ) from err
        logger.info(
            "console card written",
            extra={"finding_id": card.finding_id, "message_id": ref.message_id},
        )

    def _highest_id(self) -> int:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return 0
        except OSError as err:
            raise ChatDeliveryError(
                f"Could not read the console transcript {self._path}: {err.strerror}.",
                "Check the file's permissions, or choose another path.",
            ) from err
        return max((int(n) for n in _ENTRY.findall(text)), default=0)


def render_panel(card: FindingCard, subtitle: str = "") -> Panel:
    """The card as a rich Panel (no markup is read from the card's text)."""
    severity = Text(card.severity.upper(), style=_SEVERITY_STYLE.get(card.severity, ""))
    lines = [
        Text.assemble(
            severity,
            "  ",
            (messages.per_month(card.savings_usd_month), "bold green"),
            "  ",
            card.resource_label,
        ),
        Text(""),
        Text(card.explanation),
        Text(""),
        Text.assemble((f"{messages.LABEL_FORMULA}: ", "dim"), card.savings_formula),
        Text.assemble(
            (f"{messages.LABEL_PRICE_BASIS}: ", "dim"),
            messages.PRICE_BASIS.get(card.price_basis, card.price_basis),
        ),
        Text.assemble(
            (f"{messages.LABEL_ACTION}: ", "dim"),
            messages.action_line(card.action_verb, card.reversibility, card.risk),
        ),
        Text.assemble(
            (f"{messages.LABEL_RULE}: ", "dim"),
            f"{card.rule_id} v{card.rule_version}",
            ("  ", ""),
            (card.finding_id, "dim"),
        ),
        Text.assemble(
            (f"{messages.LABEL_STATUS}: ", "dim"), (messages.status_label(card.status), "bold")
        ),
    ]
    if card.decided_by:
        lines.append(
            Text.assemble((f"{messages.LABEL_DECIDED_BY}: ", "dim"), ", ".join(card.decided_by))
        )
    if card.outcome:
        lines.append(Text.assemble((f"{messages.LABEL_OUTCOME}: ", "dim"), card.outcome))
    lines.append(Text(""))
    lines.append(Text(buttons_line(card), style="bold" if card.buttons_enabled else "dim"))
    return Panel(
        Group(*lines),
        title=Text(card.title, style="bold"),
        subtitle=Text(subtitle),
        title_align="left",
        subtitle_align="right",
    )


def buttons_line(card: FindingCard) -> str:
    """The card's buttons as text, or a note that they are disabled."""
    if not card.buttons_enabled:
        return messages.BUTTONS_DISABLED
    labels = ([messages.BUTTON_APPROVE] if card.action_verb else []) + [
        messages.BUTTON_REJECT,
        messages.BUTTON_DETAILS,
    ]
    return " ".join(f"[{label}]" for label in labels)


def render_markdown(card: FindingCard, ref: MessageRef, what: str) -> str:
    """The transcript entry for one post or update."""
    at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    rows = [
        f"### Card {ref.message_id} · {what} · {_md(ref.channel_id)} · {at}",
        "",
        f"**{_md(card.title)}**",
        "",
        f"- {messages.LABEL_SEVERITY}: {_md(card.severity)}",
        f"- {messages.LABEL_SAVINGS}: {_md(messages.per_month(card.savings_usd_month))}",
        f"- {messages.LABEL_RESOURCE}: {_md(card.resource_label)}",
        f"- {messages.LABEL_RULE}: {_md(card.rule_id)} v{_md(card.rule_version)}"
        f" ({_md(card.finding_id)})",
        f"- {messages.LABEL_ACTION}: "
        f"{_md(messages.action_line(card.action_verb, card.reversibility, card.risk))}",
        f"- {messages.LABEL_FORMULA}: {_md(card.savings_formula)}",
        f"- {messages.LABEL_PRICE_BASIS}: "
        f"{_md(messages.PRICE_BASIS.get(card.price_basis, card.price_basis))}",
        f"- {messages.LABEL_STATUS}: {_md(messages.status_label(card.status))}",
    ]
    if card.decided_by:
        rows.append(f"- {messages.LABEL_DECIDED_BY}: {_md(', '.join(card.decided_by))}")
    if card.outcome:
        rows.append(f"- {messages.LABEL_OUTCOME}: {_md(card.outcome)}")
    rows += ["", _md(card.explanation), "", f"`{buttons_line(card)}`", "", ""]
    return "\n".join(rows)


def _md(text: str) -> str:
    """One line of Markdown-escaped text (no emphasis, links, HTML, headings or lists)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    escaped = _ORDERED_ITEM.sub(r"\1\\.", escaped)
    return "\\" + escaped if escaped[:1] in ("-", "+") else escaped
