"""Render the SLA terms catalogue as Markdown for ``docs/sla.md``.

``render_terms_markdown`` is pure; ``python -m rules.sla.docs`` rewrites the generated block of
``docs/sla.md`` (between the BEGIN/END markers) and ``--check`` fails when it is stale, so the
page always matches the data.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

from rules.sla.catalogue import SlaCatalogue, default_catalogue
from rules.sla.evidence import format_decimal
from rules.sla.model import CreditBasis, DeadlineRule, MeasurementMode, SlaTerm

BEGIN = "<!-- BEGIN GENERATED SLA TERMS (python -m rules.sla.docs) -->"
END = "<!-- END GENERATED SLA TERMS -->"
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "sla.md"

_PROVIDER_NAMES = {"aws": "AWS", "azure": "Azure", "gcp": "Google Cloud", "oci": "OCI"}

_DEADLINE_WORDS = {
    DeadlineRule.END_OF_NTH_CYCLE_AFTER: "end of billing cycle +{n}",
    DeadlineRule.MONTHS_AFTER_PERIOD_END: "month end + {n} months",
    DeadlineRule.DAYS_AFTER_PERIOD_END: "month close + {n} days",
    DeadlineRule.DAYS_AFTER_INCIDENT: "incident day + {n} days",
}


def render_terms_markdown(catalogue: SlaCatalogue) -> str:
    """The generated block: one table per provider, then the unconfirmed facts per provider."""
    lines = [BEGIN, "", f"{len(catalogue.terms)} terms shipped.", ""]
    for provider in catalogue.providers:
        terms = catalogue.for_provider(provider)
        lines += [f"### {_PROVIDER_NAMES.get(provider, provider)} ({len(terms)} terms)", ""]
        lines += [
            "| id | term | commitment | scope | downtime measured | credit tiers | cap | "
            "claim deadline |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [_row(term) for term in terms]
        lines.append("")
    lines += ["### Unconfirmed facts", ""]
    lines += [
        "Fields the reference does not confirm, with the reason. Check them against the live "
        "SLA before relying on a figure; every assessment lists the ones it used.",
        "",
    ]
    for provider in catalogue.providers:
        lines += _unconfirmed_lines(provider, catalogue.for_provider(provider))
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace_generated_block(document: str, block: str) -> str:
    """``document`` with the text between the markers replaced by ``block``."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"docs page lacks the markers {BEGIN!r} and {END!r}")
    return document[:start] + block + document[end + len(END) + 1 :]


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with --check, verify) the generated block of docs/sla.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/sla.md is stale")
    parser.add_argument("--path", type=Path, default=DOC_PATH)
    args = parser.parse_args(argv)
    current = args.path.read_text(encoding="utf-8")
    wanted = replace_generated_block(current, render_terms_markdown(default_catalogue()))
    if current == wanted:
        return 0
    if args.check:
        sys.stderr.write(f"{args.path} is stale; run: python -m rules.sla.docs\n")
        return 1
    args.path.write_text(wanted, encoding="utf-8")
    return 0


def _row(term: SlaTerm) -> str:
    cells = [
        f"`{term.id}`",
        term.title,
        f"{format_decimal(term.commitment_pct)}%",
        _scope(term),
        _measurement(term),
        _tiers(term),
        f"{format_decimal(term.credit.cap_pct)}%",
        _DEADLINE_WORDS[term.deadline.rule].format(n=term.deadline.count),
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _scope(term: SlaTerm) -> str:
    if term.scope.kind.value == "single_instance":
        return "single instance"
    return f"all of >= {term.scope.min_members} members in >= {term.scope.min_zones} zone(s)"


def _measurement(term: SlaTerm) -> str:
    measurement = term.measurement
    if measurement.mode is MeasurementMode.MINUTES:
        return f"minutes ({measurement.minute_policy})"
    if measurement.mode is MeasurementMode.ERROR_RATE:
        return f"error rate per {measurement.interval_minutes} min"
    threshold = format_decimal(measurement.error_threshold_pct or Decimal(0))
    return (
        f"{measurement.interval_minutes}-min intervals > {threshold}% errors "
        f"(>= {measurement.min_requests} requests)"
    )


def _tiers(term: SlaTerm) -> str:
    if term.credit.basis is CreditBasis.DOWNTIME_MINUTES:
        return "; ".join(tier.describe() for tier in term.credit.day_tiers)
    return "; ".join(
        f"<{format_decimal(t.below)}: {format_decimal(t.credit_pct)}%" for t in term.credit.tiers
    )


def _unconfirmed_lines(provider: str, terms: Iterable[SlaTerm]) -> list[str]:
    """One bullet per distinct note, naming the terms that carry it (or "every term")."""
    terms = list(terms)
    carriers: dict[tuple[str, str], list[str]] = {}
    for term in terms:
        for item in term.unconfirmed:
            carriers.setdefault((item.field, item.note), []).append(term.id)
    lines = [f"**{_PROVIDER_NAMES.get(provider, provider)}**", ""]
    for (field, note), ids in sorted(carriers.items()):
        who = "every term" if len(ids) == len(terms) else ", ".join(f"`{i}`" for i in ids)
        lines.append(f"- `{field}` ({who}): {note}")
    if not carriers:
        lines.append("- none")
    return [*lines, ""]


if __name__ == "__main__":
    raise SystemExit(main())
