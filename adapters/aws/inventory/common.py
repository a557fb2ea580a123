"""Helpers shared by the inventory readers: guarded reads, tags and timestamps."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from adapters.aws.errors import read_error
from fintropy.domain import CloudAccount, ReadError

if TYPE_CHECKING:
    from botocore.client import BaseClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

ClientGetter = Callable[[str, str], "BaseClient"]


@dataclass
class ReadContext:
    """What a reader needs for one account and region, and where its read errors go."""

    account: CloudAccount
    region: str
    client_for: ClientGetter  # (service, region) -> client
    page_size: int | None = None
    errors: list[ReadError] = field(default_factory=list)

    def client(self, service: str, region: str | None = None) -> BaseClient:
        """A client for ``service`` in ``region`` (this context's region by default)."""
        return self.client_for(service, region or self.region)

    def read(
        self, service: str, operation: str, fn: Callable[[], T], *, region: str | None = None
    ) -> T | None:
        """Run one read; on an AWS or transport error record a ``ReadError`` and return None."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except (ClientError, BotoCoreError) as exc:
            where = region or self.region
            error = read_error(self.account.account_id, where, service, operation, exc)
            self.errors.append(error)
            logger.warning(
                "service read failed",
                extra={
                    "provider": "aws",
                    "account_id": self.account.account_id,
                    "region": where,
                    "service": service,
                    "operation": operation,
                    "code": error.code,
                },
            )
            return None

    def withhold(self, service: str, what: str, needs: str) -> None:
        """Record that ``what`` is not reported because a read it depends on failed."""
        message = f"{what} not reported because {needs} could not be read."
        self.errors.append(
            ReadError(
                self.account.account_id, self.region, service, "DependencyUnavailable", message
            )
        )


def iso(value: datetime | str | None) -> str | None:
    """An ISO-8601 UTC string ("2026-01-31T12:00:00+00:00") from an SDK timestamp."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.replace("Z", "+00:00")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def tag_dict(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    """AWS ``[{"Key": k, "Value": v}]`` tags as a plain dict."""
    return {t["Key"]: t.get("Value", "") for t in tags or [] if "Key" in t}


def none_if_empty(value: Any) -> Any:
    """``None`` for missing or empty-string SDK fields, the value otherwise."""
    return None if value in (None, "") else value
