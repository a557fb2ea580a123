"""The inventory of the seeded sandbox estate: schema, counts, metrics, accounts, regions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from adapters.aws.adapter import AwsAdapter
from adapters.aws.sandbox import SandboxManifest, sandbox_adapter
from fintropy.domain import Inventory, Resource
from fintropy.inventory_schema import AWS_RESOURCE_TYPES, check_resource_attrs

Scan = tuple[SandboxManifest, list[Inventory], AwsAdapter]


@pytest.fixture(scope="module")
def scan(sandbox: tuple[str, SandboxManifest]) -> Scan:
    _, manifest = sandbox
    adapter = sandbox_adapter(manifest)
    inventories = adapter.collect_many(manifest.accounts, None, datetime.now(UTC))
    return manifest, inventories, adapter


def _resources(scan: Scan) -> dict[str, Resource]:
    return {r.resource_id: r for inv in scan[1] for r in inv.resources}


def _named(scan: Scan, key: str) -> Resource:
    return _resources(scan)[scan[0].named[key].resource_id]


def test_every_resource_matches_the_inventory_schema(scan: Scan) -> None:
    _, inventories, _ = scan
    resources = [r for inv in inventories for r in inv.resources]

    problems = {
        r.resource_id: check_resource_attrs(r.resource_type, r.attrs)
        for r in resources
        if check_resource_attrs(r.resource_type, r.attrs)
    }
    unknown_metrics = {
        r.resource_id: set(r.metrics) - set(AWS_RESOURCE_TYPES[r.resource_type]["metrics"])
        for r in resources
        if set(r.metrics) - set(AWS_RESOURCE_TYPES[r.resource_type]["metrics"])
    }

    assert problems == {}
    assert unknown_metrics == {}
    assert {r.resource_type for r in resources} == set(AWS_RESOURCE_TYPES)
    assert all(isinstance(v, float) for r in resources for v in r.metrics.values())


def test_inventory_finds_exactly_what_was_seeded_in_each_account_and_region(scan: Scan) -> None:
    manifest, inventories, _ = scan

    found = {
        f"{inv.account_id}/{inv.region}": dict(Counter(r.resource_type for r in inv.resources))
        for inv in inventories
    }

    assert found == manifest.counts_by_scope
    assert [e for inv in inventories for e in inv.errors] == []
    assert manifest.total >= 150
    assert len(manifest.accounts) == 2
    assert len(manifest.regions) == 2


def test_utilisation_metrics_are_read_back_from_cloudwatch(scan: Scan) -> None:
    idle, busy = _named(scan, "idle_instance"), _named(scan, "busy_instance")
    idle_db, busy_db = _named(scan, "idle_rds"), _named(scan, "busy_rds")
    idle_alb, busy_alb = _named(scan, "idle_alb"), _named(scan, "busy_alb")
    idle_nat, busy_nat = _named(scan, "idle_nat_gateway"), _named(scan, "busy_nat_gateway")
    attached = _named(scan, "gp2_attached_volume")
    bucket = _named(scan, "bucket_without_lifecycle")

    assert 1 <= idle.metrics["cpu_avg_14d"] <= 3
    assert idle.metrics["cpu_max_14d"] < 5
    assert idle.metrics["network_mb_per_day_14d"] < 5
    assert 40 <= busy.metrics["cpu_avg_14d"] <= 80
    assert idle.metrics["metric_days"] == busy.metrics["metric_days"] == 14
    assert idle_db.metrics["connections_max_14d"] == 0
    assert busy_db.metrics["connections_max_14d"] > 20
    assert idle_alb.metrics["requests_per_day_14d"] == 0
    assert idle_alb.attrs["registered_target_count"] == 0
    assert busy_alb.metrics["requests_per_day_14d"] > 1e5
    assert busy_alb.attrs["healthy_target_count"] == 3
    assert (
        idle_nat.metrics["bytes_out_per_day_14d"] < 1e7 < busy_nat.metrics["bytes_out_per_day_14d"]
    )
    assert attached.metrics["read_ops_per_day_14d"] > 1000
    assert bucket.metrics["size_gb"] == pytest.approx(3100)
    assert bucket.metrics["object_count"] > 0


def test_metrics_are_absent_when_cloudwatch_has_no_datapoints(scan: Scan) -> None:
    unattached = _named(scan, "unattached_gp2_volume")
    stopped = _named(scan, "stopped_instance")

    assert unattached.metrics == {}
    assert stopped.attrs["state"] == "stopped"
    assert "cpu_avg_14d" not in stopped.metrics
    assert "metric_days" not in stopped.metrics


def test_ages_are_backdated_relative_to_the_seeding_time(scan: Scan) -> None:
    manifest = scan[0]
    seeded = datetime.fromisoformat(manifest.seeded_at)
    stopped = _named(scan, "stopped_instance")
    orphan = _named(scan, "orphan_snapshot")

    stopped_since = datetime.fromisoformat(stopped.attrs["stopped_since"])
    started = datetime.fromisoformat(orphan.attrs["start_time"])

    assert manifest.backdated
    assert abs(seeded - stopped_since - timedelta(days=45)) < timedelta(minutes=5)
    assert abs(seeded - started - timedelta(days=200)) < timedelta(minutes=5)
    assert stopped_since.utcoffset() == timedelta(0)


def test_snapshots_backing_amis_are_marked_and_orphans_are_not(scan: Scan) -> None:
    backing = _named(scan, "ami_backing_snapshot")
    orphan = _named(scan, "orphan_snapshot")
    used = _named(scan, "used_ami")
    snapshots = [r for r in _resources(scan).values() if r.resource_type == "aws.ebs.snapshot"]

    assert backing.attrs["used_by_image_ids"] == [used.resource_id]
    assert orphan.attrs["source_volume_exists"] is False
    assert orphan.attrs["used_by_image_ids"] == []
    # moto's public AMIs come with snapshots; none may appear in an account's inventory.
    assert not [s for s in snapshots if "ami-0c1a7f3e5b2d4a601" in s.attrs["description"]]
    assert not [s for s in snapshots if "ami-0d2b8e4f6c3e5b702" in s.attrs["description"]]


def test_ami_usage_counts_instances_and_launch_templates(scan: Scan) -> None:
    used, unused = _named(scan, "used_ami"), _named(scan, "unused_ami")

    assert len(used.attrs["used_by_instance_ids"]) == 1
    assert used.attrs["used_by_launch_templates"] != []
    assert used.attrs["snapshot_gb"] > 0
    assert unused.attrs["used_by_instance_ids"] == [] == unused.attrs["used_by_launch_templates"]


def test_elastic_ips_report_association_and_instance_state(scan: Scan) -> None:
    free = _named(scan, "unassociated_eip")
    on_stopped = _named(scan, "eip_on_stopped_instance")

    assert free.attrs["association_id"] is None
    assert free.attrs["instance_id"] is None
    assert on_stopped.attrs["instance_state"] == "stopped"
    assert on_stopped.attrs["instance_id"] == scan[0].named["stopped_instance"].resource_id


def test_buckets_are_reported_once_under_the_first_region_with_their_own_region(
    scan: Scan,
) -> None:
    manifest, inventories, _ = scan

    homes = {
        inv.region
        for inv in inventories
        for r in inv.resources
        if r.resource_type == "aws.s3.bucket"
    }
    with_rules = _named(scan, "bucket_with_lifecycle")
    without = _named(scan, "bucket_without_lifecycle")

    assert homes == {manifest.regions[0]}
    assert without.region == "eu-west-1"
    assert with_rules.region == "us-east-1"
    assert without.attrs["lifecycle_rule_count"] == 0
    assert without.attrs["versioning"] == "Enabled"
    assert with_rules.attrs["has_noncurrent_expiration"]
    assert with_rules.attrs["has_multipart_abort"]
    assert _named(scan, "bucket_with_incomplete_uploads").attrs["incomplete_multipart_uploads"] == 2


def test_each_account_sees_only_its_own_resources(scan: Scan) -> None:
    _, inventories, _ = scan
    ids_by_account: dict[str, set[str]] = {}
    for inv in inventories:
        assert {r.account_id for r in inv.resources} == {inv.account_id}
        ids_by_account.setdefault(inv.account_id, set()).update(
            r.resource_id for r in inv.resources
        )
    names = {
        inv.account_id: {r.name for r in inv.resources}
        for inv in inventories
        if inv.region == "us-east-1"
    }

    assert ids_by_account["111111111111"].isdisjoint(ids_by_account["222222222222"])
    assert "web-1" in names["111111111111"]
    assert "web-1" not in names["222222222222"]
    assert "ci-runner" in names["222222222222"]
    assert "ci-runner" not in names["111111111111"]


def test_tags_become_a_dict_and_names_come_from_the_name_tag_unchanged(scan: Scan) -> None:
    busy = _named(scan, "busy_instance")
    awkward = _named(scan, "awkward_name_instance")

    assert busy.tags == {
        "Name": "web-1",
        "env": "prod",
        "owner": "team-payments@example.com",
        "team": "payments",
        "cost-center": "CC-1001",
    }
    assert busy.name == "web-1"
    assert awkward.name == "reporting <script>alert('x')</script> *bold* & co"
    assert _named(scan, "awkward_name_volume").name == "*scratch* & <tmp> _copy_"


def test_reading_the_estate_makes_no_mutating_call(scan: Scan) -> None:
    adapter = scan[2]

    assert adapter.mutating_calls == 0
    assert adapter.api_calls["GetMetricData"] >= 4


SERVICE_WASTE = (  # (named sandbox resource, a rule that must fire on it)
    ("graviton_candidate_function", "AWS-LAMBDA-GRAVITON"),
    ("erroring_function", "AWS-LAMBDA-ERRORS"),
    ("unused_table", "AWS-DDB-UNUSED"),
    ("overprovisioned_table", "AWS-DDB-OVERPROV"),
    ("log_group_without_retention", "AWS-CWL-NORETENTION"),
    ("stale_log_group", "AWS-CWL-GROUP-STALE"),
    ("repository_without_lifecycle", "AWS-ECR-NOLIFECYCLE"),
    ("unused_secret", "AWS-SECRET-UNUSED"),
    ("legacy_cache_cluster", "AWS-EC-EXTSUPPORT"),
    ("old_eks_cluster", "AWS-EKS-EXTSUPPORT"),
    ("large_instance", "AWS-EC2-LARGE"),
    ("large_volume", "AWS-EBS-LARGE"),
    ("cold_st1_volume", "AWS-EBS-ST1-SC1"),
    ("multi_az_nonprod_rds", "AWS-RDS-MULTIAZ-NONPROD"),
    ("fixed_size_asg", "AWS-ASG-FIXED"),
    ("empty_asg", "AWS-ASG-EMPTY"),
    ("nonprod_asg", "AWS-ASG-OFFHOURS"),
    ("legacy_redshift_cluster", "AWS-RS-OLDGEN"),
    ("overprovisioned_table", "AWS-DDB-NOAUTOSCALE"),
    ("unused_hosted_zone", "AWS-R53-ZONE-UNUSED"),
)
SERVICE_HEALTHY = ("busy_table", "used_secret", "current_eks_cluster")


def test_service_waste_in_the_sandbox_is_found_and_healthy_services_are_not(scan: Scan) -> None:
    from rules import evaluate, load_catalogue

    manifest, inventories, _ = scan
    resources = [r for inv in inventories for r in inv.resources]
    result = evaluate(load_catalogue(), resources, now=datetime.now(UTC))
    fired: dict[str, set[str]] = {}
    for finding in result.findings:
        fired.setdefault(finding.resource.resource_id, set()).add(finding.rule_id)

    for key, rule_id in SERVICE_WASTE:
        assert rule_id in fired.get(manifest.named[key].resource_id, set()), key
    for key in SERVICE_HEALTHY:
        assert fired.get(manifest.named[key].resource_id, set()) == set(), key
    assert len({f.rule_id for f in result.findings}) >= 55
