"""Lambda inventory: functions with their memory, timeout, runtime and architecture."""

from __future__ import annotations

from typing import Any

from adapters.aws.inventory.common import ReadContext, iso
from adapters.aws.session import paginate
from fintropy.domain import Resource


def collect_functions(ctx: ReadContext) -> list[Resource]:
    """Every Lambda function (latest version) in the region, with its tags.

    A function whose tags cannot be read is withheld: without them it would escape the
    ``fintropy:ignore`` exclusion and the environment-aware rules.
    """
    client = ctx.client("lambda")
    found = ctx.read(
        "lambda",
        "ListFunctions",
        lambda: list(paginate(client, "list_functions", "Functions", page_size=ctx.page_size)),
    )
    out: list[Resource] = []
    for fn in found or []:
        arn = fn["FunctionArn"]
        tags = ctx.read(
            "lambda", "ListTags", lambda arn=arn: client.list_tags(Resource=arn).get("Tags", {})
        )
        if tags is None:
            ctx.withhold("lambda", f"Function {fn['FunctionName']}", "its tags")
            continue
        out.append(_function(ctx, fn, dict(tags)))
    return out


def _function(ctx: ReadContext, fn: dict[str, Any], tags: dict[str, str]) -> Resource:
    architectures = fn.get("Architectures") or ["x86_64"]
    attrs = {
        "runtime": fn.get("Runtime"),
        "memory_mb": int(fn.get("MemorySize", 128)),
        "timeout_s": int(fn.get("Timeout", 3)),
        "architecture": architectures[0],
        "package_type": fn.get("PackageType", "Zip"),
        "last_modified": iso(fn.get("LastModified")),
        "code_size_bytes": int(fn.get("CodeSize", 0)),
    }
    return Resource(
        provider="aws",
        account_id=ctx.account.account_id,
        region=ctx.region,
        resource_type="aws.lambda.function",
        resource_id=fn["FunctionName"],
        name=tags.get("Name") or fn["FunctionName"],
        tags=tags,
        attrs=attrs,
    )
