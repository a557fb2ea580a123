"""ElastiCache inventory: cache clusters with engine, version and node type."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_cache_clusters(ctx: ReadContext) -> list[Resource]:
    """Every cache cluster in the region; one whose tags cannot be read is withheld."""
    client = ctx.client("elasticache")
    found = ctx.read(
        "elasticache",
        "DescribeCacheClusters",
        lambda: list(
            paginate(client, "describe_cache_clusters", "CacheClusters", page_size=ctx.page_size)
        ),
    )
    out: list[Resource] = []
    for cluster in found or []:
        arn = cluster.get("ARN")
        tags = (
            ctx.read(
                "elasticache",
                "ListTagsForResource",
                lambda arn=arn: client.list_tags_for_resource(ResourceName=arn).get("TagList", []),
            )
            if arn
            else []
        )
        if tags is None:
            ctx.withhold("elasticache", f"Cache cluster {cluster['CacheClusterId']}", "its tags")
            continue
        out.append(_cluster(ctx, cluster, tag_dict(tags)))
    return out


def _cluster(ctx: ReadContext, cluster: dict[str, Any], tags: dict[str, str]) -> Resource:
    attrs = {
        "status": cluster.get("CacheClusterStatus", ""),
        "engine": cluster.get("Engine", ""),
        "engine_version": cluster.get("EngineVersion", ""),
        "node_type": cluster.get("CacheNodeType", ""),
        "num_nodes": int(cluster.get("NumCacheNodes", 0)),
        "create_time": iso(cluster.get("CacheClusterCreateTime")),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.elasticache.cluster",
        resource_id=cluster["CacheClusterId"],
        name=tags.get("Name") or cluster["CacheClusterId"],
        tags=tags,
        attrs=attrs,
    )
