"""The catalogue reference (``docs/rules/<provider>.md``), generated from rule metadata.

The text is a pure function of the rule files and the price table, so a test can check that
the committed document equals a fresh render and the docs never drift from the rules.
Regenerate it with ``fintropy rules doc``.
"""

from __future__ import annotations

from collections.abc import Iterable

from fintropy.domain import ACTIONS
from rules.cases import worked_example
from rules.loader import Catalogue
from rules.model import Param, Rule
from rules.templates import plain

PROVIDER_NAMES = {"aws": "AWS"}


def render_markdown(catalogue: Catalogue, provider: str = "aws") -> str:
    """The Markdown reference for ``provider``'s rules in ``catalogue``."""
    rules = [rule for rule in catalogue.rules if rule.provider == provider]
    name = PROVIDER_NAMES.get(provider, provider)
    prices = catalogue.prices.get(provider)
    lines = [
        f"# {name} rule catalogue",
        "",
        "<!-- Generated from rules/catalogue/ by `fintropy rules doc`; do not edit by hand. -->",
        "",
        f"{len(rules)} rules. Savings use list prices from `rules/prices/{provider}.yaml`"
        + (f" ({plain(prices.hours_per_month)} hours a month)" if prices else "")
        + "; each rule's parameters can be overridden per tenant. A resource tagged "
        "`fintropy:ignore` is excluded from every rule.",
        "",
        "| ID | Version | Title | Severity | Action |",
        "|---|---|---|---|---|",
    ]
    for rule in rules:
        lines.append(
            f"| [{rule.id}](#{rule.id.lower()}) | {rule.version} | {rule.title} | "
            f"{rule.severity.value} | {rule.action or 'advice only'} |"
        )
    for service in sorted({rule.service for rule in rules}):
        lines += ["", f"## {service}"]
        for rule in rules:
            if rule.service == service:
                lines += ["", *_rule_section(catalogue, rule)]
    lines += ["", "## Permissions", "", "Read-only IAM actions the rules' data needs:", ""]
    lines += [f"- `{p}`" for p in sorted({p for rule in rules for p in rule.permissions})]
    return "\n".join(lines) + "\n"


def _rule_section(catalogue: Catalogue, rule: Rule) -> list[str]:
    lines = [
        f"### {rule.id}",
        "",
        f"**{rule.title}** · version {rule.version} · severity {rule.severity.value} · "
        f"class {rule.rule_class} · resource `{rule.resource_type}`",
        "",
        rule.description,
        "",
        f"- **Fires when:** {_condition(rule)}",
    ]
    if rule.requires:
        needs = ", ".join(f"`{r.name}`" if r.name else f"`{r.check}`" for r in rule.requires)
        lines.append(f"- **Needs (else skipped):** {needs}")
    lines.append(f"- **Savings:** {rule.savings_formula} (price basis: {rule.price_basis})")
    lines.append(f"- **Remediation:** {remediation(rule)}")
    lines.append(f"- **Permissions:** {', '.join(f'`{p}`' for p in rule.permissions)}")
    lines.append(f"- **References:** {'; '.join(rule.references)}")
    if rule.params:
        lines += ["", "| Parameter | Type | Default | Unit | Range | Description |"]
        lines.append("|---|---|---|---|---|---|")
        lines += [_param_row(p) for p in rule.params.values()]
    lines += ["", "Limitations:", ""]
    lines += [f"- {text}" for text in rule.limitations]
    example = worked_example(catalogue, rule)
    if example is not None:
        case, outcome = example
        if outcome.finding is not None:
            lines += [
                "",
                f"Worked example ({_resource_words(case.resource)}, at {case.now}): "
                f"{outcome.finding.explanation} Saving: "
                f"${outcome.finding.savings_usd_month:,.2f}/month "
                f"({outcome.finding.savings_formula}).",
            ]
    return lines


def remediation(rule: Rule) -> str:
    """The remediation in words: the action (or advice), its reversibility and risk."""
    if rule.action is not None:
        spec = ACTIONS[rule.action]
        return (
            f"action `{rule.action}`: {spec.verb} ({spec.reversibility.value}, "
            f"risk {spec.risk.value}; undo: {spec.restore})"
        )
    assert rule.advice is not None  # the schema requires advice when there is no action
    return (
        f"advice only: {rule.advice.text} ({rule.advice.reversibility.value}, "
        f"risk {rule.advice.risk.value})"
    )


def _condition(rule: Rule) -> str:
    parts = [f"`{rule.applies_when}`"] if rule.applies_when else []
    parts.append(f"`{' '.join(rule.when.split())}`")
    return " and ".join(parts)


def _param_row(param: Param) -> str:
    low = "" if param.minimum is None else plain(float(param.minimum))
    high = "" if param.maximum is None else plain(float(param.maximum))
    span = f"{low}..{high}" if (low or high) else ""
    default = _words(param.default)
    note = " (inferred; verify)" if param.inferred else ""
    return (
        f"| `{param.name}` | {param.type} | {default} | {param.unit} | {span} | "
        f"{param.description}{note} |"
    )


def _words(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, float):
        return plain(value)
    return str(value)


def _resource_words(resource: dict | object) -> str:
    attrs = resource.get("attrs", {}) if isinstance(resource, dict) else {}
    metrics = resource.get("metrics", {}) if isinstance(resource, dict) else {}
    shown = [f"{k}={_words(v)}" for k, v in _first(attrs.items(), 4)]
    shown += [f"{k}={_words(v)}" for k, v in _first(metrics.items(), 3)]
    return ", ".join(shown) or "a resource"


def _first(items: Iterable[tuple[str, object]], count: int) -> list[tuple[str, object]]:
    return [item for item, _ in zip(items, range(count), strict=False)]
