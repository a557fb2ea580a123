"""The attributes and metric summaries each resource type carries.

This is the contract between adapters (which fill ``Resource.attrs`` and ``Resource.metrics``)
and rules (which read them). Adapters must produce every attribute listed for a type (``None``
when the cloud does not say); metrics are present only when datapoints existed. Timestamps are
ISO-8601 strings in UTC. Sizes are in GB (10^9 bytes is not used: AWS GiB are reported as "GB").

Metric names end in the look-back window they summarise (``_14d``). ``metric_days`` is the
number of days that had at least one datapoint, so a rule can refuse to judge thin data.
"""

from __future__ import annotations

from typing import Any

AttrSpec = dict[str, tuple[type | tuple[type, ...], str]]

NONE = type(None)

AWS_RESOURCE_TYPES: dict[str, dict[str, Any]] = {
    "aws.ec2.instance": {
        "attrs": {
            "state": (str, "pending | running | stopping | stopped | terminated"),
            "instance_type": (str, "e.g. m5.xlarge"),
            "launch_time": (str, "ISO time the instance was launched"),
            "stopped_since": ((str, NONE), "ISO time of the last stop, None when running"),
            "platform": (str, "linux | windows"),
            "architecture": (str, "x86_64 | arm64"),
            "tenancy": (str, "default | dedicated | host"),
            "monitoring": (str, "disabled | enabled (detailed monitoring)"),
            "lifecycle": (str, "on-demand | spot"),
            "availability_zone": (str, ""),
            "vpc_id": ((str, NONE), ""),
            "image_id": ((str, NONE), "AMI the instance was launched from"),
            "public_ip": ((str, NONE), "auto-assigned or Elastic public IPv4"),
            "volume_ids": (list, "attached EBS volume ids"),
            "attached_volume_gb": (int, "total size of attached EBS volumes"),
        },
        "metrics": {
            "cpu_avg_14d": "mean of hourly average CPUUtilization, percent",
            "cpu_max_14d": "maximum hourly CPUUtilization, percent",
            "network_mb_per_day_14d": "mean daily NetworkIn+NetworkOut, MB",
            "metric_days": "days in the window that had CPU datapoints",
        },
    },
    "aws.ebs.volume": {
        "attrs": {
            "state": (str, "creating | available | in-use | deleting"),
            "volume_type": (str, "gp2 | gp3 | io1 | io2 | st1 | sc1 | standard"),
            "size_gb": (int, ""),
            "iops": ((int, NONE), "provisioned IOPS"),
            "throughput": ((int, NONE), "provisioned MB/s (gp3)"),
            "create_time": (str, ""),
            "availability_zone": (str, ""),
            "encrypted": (bool, ""),
            "snapshot_id": ((str, NONE), "snapshot it was created from"),
            "attached_instance_ids": (list, "instances it is attached to"),
            "attached_instance_states": (list, "states of those instances, same order"),
        },
        "metrics": {
            "read_ops_per_day_14d": "mean daily VolumeReadOps",
            "write_ops_per_day_14d": "mean daily VolumeWriteOps",
            "metric_days": "days in the window that had datapoints",
        },
    },
    "aws.ebs.snapshot": {
        "attrs": {
            "state": (str, "pending | completed | error"),
            "start_time": (str, "ISO time the snapshot was started"),
            "volume_id": ((str, NONE), "source volume"),
            "volume_size_gb": (int, ""),
            "source_volume_exists": (bool, "the source volume still exists in the region"),
            "used_by_image_ids": (list, "registered AMIs whose block devices use it"),
            "storage_tier": (str, "standard | archive"),
            "description": (str, ""),
        },
        "metrics": {},
    },
    "aws.ec2.image": {
        "attrs": {
            "state": (str, "available | pending | failed"),
            "creation_date": (str, ""),
            "snapshot_ids": (list, "snapshots backing its block devices"),
            "snapshot_gb": (int, "total size of those snapshots"),
            "used_by_instance_ids": (list, "instances (any state) launched from it"),
            "used_by_launch_templates": (list, "launch template ids whose latest version uses it"),
        },
        "metrics": {},
    },
    "aws.ec2.address": {
        "attrs": {
            "public_ip": (str, ""),
            "allocation_id": (str, ""),
            "association_id": ((str, NONE), "None when not associated"),
            "instance_id": ((str, NONE), "instance it is associated with"),
            "instance_state": ((str, NONE), "state of that instance"),
            "network_interface_id": ((str, NONE), ""),
            "domain": (str, "vpc | standard"),
        },
        "metrics": {},
    },
    "aws.ec2.nat_gateway": {
        "attrs": {
            "state": (str, "pending | available | deleting | deleted | failed"),
            "create_time": (str, ""),
            "vpc_id": (str, ""),
            "subnet_id": (str, ""),
            "connectivity_type": (str, "public | private"),
        },
        "metrics": {
            "bytes_out_per_day_14d": "mean daily BytesOutToDestination",
            "active_connections_max_14d": "maximum ActiveConnectionCount",
            "metric_days": "days in the window that had datapoints",
        },
    },
    "aws.elbv2.load_balancer": {
        "attrs": {
            "lb_type": (str, "application | network | gateway"),
            "scheme": (str, "internet-facing | internal"),
            "state": (str, "active | provisioning | failed"),
            "created_time": (str, ""),
            "dns_name": (str, ""),
            "listener_count": (int, ""),
            "target_group_count": (int, ""),
            "registered_target_count": (int, "targets registered across its target groups"),
            "healthy_target_count": (int, ""),
        },
        "metrics": {
            "requests_per_day_14d": "mean daily RequestCount (ALB) or NewFlowCount (NLB)",
            "metric_days": "days in the window that had datapoints",
        },
    },
    "aws.rds.instance": {
        "attrs": {
            "status": (str, "available | stopped | ..."),
            "engine": (str, "postgres | mysql | ..."),
            "engine_version": (str, ""),
            "instance_class": (str, "e.g. db.m5.large"),
            "multi_az": (bool, ""),
            "storage_type": (str, "gp2 | gp3 | io1 | standard"),
            "allocated_storage_gb": (int, ""),
            "create_time": ((str, NONE), ""),
            "backup_retention_days": (int, ""),
        },
        "metrics": {
            "cpu_avg_14d": "mean hourly CPUUtilization, percent",
            "cpu_max_14d": "maximum hourly CPUUtilization, percent",
            "connections_max_14d": "maximum DatabaseConnections",
            "metric_days": "days in the window that had datapoints",
        },
    },
    "aws.s3.bucket": {
        "attrs": {
            "creation_date": (str, ""),
            "versioning": (str, "Enabled | Suspended | Disabled"),
            "lifecycle_rule_count": (int, "enabled lifecycle rules"),
            "has_noncurrent_expiration": (bool, "a lifecycle rule expires noncurrent versions"),
            "has_multipart_abort": (bool, "a lifecycle rule aborts incomplete multipart uploads"),
            "has_transition": (bool, "a lifecycle rule transitions objects to a colder class"),
            "intelligent_tiering_configs": (int, "Intelligent-Tiering configurations"),
            "incomplete_multipart_uploads": (int, "uploads started and never completed"),
        },
        "metrics": {
            "size_gb": "latest BucketSizeBytes (StandardStorage) in GB",
            "object_count": "latest NumberOfObjects",
        },
    },
    "aws.lambda.function": {
        "attrs": {
            "runtime": ((str, NONE), "e.g. python3.12; None for container images"),
            "memory_mb": (int, "configured memory"),
            "timeout_s": (int, "configured timeout in seconds"),
            "architecture": (str, "x86_64 | arm64"),
            "package_type": (str, "Zip | Image"),
            "last_modified": (str, "ISO time the code or configuration last changed"),
            "code_size_bytes": (int, ""),
        },
        "metrics": {
            "invocations_per_day_14d": "mean daily Invocations",
            "errors_per_day_14d": "mean daily Errors",
            "duration_avg_ms_14d": "mean of daily average Duration, ms",
            "metric_days": "days in the window that had Invocations datapoints",
        },
    },
    "aws.dynamodb.table": {
        "attrs": {
            "status": (str, "ACTIVE | CREATING | UPDATING | ..."),
            "billing_mode": (str, "PROVISIONED | PAY_PER_REQUEST"),
            "read_capacity": (int, "provisioned RCU (0 when on-demand)"),
            "write_capacity": (int, "provisioned WCU (0 when on-demand)"),
            "table_size_bytes": (int, "approximate, updated about every 6 hours"),
            "item_count": (int, "approximate, updated about every 6 hours"),
            "creation_time": (str, ""),
            "table_class": (str, "STANDARD | STANDARD_INFREQUENT_ACCESS"),
            "autoscaling_enabled": (bool, "Application Auto Scaling manages its capacity"),
        },
        "metrics": {
            "consumed_rcu_per_day_14d": "mean daily ConsumedReadCapacityUnits",
            "consumed_wcu_per_day_14d": "mean daily ConsumedWriteCapacityUnits",
            "metric_days": "days in the window that had datapoints",
        },
    },
    "aws.logs.log_group": {
        "attrs": {
            "log_group_name": (str, ""),
            "retention_days": ((int, NONE), "None when events never expire"),
            "stored_gb": (float, "storedBytes in GB"),
            "creation_time": (str, ""),
            "last_event_time": ((str, NONE), "latest event in any stream; None when none"),
            "log_class": (str, "STANDARD | INFREQUENT_ACCESS"),
        },
        "metrics": {},
    },
    "aws.ecr.repository": {
        "attrs": {
            "created_at": (str, ""),
            "image_count": (int, ""),
            "total_image_gb": (float, "sum of image sizes"),
            "has_lifecycle_policy": (bool, ""),
            "last_pushed_at": ((str, NONE), "latest image push; None when empty"),
            "last_pulled_at": ((str, NONE), "latest recorded pull; None when never pulled"),
        },
        "metrics": {},
    },
    "aws.secretsmanager.secret": {
        "attrs": {
            "created_date": (str, ""),
            "last_accessed_date": ((str, NONE), "day of the last retrieval; None when never"),
            "last_changed_date": ((str, NONE), ""),
            "rotation_enabled": (bool, ""),
        },
        "metrics": {},
    },
    "aws.elasticache.cluster": {
        "attrs": {
            "status": (str, "available | creating | ..."),
            "engine": (str, "redis | valkey | memcached"),
            "engine_version": (str, ""),
            "node_type": (str, "e.g. cache.m5.large"),
            "num_nodes": (int, ""),
            "create_time": ((str, NONE), ""),
        },
        "metrics": {},
    },
    "aws.autoscaling.group": {
        "attrs": {
            "min_size": (int, ""),
            "max_size": (int, ""),
            "desired_capacity": (int, ""),
            "instance_count": (int, "instances currently in the group"),
            "enabled_metrics_count": (int, "group metrics being collected"),
            "instance_type": (
                (str, NONE),
                "launch template or configuration type; None when mixed",
            ),
            "created_time": (str, ""),
        },
        "metrics": {},
    },
    "aws.redshift.cluster": {
        "attrs": {
            "status": (str, "available | paused | ..."),
            "node_type": (str, "e.g. ra3.xlplus, dc2.large"),
            "num_nodes": (int, ""),
            "create_time": ((str, NONE), ""),
        },
        "metrics": {},
    },
    "aws.route53.hosted_zone": {
        "attrs": {
            "zone_name": (str, "e.g. example.com."),
            "record_count": (int, "resource record sets, including the SOA and NS sets"),
            "private_zone": (bool, ""),
        },
        "metrics": {},
    },
    "aws.eks.cluster": {
        "attrs": {
            "status": (str, "ACTIVE | CREATING | ..."),
            "version": (str, "Kubernetes minor version, e.g. 1.29"),
            "platform_version": ((str, NONE), ""),
            "created_at": (str, ""),
        },
        "metrics": {},
    },
}


def attribute_names(resource_type: str) -> set[str]:
    """The attribute names an adapter must produce for ``resource_type``."""
    return set(AWS_RESOURCE_TYPES[resource_type]["attrs"])


def check_resource_attrs(resource_type: str, attrs: dict[str, Any]) -> list[str]:
    """Return the problems with ``attrs`` against the schema (empty list when it conforms)."""
    spec: AttrSpec = AWS_RESOURCE_TYPES[resource_type]["attrs"]
    problems = [f"missing attribute {name!r}" for name in spec if name not in attrs]
    for name, value in attrs.items():
        if name not in spec:
            problems.append(f"unexpected attribute {name!r}")
        elif not isinstance(value, spec[name][0]):
            problems.append(f"attribute {name!r} has type {type(value).__name__}")
    return problems
