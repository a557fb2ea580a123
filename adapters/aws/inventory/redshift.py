"""Redshift inventory: provisioned clusters with node type and count."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_redshift_clusters(ctx: ReadContext) -> list[Resource]:
    """Every provisioned Redshift cluster in the region."""
    client = ctx.client("redshift")
    found = ctx.read(
        "redshift",
        "DescribeClusters",
        lambda: list(paginate(client, "describe_clusters", "Clusters", page_size=ctx.page_size)),
    )
    return [_cluster(ctx, cluster) for cluster in found or []]


def _cluster(ctx: ReadContext, cluster: dict[str, Any]) -> Resource:
    tags = tag_dict(cluster.get("Tags"))
    ident = cluster["ClusterIdentifier"]
    attrs = {
        "status": cluster.get("ClusterStatus", ""),
        "node_type": cluster.get("NodeType", ""),
        "num_nodes": int(cluster.get("NumberOfNodes", 1)),
        "create_time": iso(cluster.get("ClusterCreateTime")),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.redshift.cluster",
        resource_id=ident,
        name=tags.get("Name") or ident,
        tags=tags,
        attrs=attrs,
    )
