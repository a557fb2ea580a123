"""The sandbox AWS estate in moto: the demo's default and the tests' fixture.

``seed_sandbox(endpoint_url, now)`` builds two accounts (payments-prod, analytics-dev) in two
regions through the AWS API of a moto server: a read-only role in each account, about 160
resources mixing waste with healthy ones, CloudWatch datapoints for every metric the
inventory reads, and S3 buckets. It returns a ``SandboxManifest`` naming the accounts,
regions, expected counts per resource type and a few named resources.

moto stamps creation times with the wall clock and offers no API to change them; when the
server runs in this process (``start_moto_server``), seeding back-dates launch, creation and
stop times in moto's backend so ages look real (``manifest.backdated``).
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from adapters.aws.moto_server import start_moto_server
from adapters.aws.session import AssumeRoleSessionFactory, StaticCredentials, make_client
from fintropy.domain import CloudAccount, ResourceRef
from fintropy.errors import ConfigError

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from adapters.aws.adapter import AwsAdapter

logger = logging.getLogger(__name__)

SANDBOX_REGIONS = ("us-east-1", "eu-west-1")
ROLE_NAME = "FintropyReadOnly"
# Keys moto accepts; they only ever reach the local emulator.
SANDBOX_CREDENTIALS = StaticCredentials("testing", "testing")
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_METRIC_BATCH = 500

__all__ = [
    "ROLE_NAME",
    "SANDBOX_REGIONS",
    "SandboxManifest",
    "sandbox_accounts",
    "sandbox_adapter",
    "sandbox_session_factory",
    "seed_sandbox",
    "start_moto_server",
]


def sandbox_accounts() -> tuple[CloudAccount, ...]:
    """The sandbox's two accounts, each with its read-only role and both regions."""
    return tuple(
        CloudAccount(
            provider="aws",
            account_id=account_id,
            name=name,
            role_arn=f"arn:aws:iam::{account_id}:role/{ROLE_NAME}",
            regions=SANDBOX_REGIONS,
            environment=environment,
        )
        for account_id, name, environment in (
            ("111111111111", "payments-prod", "prod"),
            ("222222222222", "analytics-dev", "nonprod"),
        )
    )


@dataclass(frozen=True)
class SandboxManifest:
    """What ``seed_sandbox`` built.

    ``counts`` holds, per resource type, how many resources the inventory of all accounts
    and regions must report; ``counts_by_scope`` the same per "account_id/region" (S3
    buckets under their account's first region, where the inventory reports them).
    ``named`` maps roles ("unattached_gp2_volume", "idle_instance", ...) to resources.
    """

    endpoint_url: str
    seeded_at: str
    accounts: tuple[CloudAccount, ...]
    regions: tuple[str, ...]
    counts: dict[str, int]
    counts_by_scope: dict[str, dict[str, int]]
    named: dict[str, ResourceRef]
    backdated: bool
    seconds: float
    metric_datapoints: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        """The number of resources the inventory must report in all."""
        return sum(self.counts.values())

    def to_json(self) -> str:
        """The manifest as JSON (for a child process or a file)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SandboxManifest:
        """Rebuild a manifest from ``to_json`` output."""
        raw = json.loads(text)
        return cls(
            endpoint_url=raw["endpoint_url"],
            seeded_at=raw["seeded_at"],
            accounts=tuple(
                CloudAccount(**{**a, "regions": tuple(a["regions"])}) for a in raw["accounts"]
            ),
            regions=tuple(raw["regions"]),
            counts=raw["counts"],
            counts_by_scope=raw["counts_by_scope"],
            named={k: ResourceRef(**v) for k, v in raw["named"].items()},
            backdated=raw["backdated"],
            seconds=raw["seconds"],
            metric_datapoints=raw.get("metric_datapoints", 0),
            notes=tuple(raw.get("notes", ())),
        )


def sandbox_session_factory(endpoint_url: str) -> AssumeRoleSessionFactory:
    """A session factory that assumes the sandbox roles through moto's STS."""
    return AssumeRoleSessionFactory(
        endpoint_url=endpoint_url, base_credentials=SANDBOX_CREDENTIALS, max_attempts=2
    )


def sandbox_adapter(manifest: SandboxManifest, **options: Any) -> AwsAdapter:
    """An ``AwsAdapter`` reading and acting on the sandbox (accounts registered)."""
    from adapters.aws.adapter import AwsAdapter

    options.setdefault("max_attempts", 2)
    options.setdefault("poll_seconds", 0.2)
    options.setdefault("wait_seconds", 10.0)
    return AwsAdapter(
        sandbox_session_factory(manifest.endpoint_url),
        endpoint_url=manifest.endpoint_url,
        accounts=manifest.accounts,
        **options,
    )


