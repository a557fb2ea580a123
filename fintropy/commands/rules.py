"""``fintropy rules``: list, show and explain the waste rules, and generate their reference.

Mounted by ``fintropy.cli`` as ``fintropy rules``. Only typer is imported at the top; the rule
engine, rich and json are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rules import Catalogue, Rule

app = typer.Typer(
    help="List, show and explain the waste rules; generate the catalogue reference.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SEVERITIES = ("low", "medium", "high", "critical")


def _catalogue() -> Catalogue:
    from fintropy.errors import ConfigError
    from rules import load_catalogue

    try:
        return load_catalogue()
    except ConfigError as exc:
        _fail(exc.message, exc.remediation)
        raise  # unreachable: _fail exits


def _fail(message: str, remediation: str = "", code: int = 2) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {message} {remediation}".rstrip())
    raise typer.Exit(code)


def _rule(catalogue: Catalogue, rule_id: str) -> Rule:
    from fintropy.errors import NotFoundError

    try:
        return catalogue.require(rule_id)
    except NotFoundError as exc:
        _fail(exc.message, exc.remediation, code=1)
        raise  # unreachable: _fail exits


def _print_json(data: Any) -> None:
    import json

    typer.echo(json.dumps(data, indent=2, sort_keys=True))


def _summary(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "version": rule.version,
        "title": rule.title,
        "provider": rule.provider,
        "service": rule.service,
        "resource_type": rule.resource_type,
        "severity": rule.severity.value,
        "class": rule.rule_class,
        "action": rule.action,
    }


def _details(rule: Rule) -> dict[str, Any]:
    return {
        **_summary(rule),
        "description": rule.description,
        "applies_when": rule.applies_when,
        "when": " ".join(rule.when.split()),
        "requires": [r.name or r.check for r in rule.requires],
        "params": {
            name: {
                "type": p.type,
                "default": p.default,
                "unit": p.unit,
                "min": p.minimum,
                "max": p.maximum,
                "inferred": p.inferred,
                "description": p.description,
            }
            for name, p in rule.params.items()
        },
        "savings_formula": rule.savings_formula,
        "price_basis": rule.price_basis,
        "advice": rule.advice.text if rule.advice else None,
        "reversibility": rule.reversibility.value if rule.reversibility else None,
        "risk": rule.risk.value if rule.risk else None,
        "evidence": list(rule.evidence),
        "data_used": list(rule.data_used),
        "permissions": list(rule.permissions),
        "limitations": list(rule.limitations),
        "references": list(rule.references),
        "source": rule.source,
    }


@app.command("list")
def list_rules(
    provider: str | None = typer.Option(None, "--provider", help="Only this provider (aws)."),
    service: str | None = typer.Option(None, "--service", help="Only this service (ebs, rds...)."),
    severity: str | None = typer.Option(
        None, "--severity", help="Only this severity: low, medium, high or critical."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the rules, optionally filtered."""
    if severity is not None and severity.lower() not in SEVERITIES:
        _fail(f"Unknown severity {severity!r}.", f"Choose one of: {', '.join(SEVERITIES)}.")
    catalogue = _catalogue()
    rules = [
        rule
        for rule in catalogue.rules
        if (provider is None or rule.provider == provider.lower())
        and (service is None or rule.service == service.lower())
        and (severity is None or rule.severity.value == severity.lower())
    ]
    if as_json:
        _print_json([_summary(rule) for rule in rules])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rules)} rule(s)")
    table.add_column("ID", no_wrap=True)
    for column in ("Version", "Severity", "Service", "Title", "Action"):
        table.add_column(column, overflow="fold")
    for rule in rules:
        table.add_row(
            rule.id,
            rule.version,
            rule.severity.value,
            rule.service,
            rule.title,
            rule.action or "advice only",
        )
    Console().print(table)


