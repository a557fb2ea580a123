"""Parsing ``/fintropy`` text: every good form, and a clear message for every bad one."""

from __future__ import annotations

import pytest

from bot.commands import (
    ApproveCommand,
    AuditCommand,
    CommandError,
    FindingsCommand,
    HelpCommand,
    RejectCommand,
    ScanCommand,
    ShowCommand,
    parse_command,
    parse_reason,
    required_role,
)
from fintropy.domain import Role

FID = "f-0123456789ab"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", HelpCommand()),
        ("   ", HelpCommand()),
        ("help", HelpCommand()),
        ("HELP", HelpCommand()),
        ("scan", ScanCommand()),
        ("findings", FindingsCommand()),
        ("findings --provider aws", FindingsCommand(provider="aws")),
        ("findings --severity HIGH", FindingsCommand(severity="high")),
        ("findings --account 123456789012", FindingsCommand(account="123456789012")),
        (
            "findings --provider=aws --severity=critical --account=123456789012",
            FindingsCommand("aws", "critical", "123456789012"),
        ),
        (
            "findings  --account 111122223333   --severity low",
            FindingsCommand(None, "low", "111122223333"),
        ),
        (f"show {FID}", ShowCommand(FID)),
        (f"show {FID.upper().replace('F-', 'f-')}", ShowCommand(FID)),
        (f"approve {FID}", ApproveCommand(FID)),
        (f"audit {FID}", AuditCommand(FID)),
        (f"reject {FID} owned by data team", RejectCommand(FID, "owned by data team")),
        (f"reject {FID}   keep:  until\nJune  ", RejectCommand(FID, "keep: until June")),
    ],
)
def test_good_command_parses_to_its_typed_object(text: str, expected: object) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("frobnicate", "I don't know the command `frobnicate`"),
        ("help me", "does not take `me`"),
        ("scan now", "does not take `now`"),
        ("show", "needs a finding id"),
        ("show vol-0abc", "`vol-0abc` is not a finding id"),
        ("show f-123", "`f-123` is not a finding id"),
        (f"show {FID} extra", "does not take `extra`"),
        ("approve", "needs a finding id"),
        (f"approve {FID} now", "does not take `now`"),
        ("audit nope", "`nope` is not a finding id"),
        ("reject", "needs a finding id"),
        (f"reject {FID}", "A rejection needs a reason"),
        (f"reject {FID} " + "x" * 501, "under 500 characters"),
        ("findings high", "does not take `high`"),
        ("findings --colour red", "no option `--colour`"),
        ("findings --severity", "`--severity` needs a value"),
        ("findings --severity --provider aws", "`--severity` needs a value"),
        ("findings --severity=", "`--severity` needs a value"),
        ("findings --severity urgent", "`urgent` is not a valid `--severity`"),
        ("findings --severity low --severity high", "more than once"),
        ("findings --provider AWS!", "is not a valid `--provider`"),
        ("findings --account ../etc", "is not a valid `--account`"),
    ],
)
def test_malformed_command_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(CommandError) as err:
        parse_command(text)

    assert says in err.value.message
    assert "/fintropy" in err.value.message  # every message shows a usage or an example


def test_unknown_command_lists_every_usage() -> None:
    with pytest.raises(CommandError) as err:
        parse_command("delete everything")

    for usage in (
        "findings [--provider P]",
        "show ID",
        "approve ID",
        "reject ID REASON",
        "audit ID",
        "scan",
        "help",
    ):
        assert usage in err.value.message


def test_unknown_command_echo_cannot_break_out_of_its_code_span() -> None:
    with pytest.raises(CommandError) as err:
        parse_command("`<!channel>`")

    assert "`'<!channel>'`" in err.value.message


def test_parse_reason_rejects_blank_reason() -> None:
    with pytest.raises(CommandError, match="needs a reason"):
        parse_reason(" \n ")


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("help", Role.VIEWER),
        ("findings", Role.VIEWER),
        (f"show {FID}", Role.VIEWER),
        (f"audit {FID}", Role.VIEWER),
        ("scan", Role.REQUESTER),
        (f"approve {FID}", Role.APPROVER),
        (f"reject {FID} no", Role.APPROVER),
    ],
)
def test_required_role_per_command(text: str, role: Role) -> None:
    assert required_role(parse_command(text)) == role
