"""Every worked case in every rule's `tests:` block, run through the real engine."""

from __future__ import annotations

import pytest

from rules import load_catalogue
from rules.cases import run_case

CATALOGUE = load_catalogue()
CASES = [
    pytest.param(rule, case, id=f"{rule.id}-{index}-{case.case}")
    for rule in CATALOGUE.rules
    for index, case in enumerate(rule.tests)
]


@pytest.mark.parametrize(("rule", "case"), CASES)
def test_rule_case_matches_its_expectation(rule, case):
    outcome = run_case(CATALOGUE, rule, case)

    assert outcome.passed, f"{rule.id} ({case.description or case.case}): {outcome.problems}"


def test_each_rule_has_at_least_three_cases_run_above():
    counts = {rule.id: len(rule.tests) for rule in CATALOGUE.rules}

    assert min(counts.values()) >= 3, counts
    assert len(CASES) == sum(counts.values())
