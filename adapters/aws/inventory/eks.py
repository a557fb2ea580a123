"""EKS inventory: clusters with their Kubernetes version."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_clusters(ctx: ReadContext) -> list[Resource]:
    """Every EKS cluster in the region; one that cannot be described is withheld."""
    client = ctx.client("eks")
    names = ctx.read(
        "eks",
        "ListClusters",
        lambda: list(paginate(client, "list_clusters", "clusters", page_size=ctx.page_size)),
    )
    out: list[Resource] = []
    for name in names or []:
        cluster = ctx.read(
            "eks", "DescribeCluster", lambda name=name: client.describe_cluster(name=name)
        )
        if cluster is None:
            ctx.withhold("eks", f"Cluster {name}", "its description")
            continue
        out.append(_cluster(ctx, cluster["cluster"]))
    return out


def _cluster(ctx: ReadContext, cluster: dict[str, Any]) -> Resource:
    tags = dict(cluster.get("tags") or {})
    attrs = {
        "status": cluster.get("status", ""),
        "version": cluster.get("version", ""),
        "platform_version": cluster.get("platformVersion") or None,
        "created_at": iso(cluster.get("createdAt")),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.eks.cluster",
        resource_id=cluster["name"],
        name=tags.get("Name") or cluster["name"],
        tags=tags,
        attrs=attrs,
    )
