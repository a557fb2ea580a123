"""Fintropy's error hierarchy.

Every error carries a stable ``code``, a one-line ``message`` and a ``remediation`` sentence
telling the user how to fix it. Chat replies and CLI output show both.
"""

from __future__ import annotations


class FinOpsError(Exception):
    """Base of every error Fintropy raises on purpose."""

    code = "fintropy_error"

    def __init__(self, message: str, remediation: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remediation = remediation

    def __str__(self) -> str:
        return f"{self.message} {self.remediation}".strip()


class ConfigError(FinOpsError):
    """A rule, parameter, setting or tenant setup is invalid. Raised at load time."""

    code = "config_error"


class AdapterError(FinOpsError):
    """A cloud API call failed."""

    code = "adapter_error"

    def __init__(
        self,
        message: str,
        remediation: str = "",
        *,
        provider: str = "",
        operation: str = "",
        error_code: str = "",
        retryable: bool = False,
    ) -> None:
        super().__init__(message, remediation)
        self.provider = provider
        self.operation = operation
        self.error_code = error_code
        self.retryable = retryable


class PermissionDeniedError(AdapterError):
    """The credentials lack a permission; ``operation`` names the missing IAM action."""

    code = "permission_denied"


class RuleEvaluationError(FinOpsError):
    """A bug in a rule (never a data gap: gaps become skipped results)."""

    code = "rule_evaluation_error"


class ChatDeliveryError(FinOpsError):
    """A chat platform refused or failed to deliver a message."""

    code = "chat_delivery_error"


class NotFoundError(FinOpsError):
    """A finding, run or other object named by the user does not exist in this tenant."""

    code = "not_found"


class DecisionRefused(FinOpsError):
    """An approval or rejection was refused (role, self-approval, already decided...)."""

    code = "decision_refused"
