"""Auto Scaling inventory: groups with their capacity settings and launch instance type."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_groups(ctx: ReadContext) -> list[Resource]:
    """Every Auto Scaling group in the region with the instance type it launches.

    The type comes from the group's launch template version or launch configuration; a
    group using a mixed instances policy reports ``None``. A group whose launch template
    cannot be read is withheld rather than reported without its type.
    """
    client = ctx.client("autoscaling")
    groups = ctx.read(
        "autoscaling",
        "DescribeAutoScalingGroups",
        lambda: list(
            paginate(
                client,
                "describe_auto_scaling_groups",
                "AutoScalingGroups",
                page_size=ctx.page_size,
            )
        ),
    )
    out: list[Resource] = []
    for group in groups or []:
        instance_type = _instance_type(ctx, client, group)
        if instance_type is False:
            ctx.withhold(
                "autoscaling",
                f"Auto Scaling group {group['AutoScalingGroupName']}",
                "its launch template or configuration",
            )
            continue
        out.append(_group(ctx, group, instance_type))
    return out


def _instance_type(ctx: ReadContext, client: Any, group: dict[str, Any]) -> str | None | bool:
    """The launched type, ``None`` when mixed or unknown, ``False`` when a read failed."""
    template = group.get("LaunchTemplate")
    if template:
        ec2 = ctx.client("ec2")
        ident = (
            {"LaunchTemplateId": template["LaunchTemplateId"]}
            if template.get("LaunchTemplateId")
            else {"LaunchTemplateName": template["LaunchTemplateName"]}
        )
        versions = ctx.read(
            "ec2",
            "DescribeLaunchTemplateVersions",
            lambda: ec2.describe_launch_template_versions(
                **ident, Versions=[template.get("Version") or "$Default"]
            ).get("LaunchTemplateVersions", []),
        )
        if versions is None:
            return False
        data = versions[0].get("LaunchTemplateData", {}) if versions else {}
        return data.get("InstanceType")
    name = group.get("LaunchConfigurationName")
    if name:
        configs = ctx.read(
            "autoscaling",
            "DescribeLaunchConfigurations",
            lambda: client.describe_launch_configurations(LaunchConfigurationNames=[name]).get(
                "LaunchConfigurations", []
            ),
        )
        if configs is None:
            return False
        return configs[0].get("InstanceType") if configs else None
    return None


def _group(ctx: ReadContext, group: dict[str, Any], instance_type: Any) -> Resource:
    tags = tag_dict(group.get("Tags"))
    name = group["AutoScalingGroupName"]
    attrs = {
        "min_size": int(group.get("MinSize", 0)),
        "max_size": int(group.get("MaxSize", 0)),
        "desired_capacity": int(group.get("DesiredCapacity", 0)),
        "instance_count": len(group.get("Instances", [])),
        "enabled_metrics_count": len(group.get("EnabledMetrics", [])),
        "instance_type": instance_type,
        "created_time": iso(group.get("CreatedTime")),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.autoscaling.group",
        resource_id=name,
        name=tags.get("Name") or name,
        tags=tags,
        attrs=attrs,
    )
