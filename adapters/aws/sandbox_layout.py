"""What the sandbox estate contains: healthy resources mixed with the waste rules look for.

A production account (payments) and a non-production account (analytics), each in two
regions. Waste on purpose: idle and old-generation instances, long-stopped instances with
Elastic IPs, unattached gp2/io1/st1/sc1 volumes, attached gp2 volumes, old snapshots whose
volume is gone, unused AMIs, unassociated Elastic IPs, idle NAT gateways, load balancers with
no targets, idle databases, buckets without lifecycle rules. Healthy on purpose: busy
instances behind a busy load balancer, snapshots backing registered AMIs, recent backups,
busy NAT gateways and databases, buckets with complete lifecycle rules.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from adapters.aws.sandbox_estate import GIB, WINDOWS_AMI, Cell, Team
from fintropy.domain import ResourceRef

if TYPE_CHECKING:
    from botocore.client import BaseClient

PAYMENTS = Team("payments", "team-payments@example.com", "CC-1001")
PLATFORM = Team("platform", "team-platform@example.com", "CC-1002")
DATA = Team("data", "team-data@example.com", "CC-2001")
ML = Team("ml", "team-ml@example.com", "CC-2002")
UNOWNED = Team("", "", "")  # a resource nobody tagged

# A name a chat card must escape, on one instance and one volume.
AWKWARD_INSTANCE_NAME = "reporting <script>alert('x')</script> *bold* & co"
AWKWARD_VOLUME_NAME = "*scratch* & <tmp> _copy_"


def build_prod(cell: Cell, octet: int, primary: bool) -> None:
    """The payments-prod account in one region; ``primary`` adds the region-unique extras."""
    rng = cell.rng
    vpc, subnets = cell.network(octet)
    sa, sb = subnets
    env = "prod"

    web = [
        cell.instance(
            f"web-{n}",
            "m5.xlarge",
            sa,
            PAYMENTS,
            env,
            cpu=rng.uniform(45, 75),
            age_days=rng.uniform(200, 400),
        )
        for n in (1, 2)
    ]
    api = cell.instance(
        "api-1",
        "c5.2xlarge",
        sb,
        PAYMENTS,
        env,
        cpu=rng.uniform(40, 65),
        root_type="gp2",
        root_gb=50,
        age_days=310,
    )
    data = cell.volume("api-1-data", "gp2", 500, PAYMENTS, env, age_days=300, attach_to=api)
    cell.volume_activity(data, 55)
    proxy = cell.instance(
        "db-proxy", "r5.large", sb, PLATFORM, env, cpu=rng.uniform(40, 60), age_days=250
    )
    journal = cell.volume(
        "db-proxy-journal", "io1", 200, PLATFORM, env, age_days=250, attach_to=proxy, iops=4000
    )
    cell.volume_activity(journal, 50)
    batch = cell.instance(
        "batch-legacy",
        "m4.large",
        sa,
        PLATFORM,
        env,
        cpu=rng.uniform(1, 3),
        root_type="gp2",
        age_days=380,
    )
    reporting = cell.instance(
        AWKWARD_INSTANCE_NAME if primary else "reporting",
        "t2.medium",
        sa,
        PAYMENTS,
        env,
        cpu=rng.uniform(1, 3),
        root_type="gp2",
        age_days=500,
    )
    cell.instance(
        "win-ops",
        "m5.large",
        sb,
        PLATFORM,
        env,
        cpu=rng.uniform(20, 35),
        image=WINDOWS_AMI,
        root_gb=60,
        age_days=150,
    )
    etl = cell.instance(
        "old-etl",
        "m4.xlarge",
        sa,
        PAYMENTS,
        env,
        cpu=35,
        root_type="gp2",
        root_gb=100,
        age_days=600,
        stopped_days=45,
    )
    cell.instance(
        "spare-worker", "t3.medium", sb, PLATFORM, env, cpu=20, age_days=100, stopped_days=10
    )

    golden = cell.image(web[0], "payments-web-golden", PAYMENTS, env, age_days=60)
    web3 = cell.instance(
        "web-3", "m5.xlarge", sb, PAYMENTS, env, cpu=rng.uniform(45, 75), image=golden, age_days=50
    )
    cell.launch_template("payments-web", golden, "m5.xlarge")
    unused = cell.image(reporting, "reporting-2023-base", PAYMENTS, env, age_days=420)

    gp2 = cell.volume("orphaned-data", "gp2", 200, PAYMENTS, env, age_days=95)
    io1 = cell.volume("old-db-data", "io1", 500, PLATFORM, env, age_days=210, iops=5000)
    st1 = cell.volume("log-archive", "st1", 1000, PLATFORM, env, age_days=300)

    orphans = [
        cell.orphan_snapshot(f"retired-db-{n}", rng.choice([100, 200, 500]), PAYMENTS, env, age)
        for n, age in ((1, 200), (2, 130), (3, 40))
    ]
    cell.snapshot(data, "api-1-data-nightly", PAYMENTS, env, 1)
    cell.snapshot(journal, "db-proxy-journal-nightly", PLATFORM, env, 2)

    cell.address("web-1-eip", PAYMENTS, env, web[0])
    spare_ip = cell.address("reserved-for-migration", PLATFORM, env)
    etl_ip = cell.address("old-etl-eip", PAYMENTS, env, etl)

    busy_nat = primary
    nat = cell.nat_gateway(
        "prod-nat",
        sa,
        PLATFORM,
        env,
        gb_per_day=rng.uniform(80, 160) if busy_nat else 0.002,
        conns=rng.uniform(300, 900) if busy_nat else 0.3,
    )
    alb = cell.load_balancer(
        "payments-web",
        vpc,
        subnets,
        PAYMENTS,
        env,
        targets=[*web, web3],
        requests_per_day=rng.uniform(2e5, 6e5),
        age_days=400,
    )
    orders = cell.database(
        "orders-db",
        "postgres",
        "db.m5.large",
        PAYMENTS,
        env,
        cpu=rng.uniform(35, 60),
        connections=rng.uniform(40, 80),
        multi_az=True,
        storage_gb=500,
        age_days=700,
    )

    if primary:
        idle_alb = cell.load_balancer(
            "promo-2023", vpc, subnets, PAYMENTS, env, targets=[], requests_per_day=0, age_days=90
        )
        idle_db = cell.database(
            "legacy-reports-db",
            "mysql",
            "db.t2.medium",
            PAYMENTS,
            env,
            cpu=rng.uniform(1, 2),
            connections=0,
            age_days=900,
        )
        warehouse = cell.instance(
            "analytics-warehouse",
            "m5.12xlarge",
            sb,
            PLATFORM,
            env,
            cpu=rng.uniform(50, 70),
            age_days=200,
        )
        big = cell.volume(
            "warehouse-data", "gp3", 1500, PLATFORM, env, age_days=200, attach_to=warehouse
        )
        cell.volume_activity(big, 60)
        cold = cell.volume(
            "warehouse-cold",
            "st1",
            500,
            PLATFORM,
            env,
            age_days=200,
            attach_to=warehouse,
            device="/dev/sdg",
        )
        cell.volume_activity(cold, 0.2)
        hot = cell.volume(
            "warehouse-journal",
            "io1",
            900,
            PLATFORM,
            env,
            age_days=200,
            attach_to=warehouse,
            device="/dev/sdh",
            iops=40000,
        )
        cell.volume_activity(hot, 50)
        magnetic = cell.volume(
            "warehouse-scratch-2016",
            "standard",
            100,
            PLATFORM,
            env,
            age_days=200,
            attach_to=warehouse,
            device="/dev/sdi",
        )
        cell.volume_activity(magnetic, 20)
        cell.name("large_instance", "aws.ec2.instance", warehouse)
        cell.name("cold_st1_volume", "aws.ebs.volume", cold)
        cell.name("large_volume", "aws.ebs.volume", big)
        cell.name("idle_instance", "aws.ec2.instance", batch)
        cell.name("busy_instance", "aws.ec2.instance", web[0])
        cell.name("stopped_instance", "aws.ec2.instance", etl)
        cell.name("old_generation_instance", "aws.ec2.instance", reporting)
        cell.name("awkward_name_instance", "aws.ec2.instance", reporting)
        cell.name("unattached_gp2_volume", "aws.ebs.volume", gp2)
        cell.name("unattached_io1_volume", "aws.ebs.volume", io1)
        cell.name("unattached_st1_volume", "aws.ebs.volume", st1)
        cell.name("gp2_attached_volume", "aws.ebs.volume", data)
        cell.name("orphan_snapshot", "aws.ebs.snapshot", orphans[0])
        cell.name("ami_backing_snapshot", "aws.ebs.snapshot", cell.image_snapshots[golden][0])
        cell.name("used_ami", "aws.ec2.image", golden)
        cell.name("unused_ami", "aws.ec2.image", unused)
        cell.name("unassociated_eip", "aws.ec2.address", spare_ip)
        cell.name("eip_on_stopped_instance", "aws.ec2.address", etl_ip)
        cell.name("busy_nat_gateway", "aws.ec2.nat_gateway", nat)
        cell.name("busy_alb", "aws.elbv2.load_balancer", alb)
        cell.name("idle_alb", "aws.elbv2.load_balancer", idle_alb)
        cell.name("busy_rds", "aws.rds.instance", orders)
        cell.name("idle_rds", "aws.rds.instance", idle_db)
    else:
        cell.name("idle_nat_gateway", "aws.ec2.nat_gateway", nat)
    build_prod_services(cell, subnets, primary)


def build_prod_services(cell: Cell, subnets: list[str], primary: bool) -> None:
    """payments-prod's functions, tables, logs, images, secrets, caches and clusters."""
    env = "prod"
    webhook = cell.function(
        "payments-webhook",
        PAYMENTS,
        env,
        memory_mb=1024,
        architecture="x86_64",
        invocations_per_day=cell.rng.uniform(4e4, 6e4),
        duration_ms=250,
    )
    cell.function(
        "payments-reconcile",
        PAYMENTS,
        env,
        memory_mb=512,
        architecture="arm64",
        invocations_per_day=2000,
        duration_ms=900,
    )
    orders = cell.table(
        "orders",
        PAYMENTS,
        env,
        rcu=100,
        wcu=50,
        reads_per_second=60,
        writes_per_second=30,
        autoscaled=True,
    )
    cell.put_items(orders, 3)
    cell.log_group(
        "/aws/lambda/payments-webhook",
        PAYMENTS,
        env,
        retention_days=30,
        age_days=200,
        last_event_days=0.1,
    )
    cell.repository("payments-api", PAYMENTS, env, images=3, pushed_days=5, lifecycle=True)
    used = cell.secret("payments/db-password", PAYMENTS, env, age_days=45, read=True)
    cell.cache_cluster("payments-cache", "cache.r5.large", "7.1", PAYMENTS, env, age_days=30)
    if not primary:
        return
    idle = cell.function(
        "legacy-export",
        PAYMENTS,
        env,
        memory_mb=256,
        architecture="x86_64",
        invocations_per_day=0,
    )
    promo = cell.table(
        "promo-codes-2023",
        PAYMENTS,
        env,
        rcu=200,
        wcu=100,
        reads_per_second=0,
        writes_per_second=0,
        age_days=500,
    )
    noretention = cell.log_group(
        "/payments/app", PAYMENTS, env, retention_days=None, age_days=400, last_event_days=0.2
    )
    stale = cell.log_group(
        "/payments/legacy-batch",
        PAYMENTS,
        env,
        retention_days=90,
        age_days=500,
        last_event_days=200,
    )
    legacy_repo = cell.repository(
        "payments-legacy-ui", PAYMENTS, env, images=2, pushed_days=300, lifecycle=False
    )
    unused = cell.secret("payments/old-partner-key", PAYMENTS, env, age_days=400, read=False)
    legacy_cache = cell.cache_cluster(
        "sessions-legacy", "cache.m4.large", "5.0.6", PLATFORM, env, age_days=700
    )
    current = cell.eks_cluster("payments-eks", "1.34", subnets, PLATFORM, env)
    fixed = cell.auto_scaling_group(
        "payments-workers",
        "m5.large",
        subnets,
        PAYMENTS,
        env,
        capacity=(2, 2, 2),
        group_metrics=False,
    )
    warehouse = cell.warehouse_cluster("finance-dw", "ds2.xlarge", 2, PLATFORM, env, age_days=800)
    cell.warehouse_cluster("payments-dw", "ra3.xlplus", 2, PAYMENTS, env, age_days=40)
    cell.name("fixed_size_asg", "aws.autoscaling.group", fixed)
    cell.name("legacy_redshift_cluster", "aws.redshift.cluster", warehouse)
    cell.hosted_zone("payments.example.com", PAYMENTS, env, records=3)
    parked = cell.hosted_zone("promo-2023.example.com", PAYMENTS, env, records=0)
    cell.name("unused_hosted_zone", "aws.route53.hosted_zone", parked)
    cell.name("graviton_candidate_function", "aws.lambda.function", webhook)
    cell.name("idle_function", "aws.lambda.function", idle)
    cell.name("busy_table", "aws.dynamodb.table", orders)
    cell.name("unused_table", "aws.dynamodb.table", promo)
    cell.name("log_group_without_retention", "aws.logs.log_group", noretention)
    cell.name("stale_log_group", "aws.logs.log_group", stale)
    cell.name("repository_without_lifecycle", "aws.ecr.repository", legacy_repo)
    cell.name("unused_secret", "aws.secretsmanager.secret", unused)
    cell.name("used_secret", "aws.secretsmanager.secret", used)
    cell.name("legacy_cache_cluster", "aws.elasticache.cluster", legacy_cache)
    cell.name("current_eks_cluster", "aws.eks.cluster", current)


