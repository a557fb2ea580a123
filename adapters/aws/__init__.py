"""AWS adapter: inventory, CloudWatch utilisation and remediation actions through boto3.

Importing this package is free: boto3 and botocore are imported inside the functions that
use them, and the public names below are loaded on first access.

- ``AwsAdapter`` (``adapters.aws.adapter``): ``collect``, ``collect_many``, ``plan``,
  ``capture_restore_point``, ``execute``, ``verify``, ``restore``.
- ``SessionFactory``, ``AssumeRoleSessionFactory``, ``make_client``, ``paginate``
  (``adapters.aws.session``).
- ``seed_sandbox``, ``SandboxManifest``, ``start_moto_server`` (``adapters.aws.sandbox``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AwsAdapter": "adapters.aws.adapter",
    "AssumeRoleSessionFactory": "adapters.aws.session",
    "SessionFactory": "adapters.aws.session",
    "StaticCredentials": "adapters.aws.session",
    "make_client": "adapters.aws.session",
    "paginate": "adapters.aws.session",
    "SandboxManifest": "adapters.aws.sandbox",
    "seed_sandbox": "adapters.aws.sandbox",
    "sandbox_adapter": "adapters.aws.sandbox",
    "start_moto_server": "adapters.aws.moto_server",
    "start_moto_process": "adapters.aws.moto_server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'adapters.aws' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
