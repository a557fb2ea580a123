"""Running a rule's worked test cases (the ``tests:`` block of its catalogue entry).

The test suite runs every case of every rule; ``fintropy rules explain`` shows the first case
that fires as the rule's worked example. Both go through :func:`run_case`, so the example a
user reads is one the tests check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from fintropy.domain import Finding, Resource
from rules.engine import evaluate
from rules.loader import Catalogue
from rules.model import Rule, TestCase

CASE_ACCOUNT = "123456789012"
CASE_REGION = "us-east-1"


@dataclass(frozen=True)
class CaseOutcome:
    """What a case produced, and whether it matched its expectation."""

    fired: bool | str  # True, False or "skipped"
    finding: Finding | None
    reason: str  # the skip reason, when skipped
    problems: tuple[str, ...]  # empty when the case passed

    @property
    def passed(self) -> bool:
        """True when the outcome matched every expectation."""
        return not self.problems


def case_resource(rule: Rule, case: TestCase) -> Resource:
    """The resource a case describes."""
    raw = case.resource
    return Resource(
        provider=rule.provider,
        account_id=CASE_ACCOUNT,
        region=CASE_REGION,
        resource_type=rule.resource_type,
        resource_id=str(raw.get("id", "test-resource")),
        name=str(raw.get("name", "")),
        tags=dict(raw.get("tags") or {}),
        attrs=dict(raw.get("attrs") or {}),
        metrics={k: float(v) for k, v in (raw.get("metrics") or {}).items()},
    )


def run_case(catalogue: Catalogue, rule: Rule, case: TestCase) -> CaseOutcome:
    """Evaluate ``rule`` alone on the case's resource and compare with the expectation."""
    only = catalogue.subset([rule.id])
    params = {rule.id: dict(case.params)} if case.params else None
    result = evaluate(only, [case_resource(rule, case)], now=case.now, params=params)
    finding = result.findings[0] if result.findings else None
    reason = result.skipped[0].reason if result.skipped else ""
    fired: bool | str = True if finding else ("skipped" if result.skipped else False)
    problems: list[str] = []
    expect = case.expect
    if fired != expect["fires"]:
        detail = f" ({reason})" if reason else ""
        problems.append(f"expected fires={expect['fires']!r}, got {fired!r}{detail}")
    wanted_savings = expect.get("savings")
    if (
        finding is not None
        and wanted_savings is not None
        and not math.isclose(finding.savings_usd_month, wanted_savings, abs_tol=0.005)
    ):
        problems.append(
            f"expected savings {wanted_savings}, got {finding.savings_usd_month} "
            f"({finding.savings_formula})"
        )
    wanted_reason = expect.get("reason_contains")
    if wanted_reason and wanted_reason not in reason:
        problems.append(f"expected a skip reason containing {wanted_reason!r}, got {reason!r}")
    wanted_text = expect.get("explanation_contains")
    if wanted_text and (finding is None or wanted_text not in finding.explanation):
        got = finding.explanation if finding else "no finding"
        problems.append(f"expected the explanation to contain {wanted_text!r}, got {got!r}")
    return CaseOutcome(fired, finding, reason, tuple(problems))


def worked_example(catalogue: Catalogue, rule: Rule) -> tuple[TestCase, CaseOutcome] | None:
    """The rule's first firing case and its outcome (the example shown to users)."""
    for case in rule.tests:
        if case.case == "fires":
            return case, run_case(catalogue, rule, case)
    return None
