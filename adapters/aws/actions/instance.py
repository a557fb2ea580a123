"""stop_instance: stop an EC2 instance; undo by starting it again."""

from __future__ import annotations

from typing import Any

from adapters.aws.actions.base import ActionContext, AwsAction, get_instance, label, plain_tags
from fintropy.domain import ActionOutcome, OutcomeStatus


class StopInstance(AwsAction):
    """Stop a running on-demand instance; its volumes and Elastic IPs stay."""

    name = "stop_instance"
    service = "ec2"

    def plan(self, ctx: ActionContext) -> ActionOutcome:
        """PLANNED for a running on-demand instance, SKIPPED otherwise."""
        instance = get_instance(ctx.client("ec2"), ctx.ref.resource_id)
        if instance is None:
            return self.outcome(
                ctx, OutcomeStatus.SKIPPED, f"Instance {ctx.ref.resource_id} no longer exists."
            )
        name = label(instance["InstanceId"], plain_tags(instance.get("Tags")))
        state = instance["State"]["Name"]
        if state != "running":
            return self.outcome(
                ctx, OutcomeStatus.SKIPPED, f"Instance {name} is {state}, not running."
            )
        if instance.get("InstanceLifecycle") == "spot":
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Instance {name} is a spot instance; stopping it may end its spot request.",
            )
        volumes = sum(1 for m in instance.get("BlockDeviceMappings", []) if "Ebs" in m)
        return self.outcome(
            ctx,
            OutcomeStatus.PLANNED,
            f"Will stop instance {name} ({instance['InstanceType']}, running); "
            f"its {volumes} EBS volume(s) and any Elastic IP stay attached.",
        )

    def capture(self, ctx: ActionContext) -> dict[str, Any]:
        """The state and type before stopping."""
        instance = get_instance(ctx.client("ec2"), ctx.ref.resource_id)
        if instance is None:
            return {"instance_id": ctx.ref.resource_id, "previous_state": None}
        return {
            "instance_id": instance["InstanceId"],
            "previous_state": instance["State"]["Name"],
            "instance_type": instance["InstanceType"],
        }

    def execute(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Stop the instance; already stopped counts as done."""
        ec2 = ctx.client("ec2")
        instance = get_instance(ec2, ctx.ref.resource_id)
        if instance is None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Instance {ctx.ref.resource_id} no longer exists; nothing was stopped.",
                restore_point,
            )
        state = instance["State"]["Name"]
        if state in ("stopping", "stopped"):
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Instance {ctx.ref.resource_id} was already {state}; nothing to do.",
                restore_point,
            )
        if state != "running":
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Instance {ctx.ref.resource_id} is {state}; it cannot be stopped.",
                restore_point,
            )
        result = ec2.stop_instances(InstanceIds=[ctx.ref.resource_id])
        now_state = result["StoppingInstances"][0]["CurrentState"]["Name"]
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Stop requested for instance {ctx.ref.resource_id}; it is now {now_state}.",
            restore_point,
        )

    def verify(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Wait until the instance reports stopped."""
        from botocore.exceptions import WaiterError

        ec2 = ctx.client("ec2")
        try:
            ec2.get_waiter("instance_stopped").wait(
                InstanceIds=[ctx.ref.resource_id], WaiterConfig=ctx.waiter_config
            )
        except WaiterError:
            instance = get_instance(ec2, ctx.ref.resource_id)
            state = instance["State"]["Name"] if instance else "gone"
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Instance {ctx.ref.resource_id} is {state}, not stopped, "
                f"after waiting {ctx.wait_seconds:.0f} s.",
                restore_point,
            )
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Instance {ctx.ref.resource_id} is stopped.",
            restore_point,
        )

    def restore(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Start the instance again if it was running before."""
        if restore_point.get("previous_state") != "running":
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Instance {ctx.ref.resource_id} was not running before; it is left as it is.",
                restore_point,
            )
        ec2 = ctx.client("ec2")
        instance = get_instance(ec2, ctx.ref.resource_id)
        if instance is None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Instance {ctx.ref.resource_id} no longer exists; it cannot be started.",
                restore_point,
            )
        if instance["State"]["Name"] in ("pending", "running"):
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Instance {ctx.ref.resource_id} is already {instance['State']['Name']}.",
                restore_point,
            )
        result = ec2.start_instances(InstanceIds=[ctx.ref.resource_id])
        now_state = result["StartingInstances"][0]["CurrentState"]["Name"]
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Start requested for instance {ctx.ref.resource_id}; it is now {now_state}.",
            restore_point,
        )