def build_nonprod(cell: Cell, octet: int, primary: bool) -> None:
    """The analytics-dev account in one region."""
    rng = cell.rng
    vpc, subnets = cell.network(octet)
    sa, sb = subnets

    ci = cell.instance(
        "ci-runner", "c5.xlarge", sa, DATA, "dev", cpu=rng.uniform(50, 70), age_days=200
    )
    for n in (1, 2, 3):
        cell.instance(
            f"dev-box-{n}",
            rng.choice(["t2.large", "t3.medium", "m4.large"]),
            sa,
            UNOWNED if n == 3 else rng.choice([DATA, ML]),
            "dev",
            cpu=rng.uniform(1, 4),
            root_type="gp2",
            age_days=rng.uniform(60, 300),
        )
    notebook = cell.instance(
        "ml-notebook",
        "m4.2xlarge",
        sb,
        ML,
        "test",
        cpu=rng.uniform(2, 5),
        root_type="gp2",
        root_gb=200,
        age_days=240,
    )
    scratch = cell.volume(
        "ml-notebook-scratch", "gp2", 300, ML, "test", age_days=240, attach_to=notebook
    )
    cell.volume_activity(scratch, 3)
    cell.instance("gpu-trainer", "g4dn.xlarge", sb, ML, "dev", cpu=rng.uniform(30, 60), age_days=90)
    old = cell.instance(
        "old-sandbox",
        "t2.xlarge",
        sa,
        DATA,
        "test",
        cpu=10,
        root_type="gp2",
        age_days=400,
        stopped_days=70,
    )
    cell.instance("demo-env", "m5.large", sb, ML, "test", cpu=15, age_days=120, stopped_days=20)

    golden = cell.image(ci, "ci-runner-golden", DATA, "dev", age_days=30)
    cell.launch_template("ci-runner", golden, "c5.xlarge")
    cell.image(notebook, "dev-box-image-2022", ML, "dev", age_days=600)

    cell.volume("tmp-export", "gp2", 100, DATA, "dev", age_days=45)
    cell.volume("ml-dataset-copy", "st1", 500, ML, "test", age_days=160)
    cell.volume("old-scratch", "sc1", 250, DATA, "test", age_days=365)
    if primary:
        awkward = cell.volume(AWKWARD_VOLUME_NAME, "gp2", 20, ML, "dev", age_days=33)
        cell.name("awkward_name_volume", "aws.ebs.volume", awkward)

    for n, age in ((1, 400), (2, 180), (3, 95)):
        cell.orphan_snapshot(f"experiment-{n}", rng.choice([50, 100, 250]), DATA, "test", age)
    cell.snapshot(scratch, "ml-notebook-scratch-weekly", ML, "test", 3)

    cell.address("dev-spare-1", DATA, "dev")
    cell.address("dev-spare-2", ML, "test")
    cell.address("old-sandbox-eip", DATA, "test", old)

    if primary:
        nat = cell.nat_gateway("dev-nat", sa, DATA, "dev", gb_per_day=0.05, conns=1)
        cell.load_balancer(
            "dev-tools",
            vpc,
            subnets,
            DATA,
            "dev",
            targets=[ci],
            requests_per_day=rng.uniform(800, 2000),
            age_days=150,
        )
        cell.database(
            "analytics-scratch",
            "postgres",
            "db.r5.large",
            DATA,
            "dev",
            cpu=rng.uniform(1, 3),
            connections=0,
            age_days=260,
        )
        staging_db = cell.database(
            "staging-orders",
            "postgres",
            "db.m5.large",
            DATA,
            "staging",
            cpu=rng.uniform(25, 40),
            connections=rng.uniform(5, 15),
            multi_az=True,
            age_days=150,
        )
        cell.name("idle_nat_gateway_nonprod", "aws.ec2.nat_gateway", nat)
        cell.name("multi_az_nonprod_rds", "aws.rds.instance", staging_db)
    else:
        cell.load_balancer(
            "test-alb", vpc, subnets, ML, "test", targets=[], requests_per_day=0, age_days=120
        )
        cell.database(
            "test-db",
            "mysql",
            "db.t3.small",
            ML,
            "test",
            cpu=rng.uniform(4, 8),
            connections=rng.uniform(1, 3),
            age_days=200,
        )
    build_nonprod_services(cell, subnets, primary)


