"""ECR inventory: repositories with their images' size, push and pull times, lifecycle policy."""

from __future__ import annotations

from typing import Any

from adapters.aws.errors import error_code
from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource

GB = 1024**3


def collect_repositories(ctx: ReadContext) -> list[Resource]:
    """Every private ECR repository in the region; one whose details fail is withheld."""
    client = ctx.client("ecr")
    repos = ctx.read(
        "ecr",
        "DescribeRepositories",
        lambda: list(
            paginate(client, "describe_repositories", "repositories", page_size=ctx.page_size)
        ),
    )
    out: list[Resource] = []
    for repo in repos or []:
        name = repo["repositoryName"]
        images = ctx.read(
            "ecr",
            "DescribeImages",
            lambda name=name: list(
                paginate(client, "describe_images", "imageDetails", repositoryName=name)
            ),
        )
        policy = ctx.read("ecr", "GetLifecyclePolicy", lambda name=name: _has_policy(client, name))
        tags = ctx.read(
            "ecr",
            "ListTagsForResource",
            lambda arn=repo["repositoryArn"]: client.list_tags_for_resource(resourceArn=arn).get(
                "tags", []
            ),
        )
        if images is None or policy is None or tags is None:
            ctx.withhold("ecr", f"Repository {name}", "its images, lifecycle policy and tags")
            continue
        out.append(_repository(ctx, repo, images, policy, tag_dict(tags)))
    return out


def _has_policy(client: Any, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.get_lifecycle_policy(repositoryName=name)
    except ClientError as exc:
        if error_code(exc) == "LifecyclePolicyNotFoundException":
            return False
        raise
    return True


def _repository(
    ctx: ReadContext,
    repo: dict[str, Any],
    images: list[dict[str, Any]],
    has_policy: bool,
    tags: dict[str, str],
) -> Resource:
    pushed = [iso(i["imagePushedAt"]) for i in images if i.get("imagePushedAt")]
    pulled = [iso(i["lastRecordedPullTime"]) for i in images if i.get("lastRecordedPullTime")]
    attrs = {
        "created_at": iso(repo.get("createdAt")),
        "image_count": len(images),
        "total_image_gb": round(sum(int(i.get("imageSizeInBytes", 0)) for i in images) / GB, 6),
        "has_lifecycle_policy": has_policy,
        "last_pushed_at": max(pushed) if pushed else None,
        "last_pulled_at": max(pulled) if pulled else None,
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.ecr.repository",
        resource_id=repo["repositoryName"],
        name=tags.get("Name") or repo["repositoryName"],
        tags=tags,
        attrs=attrs,
    )
