"""delete_load_balancer: delete an idle ELBv2 load balancer, keeping what recreates it."""

from __future__ import annotations

from typing import Any

from adapters.aws.actions.base import ActionContext, AwsAction, describe_one, tag_list
from adapters.aws.session import paginate
from fintropy.domain import ActionOutcome, OutcomeStatus

# Listener fields that CreateListener accepts back as they were described.
_LISTENER_FIELDS = ("Protocol", "Port", "SslPolicy", "Certificates", "DefaultActions", "AlpnPolicy")


def _balancer(ctx: ActionContext) -> dict[str, Any] | None:
    return describe_one(
        ctx.client("elbv2").describe_load_balancers,
        "LoadBalancers",
        LoadBalancerArns=[ctx.ref.resource_id],
    )


def _attributes(ctx: ActionContext) -> dict[str, str]:
    response = ctx.client("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=ctx.ref.resource_id
    )
    return {a["Key"]: a.get("Value", "") for a in response.get("Attributes", [])}


class DeleteLoadBalancer(AwsAction):
    """Delete a load balancer; its target groups stay so it can be recreated."""

    name = "delete_load_balancer"
    service = "elbv2"

    def plan(self, ctx: ActionContext) -> ActionOutcome:
        """PLANNED unless the load balancer is gone or deletion protection is on."""
        lb = _balancer(ctx)
        if lb is None:
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Load balancer {ctx.ref.resource_id} no longer exists.",
            )
        name = lb["LoadBalancerName"]
        if _attributes(ctx).get("deletion_protection.enabled") == "true":
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Load balancer {name} has deletion protection enabled; it is left alone.",
            )
        elb = ctx.client("elbv2")
        listeners = list(
            paginate(elb, "describe_listeners", "Listeners", LoadBalancerArn=ctx.ref.resource_id)
        )
        return self.outcome(
            ctx,
            OutcomeStatus.PLANNED,
            f"Will delete {lb.get('Type', 'application')} load balancer {name} "
            f"({lb.get('Scheme', 'internet-facing')}, "
            f"{len(listeners)} listener(s)) after saving its configuration; "
            "its target groups are kept.",
        )

    def capture(self, ctx: ActionContext) -> dict[str, Any]:
        """Everything needed to recreate it: scheme, subnets, groups, listeners, tags."""
        lb = _balancer(ctx)
        if lb is None:
            return {"load_balancer_arn": ctx.ref.resource_id, "exists": False}
        elb = ctx.client("elbv2")
        listeners = [
            {k: listener[k] for k in _LISTENER_FIELDS if listener.get(k)}
            for listener in paginate(
                elb, "describe_listeners", "Listeners", LoadBalancerArn=ctx.ref.resource_id
            )
        ]
        tags = elb.describe_tags(ResourceArns=[ctx.ref.resource_id])["TagDescriptions"]
        return {
            "load_balancer_arn": ctx.ref.resource_id,
            "exists": True,
            "name": lb["LoadBalancerName"],
            "type": lb.get("Type", "application"),
            "scheme": lb.get("Scheme", "internet-facing"),
            "ip_address_type": lb.get("IpAddressType", "ipv4"),
            "subnets": [
                z["SubnetId"] for z in lb.get("AvailabilityZones", []) if z.get("SubnetId")
            ],
            "security_groups": list(lb.get("SecurityGroups", [])),
            "listeners": listeners,
            "attributes": _attributes(ctx),
            "tags": {t["Key"]: t.get("Value", "") for d in tags for t in d.get("Tags", [])},
        }

    def execute(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Delete the load balancer; already deleted counts as done."""
        lb = _balancer(ctx)
        if lb is None:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Load balancer {restore_point.get('name') or ctx.ref.resource_id} was already "
                "deleted; nothing to do.",
                restore_point,
            )
        if _attributes(ctx).get("deletion_protection.enabled") == "true":
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Load balancer {lb['LoadBalancerName']} has deletion protection enabled; "
                "it was not deleted.",
                restore_point,
            )
        ctx.client("elbv2").delete_load_balancer(LoadBalancerArn=ctx.ref.resource_id)
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Deleted load balancer {lb['LoadBalancerName']}; its configuration is saved in the "
            "restore point and its target groups are kept.",
            restore_point,
        )

    def verify(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """The load balancer no longer exists."""
        if _balancer(ctx) is not None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Load balancer {restore_point.get('name') or ctx.ref.resource_id} still exists.",
                restore_point,
            )
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Load balancer {restore_point.get('name') or ctx.ref.resource_id} no longer exists.",
            restore_point,
        )

    def restore(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Recreate the load balancer and its listeners from the saved configuration."""
        if not restore_point.get("exists"):
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"No configuration was saved for {ctx.ref.resource_id}; it cannot be recreated.",
                restore_point,
            )
        elb = ctx.client("elbv2")
        name = restore_point["name"]
        existing = describe_one(elb.describe_load_balancers, "LoadBalancers", Names=[name])
        if existing is not None:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Load balancer {name} already exists; nothing to recreate.",
                {**restore_point, "restored_arn": existing["LoadBalancerArn"]},
            )
        params: dict[str, Any] = {
            "Name": name,
            "Subnets": restore_point["subnets"],
            "Scheme": restore_point["scheme"],
            "Type": restore_point["type"],
            "IpAddressType": restore_point["ip_address_type"],
        }
        if restore_point.get("security_groups"):
            params["SecurityGroups"] = restore_point["security_groups"]
        if restore_point.get("tags"):
            params["Tags"] = tag_list(restore_point["tags"])
        arn = elb.create_load_balancer(**params)["LoadBalancers"][0]["LoadBalancerArn"]
        for listener in restore_point.get("listeners", []):
            elb.create_listener(LoadBalancerArn=arn, **listener)
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Recreated load balancer {name} with {len(restore_point.get('listeners', []))} "
            "listener(s); its DNS name has changed.",
            {**restore_point, "restored_arn": arn},
        )