def build_nonprod_services(cell: Cell, subnets: list[str], primary: bool) -> None:
    """analytics-dev's functions, tables, logs, images, secrets and clusters."""
    flaky = cell.function(
        "ingest-events",
        DATA,
        "dev",
        memory_mb=2048,
        architecture="x86_64",
        invocations_per_day=cell.rng.uniform(8e3, 1.2e4),
        error_share=0.25,
        duration_ms=1800,
    )
    cell.log_group(
        "/aws/lambda/ingest-events",
        DATA,
        "dev",
        retention_days=None,
        age_days=150,
        last_event_days=0.1,
    )
    features = cell.table(
        "feature-store",
        ML,
        "test",
        rcu=500,
        wcu=200,
        reads_per_second=4,
        writes_per_second=1,
        age_days=200,
    )
    cell.put_items(features, 5)
    cell.repository("ml-training", ML, "dev", images=4, pushed_days=20, lifecycle=False)
    cell.secret("analytics/warehouse-token", DATA, "dev", age_days=120, read=True)
    if not primary:
        return
    old = cell.eks_cluster("analytics-eks", "1.28", subnets, DATA, "dev")
    empty = cell.auto_scaling_group(
        "old-batch-asg",
        "m4.large",
        subnets,
        DATA,
        "dev",
        capacity=(0, 0, 0),
        group_metrics=True,
        age_days=400,
    )
    agents = cell.auto_scaling_group(
        "ci-agents", "t3.large", subnets, DATA, "dev", capacity=(1, 3, 1), group_metrics=True
    )
    cell.name("empty_asg", "aws.autoscaling.group", empty)
    cell.name("nonprod_asg", "aws.autoscaling.group", agents)
    cell.name("erroring_function", "aws.lambda.function", flaky)
    cell.name("overprovisioned_table", "aws.dynamodb.table", features)
    cell.name("old_eks_cluster", "aws.eks.cluster", old)


