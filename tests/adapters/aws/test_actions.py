"""Each catalogue action against moto: plan, restore point, execute, verify, restore."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from adapters.aws.actions import HANDLERS
from adapters.aws.adapter import AwsAdapter
from fintropy.domain import ACTIONS, CloudAccount, OutcomeStatus, ResourceRef
from fintropy.errors import AdapterError, ConfigError, PermissionDeniedError
from tests.adapters.aws.fault_proxy import FaultProxy
from tests.adapters.aws.helpers import REGION, account, adapter, client, network, run_instance

PLANNED, SUCCEEDED = OutcomeStatus.PLANNED, OutcomeStatus.SUCCEEDED
SKIPPED, FAILED = OutcomeStatus.SKIPPED, OutcomeStatus.FAILED


@dataclass
class Estate:
    endpoint: str
    acct: CloudAccount
    ec2: Any
    elb: Any
    adapter: AwsAdapter

    def ref(self, resource_type: str, resource_id: str) -> ResourceRef:
        return ResourceRef("aws", self.acct.account_id, REGION, resource_type, resource_id)

    def volume(self, size: int = 50, volume_type: str = "gp2", name: str = "data") -> str:
        extra = {"Iops": 3000} if volume_type in ("io1", "io2") else {}
        return self.ec2.create_volume(
            Size=size,
            AvailabilityZone=f"{REGION}a",
            VolumeType=volume_type,
            TagSpecifications=[
                {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": name}]}
            ],
            **extra,
        )["VolumeId"]

    def volume_exists(self, volume_id: str) -> bool:
        try:
            self.ec2.describe_volumes(VolumeIds=[volume_id])
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
        else:
            return True
        assert code == "InvalidVolume.NotFound"
        return False


@pytest.fixture
def estate(moto_reset: str) -> Estate:
    acct = account()
    return Estate(
        moto_reset,
        acct,
        client(moto_reset, "ec2", acct),
        client(moto_reset, "elbv2", acct),
        adapter(moto_reset, acct),
    )


@pytest.fixture
def proxy(moto_reset: str) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(moto_reset).start()
    yield fault_proxy
    fault_proxy.stop()


def test_every_catalogue_action_has_an_aws_implementation() -> None:
    assert set(HANDLERS) == set(ACTIONS)


# -- snapshot_and_delete_volume ------------------------------------------------------------


def test_volume_is_snapshotted_deleted_verified_and_restored(estate: Estate) -> None:
    volume = estate.volume(size=50, name="orphaned-data")
    ref = estate.ref("aws.ebs.volume", volume)
    action = "snapshot_and_delete_volume"

    plan = estate.adapter.plan(action, ref)
    mutations_after_plan = estate.adapter.mutating_calls
    point = estate.adapter.capture_restore_point(action, ref)
    done = estate.adapter.execute(action, ref, point)
    verified = estate.adapter.verify(action, ref, point)

    assert plan.status == PLANNED
    assert plan.detail.startswith(f'Will snapshot volume {volume} ("orphaned-data") (50 GB gp2')
    assert mutations_after_plan == 0
    snapshot = estate.ec2.describe_snapshots(SnapshotIds=[point["snapshot_id"]])["Snapshots"][0]
    assert snapshot["State"] == "completed"
    assert {"Key": "fintropy:restore-for", "Value": volume} in snapshot["Tags"]
    assert {"Key": "Name", "Value": "orphaned-data"} in snapshot["Tags"]
    assert done.status == SUCCEEDED
    assert not estate.volume_exists(volume)
    assert verified.status == SUCCEEDED
    assert verified.detail.startswith(f"Volume {volume} no longer exists and snapshot")

    restored = estate.adapter.restore(action, ref, point)
    again = estate.adapter.restore(action, ref, point)

    new_id = restored.restore_point["restored_volume_id"]
    new = estate.ec2.describe_volumes(VolumeIds=[new_id])["Volumes"][0]
    assert restored.status == SUCCEEDED
    assert (new["Size"], new["VolumeType"], new["AvailabilityZone"]) == (50, "gp2", "us-east-1a")
    assert new["SnapshotId"] == point["snapshot_id"]
    assert {"Key": "Name", "Value": "orphaned-data"} in new["Tags"]
    assert again.restore_point["restored_volume_id"] == new_id


def test_deleting_a_volume_twice_reports_it_already_done(estate: Estate) -> None:
    ref = estate.ref("aws.ebs.volume", estate.volume())
    point = estate.adapter.capture_restore_point("snapshot_and_delete_volume", ref)

    first = estate.adapter.execute("snapshot_and_delete_volume", ref, point)
    second = estate.adapter.execute("snapshot_and_delete_volume", ref, point)

    assert first.status == second.status == SUCCEEDED
    assert "was already deleted" in second.detail
    assert point["snapshot_id"] in second.detail


def test_capturing_twice_reuses_the_fresh_snapshot(estate: Estate) -> None:
    ref = estate.ref("aws.ebs.volume", estate.volume())

    first = estate.adapter.capture_restore_point("snapshot_and_delete_volume", ref)
    second = estate.adapter.capture_restore_point("snapshot_and_delete_volume", ref)

    assert first["snapshot_id"] == second["snapshot_id"]


def test_volume_is_not_deleted_when_its_restore_snapshot_vanished(estate: Estate) -> None:
    volume = estate.volume()
    ref = estate.ref("aws.ebs.volume", volume)
    point = estate.adapter.capture_restore_point("snapshot_and_delete_volume", ref)
    estate.ec2.delete_snapshot(SnapshotId=point["snapshot_id"])

    outcome = estate.adapter.execute("snapshot_and_delete_volume", ref, point)

    assert outcome.status == FAILED
    assert outcome.detail == (
        f"Restore snapshot {point['snapshot_id']} is missing; volume {volume} was not deleted."
    )
    assert estate.volume_exists(volume)


def test_attached_or_missing_volumes_are_skipped_and_capture_refuses(estate: Estate) -> None:
    instance = run_instance(estate.ec2, "app")
    attached = estate.volume()
    estate.ec2.attach_volume(VolumeId=attached, InstanceId=instance, Device="/dev/sdf")
    gone = estate.volume()
    estate.ec2.delete_volume(VolumeId=gone)

    busy = estate.adapter.plan("snapshot_and_delete_volume", estate.ref("aws.ebs.volume", attached))
    missing = estate.adapter.plan("snapshot_and_delete_volume", estate.ref("aws.ebs.volume", gone))

    assert busy.status == SKIPPED
    assert f"is attached to {instance}" in busy.detail
    assert missing.status == SKIPPED
    assert missing.detail == f"Volume {gone} no longer exists."
    with pytest.raises(AdapterError, match="no longer exists; no snapshot was taken"):
        estate.adapter.capture_restore_point(
            "snapshot_and_delete_volume", estate.ref("aws.ebs.volume", gone)
        )


# -- stop_instance -------------------------------------------------------------------------


def test_instance_is_stopped_verified_and_started_again(estate: Estate) -> None:
    instance = run_instance(estate.ec2, "batch-legacy", "m4.large")
    ref = estate.ref("aws.ec2.instance", instance)

    plan = estate.adapter.plan("stop_instance", ref)
    point = estate.adapter.capture_restore_point("stop_instance", ref)
    done = estate.adapter.execute("stop_instance", ref, point)
    verified = estate.adapter.verify("stop_instance", ref, point)
    again = estate.adapter.execute("stop_instance", ref, point)
    state = estate.ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]

    assert plan.status == PLANNED
    assert plan.detail.startswith(f'Will stop instance {instance} ("batch-legacy") (m4.large')
    assert point == {
        "instance_id": instance,
        "previous_state": "running",
        "instance_type": "m4.large",
    }
    assert done.status == verified.status == again.status == SUCCEEDED
    assert state["State"]["Name"] == "stopped"
    assert again.detail == f"Instance {instance} was already stopped; nothing to do."

    restored = estate.adapter.restore("stop_instance", ref, point)

    state = estate.ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    assert restored.status == SUCCEEDED
    assert state["State"]["Name"] == "running"


def test_stopping_an_instance_terminated_in_between_fails(estate: Estate) -> None:
    instance = run_instance(estate.ec2, "app")
    ref = estate.ref("aws.ec2.instance", instance)
    point = estate.adapter.capture_restore_point("stop_instance", ref)
    estate.ec2.terminate_instances(InstanceIds=[instance])

    plan = estate.adapter.plan("stop_instance", ref)
    outcome = estate.adapter.execute("stop_instance", ref, point)
    verified = estate.adapter.verify("stop_instance", ref, point)

    assert plan.status == SKIPPED
    assert outcome.status == FAILED
    assert outcome.detail == f"Instance {instance} is terminated; it cannot be stopped."
    assert verified.status == FAILED


# -- release_address -----------------------------------------------------------------------


def test_unassociated_address_is_released_and_a_new_one_allocated_on_restore(
    estate: Estate,
) -> None:
    allocation = estate.ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "spare"}]}
        ],
    )
    ref = estate.ref("aws.ec2.address", allocation["AllocationId"])

    plan = estate.adapter.plan("release_address", ref)
    point = estate.adapter.capture_restore_point("release_address", ref)
    done = estate.adapter.execute("release_address", ref, point)
    verified = estate.adapter.verify("release_address", ref, point)
    again = estate.adapter.execute("release_address", ref, point)
    restored = estate.adapter.restore("release_address", ref, point)

    assert plan.status == PLANNED
    assert "Will release unassociated Elastic IP" in plan.detail
    assert point["public_ip"] == allocation["PublicIp"]
    assert done.status == verified.status == again.status == restored.status == SUCCEEDED
    assert "was already released" in again.detail
    remaining = estate.ec2.describe_addresses()["Addresses"]
    assert [a["AllocationId"] for a in remaining] == [restored.restore_point["new_allocation_id"]]
    assert {"Key": "Name", "Value": "spare"} in remaining[0]["Tags"]


def test_address_of_a_running_instance_is_kept_and_of_a_stopped_one_released(
    estate: Estate,
) -> None:
    running, stopped = run_instance(estate.ec2, "web"), run_instance(estate.ec2, "old")
    estate.ec2.stop_instances(InstanceIds=[stopped])
    refs = {}
    for instance in (running, stopped):
        allocation = estate.ec2.allocate_address(Domain="vpc")["AllocationId"]
        estate.ec2.associate_address(AllocationId=allocation, InstanceId=instance)
        refs[instance] = estate.ref("aws.ec2.address", allocation)

    kept_plan = estate.adapter.plan("release_address", refs[running])
    kept = estate.adapter.execute("release_address", refs[running], {})
    freed_plan = estate.adapter.plan("release_address", refs[stopped])
    freed = estate.adapter.execute("release_address", refs[stopped], {})

    assert kept_plan.status == kept.status == SKIPPED
    assert f"associated with instance {running}, which is running" in kept.detail
    assert freed_plan.status == PLANNED
    assert "Will disassociate" in freed_plan.detail
    assert freed.status == SUCCEEDED
    left = [a["AllocationId"] for a in estate.ec2.describe_addresses()["Addresses"]]
    assert left == [refs[running].resource_id]


# -- delete_snapshot -----------------------------------------------------------------------


def test_snapshot_is_deleted_and_restore_says_it_cannot_come_back(estate: Estate) -> None:
    snapshot = estate.ec2.create_snapshot(VolumeId=estate.volume())["SnapshotId"]
    ref = estate.ref("aws.ebs.snapshot", snapshot)

    plan = estate.adapter.plan("delete_snapshot", ref)
    point = estate.adapter.capture_restore_point("delete_snapshot", ref)
    done = estate.adapter.execute("delete_snapshot", ref, point)
    verified = estate.adapter.verify("delete_snapshot", ref, point)
    again = estate.adapter.execute("delete_snapshot", ref, point)
    restored = estate.adapter.restore("delete_snapshot", ref, point)

    assert plan.status == PLANNED
    assert "a deleted snapshot cannot be recovered" in plan.detail
    assert done.status == verified.status == again.status == SUCCEEDED
    assert "was already deleted" in again.detail
    assert restored.status == FAILED
    assert "irreversible" in restored.detail
    assert estate.ec2.describe_snapshots(OwnerIds=["self"], SnapshotIds=[])["Snapshots"] == [
        s
        for s in estate.ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
        if s["SnapshotId"] != snapshot
    ]


def test_snapshot_backing_an_ami_is_never_deleted(estate: Estate) -> None:
    image = estate.ec2.create_image(InstanceId=run_instance(estate.ec2, "golden"), Name="golden")
    mapping = estate.ec2.describe_images(ImageIds=[image["ImageId"]])["Images"][0]
    snapshot = mapping["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    ref = estate.ref("aws.ebs.snapshot", snapshot)

    plan = estate.adapter.plan("delete_snapshot", ref)
    outcome = estate.adapter.execute("delete_snapshot", ref, {})

    assert plan.status == outcome.status == SKIPPED
    assert f"backs AMI {image['ImageId']}" in plan.detail
    assert estate.ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"]


# -- modify_volume_to_gp3 ------------------------------------------------------------------


def test_gp2_volume_becomes_gp3_with_matching_performance_and_can_go_back(estate: Estate) -> None:
    volume = estate.volume(size=2000)
    ref = estate.ref("aws.ebs.volume", volume)

    plan = estate.adapter.plan("modify_volume_to_gp3", ref)
    point = estate.adapter.capture_restore_point("modify_volume_to_gp3", ref)
    done = estate.adapter.execute("modify_volume_to_gp3", ref, point)
    verified = estate.adapter.verify("modify_volume_to_gp3", ref, point)
    again = estate.adapter.execute("modify_volume_to_gp3", ref, point)
    after = estate.ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]

    assert plan.status == PLANNED
    assert "from gp2 to gp3 with 6000 IOPS and 250 MB/s" in plan.detail
    assert point["previous_type"] == "gp2"
    assert done.status == verified.status == again.status == SUCCEEDED
    assert (after["VolumeType"], after["Iops"], after["Throughput"]) == ("gp3", 6000, 250)
    assert again.detail == f"Volume {volume} is already gp3; nothing to do."

    restored = estate.adapter.restore("modify_volume_to_gp3", ref, point)

    assert restored.status == SUCCEEDED
    assert estate.ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["VolumeType"] == "gp2"


def test_gp3_change_on_a_volume_deleted_in_between_fails(estate: Estate) -> None:
    volume = estate.volume()
    ref = estate.ref("aws.ebs.volume", volume)
    point = estate.adapter.capture_restore_point("modify_volume_to_gp3", ref)
    estate.ec2.delete_volume(VolumeId=volume)

    outcome = estate.adapter.execute("modify_volume_to_gp3", ref, point)
    verified = estate.adapter.verify("modify_volume_to_gp3", ref, point)

    assert outcome.status == verified.status == FAILED
    assert outcome.detail == f"Volume {volume} no longer exists; nothing was changed."


def test_non_gp2_volumes_are_not_changed(estate: Estate) -> None:
    ref = estate.ref("aws.ebs.volume", estate.volume(volume_type="io1", size=100))

    plan = estate.adapter.plan("modify_volume_to_gp3", ref)
    outcome = estate.adapter.execute("modify_volume_to_gp3", ref, {})

    assert plan.status == SKIPPED
    assert outcome.status == FAILED
    assert "is io1, not gp2" in outcome.detail


# -- delete_load_balancer ------------------------------------------------------------------


def _load_balancer(estate: Estate, name: str) -> str:
    vpc, subnets = network(estate.ec2)
    arn = estate.elb.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    group = estate.elb.create_target_group(Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc)
    estate.elb.create_listener(
        LoadBalancerArn=arn,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[
            {"Type": "forward", "TargetGroupArn": group["TargetGroups"][0]["TargetGroupArn"]}
        ],
    )
    return arn


def test_load_balancer_is_deleted_and_recreated_from_its_saved_configuration(
    estate: Estate,
) -> None:
    arn = _load_balancer(estate, "promo-2023")
    ref = estate.ref("aws.elbv2.load_balancer", arn)

    plan = estate.adapter.plan("delete_load_balancer", ref)
    point = estate.adapter.capture_restore_point("delete_load_balancer", ref)
    done = estate.adapter.execute("delete_load_balancer", ref, point)
    verified = estate.adapter.verify("delete_load_balancer", ref, point)
    again = estate.adapter.execute("delete_load_balancer", ref, point)
    left = estate.elb.describe_load_balancers()["LoadBalancers"]

    assert plan.status == PLANNED
    assert "Will delete application load balancer promo-2023" in plan.detail
    assert (len(point["subnets"]), len(point["listeners"]), point["scheme"]) == (
        2,
        1,
        "internet-facing",
    )
    assert done.status == verified.status == again.status == SUCCEEDED
    assert left == []

    restored = estate.adapter.restore("delete_load_balancer", ref, point)

    new_arn = restored.restore_point["restored_arn"]
    recreated = estate.elb.describe_load_balancers(LoadBalancerArns=[new_arn])["LoadBalancers"]
    listeners = estate.elb.describe_listeners(LoadBalancerArn=new_arn)["Listeners"]
    assert restored.status == SUCCEEDED
    assert recreated[0]["LoadBalancerName"] == "promo-2023"
    assert [(x["Protocol"], x["Port"]) for x in listeners] == [("HTTP", 80)]


def test_load_balancer_with_deletion_protection_is_left_alone(estate: Estate) -> None:
    arn = _load_balancer(estate, "guarded")
    estate.elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}],
    )
    ref = estate.ref("aws.elbv2.load_balancer", arn)

    plan = estate.adapter.plan("delete_load_balancer", ref)
    outcome = estate.adapter.execute("delete_load_balancer", ref, {})

    assert plan.status == outcome.status == SKIPPED
    assert "deletion protection" in outcome.detail
    assert len(estate.elb.describe_load_balancers()["LoadBalancers"]) == 1


# -- errors, dry run, safety ---------------------------------------------------------------


def test_a_refused_api_call_fails_with_the_code_and_iam_action(
    proxy: FaultProxy, estate: Estate
) -> None:
    volume = estate.volume()
    ref = estate.ref("aws.ebs.volume", volume)
    through_proxy = adapter(proxy.url, estate.acct)
    point = through_proxy.capture_restore_point("snapshot_and_delete_volume", ref)
    proxy.fail("UnauthorizedOperation", service="ec2", operation="DeleteVolume")

    outcome = through_proxy.execute("snapshot_and_delete_volume", ref, point)

    assert outcome.status == FAILED
    assert outcome.detail.startswith(
        "UnauthorizedOperation: ec2:DeleteVolume failed during execute:"
    )
    assert estate.volume_exists(volume)


def test_a_refused_restore_point_raises_permission_denied_naming_the_action(
    proxy: FaultProxy, estate: Estate
) -> None:
    ref = estate.ref("aws.ebs.volume", estate.volume())
    proxy.fail("UnauthorizedOperation", service="ec2", operation="CreateSnapshot")

    with pytest.raises(PermissionDeniedError) as raised:
        adapter(proxy.url, estate.acct).capture_restore_point("snapshot_and_delete_volume", ref)

    assert raised.value.operation == "ec2:CreateSnapshot"
    assert raised.value.error_code == "UnauthorizedOperation"
    assert "Grant ec2:CreateSnapshot" in raised.value.remediation


def test_planning_every_action_changes_nothing(estate: Estate) -> None:
    volume = estate.volume()
    refs = {
        "stop_instance": estate.ref("aws.ec2.instance", run_instance(estate.ec2, "a")),
        "snapshot_and_delete_volume": estate.ref("aws.ebs.volume", volume),
        "modify_volume_to_gp3": estate.ref("aws.ebs.volume", volume),
        "release_address": estate.ref(
            "aws.ec2.address", estate.ec2.allocate_address(Domain="vpc")["AllocationId"]
        ),
        "delete_snapshot": estate.ref(
            "aws.ebs.snapshot", estate.ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
        ),
        "delete_load_balancer": estate.ref(
            "aws.elbv2.load_balancer", _load_balancer(estate, "idle")
        ),
    }
    planner = adapter(estate.endpoint, estate.acct)

    outcomes = {name: planner.plan(name, ref).status for name, ref in refs.items()}

    assert outcomes == dict.fromkeys(ACTIONS, PLANNED)
    assert planner.mutating_calls == 0
    assert sum(planner.api_calls.values()) > len(ACTIONS)


def test_credentials_reaching_another_account_are_refused(estate: Estate) -> None:
    volume = estate.volume()
    ref = estate.ref("aws.ebs.volume", volume)
    # No role registered for the account: the default credentials land in moto's own account.
    stranger = AwsAdapter(
        estate.adapter.session_factory, endpoint_url=estate.endpoint, max_attempts=1
    )

    plan = stranger.plan("snapshot_and_delete_volume", ref)

    assert plan.status == FAILED
    assert plan.detail.startswith(
        "WrongAccount: The credentials for account 111111111111 act in account 123456789012."
    )
    with pytest.raises(AdapterError, match="act in account 123456789012"):
        stranger.capture_restore_point("snapshot_and_delete_volume", ref)
    assert stranger.mutating_calls == 0
    assert estate.volume_exists(volume)


def test_unknown_actions_and_mismatched_resources_are_refused_clearly(estate: Estate) -> None:
    volume = estate.ref("aws.ebs.volume", "vol-0123")

    with pytest.raises(ConfigError, match="Unknown action 'terminate'") as unknown:
        estate.adapter.plan("terminate", volume)
    with pytest.raises(ConfigError, match="applies to aws.ec2.instance resources, not aws.ebs"):
        estate.adapter.plan("stop_instance", volume)

    assert "stop_instance" in unknown.value.remediation