def _check_endpoint(endpoint_url: str) -> None:
    parsed = urlparse(endpoint_url)
    if parsed.scheme != "http" or parsed.hostname not in _LOCAL_HOSTS:
        raise ConfigError(
            f"The sandbox is only seeded into a local moto server, not {endpoint_url!r}.",
            "Start one with adapters.aws.sandbox.start_moto_server() and pass its endpoint.",
        )


def seed_sandbox(endpoint_url: str, now: datetime, *, seed: int = 20240601) -> SandboxManifest:
    """Build the sandbox estate in the moto server at ``endpoint_url``; ages relative to ``now``.

    Raises ``ConfigError`` for a non-local endpoint, a naive ``now``, or a server that
    already holds the sandbox (reset it with ``POST /moto-api/reset`` first).
    """
    from adapters.aws.sandbox_estate import Cell
    from adapters.aws.sandbox_layout import build_buckets, build_nonprod, build_prod

    _check_endpoint(endpoint_url)
    if now.tzinfo is None:
        raise ConfigError("seed_sandbox needs a timezone-aware now.", "Pass datetime.now(UTC).")
    started = time.monotonic()
    factory = sandbox_session_factory(endpoint_url)
    accounts = sandbox_accounts()
    counts: Counter[str] = Counter()
    by_scope: dict[str, Counter[str]] = {}
    named: dict[str, ResourceRef] = {}
    backdate: list[tuple[str, str, str, str, datetime]] = []  # kind, account, region, id, when
    datapoints = 0

    for account in accounts:
        clients = _client_cache(factory, account, endpoint_url)
        _create_role(clients("iam", SANDBOX_REGIONS[0]), account)
        for octet, region in enumerate(SANDBOX_REGIONS, start=10):
            rng = random.Random(f"{seed}/{account.account_id}/{region}")
            cell = Cell(
                clients=lambda service, region=region, clients=clients: clients(service, region),
                account_id=account.account_id,
                region=region,
                environment=account.environment,
                now=now,
                rng=rng,
            )
            primary = region == SANDBOX_REGIONS[0]
            build = build_prod if account.environment == "prod" else build_nonprod
            build(cell, octet, primary)
            datapoints += _put_metrics(clients("cloudwatch", region), cell.metrics)
            counts.update(cell.counts)
            by_scope[f"{account.account_id}/{region}"] = Counter(cell.counts)
            named.update({k: v for k, v in cell.named.items() if k not in named})
            backdate += [(k, account.account_id, region, i, w) for k, i, w in cell.backdate]
        bucket_counts, bucket_named, bucket_metrics, bucket_dates = build_buckets(
            clients,
            account.account_id,
            account.environment,
            now,
            random.Random(f"{seed}/{account.account_id}/s3"),
        )
        counts.update(bucket_counts)
        by_scope[f"{account.account_id}/{SANDBOX_REGIONS[0]}"].update(bucket_counts)
        named.update(bucket_named)
        for region, points in bucket_metrics.items():
            datapoints += _put_metrics(clients("cloudwatch", region), {"AWS/S3": points})
        backdate += [(k, account.account_id, "global", i, w) for k, i, w in bucket_dates]

    backdated = _backdate(backdate)
    manifest = SandboxManifest(
        endpoint_url=endpoint_url,
        seeded_at=now.isoformat(),
        accounts=accounts,
        regions=SANDBOX_REGIONS,
        counts=dict(sorted(counts.items())),
        counts_by_scope={k: dict(sorted(v.items())) for k, v in sorted(by_scope.items())},
        named=dict(sorted(named.items())),
        backdated=backdated,
        seconds=round(time.monotonic() - started, 2),
        metric_datapoints=datapoints,
        notes=() if backdated else ("moto runs in another process: creation times are now",),
    )
    logger.info(
        "sandbox seeded",
        extra={"count": manifest.total, "duration_ms": round(manifest.seconds * 1000)},
    )
    return manifest


def _client_cache(
    factory: AssumeRoleSessionFactory, account: CloudAccount, endpoint_url: str
) -> Any:
    sessions: dict[str, Any] = {}
    cache: dict[tuple[str, str], BaseClient] = {}

    def client(service: str, region: str) -> BaseClient:
        if region not in sessions:
            sessions[region] = factory(account, region)
        if (service, region) not in cache:
            cache[(service, region)] = make_client(
                sessions[region], service, region, endpoint_url=endpoint_url, max_attempts=2
            )
        return cache[(service, region)]

    return client


def _create_role(iam: BaseClient, account: CloudAccount) -> None:
    from botocore.exceptions import ClientError

    from adapters.aws.inventory import read_permissions

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        iam.create_role(
            RoleName=ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="Fintropy reads the estate (and carries out approved actions)",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "EntityAlreadyExists":
            raise ConfigError(
                f"Account {account.account_id} at this endpoint already holds the sandbox.",
                "Reset moto (POST /moto-api/reset) or start a new server before seeding.",
            ) from exc
        raise
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": read_permissions(), "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName=ROLE_NAME, PolicyName="fintropy-read", PolicyDocument=json.dumps(policy)
    )


