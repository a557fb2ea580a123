"""EC2 and EBS inventory: instances, volumes, snapshots, AMIs, Elastic IPs, NAT gateways.

Several attributes join one list to another (a snapshot's source volume still exists, an
AMI is used by instances). When a list such a join needs could not be read, the dependent
type is withheld with a ``ReadError`` rather than reported with guessed values: a snapshot
reported as orphaned because the volume list failed would become a false finding.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from adapters.aws.inventory.common import ReadContext, iso, none_if_empty, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource

# "User initiated (2026-01-31 12:00:00 GMT)" in StateTransitionReason (moto writes "UTC").
_STOP_REASON = re.compile(r"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:GMT|UTC)\)")


def collect_ec2(ctx: ReadContext) -> list[Resource]:
    """All EC2 and EBS resources of the context's account and region."""
    ec2 = ctx.client("ec2")
    size = ctx.page_size
    account_id = ctx.account.account_id

    instances = ctx.read(
        "ec2",
        "DescribeInstances",
        lambda: [
            instance
            for reservation in paginate(ec2, "describe_instances", "Reservations", page_size=size)
            for instance in reservation["Instances"]
        ],
    )
    volumes = ctx.read(
        "ec2",
        "DescribeVolumes",
        lambda: list(paginate(ec2, "describe_volumes", "Volumes", page_size=size)),
    )
    # OwnerIds=self already limits real AWS to the account's own snapshots; the OwnerId
    # check also drops public AMI snapshots that emulators list under every account.
    snapshots = ctx.read(
        "ec2",
        "DescribeSnapshots",
        lambda: [
            snap
            for snap in paginate(
                ec2, "describe_snapshots", "Snapshots", page_size=size, OwnerIds=["self"]
            )
            if snap.get("OwnerId") in (None, account_id)
        ],
    )
    images = ctx.read(
        "ec2",
        "DescribeImages",
        lambda: list(paginate(ec2, "describe_images", "Images", page_size=size, Owners=["self"])),
    )
    templates = ctx.read(
        "ec2",
        "DescribeLaunchTemplateVersions",
        lambda: list(
            paginate(
                ec2,
                "describe_launch_template_versions",
                "LaunchTemplateVersions",
                page_size=size,
                Versions=["$Latest"],
            )
        ),
    )
    addresses = ctx.read("ec2", "DescribeAddresses", lambda: ec2.describe_addresses()["Addresses"])
    nat_gateways = ctx.read(
        "ec2",
        "DescribeNatGateways",
        lambda: list(paginate(ec2, "describe_nat_gateways", "NatGateways", page_size=size)),
    )

    out: list[Resource] = []
    states = {i["InstanceId"]: i["State"]["Name"] for i in instances or []}
    sizes = {v["VolumeId"]: int(v["Size"]) for v in volumes or []}

    if instances is not None and volumes is not None:
        out += [_instance(ctx, i, sizes) for i in instances]
    elif instances is not None:
        ctx.withhold("ec2", "EC2 instances", "ec2:DescribeVolumes (attached volume sizes)")

    if volumes is not None and instances is not None:
        out += [_volume(ctx, v, states) for v in volumes]
    elif volumes is not None:
        ctx.withhold("ec2", "EBS volumes", "ec2:DescribeInstances (attached instance states)")

    if snapshots is not None and volumes is not None and images is not None:
        users: dict[str, list[str]] = defaultdict(list)
        for image in images:
            for snapshot_id in _image_snapshots(image):
                users[snapshot_id].append(image["ImageId"])
        out += [_snapshot(ctx, s, set(sizes), users) for s in snapshots]
    elif snapshots is not None:
        needs = _failed({"ec2:DescribeVolumes": volumes, "ec2:DescribeImages": images})
        ctx.withhold("ec2", "EBS snapshots", f"{needs} (orphan checks)")

    if images is not None and instances is not None and templates is not None:
        launched: dict[str, list[str]] = defaultdict(list)
        for instance in instances:
            launched[instance.get("ImageId", "")].append(instance["InstanceId"])
        referenced: dict[str, list[str]] = defaultdict(list)
        for version in templates:
            image_id = version.get("LaunchTemplateData", {}).get("ImageId")
            if image_id:
                referenced[image_id].append(version["LaunchTemplateId"])
        snap_sizes = {s["SnapshotId"]: int(s.get("VolumeSize", 0)) for s in snapshots or []}
        out += [_image(ctx, img, launched, referenced, snap_sizes) for img in images]
    elif images is not None:
        needs = _failed(
            {"ec2:DescribeInstances": instances, "ec2:DescribeLaunchTemplateVersions": templates}
        )
        ctx.withhold("ec2", "AMIs", f"{needs} (usage checks)")

    if addresses is not None and instances is not None:
        out += [_address(ctx, a, states) for a in addresses]
    elif addresses is not None:
        ctx.withhold("ec2", "Elastic IPs", "ec2:DescribeInstances (instance states)")

    out += [_nat_gateway(ctx, n) for n in nat_gateways or [] if n.get("State") != "deleted"]
    return out


