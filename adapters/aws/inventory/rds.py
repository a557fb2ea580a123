"""RDS inventory: database instances."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_db_instances(ctx: ReadContext) -> list[Resource]:
    """Every RDS DB instance in the region."""
    rds = ctx.client("rds")
    found = ctx.read(
        "rds",
        "DescribeDBInstances",
        lambda: list(
            paginate(rds, "describe_db_instances", "DBInstances", page_size=ctx.page_size)
        ),
    )
    return [_db_instance(ctx, db) for db in found or []]


def _db_instance(ctx: ReadContext, db: dict[str, Any]) -> Resource:
    tags = tag_dict(db.get("TagList"))
    attrs = {
        "status": db.get("DBInstanceStatus", ""),
        "engine": db.get("Engine", ""),
        "engine_version": db.get("EngineVersion", ""),
        "instance_class": db.get("DBInstanceClass", ""),
        "multi_az": bool(db.get("MultiAZ", False)),
        "storage_type": db.get("StorageType", ""),
        "allocated_storage_gb": int(db.get("AllocatedStorage", 0)),
        "create_time": iso(db.get("InstanceCreateTime")),
        "backup_retention_days": int(db.get("BackupRetentionPeriod", 0)),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.rds.instance",
        resource_id=db["DBInstanceIdentifier"],
        name=tags.get("Name") or db["DBInstanceIdentifier"],
        tags=tags,
        attrs=attrs,
    )