def _put_metrics(cloudwatch: BaseClient, metrics: dict[str, list[dict[str, Any]]]) -> int:
    sent = 0
    for namespace, points in sorted(metrics.items()):
        for first in range(0, len(points), _METRIC_BATCH):
            batch = points[first : first + _METRIC_BATCH]
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
            sent += len(batch)
    return sent


def _backdate(entries: list[tuple[str, str, str, str, datetime]]) -> bool:
    """Back-date creation and stop times in moto's in-process backends, when they hold them.

    Returns False (and changes nothing) when the server runs in another process.
    """
    if "moto.ec2.models" not in sys.modules or not entries:
        return False
    from moto.core.utils import iso_8601_datetime_with_milliseconds
    from moto.ec2.models import ec2_backends
    from moto.elbv2.models import elbv2_backends
    from moto.rds.models import rds_backends
    from moto.s3.models import s3_backends

    probe = next(e for e in entries if e[0] == "instance")
    local = ec2_backends[probe[1]][probe[2]].all_instances()
    if probe[3] not in {instance.id for instance in local}:
        return False

    for kind, account_id, region, resource_id, when in entries:
        plain = when.astimezone(UTC).replace(tzinfo=None)  # moto keeps naive UTC times
        if kind == "bucket":
            bucket = s3_backends[account_id]["aws"].buckets[resource_id]
            bucket.creation_date = when.astimezone(UTC)
        elif kind == "load_balancer":
            lb = elbv2_backends[account_id][region].load_balancers[resource_id]
            lb.created_time = iso_8601_datetime_with_milliseconds(plain)
        elif kind == "database":
            db = rds_backends[account_id][region].databases[resource_id]
            db.created = db.instance_create_time = plain
        elif kind in _SERVICE_BACKDATERS:
            _SERVICE_BACKDATERS[kind](account_id, region, resource_id, when.astimezone(UTC))
        else:
            _backdate_ec2(ec2_backends[account_id][region], kind, resource_id, plain)
    return True


def _backdate_function(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.awslambda.models import lambda_backends

    function = lambda_backends[account_id][region]._lambdas._functions[name]["latest"]
    function.last_modified = when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _backdate_table(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.dynamodb.models import dynamodb_backends

    dynamodb_backends[account_id][region].tables[name].created_at = when


def _backdate_log_group(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.logs.models import logs_backends

    logs_backends[account_id][region].groups[name].creation_time = when.replace(tzinfo=None)


def _backdate_repository(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.ecr.models import ecr_backends

    repository = ecr_backends[account_id][region].repositories[name]
    repository.created_at = when.replace(tzinfo=None)
    for image in repository.images:
        image.image_pushed_at = int(when.timestamp())


def _backdate_secret(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.secretsmanager.models import secretsmanager_backends

    secretsmanager_backends[account_id][region].secrets[name].created_date = int(when.timestamp())


def _backdate_cache_cluster(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.elasticache.models import elasticache_backends

    cluster = elasticache_backends[account_id][region].cache_clusters[name]
    cluster.cache_cluster_create_time = when.replace(tzinfo=None)


def _backdate_group(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.autoscaling.models import autoscaling_backends

    group = autoscaling_backends[account_id][region].autoscaling_groups[name]
    group.created_time = when.replace(tzinfo=None).isoformat()


def _backdate_redshift(account_id: str, region: str, name: str, when: datetime) -> None:
    from moto.redshift.models import redshift_backends

    cluster = redshift_backends[account_id][region].clusters[name]
    cluster.create_time = when.replace(tzinfo=None)


_SERVICE_BACKDATERS: dict[str, Any] = {
    "redshift_cluster": _backdate_redshift,
    "auto_scaling_group": _backdate_group,
    "function": _backdate_function,
    "table": _backdate_table,
    "log_group": _backdate_log_group,
    "repository": _backdate_repository,
    "secret": _backdate_secret,
    "cache_cluster": _backdate_cache_cluster,
}


def _backdate_ec2(ec2: Any, kind: str, resource_id: str, when: datetime) -> None:
    """Set one EC2 object's creation (or stop) time in moto's backend."""
    if kind == "instance":
        ec2.get_instance(resource_id).launch_time = when
    elif kind == "stop":
        reason = f"User initiated ({when:%Y-%m-%d %H:%M:%S} GMT)"  # AWS's wording
        ec2.get_instance(resource_id)._reason = reason
    elif kind == "volume":
        ec2.volumes[resource_id].create_time = when
    elif kind == "snapshot":
        ec2.snapshots[resource_id].start_time = when
    elif kind == "image":
        ec2.amis[resource_id].creation_date = when
    elif kind == "nat_gateway":
        ec2.nat_gateways[resource_id]._created_at = when
