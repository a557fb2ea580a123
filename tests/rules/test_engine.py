"""The engine's contract: determinism, exclusions, overlaps, skips, parameters, provenance."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime

import pytest

from fintropy.domain import Finding, Reversibility, Severity
from fintropy.errors import ConfigError, RuleEvaluationError
from rules import IGNORE_TAG, evaluate, load_catalogue, total_savings
from rules.findings import new_finding

from .support import MINIMAL_RULE, NOW, mutate, resource, volume, write_rules

CATALOGUE = load_catalogue()


def _estate() -> list:
    return [
        volume("vol-unattached-gp2"),  # UNATTACHED and GP2
        volume(
            "vol-attached-gp3",
            state="in-use",
            volume_type="gp3",
            iops=3000,
            attached_instance_ids=["i-1"],
            attached_instance_states=["running"],
        ),
        volume("vol-ignored", tags={IGNORE_TAG: ""}),
        resource(
            "aws.ec2.address",
            "eipalloc-1",
            {
                "public_ip": "203.0.113.1",
                "allocation_id": "eipalloc-1",
                "association_id": None,
                "network_interface_id": None,
            },
        ),
        resource(
            "aws.ec2.instance",
            "i-idle",
            {
                "state": "running",
                "instance_type": "m5.large",
                "architecture": "x86_64",
                "platform": "linux",
            },
            metrics={"cpu_avg_14d": 1.0, "network_mb_per_day_14d": 0.5, "metric_days": 14},
        ),
        resource(
            "aws.ec2.instance",
            "i-nometrics",
            {
                "state": "running",
                "instance_type": "m6g.large",
                "architecture": "arm64",
                "platform": "linux",
            },
        ),
        resource(
            "aws.ebs.snapshot",
            "snap-behind-ami",
            {
                "state": "completed",
                "start_time": "2024-01-01T00:00:00Z",
                "volume_size_gb": 50,
                "source_volume_exists": False,
                "used_by_image_ids": ["ami-1"],
                "storage_tier": "standard",
            },
        ),
    ]


def _dump(findings: list[Finding]) -> str:
    return json.dumps([dataclasses.asdict(f) for f in findings], sort_keys=True, default=str)


def test_same_input_gives_byte_identical_findings_whatever_the_order():
    estate = _estate()
    shuffled = list(estate)
    random.Random(3).shuffle(shuffled)

    first = evaluate(CATALOGUE, estate, now=datetime(2026, 6, 1, tzinfo=UTC))
    second = evaluate(CATALOGUE, shuffled, now=NOW)

    assert _dump(first.findings) == _dump(second.findings)
    assert first.skipped == second.skipped
    keys = [(f.resource.key, f.rule_id) for f in first.findings]
    assert keys == sorted(keys)


def test_findings_carry_provenance_evidence_and_a_filled_in_formula():
    result = evaluate(CATALOGUE, _estate(), now=NOW)
    unattached = next(f for f in result.findings if f.rule_id == "AWS-EBS-UNATTACHED")

    assert unattached.rule_version == CATALOGUE.get("AWS-EBS-UNATTACHED").version
    assert unattached.severity is Severity.MEDIUM
    assert unattached.evidence["size_gb"] == 100 and unattached.evidence["state"] == "available"
    assert unattached.data_used == tuple(sorted(unattached.data_used))
    assert "size_gb" in unattached.data_used
    assert unattached.savings_formula.startswith("100 GB x $0.10/GB-month")
    assert unattached.price_basis == "list"
    assert unattached.reversibility is Reversibility.RESTORABLE
    assert unattached.savings_usd_month == 10.0


def test_ignore_tag_excludes_a_resource_from_every_rule_and_says_so():
    result = evaluate(CATALOGUE, _estate(), now=NOW)
    volume_rules = {r.id for r in CATALOGUE.rules if r.resource_type == "aws.ebs.volume"}

    assert not [f for f in result.findings if f.resource.resource_id == "vol-ignored"]
    ignored = [s for s in result.skipped if s.resource.resource_id == "vol-ignored"]
    assert {s.rule_id for s in ignored} == volume_rules
    assert all("fintropy:ignore" in s.reason for s in ignored)


def test_custom_ignore_tag_is_honoured():
    tagged = volume("vol-keep", tags={"keep": "yes"})

    result = evaluate(CATALOGUE, [tagged], now=NOW, ignore_tag="keep")

    assert result.findings == [] and result.skipped


def test_missing_metrics_give_a_skip_with_the_reason_not_a_finding():
    result = evaluate(CATALOGUE, _estate(), now=NOW)

    skips = {s.rule_id: s.reason for s in result.skipped if s.resource.resource_id == "i-nometrics"}
    assert "cpu_avg_14d" in skips["AWS-EC2-LOWUTIL-TA"]
    assert not [f for f in result.findings if f.resource.resource_id == "i-nometrics"]


def test_snapshot_behind_a_registered_image_is_never_an_orphan_or_old():
    result = evaluate(CATALOGUE, _estate(), now=NOW)

    assert not [f for f in result.findings if f.resource.resource_id == "snap-behind-ami"]


def test_overlapping_rules_count_one_resource_once_and_say_so():
    result = evaluate(CATALOGUE, [volume("vol-1")], now=NOW)
    by_rule = {f.rule_id: f for f in result.findings}

    assert set(by_rule) == {"AWS-EBS-GP2", "AWS-EBS-UNATTACHED"}
    assert by_rule["AWS-EBS-UNATTACHED"].savings_usd_month == 10.0
    assert by_rule["AWS-EBS-GP2"].savings_usd_month == 2.0
    assert total_savings(result.findings) == 10.0
    for finding in result.findings:
        assert "AWS-EBS-GP2, AWS-EBS-UNATTACHED" in finding.explanation


def test_total_savings_adds_distinct_resources_and_rounds_to_cents():
    result = evaluate(CATALOGUE, _estate(), now=NOW)
    best: dict[str, float] = {}
    for finding in result.findings:
        best[finding.resource.key] = max(
            best.get(finding.resource.key, 0), finding.savings_usd_month
        )

    assert total_savings(result.findings) == round(sum(best.values()), 2)
    assert total_savings([]) == 0.0


def test_parameter_override_changes_the_outcome():
    young = volume("vol-young", create_time="2026-05-30T00:00:00Z")

    default = evaluate(CATALOGUE, [young], now=NOW)
    overridden = evaluate(
        CATALOGUE, [young], now=NOW, params={"AWS-EBS-UNATTACHED": {"min_age_days": 1}}
    )

    assert "AWS-EBS-UNATTACHED" not in {f.rule_id for f in default.findings}
    assert "AWS-EBS-UNATTACHED" in {f.rule_id for f in overridden.findings}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"AWS-EBS-UNATACHED": {}}, "unknown rule 'AWS-EBS-UNATACHED'.*AWS-EBS-UNATTACHED"),
        ({"AWS-EBS-UNATTACHED": {"min_age": 3}}, "no parameter 'min_age'.*min_age_days"),
        ({"AWS-EBS-UNATTACHED": {"min_age_days": "7"}}, "must be of type int"),
        ({"AWS-EBS-UNATTACHED": {"min_age_days": True}}, "must be of type int"),
        ({"AWS-EBS-UNATTACHED": {"min_age_days": -1}}, "outside its range 0..365"),
        ({"AWS-EBS-UNATTACHED": 7}, "must be a mapping"),
    ],
)
def test_bad_parameter_overrides_are_refused_with_a_clear_message(params, message):
    with pytest.raises(ConfigError, match=message):
        evaluate(CATALOGUE, [volume("vol-1")], now=NOW, params=params)


def test_now_must_be_a_time():
    with pytest.raises(ConfigError, match="`now` must be a datetime"):
        evaluate(CATALOGUE, [], now="yesterday")


def test_naive_now_is_taken_as_utc():
    aware = evaluate(CATALOGUE, _estate(), now=datetime(2026, 6, 1, tzinfo=UTC))
    naive = evaluate(CATALOGUE, _estate(), now=datetime(2026, 6, 1))

    assert _dump(aware.findings) == _dump(naive.findings)


def test_counts_resources_and_rule_evaluations():
    estate = _estate()
    result = evaluate(CATALOGUE, estate, now=NOW)
    per_type: dict[str, int] = {}
    for rule in CATALOGUE.rules:
        per_type[rule.resource_type] = per_type.get(rule.resource_type, 0) + 1
    expected = sum(per_type[r.resource_type] for r in estate if IGNORE_TAG not in r.tags)

    assert result.resource_count == len(estate)
    assert result.evaluation_count == expected


def test_unknown_resource_types_are_ignored():
    odd = resource("aws.sagemaker.endpoint", "ep-1", {"status": "InService"})

    result = evaluate(CATALOGUE, [odd], now=NOW)

    assert result.findings == [] and result.skipped == [] and result.resource_count == 1


def test_a_missing_list_price_skips_the_rule_for_that_resource_only():
    exotic = resource(
        "aws.ec2.instance", "i-exotic", {"state": "running", "instance_type": "m4.10xlarge"}
    )
    normal = resource(
        "aws.ec2.instance", "i-normal", {"state": "running", "instance_type": "m4.large"}
    )

    result = evaluate(CATALOGUE.subset(["AWS-EC2-OLDGEN"]), [exotic, normal], now=NOW)

    assert [f.resource.resource_id for f in result.findings] == ["i-normal"]
    assert "ec2.hour.m5.10xlarge" in result.skipped[0].reason


def test_a_rule_bug_raises_rule_evaluation_error_naming_rule_and_resource(tmp_path):
    # `when` compares an attribute the rule does not require: None > 5 is a bug in the rule
    buggy = mutate(MINIMAL_RULE, "when: size_gb >= min_gb", "when: iops > 5")
    catalogue = load_catalogue([write_rules(tmp_path, buggy)])
    victim = volume("vol-no-iops", iops=None)

    with pytest.raises(RuleEvaluationError, match="TEST-EBS-BIG 1.0.0 failed on .*vol-no-iops"):
        evaluate(catalogue, [victim], now=NOW)


def test_fast_finding_construction_equals_the_dataclass_constructor():
    finding = evaluate(CATALOGUE, [volume("vol-1")], now=NOW).findings[0]
    fields = {f.name: getattr(finding, f.name) for f in dataclasses.fields(Finding)}

    rebuilt = Finding(**fields)

    assert finding == rebuilt and hash(finding.resource) == hash(rebuilt.resource)
    assert dataclasses.asdict(finding) == dataclasses.asdict(rebuilt)
    assert dataclasses.replace(finding, title="x").title == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.title = "changed"  # type: ignore[misc]
    assert new_finding(dict(fields)) == rebuilt


def test_evaluating_does_not_leave_the_garbage_collector_off():
    import gc

    evaluate(CATALOGUE, _estate(), now=NOW)

    assert gc.isenabled()


def test_a_value_that_does_not_fit_its_format_reads_unknown(tmp_path):
    worded = mutate(
        MINIMAL_RULE,
        "explanation: Volume {resource_id} has {size_gb} GB unattached.",
        "explanation: Volume {resource_id} has {size_gb} GB and {iops:.1f} IOPS.",
    )
    catalogue = load_catalogue([write_rules(tmp_path, worded)])

    with_iops = evaluate(catalogue, [volume("v1", size_gb=500, iops=300)], now=NOW)
    without = evaluate(catalogue, [volume("v2", size_gb=500, iops=None)], now=NOW)

    assert with_iops.findings[0].explanation == "Volume v1 has 500 GB and 300.0 IOPS."
    assert without.findings[0].explanation == "Volume v2 has 500 GB and unknown IOPS."


def test_a_missing_price_inside_a_condition_skips_only_that_rule(tmp_path):
    priced = mutate(
        MINIMAL_RULE,
        "when: size_gb >= min_gb",
        'when: size_gb * price("ebs.gb_month", volume_type) >= min_gb',
    )
    catalogue = load_catalogue([write_rules(tmp_path, priced)])

    result = evaluate(
        catalogue,
        [volume("v-odd", size_gb=5000, volume_type="weird"), volume("v-ok", size_gb=5000)],
        now=NOW,
    )

    assert [f.resource.resource_id for f in result.findings] == ["v-ok"]
    assert [s.resource.resource_id for s in result.skipped] == ["v-odd"]
    assert "ebs.gb_month.weird" in result.skipped[0].reason
