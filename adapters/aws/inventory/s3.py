"""S3 inventory: buckets with their versioning, lifecycle and multipart-upload state.

Buckets are global to an account; the inventory reports them once (for the account's first
region) with ``region`` set to the bucket's own location, where its metrics also live.
"""

from __future__ import annotations

from typing import Any

from adapters.aws.errors import error_code
from adapters.aws.inventory.common import ReadContext, iso, tag_dict
from adapters.aws.session import paginate
from fintropy.domain import Resource

# Error codes meaning "this bucket has no such configuration", which is an answer, not a failure.
_ABSENT = {
    "NoSuchLifecycleConfiguration",
    "NoSuchTagSet",
    "NoSuchConfiguration",
}


def collect_buckets(ctx: ReadContext) -> list[Resource]:
    """Every S3 bucket of the account. A bucket whose settings cannot be read is withheld."""
    s3 = ctx.client("s3")
    buckets = ctx.read("s3", "ListBuckets", lambda: list(paginate(s3, "list_buckets", "Buckets")))
    out: list[Resource] = []
    for bucket in buckets or []:
        name = bucket["Name"]
        location = ctx.read("s3", "GetBucketLocation", lambda name=name: _location(s3, name))
        if location is None:
            ctx.withhold("s3", f"Bucket {name}", "s3:GetBucketLocation")
            continue
        regional = ctx.client("s3", location)
        details = ctx.read(
            "s3", "GetBucketLifecycleConfiguration", lambda c=regional, n=name: _details(c, n)
        )
        if details is None:
            ctx.withhold("s3", f"Bucket {name}", "its lifecycle, versioning and upload settings")
            continue
        tags, attrs = details
        attrs = {"creation_date": iso(bucket["CreationDate"]), **attrs}
        out.append(
            Resource(
                provider="aws",
                account_id=ctx.account.account_id,
                region=location,
                resource_type="aws.s3.bucket",
                resource_id=name,
                name=name,
                tags=tags,
                attrs=attrs,
            )
        )
    return out


def _location(s3: Any, name: str) -> str:
    constraint = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def _optional(call: Any, key: str, **params: Any) -> Any:
    """Call a Get/List operation; an "absent configuration" error gives an empty answer."""
    from botocore.exceptions import ClientError

    try:
        return call(**params).get(key) or []
    except ClientError as exc:
        if error_code(exc) in _ABSENT:
            return []
        raise


def _details(s3: Any, name: str) -> tuple[dict[str, str], dict[str, Any]]:
    rules = [
        r
        for r in _optional(s3.get_bucket_lifecycle_configuration, "Rules", Bucket=name)
        if r.get("Status") == "Enabled"
    ]
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status") or "Disabled"
    tiering = _optional(
        s3.list_bucket_intelligent_tiering_configurations,
        "IntelligentTieringConfigurationList",
        Bucket=name,
    )
    uploads = sum(1 for _ in paginate(s3, "list_multipart_uploads", "Uploads", Bucket=name))
    tags = tag_dict(_optional(s3.get_bucket_tagging, "TagSet", Bucket=name))
    attrs = {
        "versioning": versioning,
        "lifecycle_rule_count": len(rules),
        "has_noncurrent_expiration": any("NoncurrentVersionExpiration" in r for r in rules),
        "has_multipart_abort": any("AbortIncompleteMultipartUpload" in r for r in rules),
        "has_transition": any(
            r.get("Transitions") or r.get("NoncurrentVersionTransitions") for r in rules
        ),
        "intelligent_tiering_configs": len(tiering),
        "incomplete_multipart_uploads": uploads,
    }
    return tags, attrs
