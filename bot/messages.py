"""Every sentence the chat front ends show to people, in one place.

Texts use Slack-style markup that also reads well in a terminal: ``*bold*`` for labels and
backticks around commands, ids and anything a person typed or a resource carries. Values are
interpolated through ``quote``, which keeps them inside their backticks. Platform layers escape
the finished text for their markup (``bot.views.text.escape_mrkdwn`` for Slack).
"""

from __future__ import annotations

COMMAND = "/fintropy"

# ---------------------------------------------------------------------------------------------
# Help and usage
# ---------------------------------------------------------------------------------------------

USAGE: dict[str, str] = {
    "help": f"`{COMMAND} help`",
    "scan": f"`{COMMAND} scan`",
    "findings": f"`{COMMAND} findings [--provider P] [--severity S] [--account A]`",
    "show": f"`{COMMAND} show ID`",
    "approve": f"`{COMMAND} approve ID`",
    "reject": f"`{COMMAND} reject ID REASON`",
    "audit": f"`{COMMAND} audit ID`",
    "restore": f"`{COMMAND} restore RUN`",
    "snooze": f"`{COMMAND} snooze ID 30d REASON`",
    "exceptions": f"`{COMMAND} exceptions`",
}

HELP_LINES: tuple[tuple[str, str], ...] = (
    (
        "findings",
        "list open findings, largest savings first (severity: low, medium, high, critical)",
    ),
    ("show", "show one finding's card"),
    ("approve", "approve the finding's remediation (approvers only)"),
    ("reject", "reject it, saying why (approvers only)"),
    ("audit", "show who did what to the finding, in order"),
    ("restore", "undo a remediation run from its restore point (approvers only)"),
    ("snooze", "snooze a finding for a while, saying why (approvers only)"),
    ("exceptions", "list active snoozes and when they expire"),
    ("scan", "scan the cloud accounts now (requesters and up)"),
    ("help", "show this help"),
)

HELP_INTRO = (
    "*Fintropy* finds cloud waste and lets approvers act on it from chat. "
    "Nothing changes in your cloud accounts until an approver says so."
)
HELP_FOOTER = "Finding ids look like `f-1a2b3c4d5e6f`; `" + COMMAND + " findings` lists them."


def help_text() -> str:
    """The full help text."""
    lines = [HELP_INTRO, ""]
    lines += [f"{USAGE[name]}  {what}" for name, what in HELP_LINES]
    lines += ["", HELP_FOOTER]
    return "\n".join(lines)


def all_usage() -> str:
    """Every command's usage, one per line."""
    return "\n".join(USAGE[name] for name, _ in HELP_LINES)


# ---------------------------------------------------------------------------------------------
# Malformed commands
# ---------------------------------------------------------------------------------------------


