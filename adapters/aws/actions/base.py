"""The shape every AWS remediation action follows, and lookups they share.

An action has five steps, each a method taking an ``ActionContext``:

- ``plan``: read-only. PLANNED with a sentence saying exactly what will be done, or SKIPPED
  with why (gone, already in the target state, no longer eligible).
- ``capture``: record what undoing needs (and for a snapshot-then-delete, take the snapshot).
- ``execute``: act. Idempotent: a target already in the end state is SUCCEEDED with a
  sentence saying so. An API error is FAILED, never SUCCEEDED.
- ``verify``: read the estate back and confirm the end state.
- ``restore``: undo, from the restore point.

botocore errors raised inside a step are turned into FAILED outcomes (or, for ``capture``,
into ``AdapterError``) by ``AwsAdapter``; steps only handle the errors that carry meaning
("not found").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from adapters.aws.errors import is_not_found
from fintropy.domain import ActionOutcome, OutcomeStatus, ResourceRef

if TYPE_CHECKING:
    from botocore.client import BaseClient


@dataclass(frozen=True)
class ActionContext:
    """One action step on one resource: the reference, clients in its account and region."""

    ref: ResourceRef
    client: Callable[[str], BaseClient]  # service -> client in ref's account and region
    now: Callable[[], datetime]
    poll_seconds: float  # delay between polls while waiting for AWS
    wait_seconds: float  # the longest a step waits for AWS before failing

    @property
    def waiter_config(self) -> dict[str, float | int]:
        """botocore ``WaiterConfig`` honouring ``poll_seconds`` and ``wait_seconds``."""
        delay = max(self.poll_seconds, 0.1)
        return {"Delay": delay, "MaxAttempts": max(1, int(self.wait_seconds / delay))}


class AwsAction:
    """Base class; subclasses set ``name`` and ``service`` and implement the five steps."""

    name: str = ""
    service: str = "ec2"

    def plan(self, ctx: ActionContext) -> ActionOutcome:
        """Decide, read-only, whether and how the action would run."""
        raise NotImplementedError

    def capture(self, ctx: ActionContext) -> dict[str, Any]:
        """Record (or create) what undoing needs; returned as the restore point."""
        raise NotImplementedError

    def execute(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Carry the action out."""
        raise NotImplementedError

    def verify(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Read the estate back and confirm the end state."""
        raise NotImplementedError

    def restore(self, ctx: ActionContext, restore_point: dict[str, Any]) -> ActionOutcome:
        """Undo the action from its restore point."""
        raise NotImplementedError

    def outcome(
        self,
        ctx: ActionContext,
        status: OutcomeStatus,
        detail: str,
        restore_point: dict[str, Any] | None = None,
    ) -> ActionOutcome:
        """An ``ActionOutcome`` of this action for ``ctx.ref``."""
        return ActionOutcome(self.name, ctx.ref, status, detail, dict(restore_point or {}))


def describe_one(call: Callable[..., dict[str, Any]], key: str, **params: Any) -> Any | None:
    """The single item a Describe call returns under ``key``, or None when it is gone."""
    from botocore.exceptions import ClientError

    try:
        items = call(**params).get(key, [])
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    return items[0] if items else None


def get_instance(ec2: BaseClient, instance_id: str) -> dict[str, Any] | None:
    """An instance, or None when it no longer exists."""
    reservation = describe_one(ec2.describe_instances, "Reservations", InstanceIds=[instance_id])
    if not reservation or not reservation["Instances"]:
        return None
    return reservation["Instances"][0]


def get_volume(ec2: BaseClient, volume_id: str) -> dict[str, Any] | None:
    """A volume, or None when it no longer exists (or is being deleted)."""
    volume = describe_one(ec2.describe_volumes, "Volumes", VolumeIds=[volume_id])
    if volume is None or volume["State"] in ("deleting", "deleted"):
        return None
    return volume


def get_snapshot(ec2: BaseClient, snapshot_id: str) -> dict[str, Any] | None:
    """A snapshot, or None when it no longer exists."""
    return describe_one(ec2.describe_snapshots, "Snapshots", SnapshotIds=[snapshot_id])


def images_using_snapshot(ec2: BaseClient, snapshot_id: str) -> list[str]:
    """Ids of the account's AMIs whose block devices use ``snapshot_id``.

    Matched client-side over the account's own images (emulators do not all implement the
    ``block-device-mapping.snapshot-id`` filter).
    """
    from adapters.aws.session import paginate

    return sorted(
        image["ImageId"]
        for image in paginate(ec2, "describe_images", "Images", Owners=["self"])
        if any(
            m.get("Ebs", {}).get("SnapshotId") == snapshot_id
            for m in image.get("BlockDeviceMappings", [])
        )
    )


def plain_tags(tags: list[dict[str, str]] | None) -> dict[str, str]:
    """User tags as a dict, without the reserved ``aws:`` keys that cannot be written back."""
    return {t["Key"]: t.get("Value", "") for t in tags or [] if not t["Key"].startswith("aws:")}


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """A dict of tags in AWS ``[{"Key": k, "Value": v}]`` form, sorted by key."""
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def label(resource_id: str, tags: dict[str, str]) -> str:
    """``vol-0abc ("data-archive")`` when the resource has a Name tag, else the id."""
    name = tags.get("Name")
    return f'{resource_id} ("{name}")' if name else resource_id
