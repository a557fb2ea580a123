"""Parse the text of ``/fintropy ...`` into typed command objects.

Pure: no I/O, no platform types. Slack and Teams share it, so both accept exactly the same
grammar::

    help | scan | findings [--provider P] [--severity S] [--account A]
    | show ID | approve ID | reject ID REASON... | audit ID

Anything else raises ``CommandError`` whose message names what was wrong and shows the usage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import messages
from fintropy.domain import Role, Severity
from fintropy.errors import FinOpsError

RUN_ID = re.compile(r"^run-f-[0-9a-f]{12}-[0-9a-f]{8}$")
FINDING_ID = re.compile(r"^f-[0-9a-f]{12}$")
_PROVIDER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,127}$")
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)
FINDINGS_OPTIONS: tuple[str, ...] = ("provider", "severity", "account")


class CommandError(FinOpsError):
    """A malformed command; ``message`` says what was wrong and includes the usage."""

    code = "malformed_command"


@dataclass(frozen=True)
class HelpCommand:
    """Show the help text."""

    name: str = "help"


@dataclass(frozen=True)
class ScanCommand:
    """Start a scan of the tenant's accounts."""

    name: str = "scan"


@dataclass(frozen=True)
class FindingsCommand:
    """List open findings, optionally filtered."""

    provider: str | None = None
    severity: str | None = None
    account: str | None = None
    name: str = "findings"


@dataclass(frozen=True)
class ShowCommand:
    """Show one finding's card."""

    finding_id: str
    name: str = "show"


@dataclass(frozen=True)
class ApproveCommand:
    """Approve one finding's remediation."""

    finding_id: str
    name: str = "approve"


@dataclass(frozen=True)
class RejectCommand:
    """Reject one finding, with a reason."""

    finding_id: str
    reason: str
    name: str = "reject"


@dataclass(frozen=True)
class AuditCommand:
    """Show one finding's audit trail."""

    finding_id: str
    name: str = "audit"


@dataclass(frozen=True)
class RestoreCommand:
    """Undo one remediation run from its restore point."""

    run_id: str
    name: str = "restore"


@dataclass(frozen=True)
class SnoozeCommand:
    """Snooze one finding for a while, with a reason."""

    finding_id: str
    duration: str
    reason: str
    name: str = "snooze"


@dataclass(frozen=True)
class ExceptionsCommand:
    """List active exceptions (snoozes)."""

    name: str = "exceptions"


Command = (
    HelpCommand
    | ScanCommand
    | FindingsCommand
    | ShowCommand
    | ApproveCommand
    | RejectCommand
    | AuditCommand
    | RestoreCommand
    | SnoozeCommand
    | ExceptionsCommand
)

# The least role each command needs. Everything not listed needs only to be a known person.
REQUIRED_ROLE: dict[str, Role] = {
    "scan": Role.REQUESTER,
    "approve": Role.APPROVER,
    "reject": Role.APPROVER,
    "restore": Role.APPROVER,
    "snooze": Role.APPROVER,
}


def required_role(command: Command) -> Role:
    """The least role allowed to run ``command``."""
    return REQUIRED_ROLE.get(command.name, Role.VIEWER)


def parse_command(text: str) -> Command:
    """Parse the text after the slash command. Empty text means help."""
    words = (text or "").split(maxsplit=1)
    if not words:
        return HelpCommand()
    verb, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    if verb in ("help", "scan"):
        _no_arguments(verb, rest)
        return HelpCommand() if verb == "help" else ScanCommand()
    if verb == "findings":
        return _parse_findings(rest)
    if verb in ("show", "approve", "audit"):
        finding_id, extra = _take_finding_id(verb, rest)
        _no_arguments(verb, extra)
        return {"show": ShowCommand, "approve": ApproveCommand, "audit": AuditCommand}[verb](
            finding_id
        )
    if verb == "reject":
        return _parse_reject(rest)
    if verb == "exceptions":
        _no_arguments(verb, rest)
        return ExceptionsCommand()
    if verb == "snooze":
        finding_id, after = _take_finding_id(verb, rest)
        parts = after.split(maxsplit=1)
        if not parts:
            raise CommandError(messages.missing_argument(verb, "a duration such as 30d"))
        if len(parts) < 2 or not parts[1].strip():
            raise CommandError(messages.reason_required(finding_id))
        return SnoozeCommand(finding_id, parts[0], parse_reason(parts[1]))
    if verb == "restore":
        parts = rest.split()
        if not parts:
            raise CommandError(messages.missing_argument(verb, "a run id"))
        if len(parts) > 1:
            raise CommandError(messages.extra_arguments(verb, " ".join(parts[1:])))
        if not RUN_ID.match(parts[0]):
            raise CommandError(messages.bad_run_id(parts[0]))
        return RestoreCommand(parts[0])
    raise CommandError(messages.unknown_command(words[0]))


def parse_reason(reason: str) -> str:
    """A rejection reason, trimmed; raises ``CommandError`` when empty or too long."""
    cleaned = " ".join(reason.split())
    if not cleaned:
        raise CommandError(messages.reason_required())
    if len(cleaned) > messages.REASON_MAX_CHARS:
        raise CommandError(messages.reason_too_long(messages.REASON_MAX_CHARS))
    return cleaned


def _no_arguments(verb: str, rest: str) -> None:
    if rest.strip():
        raise CommandError(messages.extra_arguments(verb, rest.strip()))


def _take_finding_id(verb: str, rest: str) -> tuple[str, str]:
    parts = rest.split(maxsplit=1)
    if not parts:
        raise CommandError(messages.missing_argument(verb, "a finding id"))
    candidate = parts[0].lower()
    if not FINDING_ID.match(candidate):
        raise CommandError(messages.bad_finding_id(verb, parts[0]))
    return candidate, (parts[1] if len(parts) > 1 else "")


def _parse_reject(rest: str) -> RejectCommand:
    finding_id, reason = _take_finding_id("reject", rest)
    if not reason.strip():
        raise CommandError(messages.reason_required(finding_id))
    return RejectCommand(finding_id, parse_reason(reason))


def _parse_findings(rest: str) -> FindingsCommand:
    values: dict[str, str] = {}
    tokens = rest.split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if not token.startswith("--"):
            raise CommandError(messages.extra_arguments("findings", token))
        name, has_value, value = token[2:].partition("=")
        name = name.lower()
        if name not in FINDINGS_OPTIONS:
            raise CommandError(messages.unknown_option("findings", token, FINDINGS_OPTIONS))
        if not has_value:
            if i + 1 >= len(tokens) or tokens[i + 1].startswith("--"):
                raise CommandError(messages.option_needs_value("findings", name))
            i += 1
            value = tokens[i]
        if not value:
            raise CommandError(messages.option_needs_value("findings", name))
        if name in values:
            raise CommandError(messages.option_repeated("findings", name))
        values[name] = _check_option(name, value)
        i += 1
    return FindingsCommand(**values)


def _check_option(name: str, value: str) -> str:
    if name == "severity":
        if value.lower() not in SEVERITIES:
            raise CommandError(messages.bad_option_value("findings", name, value, SEVERITIES))
        return value.lower()
    if name == "provider":
        if not _PROVIDER.match(value.lower()):
            raise CommandError(
                messages.bad_option_format("findings", name, value, "a provider name such as `aws`")
            )
        return value.lower()
    if not _ACCOUNT.match(value):
        raise CommandError(
            messages.bad_option_format(
                "findings", name, value, "an account id such as `123456789012`"
            )
        )
    return value
