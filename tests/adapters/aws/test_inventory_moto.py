"""Inventory behaviour on small estates built per test: paging, accounts, failures, retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from fintropy.domain import Inventory
from tests.adapters.aws.fault_proxy import FaultProxy
from tests.adapters.aws.helpers import REGION, account, adapter, client, network, run_instance

NOW = datetime.now(UTC)


@pytest.fixture
def proxy(moto_reset: str) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(moto_reset).start()
    yield fault_proxy
    fault_proxy.stop()


def _ids(inventory: Inventory, resource_type: str) -> set[str]:
    return {r.resource_id for r in inventory.resources if r.resource_type == resource_type}


def test_paged_lists_are_read_to_the_last_page(moto_reset: str) -> None:
    acct = account()
    ec2 = client(moto_reset, "ec2", acct)
    elb = client(moto_reset, "elbv2", acct)
    instances = {run_instance(ec2, f"app-{n}") for n in range(7)}
    _, subnets = network(ec2)
    balancers = {
        elb.create_load_balancer(Name=f"lb-{n}", Subnets=subnets)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        for n in range(6)
    }
    reader = adapter(moto_reset, acct, page_size=5)

    inventory = reader.collect(acct, REGION, NOW)

    assert _ids(inventory, "aws.ec2.instance") == instances
    assert _ids(inventory, "aws.elbv2.load_balancer") == balancers
    assert reader.api_calls["DescribeInstances"] == 2
    assert reader.api_calls["DescribeLoadBalancers"] == 2


def test_assumed_roles_read_each_account_separately(moto_reset: str) -> None:
    first, second = account("111111111111"), account("222222222222")
    mine = client(moto_reset, "ec2", first).create_volume(Size=8, AvailabilityZone="us-east-1a")
    theirs = client(moto_reset, "ec2", second).create_volume(Size=9, AvailabilityZone="us-east-1a")
    reader = adapter(moto_reset, first, second)

    one, two = reader.collect_many([first, second], [REGION], NOW)
    identity = (
        reader.session_factory(second, REGION)
        .client("sts", region_name=REGION, endpoint_url=moto_reset)
        .get_caller_identity()
    )

    assert (one.account_id, two.account_id) == ("111111111111", "222222222222")
    assert _ids(one, "aws.ebs.volume") == {mine["VolumeId"]}
    assert _ids(two, "aws.ebs.volume") == {theirs["VolumeId"]}
    assert identity["Arn"] == "arn:aws:sts::222222222222:assumed-role/FintropyReadOnly/fintropy"


def test_a_denied_region_is_reported_and_the_other_region_still_returned(
    proxy: FaultProxy, moto_reset: str
) -> None:
    acct = account(regions=("us-east-1", "eu-west-1"))
    east = client(moto_reset, "ec2", acct, "us-east-1").create_volume(
        Size=8, AvailabilityZone="us-east-1a"
    )
    client(moto_reset, "ec2", acct, "eu-west-1").create_volume(
        Size=8, AvailabilityZone="eu-west-1a"
    )
    client(moto_reset, "rds", acct, "eu-west-1").create_db_instance(
        DBInstanceIdentifier="eu-db",
        DBInstanceClass="db.t3.small",
        Engine="postgres",
        MasterUsername="admin_user",
        MasterUserPassword="password-123",
        AllocatedStorage=20,
    )
    proxy.fail("UnauthorizedOperation", service="ec2", region="eu-west-1")

    us, eu = adapter(proxy.url, acct).collect_many([acct], None, NOW)

    assert us.errors == ()
    assert _ids(us, "aws.ebs.volume") == {east["VolumeId"]}
    assert {e.code for e in eu.errors} == {"AccessDenied"}
    assert {e.service for e in eu.errors} == {"ec2"}
    assert {e.region for e in eu.errors} == {"eu-west-1"}
    assert any("ec2:DescribeVolumes was refused" in e.message for e in eu.errors)
    assert [r.resource_type for r in eu.resources] == ["aws.rds.instance"]


def test_types_that_need_a_failed_list_are_withheld_not_guessed(
    proxy: FaultProxy, moto_reset: str
) -> None:
    acct = account()
    ec2 = client(moto_reset, "ec2", acct)
    volume = ec2.create_volume(Size=8, AvailabilityZone="us-east-1a")["VolumeId"]
    ec2.create_snapshot(VolumeId=volume)
    proxy.fail("UnauthorizedOperation", service="ec2", operation="DescribeImages")

    inventory = adapter(proxy.url, acct).collect(acct, REGION, NOW)

    errors = {(e.code, e.message) for e in inventory.errors}
    assert _ids(inventory, "aws.ebs.volume") == {volume}
    assert _ids(inventory, "aws.ebs.snapshot") == set()
    assert _ids(inventory, "aws.ec2.image") == set()
    assert any(
        code == "AccessDenied" and message.startswith("ec2:DescribeImages was refused")
        for code, message in errors
    )
    assert (
        "DependencyUnavailable",
        "EBS snapshots not reported because ec2:DescribeImages (orphan checks) could not be read.",
    ) in errors


def test_throttled_calls_are_retried_and_then_succeed(proxy: FaultProxy, moto_reset: str) -> None:
    acct = account()
    volume = client(moto_reset, "ec2", acct).create_volume(Size=8, AvailabilityZone="us-east-1a")
    proxy.fail(
        "RequestLimitExceeded", service="ec2", operation="DescribeVolumes", status=503, times=1
    )

    inventory = adapter(proxy.url, acct, max_attempts=3).collect(acct, REGION, NOW)

    assert inventory.errors == ()
    assert _ids(inventory, "aws.ebs.volume") == {volume["VolumeId"]}
    assert [c for c in proxy.calls if c[2] == "DescribeVolumes"] == [
        ("ec2", REGION, "DescribeVolumes")
    ] * 2


def test_throttling_beyond_the_retry_budget_becomes_a_read_error(
    proxy: FaultProxy, moto_reset: str
) -> None:
    acct = account()
    volume = client(moto_reset, "ec2", acct).create_volume(Size=8, AvailabilityZone="us-east-1a")
    proxy.fail("Throttling", service="elbv2", operation="DescribeLoadBalancers", status=400)

    inventory = adapter(proxy.url, acct, max_attempts=2).collect(acct, REGION, NOW)

    assert [(e.service, e.code) for e in inventory.errors] == [("elbv2", "Throttling")]
    assert "still throttled after retries" in inventory.errors[0].message
    assert len([c for c in proxy.calls if c[2] == "DescribeLoadBalancers"]) == 2
    assert _ids(inventory, "aws.ebs.volume") == {volume["VolumeId"]}


def test_cloudwatch_failure_leaves_metrics_absent_and_is_reported(
    proxy: FaultProxy, moto_reset: str
) -> None:
    acct = account()
    instance = run_instance(client(moto_reset, "ec2", acct), "busy")
    client(moto_reset, "cloudwatch", acct).put_metric_data(
        Namespace="AWS/EC2",
        MetricData=[
            {
                "MetricName": "CPUUtilization",
                "Dimensions": [{"Name": "InstanceId", "Value": instance}],
                "Timestamp": NOW.replace(microsecond=0) - timedelta(hours=5),
                "Value": 55.0,
            }
        ],
    )
    healthy = adapter(moto_reset, acct).collect(acct, REGION, NOW)
    proxy.fail("AccessDeniedException", service="cloudwatch", operation="GetMetricData")

    denied = adapter(proxy.url, acct).collect(acct, REGION, NOW)

    busy = next(r for r in healthy.resources if r.resource_type == "aws.ec2.instance")
    assert busy.metrics == {"cpu_avg_14d": 55.0, "cpu_max_14d": 55.0, "metric_days": 1.0}
    assert [(e.service, e.code) for e in denied.errors] == [("cloudwatch", "AccessDenied")]
    assert "cloudwatch:GetMetricData" in denied.errors[0].message
    assert [r.metrics for r in denied.resources if r.resource_type == "aws.ec2.instance"] == [{}]


def test_a_refused_role_assumption_is_reported_for_the_whole_account_and_region(
    proxy: FaultProxy,
) -> None:
    acct = account()
    proxy.fail("AccessDenied", service="sts", operation="AssumeRole")

    inventory = adapter(proxy.url, acct).collect(acct, REGION, NOW)

    assert inventory.resources == ()
    assert [(e.service, e.code) for e in inventory.errors] == [("sts", "AccessDenied")]
    assert "sts:AssumeRole was refused" in inventory.errors[0].message


def test_assumed_credentials_are_reused_across_calls(proxy: FaultProxy) -> None:
    acct = account()
    reader = adapter(proxy.url, acct)

    reader.collect_many([acct], ["us-east-1", "eu-west-1"], NOW, max_concurrency=1)

    assert [c for c in proxy.calls if c[2] == "AssumeRole"] == [("sts", REGION, "AssumeRole")]
