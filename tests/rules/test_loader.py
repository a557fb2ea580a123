"""Loading rule files: a valid file compiles; a bad one fails with a message saying what and how."""

from __future__ import annotations

import pytest

from fintropy.errors import ConfigError
from rules import evaluate, load_catalogue

from .support import MINIMAL_RULE, NOW, mutate, volume, write_rules


def _load(tmp_path, text: str, **kwargs):
    return load_catalogue([write_rules(tmp_path, text, **kwargs)])


def test_a_valid_custom_rule_file_loads_and_runs(tmp_path):
    catalogue = _load(tmp_path, MINIMAL_RULE)

    result = evaluate(catalogue, [volume("vol-big", size_gb=500)], now=NOW)

    assert [r.id for r in catalogue.rules] == ["TEST-EBS-BIG"]
    assert result.findings[0].savings_usd_month == 50.0
    assert result.findings[0].explanation == "Volume vol-big has 500 GB unattached."


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "severity: low",
            "severity: urgent",
            r"rule TEST-EBS-BIG: field 'severity': 'urgent' is not one of "
            r"\['low', 'medium', 'high', 'critical'\]",
        ),
        (
            "class: unused",
            "class: unused\n  colour: red",
            r"rule TEST-EBS-BIG: field 'colour': is not a known field; "
            r"valid fields: action, .*when",
        ),
        ("version: 1.0.0", "version: v1", r"field 'version': 'v1' does not match"),
        ("  title: Big unattached volume\n", "", r"rule TEST-EBS-BIG: field 'title': is missing"),
        (
            "permissions: [ec2:DescribeVolumes]",
            "permissions: []",
            r"field 'permissions': \[\] should be non-empty",
        ),
        (
            "resource_type: aws.ebs.volume",
            "resource_type: aws.ebs.disk",
            r"field 'resource_type': unknown resource type 'aws.ebs.disk'"
            r".*Valid choices: .*aws.ebs.volume",
        ),
        (
            "action: null\n  advice: {text: Delete it, reversibility: irreversible, risk: low}",
            "action: stop_instance",
            r"field 'action': 'stop_instance' acts on aws.ec2.instance, not aws.ebs.volume.*"
            r"Valid choices for aws.ebs.volume: modify_volume_to_gp3, snapshot_and_delete_volume",
        ),
        (
            "action: null\n  advice: {text: Delete it, reversibility: irreversible, risk: low}",
            "action: shred_volume",
            r"field 'action': unknown action 'shred_volume'.*Valid choices: delete_load_balancer",
        ),
        (
            "action: null\n  advice: {text: Delete it, reversibility: irreversible, risk: low}",
            "action: null",
            r"field 'advice': is missing: "
            r"advice-only rules \(action: null\) need an `advice` block",
        ),
        (
            "action: null",
            "action: stop_instance",
            r"field '\(top level\)': `advice` is only for rules with action: null",
        ),
        (
            "when: size_gb >= min_gb",
            "when: __import__('os').system('true')",
            r"field 'when': only the listed functions may be called, by plain name",
        ),
        (
            "when: size_gb >= min_gb",
            "when: size_gb.real > 1",
            r"field 'when': attribute access \(a.b\) is not allowed",
        ),
        (
            "when: size_gb >= min_gb",
            "when: eval('1')",
            r"field 'when': function 'eval' is not allowed",
        ),
        (
            "when: size_gb >= min_gb",
            "when: '[x for x in attached_instance_ids]'",
            r"field 'when': comprehensions is not allowed",
        ),
        (
            "when: size_gb >= min_gb",
            "when: size_gb[0] > 1",
            r"field 'when': indexing \(a\[b\]\) is not allowed",
        ),
        ("when: size_gb >= min_gb", "when: 'lambda: 1'", r"field 'when': .*lambda is not allowed"),
        (
            "when: size_gb >= min_gb",
            "when: size_gb ** 99 > 1",
            r"field 'when': the \*\* operator is not allowed",
        ),
        (
            "when: size_gb >= min_gb",
            "when: sizegb >= min_gb",
            r"field 'when': unknown name 'sizegb' \(did you mean 'size_gb'\?\)",
        ),
        ("when: size_gb >= min_gb", "when: size_gb >=", r"field 'when': syntax error"),
        (
            "when: size_gb >= min_gb",
            "when: read_ops_per_day_14d > 1",
            r"field 'when': reads metric\(s\) \['read_ops_per_day_14d'\] "
            r"that `requires` does not list",
        ),
        (
            'amount: size_gb * price("ebs.gb_month", "gp2")',
            'amount: size_gb * price("ebs.gb_mnth", "gp2")',
            r"field 'savings.amount': price key 'ebs.gb_mnth.gp2' is not in the price table",
        ),
        (
            "explanation: Volume {resource_id} has {size_gb} GB unattached.",
            "explanation: Volume {resource_id.__class__} has {size_gb} GB.",
            r"field 'explanation': template field \{resource_id.__class__\} must be a plain name",
        ),
        (
            "explanation: Volume {resource_id} has {size_gb} GB unattached.",
            "explanation: Volume {resource_id} has {sise_gb} GB unattached.",
            r"field 'explanation': template field \{sise_gb\} is not a name of this rule",
        ),
        (
            "evidence: [size_gb]",
            "evidence: [size_gbs]",
            r"field 'evidence': 'size_gbs' is not an attribute, metric, param or let value",
        ),
        (
            "requires: [size_gb]",
            "requires: [sise_gb]",
            r"field 'requires\[0\]': 'sise_gb' is not an attribute or metric of aws.ebs.volume "
            r"\(did you mean 'size_gb'\?\)",
        ),
        (
            "default: 100",
            "default: 100000",
            r"params.min_gb.default: parameter 'min_gb' = 100000 is outside its range 1..10000",
        ),
        (
            "resource: {attrs: {state: available, size_gb: 10}}",
            "resource: {attrs: {state: available, size: 10}}",
            r"field 'tests\[1\].resource.attrs': 'size' is not an attribute of aws.ebs.volume",
        ),
        (
            "expect: {fires: true, savings: 20.0}",
            "expect: {fires: true}",
            r"field 'tests\[0\].expect': a case that fires must state the expected savings",
        ),
        (
            "service: ebs\n  resource_type",
            "service: rds\n  resource_type",
            r"field 'service': 'rds' differs from the file's service 'ebs'",
        ),
    ],
)
def test_bad_rule_file_is_refused_naming_file_rule_and_field(tmp_path, old, new, expected):
    with pytest.raises(ConfigError, match=expected) as caught:
        _load(tmp_path, mutate(MINIMAL_RULE, old, new))

    assert "ebs.yaml" in str(caught.value)


