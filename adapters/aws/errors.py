"""Translate botocore errors into Fintropy's error types and read errors.

AWS reports failures as error codes inside ``botocore.exceptions.ClientError``; this module
sorts those codes into the few kinds the rest of Fintropy acts on (permission, throttling,
not found, region not enabled) and names the IAM action that failed, so a user can fix a
policy without reading a stack trace. botocore is imported lazily, like everywhere in
``adapters.aws``.
"""

from __future__ import annotations

from typing import Any

from fintropy.domain import ReadError
from fintropy.errors import AdapterError, PermissionDeniedError

# Codes meaning "these credentials may not do this", across the services Fintropy calls.
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthFailure",
        "AuthorizationError",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
    }
)

# Codes meaning "slow down"; botocore's retry modes retry these with backoff first.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException",
    }
)

# Codes meaning the region is not enabled for the account.
OPT_IN_CODES = frozenset({"OptInRequired", "InvalidRegion"})

# IAM action prefixes that differ from the botocore service name.
_IAM_PREFIX = {"elbv2": "elasticloadbalancing", "monitoring": "cloudwatch"}

# S3 operations whose IAM action has another name.
_S3_IAM_ACTION = {
    "ListBuckets": "ListAllMyBuckets",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
    "GetBucketTagging": "GetBucketTagging",
}


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore error, or the exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    """The AWS error message of a botocore error, or the exception's text."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        message = response.get("Error", {}).get("Message")
        if message:
            return str(message)
    return str(exc)


def error_kind(code: str) -> str:
    """Normalise an AWS error code to the kind Fintropy reports.

    Returns "AccessDenied", "Throttling" or "OptInRequired" for those families, else the code.
    """
    if code in ACCESS_DENIED_CODES:
        return "AccessDenied"
    if code in THROTTLING_CODES:
        return "Throttling"
    if code in OPT_IN_CODES:
        return "OptInRequired"
    return code


def is_not_found(exc: BaseException) -> bool:
    """True when the error says the named resource does not exist."""
    code = error_code(exc)
    return code.endswith(".NotFound") or code.endswith("NotFound") or code == "NoSuchEntity"


def iam_action(service: str, operation: str) -> str:
    """The IAM action for a botocore service and operation ("ec2:DeleteVolume")."""
    prefix = _IAM_PREFIX.get(service, service)
    if service == "s3":
        operation = _S3_IAM_ACTION.get(operation, operation)
    return f"{prefix}:{operation}"


def read_error(
    account_id: str, region: str, service: str, operation: str, exc: BaseException
) -> ReadError:
    """A ``ReadError`` for a failed read, naming the IAM action and the AWS error code.

    The operation named by the error itself wins over ``operation`` (a read may make
    several calls).
    """
    code = error_code(exc)
    action = iam_action(service, getattr(exc, "operation_name", None) or operation)
    if code in ACCESS_DENIED_CODES:
        text = f"{action} was refused ({code}): {error_message(exc)}"
    elif code in THROTTLING_CODES:
        text = f"{action} was still throttled after retries ({code}): {error_message(exc)}"
    else:
        text = f"{action} failed ({code}): {error_message(exc)}"
    return ReadError(account_id, region, service, error_kind(code), text)


def translate(exc: BaseException, *, service: str, operation: str) -> AdapterError:
    """Turn a botocore error into ``AdapterError`` (``PermissionDeniedError`` for denials)."""
    code = error_code(exc)
    action = iam_action(service, getattr(exc, "operation_name", None) or operation)
    message = f"{action} failed ({code}): {error_message(exc)}"
    common: dict[str, Any] = {"provider": "aws", "operation": action, "error_code": code}
    if code in ACCESS_DENIED_CODES:
        return PermissionDeniedError(
            f"{action} was refused ({code}).",
            f"Grant {action} to the role Fintropy assumes in this account.",
            **common,
        )
    if code in THROTTLING_CODES:
        return AdapterError(
            message, "AWS throttled the request; it will be retried.", retryable=True, **common
        )
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return AdapterError(message, "", retryable=status >= 500, **common)
