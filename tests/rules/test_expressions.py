"""The expression language: what it refuses, and what its functions mean."""

from __future__ import annotations

import re

import pytest

from rules import expressions as ex
from rules import functions as fn
from rules import load_catalogue


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("__import__('os')", "function '__import__' is not allowed"),
        ("().__class__", "attribute access"),
        ("size_gb.__class__.__mro__", "attribute access"),
        ("open('x')", "function 'open' is not allowed"),
        ("tags['env']", "indexing"),
        ("lambda: 1", "lambda is not allowed"),
        ("[x for x in volume_ids]", "comprehensions"),
        ("(x := 1)", "the := operator"),
        ("2 ** 100", "the ** operator"),
        ("'a' * 1000000000", "multiplying text"),
        ("f'{size_gb}'", "f-strings"),
        ("{'a': 1}", "dict literals"),
        ("{1, 2}", "set literals"),
        ("b'x' == b'x'", "literal b'x' is not allowed"),
        ("size_gb is 5", "`is` and `is not` may only compare with None"),
        ("count(*volume_ids)", "*args"),
        ("round(x=1)", "positional arguments only"),
        ("age_days()", "called with 0 argument(s)"),
        ("", "the expression is empty"),
        ("size_gb >", "syntax error"),
        ("x" * 3000, "longer than 2000 characters"),
    ],
)
def test_parse_refuses_anything_outside_the_whitelist(text, problem):
    with pytest.raises(ex.ExpressionError, match=re.escape(problem)):
        ex.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        'state == "available" and age_days(create_time) >= 7',
        "max(0, coalesce(iops, 0) - 3000) * 0.005 if volume_type == 'gp3' else 0",
        "not source_volume_exists and count(used_by_image_ids) == 0",
        "lower(first_tag(['env', 'Env'])) in ['dev', 'test']",
        "-size_gb < 0 or size_gb // 2 % 3 == 1",
        "iops is None or iops is not None",
    ],
)
def test_parse_accepts_the_rule_language(text):
    assert ex.parse(text) is not None


def test_age_days_counts_from_the_given_now():
    now = fn.epoch_seconds("2026-06-01T00:00:00Z")

    assert fn.age_days("2026-05-31T00:00:00Z", now) == 1.0
    assert fn.age_days("2026-05-31T12:00:00+00:00", now) == 0.5
    assert fn.age_days("2026-05-31T00:00:00", now) == 1.0  # no zone: UTC
    assert fn.age_days(None, now) is None
    assert fn.age_hours("2026-05-31T23:00:00Z", now) == 1.0


def test_list_and_tag_helpers_handle_unknowns():
    assert fn.all_in(["stopped", "stopped"], ["stopped"]) is True
    assert fn.all_in(["stopped", "running"], ["stopped"]) is False
    assert fn.all_in([], ["stopped"]) is False
    assert fn.all_in(None, ["stopped"]) is False
    assert fn.any_in(["a", "b"], frozenset({"b"})) is True
    assert fn.count(None) == 0
    assert fn.first_tag({"Env": "Dev"}, ["env", "Env"]) == "Dev"
    assert fn.first_tag({}, ["env"]) is None
    assert fn.lower(None) is None
    assert fn.startswith("5.7.44", ("5.7.", "8.0.")) is True
    assert fn.startswith(None, "5.7.") is False
    assert fn.coalesce(None, 3) == 3


def test_instance_type_helpers():
    families = load_catalogue().families["aws"]

    assert fn.family("db.m5.large") == "m5" and fn.size("db.m5.large") == "large"
    assert fn.family("m5") is None and fn.size(None) is None
    assert families.equivalent("previous_generation", "m4.xlarge") == "m5.xlarge"
    assert families.equivalent("previous_generation", "db.r4.large") == "db.r5.large"
    assert families.equivalent("graviton", "m5.large") == "m6g.large"
    assert families.equivalent("graviton", "m6g.large") is None
    assert families.equivalent("amd", None) is None
    assert families.vcpus("db.r5.xlarge") == 4
    assert families.vcpus("t2.micro") == 1
    assert families.vcpus("weird") is None


def test_compiled_rules_agree_with_plain_python():
    """The compiled condition of AWS-EBS-PIOPS-GP3 matches the same logic written by hand."""
    compiled = load_catalogue().compiled("AWS-EBS-PIOPS-GP3")

    def by_hand(attrs):
        if attrs.get("volume_type") not in ("io1", "io2"):
            return False
        if attrs.get("state") not in ("available", "in-use"):
            return False
        if attrs.get("size_gb") is None:
            return -1
        if attrs.get("iops") is None:
            return -2
        return attrs["iops"] <= 16000

    for vtype in ("io1", "io2", "gp3", None):
        for state in ("in-use", "available", "deleting"):
            for iops in (None, 100, 16000, 16001):
                for size in (None, 10):
                    attrs = {"volume_type": vtype, "state": state, "iops": iops, "size_gb": size}
                    assert compiled.check(attrs, {}, {}, 0.0) == by_hand(attrs), attrs