def quote(value: str, limit: int = 80) -> str:
    """``value`` as an inline code span: backticks removed, newlines flattened, truncated."""
    flat = " ".join(str(value).replace("`", "'").split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"`{flat}`" if flat else "`(empty)`"


def unknown_command(word: str) -> str:
    """The first word is not a command."""
    return f"I don't know the command {quote(word)}. Commands:\n{all_usage()}"


def missing_argument(command: str, what: str) -> str:
    """A required argument is missing."""
    return f"{COMMAND} {command} needs {what}. Usage: {USAGE[command]}"


def extra_arguments(command: str, extra: str) -> str:
    """More arguments than the command takes."""
    return f"{COMMAND} {command} does not take {quote(extra)}. Usage: {USAGE[command]}"


def bad_finding_id(command: str, value: str) -> str:
    """The id does not look like a finding id."""
    return (
        f"{quote(value)} is not a finding id; finding ids look like `f-1a2b3c4d5e6f` "
        f"(`{COMMAND} findings` lists them). Usage: {USAGE[command]}"
    )


def unknown_option(command: str, option: str, allowed: tuple[str, ...]) -> str:
    """An option the command does not have."""
    names = ", ".join(f"`--{a}`" for a in allowed)
    return (
        f"{COMMAND} {command} has no option {quote(option)}; it takes {names}. "
        f"Usage: {USAGE[command]}"
    )


def option_needs_value(command: str, option: str) -> str:
    """An option given without its value."""
    return f"`--{option}` needs a value. Usage: {USAGE[command]}"


def option_repeated(command: str, option: str) -> str:
    """The same option twice."""
    return f"`--{option}` is given more than once. Usage: {USAGE[command]}"


def bad_option_value(command: str, option: str, value: str, allowed: tuple[str, ...]) -> str:
    """An option value outside its allowed set."""
    names = ", ".join(f"`{a}`" for a in allowed)
    return (
        f"{quote(value)} is not a valid `--{option}`; use one of {names}. Usage: {USAGE[command]}"
    )


def bad_option_format(command: str, option: str, value: str, expected: str) -> str:
    """An option value with the wrong shape."""
    return (
        f"{quote(value)} is not a valid `--{option}`: expected {expected}. Usage: {USAGE[command]}"
    )


def reason_required(finding_id: str = "f-1a2b3c4d5e6f") -> str:
    """A rejection without a reason."""
    return (
        f"A rejection needs a reason, so the team knows why the finding was dismissed, "
        f"e.g. `{COMMAND} reject {finding_id} owned by the data team, keep until June`."
    )


def reason_too_long(limit: int) -> str:
    """A rejection reason over the limit."""
    return (
        f"Keep the reason under {limit} characters; link to a ticket for the details. "
        f"Usage: {USAGE['reject']}"
    )


# ---------------------------------------------------------------------------------------------
# Refusals (each also written to the audit trail by the handler)
# ---------------------------------------------------------------------------------------------

UNBOUND_WORKSPACE = (
    "This workspace or channel is not connected to a Fintropy tenant, so I can't act on "
    "requests from here. Ask a Fintropy admin to bind this workspace and channel to your "
    "tenant."
)
UNKNOWN_PERSON = (
    "Your chat account is not linked to a person in this Fintropy tenant, so I can't act on "
    "your requests. Ask a Fintropy admin to link your account and give you a role."
)
INVALID_BUTTON = (
    "That button is not valid here: it was altered, it belongs to another tenant's card, or "
    f"it is not one of ours. Nothing was changed. Use `{COMMAND} show ID` for a fresh card."
)
STALE_BUTTON = (
    "That button belongs to an older card and no longer does anything. Nothing was changed. "
    f"Use `{COMMAND} show ID` to see where the finding stands."
)

ROLE_ACTIONS = {
    "approve": "approve findings",
    "reject": "reject findings",
    "scan": "start scans",
}


def role_required(action: str, needed: str, have: str) -> str:
    """The person's role is below what the action needs."""
    doing = ROLE_ACTIONS.get(action, action)
    return (
        f"Only people with the {needed} role (or above) can {doing}; your role in this tenant "
        f"is {have}. Nothing was changed. Ask a Fintropy admin if you need the {needed} role."
    )


def refusal_reason_role(needed: str, have: str) -> str:
    """The audit trail's one-line reason for a role refusal."""
    return f"role {have} is below {needed}"


# ---------------------------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------------------------


def unknown_finding(finding_id: str) -> str:
    """The tenant has no such finding."""
    return (
        f"There is no finding {quote(finding_id)} in this tenant. "
        f"Check the id with `{COMMAND} findings`."
    )


def scan_started(scan_id: str) -> str:
    """A scan was started."""
    return f"Scan {quote(scan_id)} started. New findings will be posted as cards when it ends."


def audit_empty(finding_id: str) -> str:
    """A finding with no audit events yet."""
    return f"Finding {quote(finding_id)} has no audit events yet."


NO_FINDINGS = "No open findings match. Try fewer filters, or `" + COMMAND + " scan`."


def findings_header(count: int) -> str:
    """Title of a findings listing."""
    return f"Open findings ({count})"


def findings_truncated(shown: int, total: int) -> str:
    """A listing longer than one message holds."""
    return f"Showing {shown} of {total}. Narrow the list with `--severity` or `--account`."


def decision_failed(message: str) -> str:
    """A decision the backend did not accept (its message says why)."""
    return f"Not done: {message}"


def internal_error(correlation_id: str) -> str:
    """Something failed on our side."""
    return (
        "Something went wrong while handling that request, and it may not have completed. "
        f"Reference {quote(correlation_id)}: give it to your Fintropy admin, who can find the "
        "details in the service log."
    )


# ---------------------------------------------------------------------------------------------
# Card and view labels
# ---------------------------------------------------------------------------------------------

LABEL_SAVINGS = "Savings"
LABEL_SEVERITY = "Severity"
LABEL_RESOURCE = "Resource"
LABEL_RULE = "Rule"
LABEL_ACTION = "Action"
LABEL_FORMULA = "Formula"
LABEL_PRICE_BASIS = "Price basis"
LABEL_STATUS = "Status"
LABEL_DECIDED_BY = "Decided by"
LABEL_OUTCOME = "Outcome"
LABEL_AUDIT = "Audit trail"
ADVICE_ONLY = "Advice only: Fintropy will not change anything for this finding."
BUTTONS_DISABLED = "(buttons disabled)"
BUTTON_APPROVE = "Approve"
BUTTON_REJECT = "Reject"
BUTTON_DETAILS = "Details"
CONFIRM_TITLE = "Approve this action?"
CONFIRM_YES = "Approve"
CONFIRM_NO = "Cancel"

PRICE_BASIS = {
    "list": "list prices (the published price table)",
    "effective": "effective prices (your billing data)",
}

REVERSIBILITY = {
    "reversible": "reversible",
    "restorable": "restorable from the restore point taken first",
    "irreversible": "irreversible",
}

STATUS_LABELS = {
    "open": "Open",
    "awaiting_approval": "Awaiting approval",
    "approved": "Approved",
    "remediating": "Remediating",
    "remediated": "Remediated",
    "verified": "Remediated and verified",
    "rejected": "Rejected",
    "expired": "Expired with no action",
    "failed": "Remediation failed",
    "resolved": "Resolved (no longer detected)",
}


def status_label(status: str) -> str:
    """A person-readable status."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def money(usd: float) -> str:
    """US dollars with cents and thousands separators."""
    return f"${usd:,.2f}"


def per_month(usd: float) -> str:
    """A monthly saving."""
    return f"{money(usd)}/month"


def confirm_text(action_verb: str, reversibility: str | None) -> str:
    """The confirm dialog's body for a destructive action."""
    how = REVERSIBILITY.get(reversibility or "", "")
    tail = f" This action is {how}." if how else ""
    return f"{action_verb}.{tail} Approving starts it once the approval policy is met."


def action_line(action_verb: str | None, reversibility: str | None, risk: str | None) -> str:
    """What approving does, its reversibility and risk."""
    if not action_verb:
        return ADVICE_ONLY
    parts = [action_verb]
    if reversibility:
        parts.append(REVERSIBILITY.get(reversibility, reversibility))
    if risk:
        parts.append(f"{risk} risk")
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------
# Reject modal
# ---------------------------------------------------------------------------------------------

REJECT_MODAL_TITLE = "Reject finding"
REJECT_MODAL_SUBMIT = "Reject"
REJECT_MODAL_CLOSE = "Cancel"
REJECT_REASON_LABEL = "Why reject it?"
REJECT_REASON_HINT = "The reason goes on the card and into the audit trail."
REJECT_REASON_PLACEHOLDER = "e.g. owned by the data team, keep until the June migration"
REASON_MAX_CHARS = 500
REJECT_MODAL_FAILED = (
    "The reason form could not be opened in time, so nothing was changed. Click Reject again, "
    f"or use `{COMMAND} reject ID REASON`."
)
REASON_EMPTY_MODAL = "Write a reason: it goes on the card and into the audit trail."


def reject_modal_intro(title: str) -> str:
    """The modal's first line (plain text)."""
    return f"Rejecting: {title}. Fintropy will take no action on it."


def bad_run_id(value: str) -> str:
    """A restore command whose run id is malformed."""
    return (
        f"{quote(value)} is not a run id. Run ids look like `run-f-1a2b3c4d5e6f-0a1b2c3d`; "
        f"the finding's audit trail names them. Usage: {USAGE['restore']}"
    )


def exceptions_text(items: list[dict]) -> str:
    """The active exceptions, one per line."""
    if not items:
        return "No active exceptions."
    return "\n".join(
        f"{e['id']}: {e['scope']} {quote(e['scope_value'])} by {e['owner']} until "
        f"{e['expires_at']} UTC: {quote(e['reason'], 200)}"
        for e in items
    )
