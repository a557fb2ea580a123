"""The console channel: terminal panel, Markdown transcript, sequence ids."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from rich.console import Console

from bot.console import ConsoleChatPort
from fintropy.domain import FindingCard, MessageRef
from fintropy.errors import ChatDeliveryError

CARD = FindingCard(
    tenant_id="acme",
    finding_id="f-0123456789ab",
    title="Unattached EBS volume",
    severity="high",
    status="awaiting_approval",
    resource_label="vol-0abc ([bold red]boom[/] *x* <b>), 123456789012 / eu-west-1",
    explanation="Unattached for 41 days.",
    savings_usd_month=1234.5,
    savings_formula="500 GiB x $0.08 = $40.00",
    price_basis="list",
    action_verb="Snapshot, then delete the volume",
    reversibility="restorable",
    risk="medium",
    rule_id="aws.ebs.unattached_volume",
    rule_version="1.2.0",
    action_token="v1.tok.en",
)


def _port(tmp_path: Path) -> tuple[ConsoleChatPort, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    return ConsoleChatPort(tmp_path / "transcript.md", console), out


def test_post_draws_the_card_with_its_buttons(tmp_path: Path) -> None:
    port, out = _port(tmp_path)

    ref = port.post_finding_card("console", CARD)

    screen = out.getvalue()
    assert ref == MessageRef("console", "console", "1")
    for expected in (
        "Unattached EBS volume",
        "HIGH",
        "$1,234.50/month",
        "Unattached for 41 days",
        "500 GiB x $0.08 = $40.00",
        "Awaiting approval",
        "[Approve] [Reject] [Details]",
    ):
        assert expected in screen
    assert "[bold red]boom[/]" in screen  # resource text is shown, never read as markup


def test_post_appends_the_card_to_the_transcript(tmp_path: Path) -> None:
    port, _ = _port(tmp_path)

    port.post_finding_card("console", CARD)

    text = (tmp_path / "transcript.md").read_text()
    assert text.startswith("### Card 1 · posted · console")
    assert "**Unattached EBS volume**" in text
    assert "$1,234.50/month" in text
    assert r"\[bold red\]boom\[/\] \*x\* \<b\>" in text  # no Markdown or HTML from resources
    assert "`[Approve] [Reject] [Details]`" in text


def test_update_appends_an_updated_entry_with_buttons_disabled(tmp_path: Path) -> None:
    port, out = _port(tmp_path)
    ref = port.post_finding_card("console", CARD)
    done = dataclasses.replace(
        CARD,
        status="verified",
        buttons_enabled=False,
        decided_by=("Ann Approver",),
        outcome="Deleted; snapshot kept.",
    )

    port.update_finding_card(ref, done)

    text = (tmp_path / "transcript.md").read_text()
    assert "### Card 1 · updated" in text
    assert text.index("### Card 1 · posted") < text.index("### Card 1 · updated")
    assert "(buttons disabled)" in out.getvalue()
    assert "Decided by: Ann Approver" in text
    assert "Remediated and verified" in text


def test_message_ids_are_a_sequence_that_continues_across_runs(tmp_path: Path) -> None:
    port, _ = _port(tmp_path)
    ids = [port.post_finding_card("console", CARD).message_id for _ in range(3)]

    later, _ = _port(tmp_path)
    next_id = later.post_finding_card("console", CARD).message_id

    assert ids == ["1", "2", "3"]
    assert next_id == "4"


def test_unreadable_transcript_is_refused_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    with pytest.raises(ChatDeliveryError, match="Could not read the console transcript"):
        ConsoleChatPort(blocker / "transcript.md", Console(file=io.StringIO()))


def test_unwritable_transcript_becomes_chat_delivery_error(tmp_path: Path) -> None:
    path = tmp_path / "transcript.md"
    port = ConsoleChatPort(path, Console(file=io.StringIO()))
    path.mkdir()  # the file's place is taken by a folder after start-up

    with pytest.raises(ChatDeliveryError, match="Could not write the console transcript"):
        port.post_finding_card("console", CARD)
