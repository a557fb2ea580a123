"""Secrets Manager inventory: secrets with their creation, last access and rotation."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_secrets(ctx: ReadContext) -> list[Resource]:
    """Every secret in the region (secrets scheduled for deletion are not listed)."""
    client = ctx.client("secretsmanager")
    found = ctx.read(
        "secretsmanager",
        "ListSecrets",
        lambda: list(paginate(client, "list_secrets", "SecretList", page_size=ctx.page_size)),
    )
    return [_secret(ctx, secret) for secret in found or []]


def _secret(ctx: ReadContext, secret: dict[str, Any]) -> Resource:
    tags = tag_dict(secret.get("Tags"))
    attrs = {
        "created_date": iso(secret.get("CreatedDate")),
        "last_accessed_date": iso(secret.get("LastAccessedDate")),
        "last_changed_date": iso(secret.get("LastChangedDate")),
        "rotation_enabled": bool(secret.get("RotationEnabled", False)),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.secretsmanager.secret",
        resource_id=secret["ARN"],
        name=tags.get("Name") or secret["Name"],
        tags=tags,
        attrs=attrs,
    )
