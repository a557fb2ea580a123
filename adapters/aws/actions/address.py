"""release_address: release an Elastic IP (irreversible: the IP itself is gone for good)."""

from __future__ import annotations

from typing import Any

from adapters.aws.actions.base import (
    ActionContext,
    AwsAction,
    describe_one,
    get_instance,
    label,
    plain_tags,
    tag_list,
)
from fintropy.domain import ActionOutcome, OutcomeStatus


def _address(ctx: ActionContext) -> dict[str, Any] | None:
    return describe_one(
        ctx.client("ec2").describe_addresses, "Addresses", AllocationIds=[ctx.ref.resource_id]
    )


def _blocker(ctx: ActionContext, address: dict[str, Any]) -> str | None:
    """Why the address may not be released, or None when it is idle."""
    if not address.get("AssociationId"):
        return None
    instance_id = address.get("InstanceId")
    if not instance_id:
        return f"it is in use by network interface {address.get('NetworkInterfaceId')}"
    instance = get_instance(ctx.client("ec2"), instance_id)
    state = instance["State"]["Name"] if instance else "gone"
    if state in ("stopped", "terminated", "gone"):
        return None
    return f"it is associated with instance {instance_id}, which is {state}"


class ReleaseAddress(AwsAction):
    """Release an unassociated Elastic IP, or one left on a stopped instance."""

    name = "release_address"
    service = "ec2"

    def plan(self, ctx: ActionContext) -> ActionOutcome:
        """PLANNED for an idle address, SKIPPED when gone or in use."""
        address = _address(ctx)
        if address is None:
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Elastic IP {ctx.ref.resource_id} is no longer allocated.",
            )
        name = label(
            f"{address['PublicIp']} ({ctx.ref.resource_id})", plain_tags(address.get("Tags"))
        )
        blocker = _blocker(ctx, address)
        if blocker:
            return self.outcome(
                ctx, OutcomeStatus.SKIPPED, f"Elastic IP {name} is not released: {blocker}."
            )
        if address.get("AssociationId"):
            return self.outcome(
                ctx,
                OutcomeStatus.PLANNED,
                f"Will disassociate Elastic IP {name} from instance {address['InstanceId']} "
                "(not running), then release it; the IP cannot be recovered.",
            )
        return self.outcome(
            ctx,
            OutcomeStatus.PLANNED,
            f"Will release unassociated Elastic IP {name}; the IP cannot be recovered.",
        )

    def capture(self, ctx: ActionContext) -> dict[str, Any]:
        """A record of the address for the audit trail (a released IP cannot be restored)."""
        address = _address(ctx) or {}
        return {
            "allocation_id": ctx.ref.resource_id,
            "public_ip": address.get("PublicIp"),
            "instance_id": address.get("InstanceId") or None,
            "domain": address.get("Domain", "vpc"),
            "tags": plain_tags(address.get("Tags")),
        }

    def execute(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Release the address (disassociating it from a stopped instance first)."""
        ec2 = ctx.client("ec2")
        address = _address(ctx)
        if address is None:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Elastic IP {ctx.ref.resource_id} was already released; nothing to do.",
                restore_point,
            )
        blocker = _blocker(ctx, address)
        if blocker:
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Elastic IP {ctx.ref.resource_id} was not released: {blocker}.",
                restore_point,
            )
        if address.get("AssociationId"):
            ec2.disassociate_address(AssociationId=address["AssociationId"])
        ec2.release_address(AllocationId=ctx.ref.resource_id)
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Released Elastic IP {address['PublicIp']} ({ctx.ref.resource_id}).",
            restore_point,
        )

    def verify(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """The allocation no longer exists."""
        address = _address(ctx)
        if address is not None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Elastic IP {address['PublicIp']} ({ctx.ref.resource_id}) is still allocated.",
                restore_point,
            )
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Elastic IP {restore_point.get('public_ip') or ctx.ref.resource_id} is released.",
            restore_point,
        )

    def restore(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Allocate a new address with the old tags; the released IP itself is gone."""
        if _address(ctx) is not None:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Elastic IP {ctx.ref.resource_id} was never released; nothing to restore.",
                restore_point,
            )
        ec2 = ctx.client("ec2")
        params: dict[str, Any] = {"Domain": restore_point.get("domain") or "vpc"}
        tags = restore_point.get("tags") or {}
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "elastic-ip", "Tags": tag_list(tags)}]
        new = ec2.allocate_address(**params)
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Allocated new Elastic IP {new['PublicIp']} ({new['AllocationId']}); "
            f"the released {restore_point.get('public_ip')} cannot be recovered.",
            {**restore_point, "new_allocation_id": new["AllocationId"]},
        )
