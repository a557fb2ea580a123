"""delete_snapshot: delete an EBS snapshot (irreversible)."""

from __future__ import annotations

from typing import Any

from adapters.aws.actions.base import (
    ActionContext,
    AwsAction,
    get_snapshot,
    images_using_snapshot,
    label,
    plain_tags,
)
from fintropy.domain import ActionOutcome, OutcomeStatus


class DeleteSnapshot(AwsAction):
    """Delete a snapshot no registered AMI uses."""

    name = "delete_snapshot"
    service = "ec2"

    def plan(self, ctx: ActionContext) -> ActionOutcome:
        """PLANNED for an existing snapshot no AMI uses, SKIPPED otherwise."""
        ec2 = ctx.client("ec2")
        snapshot = get_snapshot(ec2, ctx.ref.resource_id)
        if snapshot is None:
            return self.outcome(
                ctx, OutcomeStatus.SKIPPED, f"Snapshot {ctx.ref.resource_id} no longer exists."
            )
        name = label(snapshot["SnapshotId"], plain_tags(snapshot.get("Tags")))
        images = images_using_snapshot(ec2, snapshot["SnapshotId"])
        if images:
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Snapshot {name} backs AMI {', '.join(images)}; deregister the image first.",
            )
        return self.outcome(
            ctx,
            OutcomeStatus.PLANNED,
            f"Will delete snapshot {name} ({snapshot.get('VolumeSize', '?')} GB, taken "
            f"{snapshot['StartTime']:%Y-%m-%d}); a deleted snapshot cannot be recovered.",
        )

    def capture(self, ctx: ActionContext) -> dict[str, Any]:
        """A record of the snapshot for the audit trail (deletion cannot be undone)."""
        snapshot = get_snapshot(ctx.client("ec2"), ctx.ref.resource_id) or {}
        start = snapshot.get("StartTime")
        return {
            "snapshot_id": ctx.ref.resource_id,
            "volume_id": snapshot.get("VolumeId"),
            "volume_size_gb": snapshot.get("VolumeSize"),
            "start_time": start.isoformat() if start else None,
            "description": snapshot.get("Description", ""),
            "tags": plain_tags(snapshot.get("Tags")),
        }

    def execute(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Delete the snapshot unless an AMI started using it."""
        ec2 = ctx.client("ec2")
        if get_snapshot(ec2, ctx.ref.resource_id) is None:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Snapshot {ctx.ref.resource_id} was already deleted; nothing to do.",
                restore_point,
            )
        images = images_using_snapshot(ec2, ctx.ref.resource_id)
        if images:
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Snapshot {ctx.ref.resource_id} now backs AMI {', '.join(images)}; "
                "it was not deleted.",
                restore_point,
            )
        ec2.delete_snapshot(SnapshotId=ctx.ref.resource_id)
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Deleted snapshot {ctx.ref.resource_id}.",
            restore_point,
        )

    def verify(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """The snapshot no longer exists."""
        if get_snapshot(ctx.client("ec2"), ctx.ref.resource_id) is not None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Snapshot {ctx.ref.resource_id} still exists.",
                restore_point,
            )
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Snapshot {ctx.ref.resource_id} no longer exists.",
            restore_point,
        )

    def restore(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Nothing can bring a deleted snapshot back; say so (FAILED unless it still exists)."""
        if get_snapshot(ctx.client("ec2"), ctx.ref.resource_id) is not None:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Snapshot {ctx.ref.resource_id} was never deleted; nothing to restore.",
                restore_point,
            )
        return self.outcome(
            ctx,
            OutcomeStatus.FAILED,
            f"Snapshot {ctx.ref.resource_id} cannot be restored: deleting a snapshot is "
            "irreversible.",
            restore_point,
        )
