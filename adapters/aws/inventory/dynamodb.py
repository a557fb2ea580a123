"""DynamoDB inventory: tables with billing mode, provisioned capacity and size."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_tables(ctx: ReadContext) -> list[Resource]:
    """Every DynamoDB table in the region; a table that cannot be described is withheld.

    Which tables Application Auto Scaling manages comes from one list call; when that call
    fails every table is withheld (each would otherwise look unmanaged).
    """
    client = ctx.client("dynamodb")
    names = ctx.read(
        "dynamodb",
        "ListTables",
        lambda: list(paginate(client, "list_tables", "TableNames", page_size=ctx.page_size)),
    )
    if not names:
        return []
    scaled = ctx.read("application-autoscaling", "DescribeScalableTargets", lambda: _scaled(ctx))
    if scaled is None:
        ctx.withhold(
            "dynamodb", "DynamoDB tables", "application-autoscaling:DescribeScalableTargets"
        )
        return []
    out: list[Resource] = []
    for name in names or []:
        table = ctx.read(
            "dynamodb",
            "DescribeTable",
            lambda name=name: client.describe_table(TableName=name)["Table"],
        )
        tags = (
            None
            if table is None
            else ctx.read(
                "dynamodb",
                "ListTagsOfResource",
                lambda arn=table["TableArn"]: list(
                    paginate(client, "list_tags_of_resource", "Tags", ResourceArn=arn)
                ),
            )
        )
        if table is None or tags is None:
            ctx.withhold("dynamodb", f"Table {name}", "its description and tags")
            continue
        out.append(_table(ctx, table, tag_dict(tags), name in scaled))
    return out


def _scaled(ctx: ReadContext) -> set[str]:
    """Names of the tables with a scalable target (table capacity, not index capacity)."""
    client = ctx.client("application-autoscaling")
    targets = paginate(
        client, "describe_scalable_targets", "ScalableTargets", ServiceNamespace="dynamodb"
    )
    return {
        t["ResourceId"].split("/", 1)[1]
        for t in targets
        if t["ResourceId"].startswith("table/") and "/index/" not in t["ResourceId"]
    }


def _table(
    ctx: ReadContext, table: dict[str, Any], tags: dict[str, str], autoscaled: bool
) -> Resource:
    throughput = table.get("ProvisionedThroughput", {})
    mode = table.get("BillingModeSummary", {}).get("BillingMode")
    if mode is None:  # tables created before billing modes existed report none: provisioned
        mode = "PROVISIONED" if throughput.get("ReadCapacityUnits") else "PAY_PER_REQUEST"
    provisioned = mode == "PROVISIONED"
    attrs = {
        "status": table.get("TableStatus", ""),
        "billing_mode": mode,
        "read_capacity": int(throughput.get("ReadCapacityUnits", 0)) if provisioned else 0,
        "write_capacity": int(throughput.get("WriteCapacityUnits", 0)) if provisioned else 0,
        "table_size_bytes": int(table.get("TableSizeBytes", 0)),
        "item_count": int(table.get("ItemCount", 0)),
        "creation_time": iso(table.get("CreationDateTime")),
        "table_class": table.get("TableClassSummary", {}).get("TableClass", "STANDARD"),
        "autoscaling_enabled": autoscaled,
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.dynamodb.table",
        resource_id=table["TableName"],
        name=tags.get("Name") or table["TableName"],
        tags=tags,
        attrs=attrs,
    )
