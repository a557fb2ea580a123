"""AWS inventory: one account and region in, one ``Inventory`` out.

Each resource type has a small descriptor (service, list operation, the permissions its
reader needs); readers live in one module per service and produce ``Resource`` objects whose
attributes follow ``fintropy.inventory_schema`` exactly. Every failed read becomes a
``ReadError`` in the inventory; the rest of the inventory still comes back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from adapters.aws.inventory.autoscaling import collect_groups
from adapters.aws.inventory.common import ReadContext
from adapters.aws.inventory.dynamodb import collect_tables
from adapters.aws.inventory.ec2 import collect_ec2
from adapters.aws.inventory.ecr import collect_repositories
from adapters.aws.inventory.eks import collect_clusters
from adapters.aws.inventory.elasticache import collect_cache_clusters
from adapters.aws.inventory.elbv2 import collect_load_balancers
from adapters.aws.inventory.lambdas import collect_functions
from adapters.aws.inventory.logs import collect_log_groups
from adapters.aws.inventory.metrics import attach_metrics
from adapters.aws.inventory.rds import collect_db_instances
from adapters.aws.inventory.redshift import collect_redshift_clusters
from adapters.aws.inventory.route53 import collect_hosted_zones
from adapters.aws.inventory.s3 import collect_buckets
from adapters.aws.inventory.secrets import collect_secrets
from fintropy.domain import Inventory

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceTypeInfo:
    """How one resource type is listed, and the read permissions its attributes need."""

    service: str
    list_operation: str
    id_field: str
    date_field: str
    permissions: tuple[str, ...]


RESOURCE_TYPES: dict[str, ResourceTypeInfo] = {
    "aws.ec2.instance": ResourceTypeInfo(
        "ec2",
        "DescribeInstances",
        "InstanceId",
        "LaunchTime",
        ("ec2:DescribeInstances", "ec2:DescribeVolumes", "cloudwatch:GetMetricData"),
    ),
    "aws.ebs.volume": ResourceTypeInfo(
        "ec2",
        "DescribeVolumes",
        "VolumeId",
        "CreateTime",
        ("ec2:DescribeVolumes", "ec2:DescribeInstances", "cloudwatch:GetMetricData"),
    ),
    "aws.ebs.snapshot": ResourceTypeInfo(
        "ec2",
        "DescribeSnapshots",
        "SnapshotId",
        "StartTime",
        ("ec2:DescribeSnapshots", "ec2:DescribeVolumes", "ec2:DescribeImages"),
    ),
    "aws.ec2.image": ResourceTypeInfo(
        "ec2",
        "DescribeImages",
        "ImageId",
        "CreationDate",
        (
            "ec2:DescribeImages",
            "ec2:DescribeInstances",
            "ec2:DescribeLaunchTemplateVersions",
            "ec2:DescribeSnapshots",
        ),
    ),
    "aws.ec2.address": ResourceTypeInfo(
        "ec2",
        "DescribeAddresses",
        "AllocationId",
        "",
        ("ec2:DescribeAddresses", "ec2:DescribeInstances"),
    ),
    "aws.ec2.nat_gateway": ResourceTypeInfo(
        "ec2",
        "DescribeNatGateways",
        "NatGatewayId",
        "CreateTime",
        ("ec2:DescribeNatGateways", "cloudwatch:GetMetricData"),
    ),
    "aws.elbv2.load_balancer": ResourceTypeInfo(
        "elbv2",
        "DescribeLoadBalancers",
        "LoadBalancerArn",
        "CreatedTime",
        (
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeTags",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
            "cloudwatch:GetMetricData",
        ),
    ),
    "aws.rds.instance": ResourceTypeInfo(
        "rds",
        "DescribeDBInstances",
        "DBInstanceIdentifier",
        "InstanceCreateTime",
        ("rds:DescribeDBInstances", "cloudwatch:GetMetricData"),
    ),
    "aws.s3.bucket": ResourceTypeInfo(
        "s3",
        "ListBuckets",
        "Name",
        "CreationDate",
        (
            "s3:ListAllMyBuckets",
            "s3:GetBucketLocation",
            "s3:GetBucketVersioning",
            "s3:GetLifecycleConfiguration",
            "s3:GetIntelligentTieringConfiguration",
            "s3:ListBucketMultipartUploads",
            "s3:GetBucketTagging",
            "cloudwatch:GetMetricData",
        ),
    ),
    "aws.lambda.function": ResourceTypeInfo(
        "lambda",
        "ListFunctions",
        "FunctionName",
        "LastModified",
        ("lambda:ListFunctions", "lambda:ListTags", "cloudwatch:GetMetricData"),
    ),
    "aws.dynamodb.table": ResourceTypeInfo(
        "dynamodb",
        "ListTables",
        "TableName",
        "CreationDateTime",
        (
            "dynamodb:ListTables",
            "dynamodb:DescribeTable",
            "dynamodb:ListTagsOfResource",
            "application-autoscaling:DescribeScalableTargets",
            "cloudwatch:GetMetricData",
        ),
    ),
    "aws.logs.log_group": ResourceTypeInfo(
        "logs",
        "DescribeLogGroups",
        "logGroupName",
        "creationTime",
        ("logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:ListTagsForResource"),
    ),
    "aws.ecr.repository": ResourceTypeInfo(
        "ecr",
        "DescribeRepositories",
        "repositoryName",
        "createdAt",
        (
            "ecr:DescribeRepositories",
            "ecr:DescribeImages",
            "ecr:GetLifecyclePolicy",
            "ecr:ListTagsForResource",
        ),
    ),
    "aws.secretsmanager.secret": ResourceTypeInfo(
        "secretsmanager",
        "ListSecrets",
        "ARN",
        "CreatedDate",
        ("secretsmanager:ListSecrets",),
    ),
    "aws.elasticache.cluster": ResourceTypeInfo(
        "elasticache",
        "DescribeCacheClusters",
        "CacheClusterId",
        "CacheClusterCreateTime",
        ("elasticache:DescribeCacheClusters", "elasticache:ListTagsForResource"),
    ),
    "aws.autoscaling.group": ResourceTypeInfo(
        "autoscaling",
        "DescribeAutoScalingGroups",
        "AutoScalingGroupName",
        "CreatedTime",
        (
            "autoscaling:DescribeAutoScalingGroups",
            "autoscaling:DescribeLaunchConfigurations",
            "ec2:DescribeLaunchTemplateVersions",
        ),
    ),
    "aws.redshift.cluster": ResourceTypeInfo(
        "redshift",
        "DescribeClusters",
        "ClusterIdentifier",
        "ClusterCreateTime",
        ("redshift:DescribeClusters",),
    ),
    "aws.route53.hosted_zone": ResourceTypeInfo(
        "route53",
        "ListHostedZones",
        "Id",
        "",
        ("route53:ListHostedZones", "route53:ListTagsForResource"),
    ),
    "aws.eks.cluster": ResourceTypeInfo(
        "eks",
        "ListClusters",
        "name",
        "createdAt",
        ("eks:ListClusters", "eks:DescribeCluster"),
    ),
}


def read_permissions() -> list[str]:
    """Every IAM action the inventory needs, sorted (for a read-only role policy)."""
    return sorted({p for info in RESOURCE_TYPES.values() for p in info.permissions})


def collect_inventory(
    ctx: ReadContext, now: datetime, *, include_global: bool, lookback_days: int
) -> Inventory:
    """Read every supported resource type for ``ctx``'s account and region.

    ``include_global`` adds the account's S3 buckets (each with its own region) and its
    Route 53 hosted zones.
    """
    resources = collect_ec2(ctx) + collect_load_balancers(ctx) + collect_db_instances(ctx)
    resources += collect_functions(ctx) + collect_tables(ctx) + collect_log_groups(ctx)
    resources += collect_repositories(ctx) + collect_secrets(ctx)
    resources += collect_cache_clusters(ctx) + collect_clusters(ctx) + collect_groups(ctx)
    resources += collect_redshift_clusters(ctx)
    if include_global:
        resources += collect_buckets(ctx) + collect_hosted_zones(ctx)
    resources = attach_metrics(ctx, resources, now, lookback_days)
    resources.sort(key=lambda r: (r.resource_type, r.region, r.resource_id))
    return Inventory(
        account_id=ctx.account.account_id,
        region=ctx.region,
        resources=tuple(resources),
        errors=tuple(ctx.errors),
    )