@app.command("show")
def show_rule(
    rule_id: str = typer.Argument(..., help="Rule id, e.g. AWS-EBS-UNATTACHED."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show one rule's metadata: parameters with defaults, permissions, limitations."""
    catalogue = _catalogue()
    rule = _rule(catalogue, rule_id)
    if as_json:
        _print_json(_details(rule))
        return
    from rich.table import Table

    from rules.docs import remediation

    console = _plain_console()
    console.print(f"{rule.id} {rule.version}  {rule.title}", style="bold")
    console.print(
        f"{rule.provider}/{rule.service} · {rule.resource_type} · severity "
        f"{rule.severity.value} · class {rule.rule_class}"
    )
    console.print(rule.description)
    console.print(f"Fires when: {_condition(rule)}")
    console.print(f"Remediation: {remediation(rule)}")
    console.print(
        f"Savings: {rule.savings_formula} ({rule.price_basis} prices)",
        highlight=False,
        markup=False,
    )
    if rule.params:
        table = Table(title="Parameters")
        for column in ("Name", "Type", "Default", "Unit", "Range", "Description"):
            table.add_column(column, overflow="fold")
        for p in rule.params.values():
            span = "" if p.minimum is None and p.maximum is None else f"{p.minimum}..{p.maximum}"
            note = " (inferred; verify)" if p.inferred else ""
            table.add_row(p.name, p.type, str(p.default), p.unit, span, p.description + note)
        console.print(table)
    console.print("Permissions: " + ", ".join(rule.permissions))
    for text in rule.limitations:
        console.print(f"Limitation: {text}")


@app.command("explain")
def explain_rule(rule_id: str = typer.Argument(..., help="Rule id, e.g. AWS-EC2-STOPPED.")) -> None:
    """Explain a rule in plain words, with its worked example (a test case it passes)."""
    from rules.cases import worked_example
    from rules.docs import remediation

    catalogue = _catalogue()
    rule = _rule(catalogue, rule_id)
    say = _plain_console().print
    say(f"{rule.id} ({rule.version}): {rule.title}", style="bold")
    say(f"What it finds: {rule.description}")
    say(f"It fires when {_condition(rule)}.")
    if rule.requires:
        needs = ", ".join(r.name or r.check or "" for r in rule.requires)
        say(f"It needs {needs}; without them the resource is skipped, with the reason.")
    for p in rule.params.values():
        note = " This default is practitioner practice: verify it." if p.inferred else ""
        unit = f" {p.unit}" if p.unit else ""
        say(
            f"Parameter {p.name} = {p.default}{unit}: {p.description}{note}",
            highlight=False,
            markup=False,
        )
    say(
        f"Savings: {rule.savings_formula}, at {rule.price_basis} prices.",
        highlight=False,
        markup=False,
    )
    say(f"What to do: {remediation(rule)}.")
    for text in rule.limitations:
        say(f"Known limit: {text}")
    example = worked_example(catalogue, rule)
    if example is None or example[1].finding is None:
        say("No worked example: the rule has no firing test case.")
        return
    case, outcome = example
    finding = outcome.finding
    assert finding is not None
    say("")
    say(f"Worked example (at {case.now}):")
    for section in ("attrs", "metrics", "tags"):
        values = case.resource.get(section) or {}
        if values:
            shown = ", ".join(f"{k}={v}" for k, v in values.items())
            say(f"  {section}: {shown}")
    say(f"  Finding: {finding.explanation}")
    say(
        f"  Saving: ${finding.savings_usd_month:,.2f}/month ({finding.savings_formula})",
        highlight=False,
    )


@app.command("doc")
def write_doc(
    out: Path = typer.Option(Path("docs/rules/aws.md"), "--out", help="Where to write it."),
    provider: str = typer.Option("aws", "--provider", help="Provider whose rules to document."),
) -> None:
    """Generate the catalogue reference from rule metadata (docs never drift from code)."""
    from rules.docs import render_markdown

    catalogue = _catalogue()
    if not any(rule.provider == provider for rule in catalogue.rules):
        _fail(f"No rules for provider {provider!r}.", "Try --provider aws.")
    text = render_markdown(catalogue, provider)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out} ({sum(r.provider == provider for r in catalogue.rules)} rules)")


def _plain_console() -> Any:
    """A console that prints rule text as it is (no markup, no highlighting)."""
    from rich.console import Console

    class PlainConsole(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:  # noqa: D102
            kwargs.setdefault("markup", False)
            kwargs.setdefault("highlight", False)
            super().print(*objects, **kwargs)

    return PlainConsole()


def _condition(rule: Rule) -> str:
    when = " ".join(rule.when.split())
    return f"{rule.applies_when} and {when}" if rule.applies_when else when