def _failed(reads: dict[str, Any]) -> str:
    """The names of the reads that failed (returned None), joined with "and"."""
    return " and ".join(name for name, result in reads.items() if result is None)


def _resource(
    ctx: ReadContext, resource_type: str, resource_id: str, raw_tags: Any, attrs: dict[str, Any]
) -> Resource:
    tags = tag_dict(raw_tags)
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type=resource_type,
        resource_id=resource_id,
        name=tags.get("Name", ""),
        tags=tags,
        attrs=attrs,
    )


def stopped_since(instance: dict[str, Any]) -> str | None:
    """When a stopped instance was stopped, from its state transition reason."""
    if instance["State"]["Name"] not in ("stopped", "stopping"):
        return None
    found = _STOP_REASON.search(instance.get("StateTransitionReason") or "")
    if not found:
        return None
    when = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return iso(when)


def _instance(ctx: ReadContext, i: dict[str, Any], sizes: dict[str, int]) -> Resource:
    volume_ids = [m["Ebs"]["VolumeId"] for m in i.get("BlockDeviceMappings", []) if "Ebs" in m]
    placement = i.get("Placement", {})
    attrs = {
        "state": i["State"]["Name"],
        "instance_type": i["InstanceType"],
        "launch_time": iso(i["LaunchTime"]),
        "stopped_since": stopped_since(i),
        "platform": "windows" if (i.get("Platform") or "").lower() == "windows" else "linux",
        "architecture": i.get("Architecture") or "x86_64",
        "tenancy": placement.get("Tenancy") or "default",
        "monitoring": (i.get("Monitoring") or {}).get("State") or "disabled",
        "lifecycle": "spot" if i.get("InstanceLifecycle") == "spot" else "on-demand",
        "availability_zone": placement.get("AvailabilityZone") or "",
        "vpc_id": none_if_empty(i.get("VpcId")),
        "image_id": none_if_empty(i.get("ImageId")),
        "public_ip": none_if_empty(i.get("PublicIpAddress")),
        "volume_ids": volume_ids,
        "attached_volume_gb": sum(sizes.get(v, 0) for v in volume_ids),
    }
    return _resource(ctx, "aws.ec2.instance", i["InstanceId"], i.get("Tags"), attrs)


def _volume(ctx: ReadContext, v: dict[str, Any], states: dict[str, str]) -> Resource:
    attached = [a["InstanceId"] for a in v.get("Attachments", []) if a.get("InstanceId")]
    attrs = {
        "state": v["State"],
        "volume_type": v["VolumeType"],
        "size_gb": int(v["Size"]),
        "iops": none_if_empty(v.get("Iops")),
        "throughput": none_if_empty(v.get("Throughput")),
        "create_time": iso(v["CreateTime"]),
        "availability_zone": v["AvailabilityZone"],
        "encrypted": bool(v.get("Encrypted", False)),
        "snapshot_id": none_if_empty(v.get("SnapshotId")),
        "attached_instance_ids": attached,
        "attached_instance_states": [states.get(i, "unknown") for i in attached],
    }
    return _resource(ctx, "aws.ebs.volume", v["VolumeId"], v.get("Tags"), attrs)


