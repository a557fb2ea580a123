"""AWS implementations of the action catalogue in ``fintropy.domain.ACTIONS``.

One class per action; ``HANDLERS`` maps each catalogue name to its implementation, and a
test checks the two stay in step.
"""

from __future__ import annotations

from adapters.aws.actions.address import ReleaseAddress
from adapters.aws.actions.base import ActionContext, AwsAction
from adapters.aws.actions.instance import StopInstance
from adapters.aws.actions.load_balancer import DeleteLoadBalancer
from adapters.aws.actions.snapshot import DeleteSnapshot
from adapters.aws.actions.volume import ModifyVolumeToGp3, SnapshotAndDeleteVolume

HANDLERS: dict[str, AwsAction] = {
    handler.name: handler
    for handler in (
        StopInstance(),
        SnapshotAndDeleteVolume(),
        ReleaseAddress(),
        DeleteSnapshot(),
        ModifyVolumeToGp3(),
        DeleteLoadBalancer(),
    )
}

__all__ = ["HANDLERS", "ActionContext", "AwsAction"]
