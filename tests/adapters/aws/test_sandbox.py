"""The sandbox estate: size, shape, roles, manifest, and the guards around seeding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.aws.sandbox import ROLE_NAME, SandboxManifest, seed_sandbox
from fintropy.errors import ConfigError
from tests.adapters.aws.helpers import account, client

ROOT = Path(__file__).resolve().parents[3]


def test_sandbox_has_two_accounts_two_regions_and_over_150_resources(
    sandbox: tuple[str, SandboxManifest],
) -> None:
    _, manifest = sandbox

    assert manifest.total >= 150
    assert [a.environment for a in manifest.accounts] == ["prod", "nonprod"]
    assert set(manifest.counts_by_scope) == {
        f"{a.account_id}/{r}" for a in manifest.accounts for r in manifest.regions
    }
    assert all(
        a.role_arn == f"arn:aws:iam::{a.account_id}:role/{ROLE_NAME}" for a in manifest.accounts
    )
    assert manifest.counts["aws.ec2.instance"] >= 30
    assert manifest.metric_datapoints > 1000
    assert manifest.seconds < 90


def test_each_account_holds_the_read_only_role(sandbox: tuple[str, SandboxManifest]) -> None:
    endpoint, manifest = sandbox

    roles = [
        client(endpoint, "iam", acct).get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
        for acct in manifest.accounts
    ]

    assert roles == [a.role_arn for a in manifest.accounts]


def test_moto_serves_only_the_two_catalogue_amis(sandbox: tuple[str, SandboxManifest]) -> None:
    endpoint, manifest = sandbox
    ec2 = client(endpoint, "ec2", manifest.accounts[0])

    public = [i["ImageId"] for i in ec2.describe_images()["Images"] if i.get("Public")]

    assert sorted(public) == ["ami-0c1a7f3e5b2d4a601", "ami-0d2b8e4f6c3e5b702"]


def test_manifest_survives_a_json_round_trip(sandbox: tuple[str, SandboxManifest]) -> None:
    _, manifest = sandbox

    again = SandboxManifest.from_json(manifest.to_json())

    assert again == manifest
    assert again.named["unattached_gp2_volume"].resource_type == "aws.ebs.volume"


def test_seeding_refuses_remote_endpoints_and_naive_times() -> None:
    with pytest.raises(ConfigError, match="only seeded into a local moto server"):
        seed_sandbox("https://ec2.us-east-1.amazonaws.com", datetime.now(UTC))
    with pytest.raises(ConfigError, match="timezone-aware"):
        seed_sandbox("http://127.0.0.1:5000", datetime(2026, 1, 1))


def test_seeding_an_endpoint_that_already_holds_the_sandbox_is_refused(moto_reset: str) -> None:
    iam = client(moto_reset, "iam", account("111111111111"))
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps({"Statement": []}))

    with pytest.raises(ConfigError, match="already holds the sandbox") as refused:
        seed_sandbox(moto_reset, datetime.now(UTC))

    assert "moto-api/reset" in refused.value.remediation


def test_importing_the_adapter_loads_no_sdk_and_the_server_helper_limits_amis() -> None:
    script = (
        "import os, sys\n"
        "import adapters.aws, adapters.aws.adapter, adapters.aws.sandbox, adapters.aws.actions\n"
        "sdks = ('boto3', 'botocore', 'moto')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in sdks)\n"
        "from adapters.aws.moto_server import use_small_ami_catalogue\n"
        "use_small_ami_catalogue()\n"
        "print(loaded, os.environ['MOTO_AMIS_PATH'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MOTO_AMIS_PATH"}

    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    loaded, path = result.stdout.split()
    assert loaded == "[]"
    assert path == str(ROOT / "adapters" / "aws" / "amis.json")
