"""CloudWatch Logs inventory: log groups with retention, stored size and latest event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapters.aws.inventory.common import ReadContext
from adapters.aws.session import paginate
from fintropy.domain import Resource

GB = 1024**3


def _ms(value: int | None) -> str | None:
    """An ISO UTC time from epoch milliseconds."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, UTC).isoformat(timespec="seconds")


def collect_log_groups(ctx: ReadContext) -> list[Resource]:
    """Every log group in the region, with the time of its latest event.

    The latest event comes from the most recently written stream; a group whose streams
    or tags cannot be read is withheld (it would otherwise look never written).
    """
    client = ctx.client("logs")
    groups = ctx.read(
        "logs",
        "DescribeLogGroups",
        lambda: list(paginate(client, "describe_log_groups", "logGroups", page_size=ctx.page_size)),
    )
    out: list[Resource] = []
    for group in groups or []:
        name = group["logGroupName"]
        latest = ctx.read("logs", "DescribeLogStreams", lambda name=name: _latest(client, name))
        tags = ctx.read(
            "logs",
            "ListTagsForResource",
            lambda arn=_arn(group): client.list_tags_for_resource(resourceArn=arn).get("tags", {}),
        )
        if latest is None or tags is None:
            ctx.withhold("logs", f"Log group {name}", "its streams and tags")
            continue
        out.append(_group(ctx, group, latest[0], dict(tags)))
    return out


def _arn(group: dict[str, Any]) -> str:
    return group.get("logGroupArn") or group["arn"].removesuffix(":*")


def _latest(client: Any, name: str) -> tuple[int | None]:
    streams = client.describe_log_streams(
        logGroupName=name, orderBy="LastEventTime", descending=True, limit=1
    ).get("logStreams", [])
    if not streams:
        return (None,)
    stream = streams[0]
    return (stream.get("lastEventTimestamp") or stream.get("lastIngestionTime"),)


def _group(
    ctx: ReadContext, group: dict[str, Any], latest_ms: int | None, tags: dict[str, str]
) -> Resource:
    name = group["logGroupName"]
    retention = group.get("retentionInDays")
    attrs = {
        "log_group_name": name,
        "retention_days": None if retention is None else int(retention),
        "stored_gb": round(int(group.get("storedBytes", 0)) / GB, 6),
        "creation_time": _ms(group.get("creationTime")),
        "last_event_time": _ms(latest_ms),
        "log_class": group.get("logGroupClass", "STANDARD"),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.logs.log_group",
        resource_id=name,
        name=name,
        tags=tags,
        attrs=attrs,
    )