# (name suffix, region, versioning, lifecycle rules, size GB, objects, incomplete uploads)
BucketPlan = tuple[str, str, str | None, list[dict[str, Any]], float, float, int]

FULL_LIFECYCLE: list[dict[str, Any]] = [
    {
        "ID": "tiering-and-cleanup",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }
]
TRANSITION_ONLY: list[dict[str, Any]] = [
    {
        "ID": "archive",
        "Status": "Enabled",
        "Filter": {"Prefix": "raw/"},
        "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}],
    }
]
EXPIRE_ONLY: list[dict[str, Any]] = [
    {
        "ID": "expire-exports",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": 30},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
    }
]

BUCKETS: dict[str, list[BucketPlan]] = {
    "prod": [
        ("payments-prod-logs", "us-east-1", "Enabled", FULL_LIFECYCLE, 800, 2.1e6, 0),
        ("payments-prod-backups", "eu-west-1", "Enabled", [], 3100, 4.2e4, 0),
        ("payments-prod-static", "us-east-1", None, [], 5, 1.8e4, 0),
        ("payments-prod-datalake", "eu-west-1", None, TRANSITION_ONLY, 12500, 9.5e6, 3),
    ],
    "nonprod": [
        ("analytics-dev-scratch", "us-east-1", None, [], 2000, 3.3e5, 2),
        ("analytics-dev-exports", "eu-west-1", None, EXPIRE_ONLY, 150, 1.2e4, 0),
        ("analytics-dev-notebooks", "us-east-1", "Suspended", [], 40, 2.5e3, 0),
    ],
}


