"""Utilisation summaries from CloudWatch GetMetricData.

For every resource the inventory knows how to judge, a few metric queries are built (daily
period over the look-back window ending at ``now``), sent in batches of up to 500 queries
per GetMetricData call, and summarised into the metric names of
``fintropy.inventory_schema``. A metric without datapoints is left out, never set to zero.

Daily statistics keep the request small and match how rules judge utilisation: the mean of
the daily averages (each day weighs the same), the highest datapoint of the window at the
metric's native resolution (hourly in the sandbox, 5-minute with EC2 basic monitoring, which
is at least the highest hourly average), and daily sums for counters.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from adapters.aws.inventory.common import ReadContext
from fintropy.domain import Resource

if TYPE_CHECKING:
    from botocore.client import BaseClient

MB = 1024**2
GB = 1024**3
BATCH = 500  # GetMetricData accepts at most 500 queries per call
DAY_SECONDS = 86400

Series = dict[str, list[tuple[datetime, float]]]


@dataclass(frozen=True)
class MetricQuery:
    """One CloudWatch metric statistic wanted for one resource."""

    key: str  # the resource-local name the summariser reads ("cpu_avg")
    namespace: str
    metric: str
    stat: str
    dimensions: tuple[tuple[str, str], ...]


def _queries(resource: Resource) -> list[MetricQuery]:
    rid = resource.resource_id
    match resource.resource_type:
        case "aws.ec2.instance":
            dims = (("InstanceId", rid),)
            return [
                MetricQuery("cpu_avg", "AWS/EC2", "CPUUtilization", "Average", dims),
                MetricQuery("cpu_max", "AWS/EC2", "CPUUtilization", "Maximum", dims),
                MetricQuery("net_in", "AWS/EC2", "NetworkIn", "Sum", dims),
                MetricQuery("net_out", "AWS/EC2", "NetworkOut", "Sum", dims),
            ]
        case "aws.ebs.volume":
            dims = (("VolumeId", rid),)
            return [
                MetricQuery("read_ops", "AWS/EBS", "VolumeReadOps", "Sum", dims),
                MetricQuery("write_ops", "AWS/EBS", "VolumeWriteOps", "Sum", dims),
            ]
        case "aws.ec2.nat_gateway":
            dims = (("NatGatewayId", rid),)
            return [
                MetricQuery("bytes_out", "AWS/NATGateway", "BytesOutToDestination", "Sum", dims),
                MetricQuery("conns", "AWS/NATGateway", "ActiveConnectionCount", "Maximum", dims),
            ]
        case "aws.elbv2.load_balancer":
            dims = (("LoadBalancer", lb_dimension(rid)),)
            if resource.attrs.get("lb_type") == "application":
                return [MetricQuery("requests", "AWS/ApplicationELB", "RequestCount", "Sum", dims)]
            if resource.attrs.get("lb_type") == "network":
                return [MetricQuery("requests", "AWS/NetworkELB", "NewFlowCount", "Sum", dims)]
            return []
        case "aws.rds.instance":
            dims = (("DBInstanceIdentifier", rid),)
            return [
                MetricQuery("cpu_avg", "AWS/RDS", "CPUUtilization", "Average", dims),
                MetricQuery("cpu_max", "AWS/RDS", "CPUUtilization", "Maximum", dims),
                MetricQuery("conns", "AWS/RDS", "DatabaseConnections", "Maximum", dims),
            ]
        case "aws.lambda.function":
            dims = (("FunctionName", rid),)
            return [
                MetricQuery("invocations", "AWS/Lambda", "Invocations", "Sum", dims),
                MetricQuery("errors", "AWS/Lambda", "Errors", "Sum", dims),
                MetricQuery("duration", "AWS/Lambda", "Duration", "Average", dims),
            ]
        case "aws.dynamodb.table":
            dims = (("TableName", rid),)
            return [
                MetricQuery("rcu", "AWS/DynamoDB", "ConsumedReadCapacityUnits", "Sum", dims),
                MetricQuery("wcu", "AWS/DynamoDB", "ConsumedWriteCapacityUnits", "Sum", dims),
            ]
        case "aws.s3.bucket":
            size = (("BucketName", rid), ("StorageType", "StandardStorage"))
            count = (("BucketName", rid), ("StorageType", "AllStorageTypes"))
            return [
                MetricQuery("size", "AWS/S3", "BucketSizeBytes", "Average", size),
                MetricQuery("objects", "AWS/S3", "NumberOfObjects", "Average", count),
            ]
    return []


def lb_dimension(arn: str) -> str:
    """The CloudWatch ``LoadBalancer`` dimension of an ELBv2 ARN ("app/name/id")."""
    return arn.split(":loadbalancer/", 1)[-1]


def _days(*series: list[tuple[datetime, float]]) -> int:
    return len({ts for points in series for ts, _ in points})


def _mean_per_day(points: list[tuple[datetime, float]]) -> float:
    return sum(v for _, v in points) / _days(points)


def _latest(points: list[tuple[datetime, float]]) -> float:
    return max(points)[1]


def _instance(s: Series) -> dict[str, float]:
    out: dict[str, float] = {}
    if s["cpu_avg"]:
        out["cpu_avg_14d"] = sum(v for _, v in s["cpu_avg"]) / len(s["cpu_avg"])
        out["metric_days"] = _days(s["cpu_avg"])
    if s["cpu_max"]:
        out["cpu_max_14d"] = max(v for _, v in s["cpu_max"])
    if s["net_in"] or s["net_out"]:
        total = sum(v for _, v in s["net_in"] + s["net_out"])
        out["network_mb_per_day_14d"] = total / _days(s["net_in"], s["net_out"]) / MB
    return out


def _volume(s: Series) -> dict[str, float]:
    out: dict[str, float] = {}
    if s["read_ops"]:
        out["read_ops_per_day_14d"] = _mean_per_day(s["read_ops"])
    if s["write_ops"]:
        out["write_ops_per_day_14d"] = _mean_per_day(s["write_ops"])
    if s["read_ops"] or s["write_ops"]:
        out["metric_days"] = _days(s["read_ops"], s["write_ops"])
    return out


def _nat(s: Series) -> dict[str, float]:
    out: dict[str, float] = {}
    if s["bytes_out"]:
        out["bytes_out_per_day_14d"] = _mean_per_day(s["bytes_out"])
    if s["conns"]:
        out["active_connections_max_14d"] = max(v for _, v in s["conns"])
    if s["bytes_out"] or s["conns"]:
        out["metric_days"] = _days(s["bytes_out"], s["conns"])
    return out


def _load_balancer(s: Series) -> dict[str, float]:
    if not s["requests"]:
        return {}
    return {
        "requests_per_day_14d": _mean_per_day(s["requests"]),
        "metric_days": _days(s["requests"]),
    }


def _rds(s: Series) -> dict[str, float]:
    out: dict[str, float] = {}
    if s["cpu_avg"]:
        out["cpu_avg_14d"] = sum(v for _, v in s["cpu_avg"]) / len(s["cpu_avg"])
        out["metric_days"] = _days(s["cpu_avg"])
    if s["cpu_max"]:
        out["cpu_max_14d"] = max(v for _, v in s["cpu_max"])
    if s["conns"]:
        out["connections_max_14d"] = max(v for _, v in s["conns"])
    return out


def _bucket(s: Series) -> dict[str, float]:
    out: dict[str, float] = {}
    if s["size"]:
        out["size_gb"] = _latest(s["size"]) / GB
    if s["objects"]:
        out["object_count"] = _latest(s["objects"])
    return out


def _function(s: Series) -> dict[str, float]:
    out: dict[str, float] = {}
    if s["invocations"]:
        out["invocations_per_day_14d"] = _mean_per_day(s["invocations"])
        out["metric_days"] = _days(s["invocations"])
    if s["errors"]:
        out["errors_per_day_14d"] = _mean_per_day(s["errors"])
    if s["duration"]:
        out["duration_avg_ms_14d"] = sum(v for _, v in s["duration"]) / len(s["duration"])
    return out


def _table(s: Series) -> dict[str, float]:
    out: dict[str, float] = {}
    if s["rcu"]:
        out["consumed_rcu_per_day_14d"] = _mean_per_day(s["rcu"])
    if s["wcu"]:
        out["consumed_wcu_per_day_14d"] = _mean_per_day(s["wcu"])
    if s["rcu"] or s["wcu"]:
        out["metric_days"] = _days(s["rcu"], s["wcu"])
    return out


SUMMARISERS: dict[str, Callable[[Series], dict[str, float]]] = {
    "aws.lambda.function": _function,
    "aws.dynamodb.table": _table,
    "aws.ec2.instance": _instance,
    "aws.ebs.volume": _volume,
    "aws.ec2.nat_gateway": _nat,
    "aws.elbv2.load_balancer": _load_balancer,
    "aws.rds.instance": _rds,
    "aws.s3.bucket": _bucket,
}


def fetch(
    client: BaseClient,
    queries: list[MetricQuery],
    start: datetime,
    end: datetime,
) -> list[list[tuple[datetime, float]]]:
    """Datapoints for each query (same order), batched 500 queries per GetMetricData call."""
    results: list[list[tuple[datetime, float]]] = [[] for _ in queries]
    for first in range(0, len(queries), BATCH):
        chunk = queries[first : first + BATCH]
        params = {
            "MetricDataQueries": [
                {
                    "Id": f"q{first + n}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": q.namespace,
                            "MetricName": q.metric,
                            "Dimensions": [{"Name": k, "Value": v} for k, v in q.dimensions],
                        },
                        "Period": DAY_SECONDS,
                        "Stat": q.stat,
                    },
                    "ReturnData": True,
                }
                for n, q in enumerate(chunk)
            ],
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            response = client.get_metric_data(**params)
            for result in response.get("MetricDataResults", []):
                index = int(result["Id"][1:])
                results[index].extend(zip(result["Timestamps"], result["Values"], strict=True))
            token = response.get("NextToken")
            if not token:
                break
            params["NextToken"] = token
    return results


def attach_metrics(
    ctx: ReadContext, resources: Iterable[Resource], now: datetime, lookback_days: int
) -> list[Resource]:
    """Return ``resources`` with their metric summaries filled in where datapoints exist.

    Resources are grouped by region (S3 buckets may live elsewhere than the scan region);
    when CloudWatch cannot be read in a region the failure becomes a ``ReadError`` and those
    resources keep no metrics.
    """
    resources = list(resources)
    end = now.replace(microsecond=0)
    start = end - timedelta(days=lookback_days)
    by_region: dict[str, list[int]] = defaultdict(list)
    for index, resource in enumerate(resources):
        if resource.resource_type in SUMMARISERS:
            by_region[resource.region].append(index)

    for region, indexes in sorted(by_region.items()):
        wanted = [(i, q) for i in indexes for q in _queries(resources[i])]
        if not wanted:
            continue
        client = ctx.client("cloudwatch", region)
        points = ctx.read(
            "cloudwatch",
            "GetMetricData",
            lambda client=client, wanted=wanted: fetch(client, [q for _, q in wanted], start, end),
            region=region,
        )
        if points is None:
            continue
        series: dict[int, Series] = defaultdict(lambda: defaultdict(list))
        for (i, query), found in zip(wanted, points, strict=True):
            series[i][query.key].extend(found)
        for i, per_key in series.items():
            summary = SUMMARISERS[resources[i].resource_type](per_key)
            if summary:
                metrics = {name: round(float(value), 4) for name, value in summary.items()}
                resources[i] = dataclasses.replace(resources[i], metrics=metrics)
    return resources
