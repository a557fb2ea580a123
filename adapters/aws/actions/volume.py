"""EBS volume actions: snapshot_and_delete_volume and modify_volume_to_gp3."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.aws.actions.base import (
    ActionContext,
    AwsAction,
    get_snapshot,
    get_volume,
    label,
    plain_tags,
    tag_list,
)
from adapters.aws.session import paginate
from fintropy.domain import ActionOutcome, OutcomeStatus
from fintropy.errors import AdapterError

RESTORE_FOR_TAG = "fintropy:restore-for"
RESTORED_FROM_TAG = "fintropy:restored-from"
# A restore snapshot this recent is reused when capture runs again (a retried activity).
_REUSE_WINDOW = timedelta(hours=1)


class SnapshotAndDeleteVolume(AwsAction):
    """Snapshot an unattached volume, wait for the snapshot, then delete the volume."""

    name = "snapshot_and_delete_volume"
    service = "ec2"

    def plan(self, ctx: ActionContext) -> ActionOutcome:
        """PLANNED for an existing unattached volume, SKIPPED otherwise."""
        volume = get_volume(ctx.client("ec2"), ctx.ref.resource_id)
        if volume is None:
            return self.outcome(
                ctx, OutcomeStatus.SKIPPED, f"Volume {ctx.ref.resource_id} no longer exists."
            )
        name = label(volume["VolumeId"], plain_tags(volume.get("Tags")))
        attached = [a["InstanceId"] for a in volume.get("Attachments", [])]
        if attached or volume["State"] != "available":
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Volume {name} is attached to {', '.join(attached) or 'an instance'}; "
                "only unattached volumes are deleted.",
            )
        return self.outcome(
            ctx,
            OutcomeStatus.PLANNED,
            f"Will snapshot volume {name} ({volume['Size']} GB {volume['VolumeType']}, "
            f"unattached), wait for the snapshot to complete, then delete the volume.",
        )

    def capture(self, ctx: ActionContext) -> dict[str, Any]:
        """Take (or reuse a fresh) snapshot of the volume, wait until it completes, tag it."""
        ec2 = ctx.client("ec2")
        volume = get_volume(ec2, ctx.ref.resource_id)
        if volume is None:
            raise AdapterError(
                f"Volume {ctx.ref.resource_id} no longer exists; no snapshot was taken.",
                "Scan again; the finding will resolve if the volume is gone.",
                provider="aws",
                operation="ec2:CreateSnapshot",
                error_code="InvalidVolume.NotFound",
            )
        tags = plain_tags(volume.get("Tags"))
        snapshot_id = self._recent_snapshot(ctx)
        if snapshot_id is None:
            snapshot_tags = {
                **tags,
                RESTORE_FOR_TAG: volume["VolumeId"],
                "fintropy:action": self.name,
            }
            snapshot_id = ec2.create_snapshot(
                VolumeId=volume["VolumeId"],
                Description=f"Fintropy restore point for {volume['VolumeId']} before deletion",
                TagSpecifications=[{"ResourceType": "snapshot", "Tags": tag_list(snapshot_tags)}],
            )["SnapshotId"]
        self._wait_completed(ctx, snapshot_id)
        return {
            "snapshot_id": snapshot_id,
            "volume_id": volume["VolumeId"],
            "availability_zone": volume["AvailabilityZone"],
            "volume_type": volume["VolumeType"],
            "size_gb": int(volume["Size"]),
            "iops": volume.get("Iops"),
            "throughput": volume.get("Throughput"),
            "encrypted": bool(volume.get("Encrypted", False)),
            "kms_key_id": volume.get("KmsKeyId"),
            "tags": tags,
        }

    def _recent_snapshot(self, ctx: ActionContext) -> str | None:
        snapshots = paginate(
            ctx.client("ec2"),
            "describe_snapshots",
            "Snapshots",
            OwnerIds=["self"],
            Filters=[{"Name": f"tag:{RESTORE_FOR_TAG}", "Values": [ctx.ref.resource_id]}],
        )
        fresh = [
            s
            for s in snapshots
            if s["State"] in ("pending", "completed")
            and s["StartTime"] >= ctx.now() - _REUSE_WINDOW
        ]
        return max(fresh, key=lambda s: s["StartTime"])["SnapshotId"] if fresh else None

    def _wait_completed(self, ctx: ActionContext, snapshot_id: str) -> None:
        from botocore.exceptions import WaiterError

        try:
            ctx.client("ec2").get_waiter("snapshot_completed").wait(
                SnapshotIds=[snapshot_id], WaiterConfig=ctx.waiter_config
            )
        except WaiterError as exc:
            raise AdapterError(
                f"Snapshot {snapshot_id} did not complete within {ctx.wait_seconds:.0f} s; "
                "the volume was not deleted.",
                "Retry later; the same snapshot is reused for an hour.",
                provider="aws",
                operation="ec2:DescribeSnapshots",
                error_code="SnapshotNotCompleted",
                retryable=True,
            ) from exc

    def execute(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Delete the volume, only once its restore snapshot exists and is completed."""
        ec2 = ctx.client("ec2")
        volume_id = ctx.ref.resource_id
        snapshot_id = restore_point.get("snapshot_id")
        snapshot = get_snapshot(ec2, snapshot_id) if snapshot_id else None
        if snapshot is None or snapshot["State"] != "completed":
            state = "missing" if snapshot is None else snapshot["State"]
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Restore snapshot {snapshot_id or '(none recorded)'} is {state}; "
                f"volume {volume_id} was not deleted.",
                restore_point,
            )
        volume = get_volume(ec2, volume_id)
        if volume is None:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Volume {volume_id} was already deleted; snapshot {snapshot_id} keeps its data.",
                restore_point,
            )
        attached = [a["InstanceId"] for a in volume.get("Attachments", [])]
        if attached:
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Volume {volume_id} is now attached to {', '.join(attached)}; it was not deleted.",
                restore_point,
            )
        ec2.delete_volume(VolumeId=volume_id)
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Deleted volume {volume_id}; snapshot {snapshot_id} "
            f"({snapshot.get('VolumeSize', '?')} GB) keeps its data.",
            restore_point,
        )

    def verify(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """The volume is gone and its snapshot exists, completed."""
        ec2 = ctx.client("ec2")
        snapshot_id = restore_point.get("snapshot_id")
        volume = get_volume(ec2, ctx.ref.resource_id)
        snapshot = get_snapshot(ec2, snapshot_id) if snapshot_id else None
        problems = []
        if volume is not None:
            problems.append(f"volume {ctx.ref.resource_id} still exists ({volume['State']})")
        if snapshot is None:
            problems.append(f"snapshot {snapshot_id or '(none recorded)'} is missing")
        elif snapshot["State"] != "completed":
            problems.append(f"snapshot {snapshot_id} is {snapshot['State']}")
        if problems:
            return self.outcome(
                ctx, OutcomeStatus.FAILED, "; ".join(problems).capitalize() + ".", restore_point
            )
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Volume {ctx.ref.resource_id} no longer exists and snapshot {snapshot_id} "
            f"({snapshot['VolumeSize']} GB) is completed.",
            restore_point,
        )

    def restore(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Create a new volume from the snapshot, in the same zone with the same settings."""
        ec2 = ctx.client("ec2")
        snapshot_id = restore_point.get("snapshot_id")
        if not snapshot_id or get_snapshot(ec2, snapshot_id) is None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Snapshot {snapshot_id or '(none recorded)'} is missing; nothing to restore from.",
                restore_point,
            )
        existing = [
            v["VolumeId"]
            for v in paginate(
                ec2,
                "describe_volumes",
                "Volumes",
                Filters=[{"Name": f"tag:{RESTORED_FROM_TAG}", "Values": [snapshot_id]}],
            )
            if v["State"] not in ("deleting", "deleted")
        ]
        if existing:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Snapshot {snapshot_id} was already restored as volume {existing[0]}.",
                {**restore_point, "restored_volume_id": existing[0]},
            )
        volume_type = restore_point.get("volume_type") or "gp3"
        params: dict[str, Any] = {
            "SnapshotId": snapshot_id,
            "AvailabilityZone": restore_point["availability_zone"],
            "VolumeType": volume_type,
            "TagSpecifications": [
                {
                    "ResourceType": "volume",
                    "Tags": tag_list(
                        {**restore_point.get("tags", {}), RESTORED_FROM_TAG: snapshot_id}
                    ),
                }
            ],
        }
        if volume_type in ("io1", "io2", "gp3") and restore_point.get("iops"):
            params["Iops"] = int(restore_point["iops"])
        if volume_type == "gp3" and restore_point.get("throughput"):
            params["Throughput"] = int(restore_point["throughput"])
        new_id = ec2.create_volume(**params)["VolumeId"]
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Created volume {new_id} ({restore_point.get('size_gb')} GB {volume_type}) "
            f"from snapshot {snapshot_id} in {restore_point['availability_zone']}.",
            {**restore_point, "restored_volume_id": new_id},
        )


def gp3_target(size_gb: int) -> tuple[int, int]:
    """(IOPS, MB/s) for a gp3 volume that performs at least like a gp2 volume of ``size_gb``.

    gp2 gives 3 IOPS per GB (at least 100, at most 16,000) and up to 250 MB/s above 170 GB;
    gp3 includes 3,000 IOPS and 125 MB/s.
    """
    gp2_iops = max(100, min(16000, 3 * size_gb))
    return max(3000, gp2_iops), (250 if size_gb > 170 else 125)


class ModifyVolumeToGp3(AwsAction):
    """Change a gp2 volume to gp3 in place, keeping at least its gp2 performance."""

    name = "modify_volume_to_gp3"
    service = "ec2"

    def plan(self, ctx: ActionContext) -> ActionOutcome:
        """PLANNED for a gp2 volume with no modification in progress, SKIPPED otherwise."""
        ec2 = ctx.client("ec2")
        volume = get_volume(ec2, ctx.ref.resource_id)
        if volume is None:
            return self.outcome(
                ctx, OutcomeStatus.SKIPPED, f"Volume {ctx.ref.resource_id} no longer exists."
            )
        name = label(volume["VolumeId"], plain_tags(volume.get("Tags")))
        if volume["VolumeType"] != "gp2":
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Volume {name} is {volume['VolumeType']}, not gp2; nothing to change.",
            )
        busy = [
            m
            for m in ec2.describe_volumes_modifications(VolumeIds=[volume["VolumeId"]]).get(
                "VolumesModifications", []
            )
            if m.get("ModificationState") in ("modifying", "optimizing")
        ]
        if busy:
            return self.outcome(
                ctx,
                OutcomeStatus.SKIPPED,
                f"Volume {name} already has a modification in progress.",
            )
        iops, throughput = gp3_target(int(volume["Size"]))
        return self.outcome(
            ctx,
            OutcomeStatus.PLANNED,
            f"Will change volume {name} ({volume['Size']} GB) from gp2 to gp3 with {iops} IOPS "
            f"and {throughput} MB/s, in place and without detaching it.",
        )

    def capture(self, ctx: ActionContext) -> dict[str, Any]:
        """The type and performance settings before the change."""
        volume = get_volume(ctx.client("ec2"), ctx.ref.resource_id)
        if volume is None:
            return {"volume_id": ctx.ref.resource_id, "previous_type": None}
        return {
            "volume_id": volume["VolumeId"],
            "previous_type": volume["VolumeType"],
            "previous_iops": volume.get("Iops"),
            "previous_throughput": volume.get("Throughput"),
            "size_gb": int(volume["Size"]),
        }

    def execute(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Request the gp3 modification; a volume already gp3 counts as done."""
        ec2 = ctx.client("ec2")
        volume = get_volume(ec2, ctx.ref.resource_id)
        if volume is None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Volume {ctx.ref.resource_id} no longer exists; nothing was changed.",
                restore_point,
            )
        if volume["VolumeType"] == "gp3":
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Volume {ctx.ref.resource_id} is already gp3; nothing to do.",
                restore_point,
            )
        if volume["VolumeType"] != "gp2":
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Volume {ctx.ref.resource_id} is {volume['VolumeType']}, not gp2; "
                "it was not changed.",
                restore_point,
            )
        iops, throughput = gp3_target(int(volume["Size"]))
        change = ec2.modify_volume(
            VolumeId=ctx.ref.resource_id, VolumeType="gp3", Iops=iops, Throughput=throughput
        )["VolumeModification"]
        state = change.get("ModificationState", "pending")
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Requested gp2 to gp3 for volume {ctx.ref.resource_id} ({iops} IOPS, "
            f"{throughput} MB/s); the modification is {state}.",
            restore_point,
        )

    def verify(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """The volume reports type gp3."""
        volume = get_volume(ctx.client("ec2"), ctx.ref.resource_id)
        if volume is None:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Volume {ctx.ref.resource_id} no longer exists.",
                restore_point,
            )
        if volume["VolumeType"] != "gp3":
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Volume {ctx.ref.resource_id} is still {volume['VolumeType']}.",
                restore_point,
            )
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Volume {ctx.ref.resource_id} is gp3 ({volume.get('Iops')} IOPS, "
            f"{volume.get('Throughput')} MB/s).",
            restore_point,
        )

    def restore(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Modify the volume back to its previous type (AWS allows one change per 6 hours)."""
        ec2 = ctx.client("ec2")
        previous = restore_point.get("previous_type")
        volume = get_volume(ec2, ctx.ref.resource_id)
        if volume is None or not previous:
            return self.outcome(
                ctx,
                OutcomeStatus.FAILED,
                f"Volume {ctx.ref.resource_id} no longer exists or its previous type is unknown.",
                restore_point,
            )
        if volume["VolumeType"] == previous:
            return self.outcome(
                ctx,
                OutcomeStatus.SUCCEEDED,
                f"Volume {ctx.ref.resource_id} is already {previous}.",
                restore_point,
            )
        params: dict[str, Any] = {"VolumeId": ctx.ref.resource_id, "VolumeType": previous}
        if previous in ("io1", "io2") and restore_point.get("previous_iops"):
            params["Iops"] = int(restore_point["previous_iops"])
        ec2.modify_volume(**params)
        return self.outcome(
            ctx,
            OutcomeStatus.SUCCEEDED,
            f"Requested volume {ctx.ref.resource_id} back to {previous}.",
            restore_point,
        )
