"""Fintropy's rule engine: a reviewed catalogue of waste rules, evaluated purely and fast.

Public API::

    from rules import load_catalogue, evaluate, total_savings

    catalogue = load_catalogue()                  # the shipped catalogue, cached
    result = evaluate(catalogue, resources, now=now, params=None, ignore_tag="fintropy:ignore")
    result.findings                               # list[Finding], sorted by (resource key, rule id)
    result.skipped                                # list[Skip(rule_id, resource, reason)]
    total_savings(result.findings)                # USD per month, each resource counted once

Rules live in ``rules/catalogue/<provider>/<service>.yaml``; list prices in
``rules/prices/<provider>.yaml``; the rule file schema in ``rules/schema/rule.schema.json``.
"""

from rules.engine import IGNORE_TAG, EvaluationResult, Skip, evaluate, total_savings
from rules.loader import Catalogue, load_catalogue
from rules.model import Param, Rule

__all__ = [
    "IGNORE_TAG",
    "Catalogue",
    "EvaluationResult",
    "Param",
    "Rule",
    "Skip",
    "evaluate",
    "load_catalogue",
    "total_savings",
]