def _image_snapshots(image: dict[str, Any]) -> list[str]:
    return [
        m["Ebs"]["SnapshotId"]
        for m in image.get("BlockDeviceMappings", [])
        if m.get("Ebs", {}).get("SnapshotId")
    ]


def _snapshot(
    ctx: ReadContext, s: dict[str, Any], volume_ids: set[str], users: dict[str, list[str]]
) -> Resource:
    # Copied snapshots name the placeholder volume "vol-ffffffff".
    volume_id = none_if_empty(s.get("VolumeId"))
    if volume_id == "vol-ffffffff":
        volume_id = None
    attrs = {
        "state": s["State"],
        "start_time": iso(s["StartTime"]),
        "volume_id": volume_id,
        "volume_size_gb": int(s.get("VolumeSize", 0)),
        "source_volume_exists": volume_id in volume_ids,
        "used_by_image_ids": sorted(users.get(s["SnapshotId"], [])),
        "storage_tier": s.get("StorageTier") or "standard",
        "description": s.get("Description") or "",
    }
    return _resource(ctx, "aws.ebs.snapshot", s["SnapshotId"], s.get("Tags"), attrs)


def _image(
    ctx: ReadContext,
    img: dict[str, Any],
    launched: dict[str, list[str]],
    referenced: dict[str, list[str]],
    snap_sizes: dict[str, int],
) -> Resource:
    snapshot_ids = _image_snapshots(img)
    mapped = {
        m["Ebs"]["SnapshotId"]: int(m["Ebs"].get("VolumeSize") or 0)
        for m in img.get("BlockDeviceMappings", [])
        if m.get("Ebs", {}).get("SnapshotId")
    }
    attrs = {
        "state": img["State"],
        "creation_date": iso(img.get("CreationDate")) or "",
        "snapshot_ids": snapshot_ids,
        "snapshot_gb": sum(snap_sizes.get(s) or mapped.get(s, 0) for s in snapshot_ids),
        "used_by_instance_ids": sorted(launched.get(img["ImageId"], [])),
        "used_by_launch_templates": sorted(set(referenced.get(img["ImageId"], []))),
    }
    return _resource(ctx, "aws.ec2.image", img["ImageId"], img.get("Tags"), attrs)


def _address(ctx: ReadContext, a: dict[str, Any], states: dict[str, str]) -> Resource:
    instance_id = none_if_empty(a.get("InstanceId"))
    attrs = {
        "public_ip": a.get("PublicIp") or "",
        "allocation_id": a.get("AllocationId") or "",
        "association_id": none_if_empty(a.get("AssociationId")),
        "instance_id": instance_id,
        "instance_state": states.get(instance_id, "unknown") if instance_id else None,
        "network_interface_id": none_if_empty(a.get("NetworkInterfaceId")),
        "domain": a.get("Domain") or "vpc",
    }
    resource_id = a.get("AllocationId") or a.get("PublicIp") or ""
    return _resource(ctx, "aws.ec2.address", resource_id, a.get("Tags"), attrs)


def _nat_gateway(ctx: ReadContext, n: dict[str, Any]) -> Resource:
    attrs = {
        "state": n["State"],
        "create_time": iso(n["CreateTime"]),
        "vpc_id": n.get("VpcId") or "",
        "subnet_id": n.get("SubnetId") or "",
        "connectivity_type": n.get("ConnectivityType") or "public",
    }
    return _resource(ctx, "aws.ec2.nat_gateway", n["NatGatewayId"], n.get("Tags"), attrs)
