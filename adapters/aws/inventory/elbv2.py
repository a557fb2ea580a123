"""ELBv2 inventory: application, network and gateway load balancers with their targets."""

from __future__ import annotations

from typing import Any

from adapters.aws.errors import error_code
from adapters.aws.inventory.common import ReadContext, iso
from adapters.aws.session import paginate
from fintropy.domain import Resource

_TAG_BATCH = 20  # DescribeTags accepts at most 20 ARNs


def collect_load_balancers(ctx: ReadContext) -> list[Resource]:
    """Every ELBv2 load balancer in the region, with listener and target counts.

    A load balancer whose listeners or targets cannot be read is withheld with a
    ``ReadError``: reporting it with zero targets would make it look idle.
    """
    elb = ctx.client("elbv2")
    balancers = ctx.read(
        "elbv2",
        "DescribeLoadBalancers",
        lambda: list(
            paginate(elb, "describe_load_balancers", "LoadBalancers", page_size=ctx.page_size)
        ),
    )
    if not balancers:
        return []
    arns = [lb["LoadBalancerArn"] for lb in balancers]
    tags = ctx.read("elbv2", "DescribeTags", lambda: _tags(elb, arns)) or {}

    out: list[Resource] = []
    for lb in balancers:
        arn = lb["LoadBalancerArn"]
        details = ctx.read("elbv2", "DescribeListeners", lambda arn=arn: _details(elb, arn))
        if details is None:
            ctx.withhold(
                "elbv2",
                f"Load balancer {lb['LoadBalancerName']}",
                "its listeners, target groups and target health",
            )
            continue
        listeners, groups, registered, healthy = details
        lb_tags = tags.get(arn, {})
        attrs = {
            "lb_type": lb.get("Type", "application"),
            "scheme": lb.get("Scheme", "internet-facing"),
            "state": lb.get("State", {}).get("Code", "active"),
            "created_time": iso(lb["CreatedTime"]),
            "dns_name": lb.get("DNSName", ""),
            "listener_count": listeners,
            "target_group_count": groups,
            "registered_target_count": registered,
            "healthy_target_count": healthy,
        }
        out.append(
            Resource(
                provider="aws",
                account_id=ctx.account.account_id,
                region=ctx.region,
                resource_type="aws.elbv2.load_balancer",
                resource_id=arn,
                name=lb_tags.get("Name") or lb["LoadBalancerName"],
                tags=lb_tags,
                attrs=attrs,
            )
        )
    return out


def _tags(elb: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for first in range(0, len(arns), _TAG_BATCH):
        response = elb.describe_tags(ResourceArns=arns[first : first + _TAG_BATCH])
        for item in response.get("TagDescriptions", []):
            found[item["ResourceArn"]] = {t["Key"]: t.get("Value", "") for t in item["Tags"]}
    return found


def _details(elb: Any, arn: str) -> tuple[int, int, int, int]:
    """(listeners, target groups, registered targets, healthy targets) of one LB."""
    from botocore.exceptions import ClientError

    listeners = list(paginate(elb, "describe_listeners", "Listeners", LoadBalancerArn=arn))
    try:
        groups = list(paginate(elb, "describe_target_groups", "TargetGroups", LoadBalancerArn=arn))
    except ClientError as exc:
        # AWS answers an empty list for a load balancer without target groups; moto
        # answers TargetGroupNotFound.
        if error_code(exc) != "TargetGroupNotFound":
            raise
        groups = []
    registered = healthy = 0
    for group in groups:
        health = elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])
        for target in health.get("TargetHealthDescriptions", []):
            registered += 1
            if target.get("TargetHealth", {}).get("State") == "healthy":
                healthy += 1
    return len(listeners), len(groups), registered, healthy
