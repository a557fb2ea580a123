"""Small builders shared by the AWS adapter tests."""

from __future__ import annotations

from typing import Any

from adapters.aws.adapter import AwsAdapter
from adapters.aws.sandbox import sandbox_session_factory
from fintropy.domain import CloudAccount

REGION = "us-east-1"
LINUX_AMI = "ami-0c1a7f3e5b2d4a601"


def account(account_id: str = "111111111111", regions: tuple[str, ...] = (REGION,)) -> CloudAccount:
    """A test account reached through its FintropyReadOnly role."""
    return CloudAccount(
        provider="aws",
        account_id=account_id,
        name=f"acct-{account_id[:3]}",
        role_arn=f"arn:aws:iam::{account_id}:role/FintropyReadOnly",
        regions=regions,
    )


def adapter(endpoint: str, *accounts: CloudAccount, **options: Any) -> AwsAdapter:
    """A fresh adapter (fresh credential cache: moto forgets keys on reset)."""
    options.setdefault("max_attempts", 1)
    options.setdefault("poll_seconds", 0.1)
    options.setdefault("wait_seconds", 5.0)
    return AwsAdapter(
        sandbox_session_factory(endpoint), endpoint_url=endpoint, accounts=accounts, **options
    )


def client(endpoint: str, service: str, acct: CloudAccount, region: str = REGION) -> Any:
    """A plain boto3 client acting in ``acct`` (for arranging and checking the estate)."""
    session = sandbox_session_factory(endpoint)(acct, region)
    return session.client(service, region_name=region, endpoint_url=endpoint)


def run_instance(ec2: Any, name: str, instance_type: str = "t3.micro") -> str:
    """Launch one tagged instance; return its id."""
    return ec2.run_instances(
        ImageId=LINUX_AMI,
        MinCount=1,
        MaxCount=1,
        InstanceType=instance_type,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
    )["Instances"][0]["InstanceId"]


def network(ec2: Any) -> tuple[str, list[str]]:
    """A VPC with two subnets in two zones."""
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{n}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for n, z in ((1, "a"), (2, "b"))
    ]
    return vpc, subnets
