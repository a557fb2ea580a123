"""``AwsAdapter``: inventory and remediation actions for AWS accounts.

Built from an injectable session factory (the default assumes each account's role through
STS). Reads never raise for an AWS failure: every failed service or region comes back as a
``ReadError`` inside the ``Inventory``. Action steps return ``ActionOutcome`` objects; only
``capture_restore_point`` raises, because it has no outcome to carry a failure.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from adapters.aws.errors import error_code, error_message, iam_action, read_error, translate
from adapters.aws.session import (
    AssumeRoleSessionFactory,
    CallRecorder,
    SessionFactory,
    make_client,
)
from fintropy.domain import (
    ACTIONS,
    ActionOutcome,
    CloudAccount,
    Inventory,
    OutcomeStatus,
    ResourceRef,
)
from fintropy.errors import AdapterError, ConfigError

if TYPE_CHECKING:
    import boto3
    from botocore.client import BaseClient

    from adapters.aws.actions import ActionContext, AwsAction
    from adapters.aws.inventory.common import ClientGetter

logger = logging.getLogger(__name__)

_STS_OPERATIONS = ("AssumeRole", "GetCallerIdentity")


def _service_of(handler: AwsAction, operation: str) -> str:
    """The service a failed operation belongs to: STS for the credential calls."""
    return "sts" if operation in _STS_OPERATIONS else handler.service


class AwsAdapter:
    """Reads AWS inventories and carries out catalogue actions on AWS resources.

    ``max_attempts`` counts the first try (1 disables retries); throttled calls are retried
    with exponential backoff ("standard" retry mode, or "adaptive" for client-side rate
    limiting too). ``page_size`` asks paged list calls for smaller pages (tests). Accounts
    passed in ``accounts`` or collected once are remembered, so action steps on their
    resources assume the same role. ``mutating_calls`` counts every call that is not a
    Describe/List/Get/Head: a dry run (``plan``) leaves it unchanged.
    """

    provider = "aws"

    def __init__(
        self,
        session_factory: SessionFactory | None = None,
        *,
        endpoint_url: str | None = None,
        lookback_days: int = 14,
        max_attempts: int = 3,
        retry_mode: str = "standard",
        page_size: int | None = None,
        accounts: Iterable[CloudAccount] = (),
        poll_seconds: float = 15.0,
        wait_seconds: float = 1800.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Configure the adapter; nothing is called until ``collect`` or an action step."""
        if lookback_days < 1:
            raise ConfigError(
                f"lookback_days must be at least 1, not {lookback_days}.",
                "Use 14 (the window the metric names describe).",
            )
        if max_attempts < 1:
            raise ConfigError(
                f"max_attempts must be at least 1, not {max_attempts}.",
                "Use 1 to disable retries, or 3 to 10 for production.",
            )
        if retry_mode not in ("standard", "adaptive"):
            raise ConfigError(
                f"retry_mode must be 'standard' or 'adaptive', not {retry_mode!r}.",
                "Use 'standard' unless you need client-side rate limiting.",
            )
        self.endpoint_url = endpoint_url
        self.session_factory: SessionFactory = session_factory or AssumeRoleSessionFactory(
            endpoint_url=endpoint_url, max_attempts=max_attempts
        )
        self.lookback_days = lookback_days
        self.max_attempts = max_attempts
        self.retry_mode = retry_mode
        self.page_size = page_size
        self.poll_seconds = poll_seconds
        self.wait_seconds = wait_seconds
        self._clock = clock or (lambda: datetime.now(UTC))
        self.recorder = CallRecorder()
        self._lock = threading.Lock()
        self._accounts: dict[str, CloudAccount] = {a.account_id: a for a in accounts}
        self._verified: set[str] = set()

    # -- bookkeeping -------------------------------------------------------------------

    @property
    def mutating_calls(self) -> int:
        """How many estate-changing API calls this adapter has made."""
        return self.recorder.mutating_calls

    @property
    def api_calls(self) -> Counter[str]:
        """A copy of the per-operation call counts ("DescribeVolumes": 2, ...)."""
        return Counter(self.recorder.calls)

    def register_account(self, account: CloudAccount) -> None:
        """Remember how to reach ``account`` (its role) for later action steps."""
        with self._lock:
            self._accounts[account.account_id] = account

    def _clients(self, session: boto3.Session) -> ClientGetter:
        cache: dict[tuple[str, str], BaseClient] = {}

        def client_for(service: str, region: str) -> BaseClient:
            key = (service, region)
            if key not in cache:
                cache[key] = make_client(
                    session,
                    service,
                    region,
                    endpoint_url=self.endpoint_url,
                    max_attempts=self.max_attempts,
                    retry_mode=self.retry_mode,
                    recorder=self.recorder,
                )
            return cache[key]

        return client_for

    # -- inventory ---------------------------------------------------------------------

    def collect(
        self,
        account: CloudAccount,
        region: str,
        now: datetime,
        *,
        include_global: bool | None = None,
    ) -> Inventory:
        """The inventory of ``account`` in ``region``, metrics over the window ending at ``now``.

        S3 buckets are global: they are included when ``include_global`` is true, which by
        default means ``region`` is the account's first region (or the account lists none).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        from adapters.aws.inventory import collect_inventory
        from adapters.aws.inventory.common import ReadContext

        if include_global is None:
            include_global = not account.regions or region == account.regions[0]
        self.register_account(account)
        started = time.monotonic()
        try:
            session = self.session_factory(account, region)
        except (ClientError, BotoCoreError) as exc:
            error = read_error(account.account_id, region, "sts", "AssumeRole", exc)
            logger.warning(
                "account unreadable",
                extra={"provider": "aws", "account_id": account.account_id, "region": region},
            )
            return Inventory(account.account_id, region, (), (error,))
        ctx = ReadContext(account, region, self._clients(session), self.page_size)
        inventory = collect_inventory(
            ctx, now, include_global=include_global, lookback_days=self.lookback_days
        )
        logger.info(
            "inventory collected",
            extra={
                "provider": "aws",
                "account_id": account.account_id,
                "region": region,
                "count": len(inventory.resources),
                "errors": len(inventory.errors),
                "duration_ms": round((time.monotonic() - started) * 1000),
            },
        )
        return inventory

    def collect_many(
        self,
        accounts: Sequence[CloudAccount],
        regions: Sequence[str] | None,
        now: datetime,
        max_concurrency: int = 4,
    ) -> list[Inventory]:
        """Inventories for every account and region, ``max_concurrency`` at a time.

        ``regions`` applies to every account; None uses each account's own ``regions``.
        Results come in account order, then region order. S3 buckets are reported with each
        account's first region.
        """
        jobs: list[tuple[CloudAccount, str, bool]] = []
        for account in accounts:
            wanted = list(regions) if regions else list(account.regions)
            if not wanted:
                raise ConfigError(
                    f"Account {account.account_id} has no regions to scan.",
                    "Set regions on the account, or pass regions to collect_many.",
                )
            jobs += [(account, region, region == wanted[0]) for region in wanted]
        with ThreadPoolExecutor(max_workers=max(1, max_concurrency)) as pool:
            futures = [
                pool.submit(self.collect, account, region, now, include_global=first)
                for account, region, first in jobs
            ]
            return [future.result() for future in futures]

    # -- actions -----------------------------------------------------------------------

    def plan(self, action: str, ref: ResourceRef) -> ActionOutcome:
        """Dry run: PLANNED with what will be done, or SKIPPED with why. Changes nothing."""
        return self._step("plan", action, ref, {}, lambda h, ctx: h.plan(ctx))

    def capture_restore_point(self, action: str, ref: ResourceRef) -> dict[str, Any]:
        """Record what undoing needs (for a volume deletion: take the snapshot).

        Raises ``AdapterError`` (``PermissionDeniedError`` for denials) when it cannot.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        handler = self._handler(action, ref)
        try:
            ctx = self._context(ref)
            point = handler.capture(ctx)
        except (ClientError, BotoCoreError) as exc:
            operation = getattr(exc, "operation_name", "") or "capture"
            raise translate(
                exc, service=_service_of(handler, operation), operation=operation
            ) from exc
        logger.info(
            "restore point captured",
            extra={"provider": "aws", "action": action, "account_id": ref.account_id},
        )
        return point

    def execute(
        self, action: str, ref: ResourceRef, restore_point: dict[str, Any]
    ) -> ActionOutcome:
        """Carry the action out; already done is SUCCEEDED, an API error is FAILED."""
        return self._step(
            "execute", action, ref, restore_point, lambda h, ctx: h.execute(ctx, restore_point)
        )

    def verify(self, action: str, ref: ResourceRef, restore_point: dict[str, Any]) -> ActionOutcome:
        """Read the estate back and confirm the action's end state."""
        return self._step(
            "verify", action, ref, restore_point, lambda h, ctx: h.verify(ctx, restore_point)
        )

    def restore(
        self, action: str, ref: ResourceRef, restore_point: dict[str, Any]
    ) -> ActionOutcome:
        """Undo the action from its restore point."""
        return self._step(
            "restore", action, ref, restore_point, lambda h, ctx: h.restore(ctx, restore_point)
        )

    def _handler(self, action: str, ref: ResourceRef) -> AwsAction:
        from adapters.aws.actions import HANDLERS

        if action not in HANDLERS:
            raise ConfigError(
                f"Unknown action {action!r}.", f"Use one of: {', '.join(sorted(HANDLERS))}."
            )
        if ref.provider != "aws":
            raise ConfigError(
                f"The AWS adapter cannot act on a {ref.provider!r} resource.",
                "Send the action to the adapter of that provider.",
            )
        expected = ACTIONS[action].resource_type
        if ref.resource_type != expected:
            raise ConfigError(
                f"Action {action!r} applies to {expected} resources, not {ref.resource_type}.",
                "Pick the action the finding names.",
            )
        return HANDLERS[action]

    def _context(self, ref: ResourceRef) -> ActionContext:
        from adapters.aws.actions import ActionContext

        with self._lock:
            account = self._accounts.get(ref.account_id) or CloudAccount("aws", ref.account_id)
        clients = self._clients(self.session_factory(account, ref.region))
        self._check_identity(clients, ref)
        return ActionContext(
            ref=ref,
            client=lambda service: clients(service, ref.region),
            now=self._clock,
            poll_seconds=self.poll_seconds,
            wait_seconds=self.wait_seconds,
        )

    def _check_identity(self, clients: ClientGetter, ref: ResourceRef) -> None:
        """Refuse to act when the credentials reach another account than the resource's."""
        with self._lock:
            if ref.account_id in self._verified:
                return
        reached = clients("sts", ref.region).get_caller_identity()["Account"]
        if reached != ref.account_id:
            raise AdapterError(
                f"The credentials for account {ref.account_id} act in account {reached}.",
                "Register the account with its role_arn (collect it first, or pass it in "
                "AwsAdapter(accounts=...)) so Fintropy assumes the right role.",
                provider="aws",
                operation="sts:GetCallerIdentity",
                error_code="WrongAccount",
            )
        with self._lock:
            self._verified.add(ref.account_id)

    def _step(
        self,
        step: str,
        action: str,
        ref: ResourceRef,
        restore_point: dict[str, Any],
        run: Callable[[AwsAction, ActionContext], ActionOutcome],
    ) -> ActionOutcome:
        from botocore.exceptions import BotoCoreError, ClientError

        handler = self._handler(action, ref)
        try:
            outcome = run(handler, self._context(ref))
        except (ClientError, BotoCoreError) as exc:
            operation = getattr(exc, "operation_name", "") or step
            action_name = iam_action(_service_of(handler, operation), operation)
            detail = f"{error_code(exc)}: {action_name} failed during {step}: {error_message(exc)}"
            outcome = ActionOutcome(action, ref, OutcomeStatus.FAILED, detail, dict(restore_point))
        except AdapterError as exc:
            detail = f"{exc.error_code or exc.code}: {exc.message}"
            outcome = ActionOutcome(action, ref, OutcomeStatus.FAILED, detail, dict(restore_point))
        logger.info(
            "action step finished",
            extra={
                "provider": "aws",
                "action": action,
                "step": step,
                "status": str(outcome.status),
                "account_id": ref.account_id,
                "region": ref.region,
                "resource_id": ref.resource_id,
            },
        )
        return outcome
