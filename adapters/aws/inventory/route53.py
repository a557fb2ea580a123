"""Route 53 inventory: hosted zones (global; read once per account) with their record counts."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_hosted_zones(ctx: ReadContext) -> list[Resource]:
    """Every hosted zone of the account; one whose tags cannot be read is withheld."""
    client = ctx.client("route53")
    zones = ctx.read(
        "route53",
        "ListHostedZones",
        lambda: list(paginate(client, "list_hosted_zones", "HostedZones", page_size=ctx.page_size)),
    )
    out: list[Resource] = []
    for zone in zones or []:
        zone_id = zone["Id"].rsplit("/", 1)[-1]
        tags = ctx.read(
            "route53",
            "ListTagsForResource",
            lambda zone_id=zone_id: client.list_tags_for_resource(
                ResourceType="hostedzone", ResourceId=zone_id
            )["ResourceTagSet"].get("Tags", []),
        )
        if tags is None:
            ctx.withhold("route53", f"Hosted zone {zone['Name']}", "its tags")
            continue
        out.append(_zone(ctx, zone, zone_id, tag_dict(tags)))
    return out


def _zone(ctx: ReadContext, zone: dict[str, Any], zone_id: str, tags: dict[str, str]) -> Resource:
    attrs = {
        "zone_name": zone["Name"],
        "record_count": int(zone.get("ResourceRecordSetCount", 0)),
        "private_zone": bool(zone.get("Config", {}).get("PrivateZone", False)),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.route53.hosted_zone",
        resource_id=zone_id,
        name=tags.get("Name") or zone["Name"],
        tags=tags,
        attrs=attrs,
    )
