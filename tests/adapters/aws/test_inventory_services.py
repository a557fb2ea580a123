"""Inventory of the serverless, data and platform services against moto: attributes, paging,
lifecycle policies, metrics present or absent, failed reads, and rule permissions."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.aws.inventory import RESOURCE_TYPES
from fintropy.domain import Inventory, Resource
from fintropy.inventory_schema import check_resource_attrs
from rules import load_catalogue
from tests.adapters.aws.fault_proxy import FaultProxy
from tests.adapters.aws.helpers import REGION, account, adapter, client, network

NOW = datetime.now(UTC)
NEW_TYPES = (
    "aws.lambda.function",
    "aws.dynamodb.table",
    "aws.logs.log_group",
    "aws.ecr.repository",
    "aws.secretsmanager.secret",
    "aws.elasticache.cluster",
    "aws.eks.cluster",
    "aws.autoscaling.group",
    "aws.redshift.cluster",
    "aws.route53.hosted_zone",
)


@pytest.fixture
def proxy(moto_reset: str) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(moto_reset).start()
    yield fault_proxy
    fault_proxy.stop()


def _of(inventory: Inventory, resource_type: str) -> dict[str, Resource]:
    return {r.resource_id: r for r in inventory.resources if r.resource_type == resource_type}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handle(event, context):\n    return 1\n")
    return buffer.getvalue()


def _role(endpoint: str, acct: Any) -> str:
    trust = {"Version": "2012-10-17", "Statement": []}
    return client(endpoint, "iam", acct).create_role(
        RoleName="svc", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]


def _estate(endpoint: str, acct: Any) -> None:
    """Three of each listable type (two pages at page size 2), plus caches and clusters."""
    role = _role(endpoint, acct)
    lam = client(endpoint, "lambda", acct)
    for n, arch in enumerate(("x86_64", "arm64", "x86_64")):
        lam.create_function(
            FunctionName=f"fn-{n}",
            Runtime="python3.12",
            Role=role,
            Handler="handler.handle",
            Code={"ZipFile": _zip()},
            MemorySize=256 * (n + 1),
            Architectures=[arch],
            Tags={"env": "dev"},
        )
    ddb = client(endpoint, "dynamodb", acct)
    for n in range(3):
        params: dict[str, Any] = {
            "TableName": f"table-{n}",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        }
        if n == 0:
            params["BillingMode"] = "PAY_PER_REQUEST"
        else:
            params["ProvisionedThroughput"] = {"ReadCapacityUnits": 10 * n, "WriteCapacityUnits": n}
        ddb.create_table(**params)
    ddb.put_item(TableName="table-1", Item={"pk": {"S": "a"}})
    logs = client(endpoint, "logs", acct)
    for n in range(3):
        logs.create_log_group(logGroupName=f"/app/{n}")
    logs.put_retention_policy(logGroupName="/app/0", retentionInDays=14)
    logs.create_log_stream(logGroupName="/app/1", logStreamName="s")
    logs.put_log_events(
        logGroupName="/app/1",
        logStreamName="s",
        logEvents=[{"timestamp": int(NOW.timestamp() * 1000) - 60000, "message": "hello"}],
    )
    ecr = client(endpoint, "ecr", acct)
    for n in range(3):
        ecr.create_repository(repositoryName=f"repo-{n}")
    ecr.put_lifecycle_policy(
        repositoryName="repo-0",
        lifecyclePolicyText=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": 5,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        ),
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "x", "size": 100, "digest": "sha256:" + "b" * 64},
        "layers": [],
    }
    ecr.put_image(repositoryName="repo-1", imageManifest=json.dumps(manifest), imageTag="v1")
    sm = client(endpoint, "secretsmanager", acct)
    for n in range(3):
        sm.create_secret(
            Name=f"secret-{n}", SecretString="x", Tags=[{"Key": "env", "Value": "dev"}]
        )
    cache = client(endpoint, "elasticache", acct)
    cache.create_cache_cluster(
        CacheClusterId="cache-old",
        Engine="redis",
        EngineVersion="5.0.6",
        CacheNodeType="cache.m4.large",
        NumCacheNodes=1,
    )
    _, subnets = network(client(endpoint, "ec2", acct))
    client(endpoint, "redshift", acct).create_cluster(
        ClusterIdentifier="dw",
        NodeType="ds2.xlarge",
        MasterUsername="admin",
        MasterUserPassword="Password-123",
        ClusterType="multi-node",
        NumberOfNodes=2,
    )
    client(endpoint, "eks", acct).create_cluster(
        name="k8s", version="1.28", roleArn=role, resourcesVpcConfig={"subnetIds": subnets}
    )


def test_service_resources_are_read_whole_across_pages_and_match_the_schema(
    moto_reset: str,
) -> None:
    acct = account()
    _estate(moto_reset, acct)
    reader = adapter(moto_reset, acct, page_size=2)

    inventory = reader.collect(acct, REGION, NOW)

    # EC2 and ElastiCache refuse pages this small (their minimums are 5 and 20): only
    # the services whose lists page at 2 are judged here.
    assert {e.service for e in inventory.errors} <= {"ec2", "elasticache"}
    assert set(_of(inventory, "aws.lambda.function")) == {"fn-0", "fn-1", "fn-2"}
    assert set(_of(inventory, "aws.dynamodb.table")) == {"table-0", "table-1", "table-2"}
    assert set(_of(inventory, "aws.logs.log_group")) == {"/app/0", "/app/1", "/app/2"}
    assert set(_of(inventory, "aws.ecr.repository")) == {"repo-0", "repo-1", "repo-2"}
    assert len(_of(inventory, "aws.secretsmanager.secret")) == 3
    assert set(_of(inventory, "aws.eks.cluster")) == {"k8s"}
    assert reader.api_calls["ListTables"] == 2
    assert reader.api_calls["DescribeLogGroups"] == 2
    for resource in inventory.resources:
        assert check_resource_attrs(resource.resource_type, resource.attrs) == []


def test_service_attributes_say_what_the_rules_need(moto_reset: str) -> None:
    acct = account()
    _estate(moto_reset, acct)

    inventory = adapter(moto_reset, acct).collect(acct, REGION, NOW)
    functions = _of(inventory, "aws.lambda.function")
    tables = _of(inventory, "aws.dynamodb.table")
    assert inventory.errors == ()
    groups = _of(inventory, "aws.logs.log_group")
    repos = _of(inventory, "aws.ecr.repository")

    assert functions["fn-1"].attrs["architecture"] == "arm64"
    assert functions["fn-2"].attrs["memory_mb"] == 768
    assert functions["fn-0"].tags == {"env": "dev"}
    assert tables["table-0"].attrs["billing_mode"] == "PAY_PER_REQUEST"
    assert tables["table-0"].attrs["read_capacity"] == 0
    assert (
        tables["table-2"].attrs["read_capacity"],
        tables["table-2"].attrs["write_capacity"],
    ) == (
        20,
        2,
    )
    assert tables["table-1"].attrs["item_count"] == 1
    assert groups["/app/0"].attrs["retention_days"] == 14
    assert groups["/app/2"].attrs["retention_days"] is None
    assert groups["/app/2"].attrs["last_event_time"] is None
    last = datetime.fromisoformat(groups["/app/1"].attrs["last_event_time"])
    assert abs(last - NOW) < timedelta(minutes=5)
    assert repos["repo-0"].attrs["has_lifecycle_policy"] is True
    assert repos["repo-1"].attrs["has_lifecycle_policy"] is False
    assert repos["repo-1"].attrs["image_count"] == 1
    assert repos["repo-2"].attrs["last_pushed_at"] is None
    cache = _of(inventory, "aws.elasticache.cluster")["cache-old"]
    assert (cache.attrs["engine_version"], cache.attrs["node_type"]) == ("5.0.6", "cache.m4.large")
    assert _of(inventory, "aws.eks.cluster")["k8s"].attrs["version"] == "1.28"
    warehouse = _of(inventory, "aws.redshift.cluster")["dw"].attrs
    assert (warehouse["node_type"], warehouse["num_nodes"]) == ("ds2.xlarge", 2)


def test_lambda_and_dynamodb_metrics_are_read_and_absent_without_datapoints(
    moto_reset: str,
) -> None:
    acct = account()
    _estate(moto_reset, acct)
    cloudwatch = client(moto_reset, "cloudwatch", acct)
    when = NOW - timedelta(days=1, hours=1)
    for namespace, metric, dims, value in (
        ("AWS/Lambda", "Invocations", [{"Name": "FunctionName", "Value": "fn-0"}], 1000.0),
        ("AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": "fn-0"}], 150.0),
        ("AWS/Lambda", "Duration", [{"Name": "FunctionName", "Value": "fn-0"}], 320.0),
        (
            "AWS/DynamoDB",
            "ConsumedReadCapacityUnits",
            [{"Name": "TableName", "Value": "table-1"}],
            8640.0,
        ),
    ):
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {"MetricName": metric, "Dimensions": dims, "Timestamp": when, "Value": value}
            ],
        )

    inventory = adapter(moto_reset, acct).collect(acct, REGION, NOW)
    functions = _of(inventory, "aws.lambda.function")
    tables = _of(inventory, "aws.dynamodb.table")

    assert functions["fn-0"].metrics == {
        "invocations_per_day_14d": 1000.0,
        "errors_per_day_14d": 150.0,
        "duration_avg_ms_14d": 320.0,
        "metric_days": 1.0,
    }
    assert functions["fn-1"].metrics == {}
    assert tables["table-1"].metrics == {"consumed_rcu_per_day_14d": 8640.0, "metric_days": 1.0}
    assert tables["table-2"].metrics == {}


def test_a_refused_detail_read_withholds_that_resource_and_reports_it(
    proxy: FaultProxy, moto_reset: str
) -> None:
    acct = account()
    _estate(moto_reset, acct)
    proxy.fail("AccessDeniedException", service="dynamodb", operation="DescribeTable")
    proxy.fail("AccessDeniedException", service="ecr", operation="GetLifecyclePolicy")

    inventory = adapter(proxy.url, acct).collect(acct, REGION, NOW)

    errors = {(e.service, e.code) for e in inventory.errors}
    assert _of(inventory, "aws.dynamodb.table") == {}
    assert _of(inventory, "aws.ecr.repository") == {}
    assert ("dynamodb", "AccessDenied") in errors and ("ecr", "AccessDenied") in errors
    assert ("dynamodb", "DependencyUnavailable") in errors
    assert any("dynamodb:DescribeTable was refused" in e.message for e in inventory.errors)
    assert len(_of(inventory, "aws.lambda.function")) == 3  # the other services still came back
    assert len(_of(inventory, "aws.logs.log_group")) == 3


def test_a_refused_list_is_a_read_error_not_an_empty_service(
    proxy: FaultProxy, moto_reset: str
) -> None:
    acct = account()
    _estate(moto_reset, acct)
    proxy.fail("AccessDeniedException", service="logs", operation="DescribeLogGroups")

    inventory = adapter(proxy.url, acct).collect(acct, REGION, NOW)

    assert _of(inventory, "aws.logs.log_group") == {}
    assert [(e.service, e.code) for e in inventory.errors] == [("logs", "AccessDenied")]


@pytest.mark.parametrize("resource_type", sorted(RESOURCE_TYPES))
def test_rules_ask_only_for_permissions_the_inventory_of_their_type_uses(
    resource_type: str,
) -> None:
    granted = set(RESOURCE_TYPES[resource_type].permissions)
    rules = [r for r in load_catalogue().rules if r.resource_type == resource_type]

    assert rules or resource_type not in NEW_TYPES, f"no rule reads {resource_type}"
    for rule in rules:
        assert set(rule.permissions) <= granted, (rule.id, set(rule.permissions) - granted)


def test_auto_scaling_groups_report_capacity_and_the_type_they_launch(moto_reset: str) -> None:
    acct = account()
    ec2 = client(moto_reset, "ec2", acct)
    _, subnets = network(ec2)
    template = ec2.create_launch_template(
        LaunchTemplateName="workers",
        LaunchTemplateData={"ImageId": "ami-0c1a7f3e5b2d4a601", "InstanceType": "m4.large"},
    )["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling = client(moto_reset, "autoscaling", acct)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="fixed",
        LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
        MinSize=2,
        MaxSize=2,
        DesiredCapacity=2,
        VPCZoneIdentifier=subnets[0],
    )
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="old-config",
        ImageId="ami-0c1a7f3e5b2d4a601",
        InstanceType="t2.medium",
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="empty",
        LaunchConfigurationName="old-config",
        MinSize=0,
        MaxSize=0,
        DesiredCapacity=0,
        VPCZoneIdentifier=subnets[1],
    )

    inventory = adapter(moto_reset, acct).collect(acct, REGION, NOW)
    groups = _of(inventory, "aws.autoscaling.group")

    assert inventory.errors == ()
    fixed, empty = groups["fixed"].attrs, groups["empty"].attrs
    assert (fixed["min_size"], fixed["max_size"], fixed["desired_capacity"]) == (2, 2, 2)
    assert fixed["instance_count"] == 2 and fixed["instance_type"] == "m4.large"
    assert empty["instance_type"] == "t2.medium" and empty["instance_count"] == 0
    assert len(_of(inventory, "aws.ec2.instance")) == 2  # the group's instances are read too
    for group in groups.values():
        assert check_resource_attrs("aws.autoscaling.group", group.attrs) == []


def test_table_auto_scaling_is_read_and_a_refused_read_withholds_the_tables(
    proxy: FaultProxy, moto_reset: str
) -> None:
    acct = account()
    ddb = client(moto_reset, "dynamodb", acct)
    for name in ("scaled", "fixed"):
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 5},
        )
    client(moto_reset, "application-autoscaling", acct).register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/scaled",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=5,
        MaxCapacity=50,
    )

    tables = _of(adapter(moto_reset, acct).collect(acct, REGION, NOW), "aws.dynamodb.table")
    proxy.fail("AccessDeniedException", service="application-autoscaling")
    refused = adapter(proxy.url, acct).collect(acct, REGION, NOW)

    assert tables["scaled"].attrs["autoscaling_enabled"] is True
    assert tables["fixed"].attrs["autoscaling_enabled"] is False
    assert _of(refused, "aws.dynamodb.table") == {}
    assert {(e.service, e.code) for e in refused.errors} == {
        ("application-autoscaling", "AccessDenied"),
        ("dynamodb", "DependencyUnavailable"),
    }
