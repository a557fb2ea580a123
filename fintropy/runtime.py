"""The composition root: wires adapters, persistence, chat and Temporal into a worker.

This is the one core module that reaches up into ``bot``, ``workflows`` and ``activities``,
and it does so lazily, inside functions, so ``import fintropy`` stays cheap and the layers
below never import the layers above.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything activities need, built once per process."""

    engine: Any
    chat: Any  # fintropy.ports.ChatPort
    token_secret: bytes
    aws_endpoint_url: str | None = None
    session_factory: Callable[..., Any] | None = None
    _adapters: dict[str, Any] = field(default_factory=dict)

    def adapter_for(self, account: Any) -> Any:
        """The cloud adapter for an account's provider, with the account registered."""
        if account.provider != "aws":
            from fintropy.errors import ConfigError

            raise ConfigError(f"No adapter for provider {account.provider!r}.", "Supported: aws.")
        if "aws" not in self._adapters:
            from adapters.aws import AwsAdapter

            self._adapters["aws"] = AwsAdapter(
                self.session_factory, endpoint_url=self.aws_endpoint_url
            )
        adapter = self._adapters["aws"]
        adapter.register_account(account)
        return adapter

    def issue_card_token(self, tenant_id: str, finding_id: str, card_id: str) -> str:
        """An opaque, signed token for a card's buttons."""
        from bot.tokens import issue_token

        return issue_token(self.token_secret, tenant_id, finding_id, "decide", card_id)

    def channel_for(self, tenant_id: str) -> str:
        """The channel a tenant's finding cards are posted to."""
        from fintropy.persistence import repo
        from fintropy.persistence.db import tenant_session

        kind = getattr(self.chat, "channel_kind", "console")
        with tenant_session(self.engine, tenant_id) as session:
            binding = repo.default_channel(session, tenant_id, kind)
            channel = binding.channel_id if binding is not None else None
        if channel is None:
            from fintropy.errors import ConfigError

            raise ConfigError(
                f"Tenant {tenant_id} has no default {kind} channel.",
                "Bind one with `fintropy tenant bind-channel`.",
            )
        return channel


def load_catalogue() -> Any:
    """The shipped rule catalogue (cached by the rules package)."""
    from rules import load_catalogue as _load

    return _load()


def workflow_classes() -> list[type]:
    """Every workflow the worker runs."""
    from workflows.exception_workflow import ExceptionWorkflow
    from workflows.finding_workflow import FindingWorkflow
    from workflows.restore_workflow import RestoreWorkflow
    from workflows.scan_workflow import ScanWorkflow

    return [ScanWorkflow, FindingWorkflow, RestoreWorkflow, ExceptionWorkflow]


def activity_functions(services: Services) -> list[Callable[..., Any]]:
    """Every activity the worker runs, bound to ``services``."""
    from activities.exceptions import ExceptionActivities
    from activities.findings import FindingActivities
    from activities.remediation import RemediationActivities
    from activities.scan import ScanActivities

    scan = ScanActivities(services.engine, services.adapter_for, load_catalogue)
    findings = FindingActivities(
        services.engine, services.chat, services.issue_card_token, services.channel_for
    )
    remediation = RemediationActivities(services.engine, services.adapter_for)
    exceptions = ExceptionActivities(services.engine, services.chat)
    return [
        exceptions.apply_exception,
        exceptions.expire_exception,
        scan.start_scan,
        scan.collect_inventory,
        scan.evaluate,
        findings.load_approval_context,
        findings.set_status,
        findings.post_card,
        findings.update_cards,
        findings.record_audit,
        findings.post_notice,
        remediation.start_run,
        remediation.finish_run,
        remediation.run_step,
        remediation.check_blast_radius,
    ]


def build_worker(client: Any, services: Services, task_queue: str, *, max_threads: int = 8) -> Any:
    """A Temporal worker for every Fintropy workflow and activity on ``task_queue``."""
    from temporalio.worker import Worker

    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflow_classes(),
        activities=activity_functions(services),
        activity_executor=concurrent.futures.ThreadPoolExecutor(max_workers=max_threads),
        # Let in-flight cloud calls finish on shutdown instead of cancelling them mid-way.
        graceful_shutdown_timeout=timedelta(seconds=10),
    )