def test_let_values_that_refer_to_each_other_in_a_loop_are_refused(tmp_path):
    looped = mutate(
        MINIMAL_RULE,
        "savings:\n",
        "let:\n    a: b + 1\n    b: a + 1\n  savings:\n",
    )

    with pytest.raises(ConfigError, match="field 'let': let values refer to each other in a loop"):
        _load(tmp_path, looped)


def test_let_values_may_be_listed_in_any_order(tmp_path):
    ordered = mutate(
        MINIMAL_RULE,
        'savings:\n    amount: size_gb * price("ebs.gb_month", "gp2")',
        'let:\n    total: size_gb * unit\n    unit: price("ebs.gb_month", "gp2")\n'
        "  savings:\n    amount: total",
    )

    catalogue = _load(tmp_path, ordered)

    assert (
        evaluate(catalogue, [volume("v", size_gb=300)], now=NOW).findings[0].savings_usd_month
        == 30.0
    )


def test_duplicate_rule_ids_across_files_are_refused(tmp_path):
    first = write_rules(tmp_path, MINIMAL_RULE, name="a.yaml")
    second = write_rules(tmp_path, MINIMAL_RULE, name="b.yaml")

    with pytest.raises(ConfigError, match=r"rule TEST-EBS-BIG: id already defined in .*a.yaml"):
        load_catalogue([first, second])


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "ebs.yaml"
    path.write_text("provider: aws\nservice: ebs\nrules:\n  - id: [unclosed\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"ebs.yaml line \d+: not valid YAML"):
        load_catalogue([path])


def test_missing_path_and_empty_folder_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="no such rule file or folder"):
        load_catalogue([tmp_path / "nowhere"])
    with pytest.raises(ConfigError, match=r"No rule files \(\*.yaml\)"):
        load_catalogue([tmp_path])


def test_a_changed_rule_file_is_reloaded(tmp_path):
    path = write_rules(tmp_path, MINIMAL_RULE)
    first = load_catalogue([path])
    write_rules(tmp_path, mutate(MINIMAL_RULE, "version: 1.0.0", "version: 1.1.0"))

    second = load_catalogue([path])

    assert first.get("TEST-EBS-BIG").version == "1.0.0"
    assert second.get("TEST-EBS-BIG").version == "1.1.0"


def test_the_shipped_catalogue_is_cached():
    assert load_catalogue() is load_catalogue()


def test_require_names_the_closest_rule_ids():
    from fintropy.errors import NotFoundError

    catalogue = load_catalogue()

    with pytest.raises(NotFoundError, match="did you mean 'AWS-EBS-GP2'"):
        catalogue.require("AWS-EBS-GP3")
    assert catalogue.get("AWS-EBS-GP3") is None
    assert catalogue.require("aws-ebs-gp2").id == "AWS-EBS-GP2"