def build_buckets(
    clients: Callable[[str, str], BaseClient],
    account_id: str,
    environment: str,
    now: datetime,
    rng: random.Random,
) -> tuple[Counter[str], dict[str, ResourceRef], dict[str, list[dict[str, Any]]], list[Any]]:
    """An account's S3 buckets: (counts, named, metrics by region, back-dating entries)."""
    counts: Counter[str] = Counter()
    named: dict[str, ResourceRef] = {}
    metrics: dict[str, list[dict[str, Any]]] = {}
    backdate: list[tuple[str, str, datetime]] = []
    team = PAYMENTS if environment == "prod" else DATA
    env = "prod" if environment == "prod" else "dev"
    for prefix, region, versioning, rules, size_gb, objects, uploads in BUCKETS[environment]:
        name = f"{prefix}-{account_id}"
        s3 = clients("s3", region)
        params: dict[str, Any] = {"Bucket": name}
        if region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**params)
        s3.put_bucket_tagging(
            Bucket=name,
            Tagging={
                "TagSet": [
                    {"Key": "env", "Value": env},
                    {"Key": "owner", "Value": team.owner},
                    {"Key": "team", "Value": team.name},
                    {"Key": "cost-center", "Value": team.cost_center},
                ]
            },
        )
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": rules}
            )
        for n in range(uploads):
            s3.create_multipart_upload(Bucket=name, Key=f"uploads/part-{n}.parquet")
        counts["aws.s3.bucket"] += 1
        backdate.append(("bucket", name, now - timedelta(days=rng.uniform(100, 900))))
        points = metrics.setdefault(region, [])
        for day in range(14):
            when = now - timedelta(days=day, hours=12)
            grown = 1 - 0.002 * day
            for metric, storage, value, unit in (
                ("BucketSizeBytes", "StandardStorage", size_gb * GIB * grown, "Bytes"),
                ("NumberOfObjects", "AllStorageTypes", objects * grown, "Count"),
            ):
                points.append(
                    {
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "BucketName", "Value": name},
                            {"Name": "StorageType", "Value": storage},
                        ],
                        "Timestamp": when,
                        "Value": round(value),
                        "Unit": unit,
                    }
                )
        ref = ResourceRef("aws", account_id, region, "aws.s3.bucket", name)
        if prefix == "payments-prod-logs":
            named["bucket_with_lifecycle"] = ref
        elif prefix == "payments-prod-backups":
            named["bucket_without_lifecycle"] = ref
        elif prefix == "analytics-dev-scratch":
            named["bucket_with_incomplete_uploads"] = ref
    return counts, named, metrics, backdate
