"""The sandbox estate's blueprint: what one account builds in one region, through the API.

``Cell`` builds a VPC, instances, volumes, snapshots, AMIs, Elastic IPs, NAT gateways, load
balancers and RDS instances for one account and region, records the CloudWatch datapoints
each resource should have, what should be back-dated, named resources tests and the demo
use, and how many resources of each type the inventory must find. ``seed_buckets`` does the
same for an account's (global) S3 buckets. Random choices come from a seeded generator, so
the same inputs build the same estate (AWS ids differ; the manifest names them).

CloudWatch datapoints are daily statistic sets (SampleCount 24, Sum, Minimum, Maximum of 24
generated hourly values) 14 days back: the same numbers daily queries would return for
hourly data, at a 24th of the datapoints, which keeps seeding and moto's GetMetricData fast.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fintropy.domain import ResourceRef

if TYPE_CHECKING:
    from botocore.client import BaseClient

LINUX_AMI = "ami-0c1a7f3e5b2d4a601"  # from adapters/aws/amis.json
WINDOWS_AMI = "ami-0d2b8e4f6c3e5b702"
METRIC_DAYS = 14
GIB = 1024**3


@dataclass
class Team:
    """Who owns a group of resources, as tags say."""

    name: str
    owner: str
    cost_center: str


@dataclass
class Cell:
    """Builds one account's resources in one region and records what it built."""

    clients: Callable[[str], BaseClient]  # service -> client in this account and region
    account_id: str
    region: str
    environment: str  # "prod" or "nonprod"
    now: datetime
    rng: random.Random
    metrics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    backdate: list[tuple[str, str, datetime]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    named: dict[str, ResourceRef] = field(default_factory=dict)
    image_snapshots: dict[str, list[str]] = field(default_factory=dict)

    # -- helpers -----------------------------------------------------------------------

    def ref(self, resource_type: str, resource_id: str, region: str | None = None) -> ResourceRef:
        """A reference to a resource this cell built."""
        return ResourceRef(
            "aws", self.account_id, region or self.region, resource_type, resource_id
        )

    def name(self, key: str, resource_type: str, resource_id: str) -> None:
        """Record a named resource for tests and the demo."""
        self.named[key] = self.ref(resource_type, resource_id)

    def ago(self, days: float) -> datetime:
        """``now`` minus ``days``."""
        return self.now - timedelta(days=days)

    def tags(self, name: str, team: Team, env: str, **extra: str) -> list[dict[str, str]]:
        """The tag list the estate's conventions give a resource."""
        values = {
            "Name": name,
            "env": env,
            "owner": team.owner,
            "team": team.name,
            "cost-center": team.cost_center,
            **extra,
        }
        return [{"Key": k, "Value": v} for k, v in values.items() if v]

    def series(
        self,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        hourly: Callable[[int], float],
        *,
        unit: str,
        days: int = METRIC_DAYS,
        skip_recent_days: int = 0,
    ) -> None:
        """Daily statistic sets of 24 generated hourly values for ``days`` days back."""
        dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
        points = self.metrics.setdefault(namespace, [])
        for day in range(skip_recent_days, days):
            values = [max(0.0, hourly(hour)) for hour in range(24)]
            points.append(
                {
                    "MetricName": metric,
                    "Dimensions": dims,
                    "Timestamp": self.now - timedelta(days=day, hours=12),
                    "StatisticValues": {
                        "SampleCount": 24.0,
                        "Sum": round(sum(values), 4),
                        "Minimum": round(min(values), 4),
                        "Maximum": round(max(values), 4),
                    },
                    "Unit": unit,
                }
            )

    def wave(self, mean: float, spread: float, cap: float | None = None) -> Callable[[int], float]:
        """Hourly values around ``mean``: a day/night swing plus noise."""

        def value(hour: int) -> float:
            swing = 0.35 if 8 <= hour <= 19 else -0.35
            v = mean * (1 + swing * spread) + self.rng.gauss(0, mean * 0.08 + 1e-9)
            return min(v, cap) if cap is not None else v

        return value

    # -- network -----------------------------------------------------------------------

    def network(self, octet: int) -> tuple[str, list[str]]:
        """A VPC with two subnets in two zones."""
        ec2 = self.clients("ec2")
        vpc = ec2.create_vpc(CidrBlock=f"10.{octet}.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.{octet}.{n}.0/24", AvailabilityZone=f"{self.region}{z}"
            )["Subnet"]["SubnetId"]
            for n, z in ((1, "a"), (2, "b"))
        ]
        return vpc, subnets

    # -- compute -----------------------------------------------------------------------

    def instance(
        self,
        name: str,
        instance_type: str,
        subnet: str,
        team: Team,
        env: str,
        *,
        cpu: float | None,
        root_gb: int = 30,
        root_type: str = "gp3",
        image: str = LINUX_AMI,
        age_days: float = 120,
        stopped_days: float | None = None,
    ) -> str:
        """Launch an instance (with its root volume); record CPU, network and disk metrics.

        ``cpu`` is the mean CPU percent while running; a stopped instance gets datapoints
        only for the days before it was stopped.
        """
        ec2 = self.clients("ec2")
        instance_id = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType=instance_type,
            SubnetId=subnet,
            BlockDeviceMappings=[
                {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": root_gb, "VolumeType": root_type}}
            ],
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": self.tags(name, team, env)},
                {"ResourceType": "volume", "Tags": self.tags(f"{name}-root", team, env)},
            ],
        )["Instances"][0]["InstanceId"]
        self.counts["aws.ec2.instance"] += 1
        self.counts["aws.ebs.volume"] += 1
        launched = self.ago(age_days)
        self.backdate.append(("instance", instance_id, launched))
        root = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
        root_volume = root["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
        self.backdate.append(("volume", root_volume, launched))
        skip = 0
        if stopped_days is not None:
            ec2.stop_instances(InstanceIds=[instance_id])
            self.backdate.append(("stop", instance_id, self.ago(stopped_days)))
            skip = int(stopped_days) + 1
        if cpu is not None and skip < METRIC_DAYS:
            dims = {"InstanceId": instance_id}
            self.series(
                "AWS/EC2",
                "CPUUtilization",
                dims,
                self.wave(cpu, 0.6, 100.0),
                unit="Percent",
                skip_recent_days=skip,
            )
            # bytes per hour: idle hosts only talk to monitoring (about 1 MB a day each way)
            traffic = 4e4 if cpu < 5 else (cpu / 100) ** 1.5 * 6e8
            for metric in ("NetworkIn", "NetworkOut"):
                self.series(
                    "AWS/EC2",
                    metric,
                    dims,
                    self.wave(traffic, 0.5),
                    unit="Bytes",
                    skip_recent_days=skip,
                )
            self.volume_activity(root_volume, cpu, skip)
        return instance_id

    def volume_activity(self, volume_id: str, cpu: float, skip: int = 0) -> None:
        """Disk operations in proportion to the attached instance's CPU."""
        ops = cpu * 400 + 5  # operations per hour
        dims = {"VolumeId": volume_id}
        for metric in ("VolumeReadOps", "VolumeWriteOps"):
            self.series(
                "AWS/EBS", metric, dims, self.wave(ops, 0.5), unit="Count", skip_recent_days=skip
            )

    def volume(
        self,
        name: str,
        volume_type: str,
        size_gb: int,
        team: Team,
        env: str,
        *,
        age_days: float,
        attach_to: str | None = None,
        device: str = "/dev/sdf",
        iops: int | None = None,
    ) -> str:
        """Create a volume, optionally attached to an instance."""
        ec2 = self.clients("ec2")
        params: dict[str, Any] = {
            "AvailabilityZone": f"{self.region}a",
            "Size": size_gb,
            "VolumeType": volume_type,
            "TagSpecifications": [{"ResourceType": "volume", "Tags": self.tags(name, team, env)}],
        }
        if iops:
            params["Iops"] = iops
        volume_id = ec2.create_volume(**params)["VolumeId"]
        if attach_to:
            ec2.attach_volume(VolumeId=volume_id, InstanceId=attach_to, Device=device)
        self.counts["aws.ebs.volume"] += 1
        self.backdate.append(("volume", volume_id, self.ago(age_days)))
        return volume_id

    def snapshot(self, volume_id: str, name: str, team: Team, env: str, age_days: float) -> str:
        """Snapshot a volume."""
        snapshot_id = self.clients("ec2").create_snapshot(
            VolumeId=volume_id,
            Description=f"{name} backup",
            TagSpecifications=[{"ResourceType": "snapshot", "Tags": self.tags(name, team, env)}],
        )["SnapshotId"]
        self.counts["aws.ebs.snapshot"] += 1
        self.backdate.append(("snapshot", snapshot_id, self.ago(age_days)))
        return snapshot_id

    def orphan_snapshot(
        self, name: str, size_gb: int, team: Team, env: str, age_days: float
    ) -> str:
        """A snapshot whose source volume has since been deleted."""
        volume_id = self.volume(f"{name}-src", "gp2", size_gb, team, env, age_days=age_days + 30)
        snapshot_id = self.snapshot(volume_id, name, team, env, age_days)
        self.clients("ec2").delete_volume(VolumeId=volume_id)
        self.counts["aws.ebs.volume"] -= 1
        self.backdate = [b for b in self.backdate if b[1] != volume_id]
        return snapshot_id

    def image(self, instance_id: str, name: str, team: Team, env: str, age_days: float) -> str:
        """Register an AMI from an instance; AWS (and moto) adds a backing snapshot."""
        ec2 = self.clients("ec2")
        image_id = ec2.create_image(
            InstanceId=instance_id,
            Name=name,
            TagSpecifications=[{"ResourceType": "image", "Tags": self.tags(name, team, env)}],
        )["ImageId"]
        self.counts["aws.ec2.image"] += 1
        self.counts["aws.ebs.snapshot"] += 1
        self.backdate.append(("image", image_id, self.ago(age_days)))
        mapping = ec2.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"]
        for device in mapping:
            snapshot_id = device.get("Ebs", {}).get("SnapshotId")
            if snapshot_id:
                self.backdate.append(("snapshot", snapshot_id, self.ago(age_days)))
                self.image_snapshots.setdefault(image_id, []).append(snapshot_id)
        return image_id

    def address(self, name: str, team: Team, env: str, instance_id: str | None = None) -> str:
        """Allocate an Elastic IP, optionally associated with an instance."""
        ec2 = self.clients("ec2")
        allocation = ec2.allocate_address(
            Domain="vpc",
            TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": self.tags(name, team, env)}],
        )["AllocationId"]
        if instance_id:
            ec2.associate_address(AllocationId=allocation, InstanceId=instance_id)
        self.counts["aws.ec2.address"] += 1
        return allocation

    def nat_gateway(
        self, name: str, subnet: str, team: Team, env: str, *, gb_per_day: float, conns: float
    ) -> str:
        """A NAT gateway with its Elastic IP and traffic metrics."""
        allocation = self.address(f"{name}-eip", team, env)
        nat_id = self.clients("ec2").create_nat_gateway(
            SubnetId=subnet,
            AllocationId=allocation,
            TagSpecifications=[{"ResourceType": "natgateway", "Tags": self.tags(name, team, env)}],
        )["NatGateway"]["NatGatewayId"]
        self.counts["aws.ec2.nat_gateway"] += 1
        self.backdate.append(("nat_gateway", nat_id, self.ago(300)))
        dims = {"NatGatewayId": nat_id}
        self.series(
            "AWS/NATGateway",
            "BytesOutToDestination",
            dims,
            self.wave(gb_per_day * GIB / 24, 0.5),
            unit="Bytes",
        )
        self.series(
            "AWS/NATGateway", "ActiveConnectionCount", dims, self.wave(conns, 0.5), unit="Count"
        )
        return nat_id

    def load_balancer(
        self,
        name: str,
        vpc: str,
        subnets: list[str],
        team: Team,
        env: str,
        *,
        targets: list[str],
        requests_per_day: float,
        age_days: float,
    ) -> str:
        """An application load balancer with one listener, one target group and traffic."""
        elb = self.clients("elbv2")
        arn = elb.create_load_balancer(
            Name=name,
            Subnets=subnets,
            Scheme="internet-facing",
            Type="application",
            Tags=self.tags(name, team, env),
        )["LoadBalancers"][0]["LoadBalancerArn"]
        group = elb.create_target_group(
            Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
        )["TargetGroups"][0]["TargetGroupArn"]
        if targets:
            elb.register_targets(TargetGroupArn=group, Targets=[{"Id": t} for t in targets])
        elb.create_listener(
            LoadBalancerArn=arn,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )
        self.counts["aws.elbv2.load_balancer"] += 1
        self.backdate.append(("load_balancer", arn, self.ago(age_days)))
        dims = {"LoadBalancer": arn.split(":loadbalancer/", 1)[1]}
        self.series(
            "AWS/ApplicationELB",
            "RequestCount",
            dims,
            self.wave(requests_per_day / 24, 0.6),
            unit="Count",
        )
        return arn

    def database(
        self,
        identifier: str,
        engine: str,
        instance_class: str,
        team: Team,
        env: str,
        *,
        cpu: float,
        connections: float,
        storage_gb: int = 100,
        multi_az: bool = False,
        age_days: float = 300,
    ) -> str:
        """An RDS instance with CPU and connection metrics."""
        self.clients("rds").create_db_instance(
            DBInstanceIdentifier=identifier,
            DBInstanceClass=instance_class,
            Engine=engine,
            MasterUsername="fintropy_admin",
            MasterUserPassword="sandbox-password-1",
            AllocatedStorage=storage_gb,
            StorageType="gp2",
            MultiAZ=multi_az,
            BackupRetentionPeriod=7,
            Tags=self.tags(identifier, team, env),
        )
        self.counts["aws.rds.instance"] += 1
        self.backdate.append(("database", identifier, self.ago(age_days)))
        dims = {"DBInstanceIdentifier": identifier}
        self.series("AWS/RDS", "CPUUtilization", dims, self.wave(cpu, 0.5, 100.0), unit="Percent")
        self.series(
            "AWS/RDS",
            "DatabaseConnections",
            dims,
            self.wave(connections, 0.4) if connections else (lambda hour: 0.0),
            unit="Count",
        )
        return identifier

    def launch_template(self, name: str, image_id: str, instance_type: str) -> str:
        """A launch template whose latest version uses ``image_id``."""
        return self.clients("ec2").create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData={"ImageId": image_id, "InstanceType": instance_type},
        )["LaunchTemplate"]["LaunchTemplateId"]

    # -- serverless, data and platform services ------------------------------------------

    def function(
        self,
        name: str,
        team: Team,
        env: str,
        *,
        memory_mb: int,
        architecture: str,
        invocations_per_day: float,
        error_share: float = 0.0,
        duration_ms: float = 120.0,
        age_days: float = 200,
    ) -> str:
        """A Lambda function (a tiny zip) with invocation, error and duration metrics."""
        import io
        import zipfile

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
        role = self._service_role("sandbox-lambda", "lambda.amazonaws.com")
        self.clients("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="handler.handle",
            Code={"ZipFile": buffer.getvalue()},
            MemorySize=memory_mb,
            Timeout=30,
            Architectures=[architecture],
            Tags={t["Key"]: t["Value"] for t in self.tags(name, team, env)},
        )
        self.counts["aws.lambda.function"] += 1
        self.backdate.append(("function", name, self.ago(age_days)))
        if invocations_per_day:
            dims = {"FunctionName": name}
            per_hour = invocations_per_day / 24
            self.series("AWS/Lambda", "Invocations", dims, self.wave(per_hour, 0.5), unit="Count")
            self.series(
                "AWS/Lambda",
                "Errors",
                dims,
                self.wave(per_hour * error_share, 0.5) if error_share else (lambda hour: 0.0),
                unit="Count",
            )
            self.series(
                "AWS/Lambda", "Duration", dims, self.wave(duration_ms, 0.2), unit="Milliseconds"
            )
        return name

    def table(
        self,
        name: str,
        team: Team,
        env: str,
        *,
        rcu: int | None,
        wcu: int | None,
        reads_per_second: float,
        writes_per_second: float,
        age_days: float = 300,
        autoscaled: bool = False,
    ) -> str:
        """A DynamoDB table (provisioned when ``rcu`` is given) with consumed-capacity metrics."""
        params: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "Tags": self.tags(name, team, env),
        }
        if rcu is not None:
            params["BillingMode"] = "PROVISIONED"
            params["ProvisionedThroughput"] = {
                "ReadCapacityUnits": rcu,
                "WriteCapacityUnits": wcu or 1,
            }
        else:
            params["BillingMode"] = "PAY_PER_REQUEST"
        self.clients("dynamodb").create_table(**params)
        if autoscaled and rcu is not None:
            self.clients("application-autoscaling").register_scalable_target(
                ServiceNamespace="dynamodb",
                ResourceId=f"table/{name}",
                ScalableDimension="dynamodb:table:ReadCapacityUnits",
                MinCapacity=max(1, rcu // 2),
                MaxCapacity=rcu * 4,
            )
        self.counts["aws.dynamodb.table"] += 1
        self.backdate.append(("table", name, self.ago(age_days)))
        dims = {"TableName": name}
        for metric, rate in (
            ("ConsumedReadCapacityUnits", reads_per_second),
            ("ConsumedWriteCapacityUnits", writes_per_second),
        ):
            self.series(
                "AWS/DynamoDB",
                metric,
                dims,
                self.wave(rate * 3600, 0.5) if rate else (lambda hour: 0.0),
                unit="Count",
            )
        return name

    def put_items(self, table: str, count: int) -> None:
        """Write ``count`` small items, so the table is not empty."""
        dynamodb = self.clients("dynamodb")
        for n in range(count):
            dynamodb.put_item(TableName=table, Item={"pk": {"S": f"item-{n}"}})

    def log_group(
        self,
        name: str,
        team: Team,
        env: str,
        *,
        retention_days: int | None,
        age_days: float,
        last_event_days: float | None,
    ) -> str:
        """A log group; ``last_event_days`` writes one stream with an event that long ago."""
        logs = self.clients("logs")
        logs.create_log_group(
            logGroupName=name, tags={t["Key"]: t["Value"] for t in self.tags(name, team, env)}
        )
        if retention_days is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
        if last_event_days is not None:
            logs.create_log_stream(logGroupName=name, logStreamName="main")
            when = self.ago(last_event_days)
            logs.put_log_events(
                logGroupName=name,
                logStreamName="main",
                logEvents=[{"timestamp": int(when.timestamp() * 1000), "message": "started"}],
            )
        self.counts["aws.logs.log_group"] += 1
        self.backdate.append(("log_group", name, self.ago(age_days)))
        return name

    def repository(
        self,
        name: str,
        team: Team,
        env: str,
        *,
        images: int,
        pushed_days: float,
        lifecycle: bool,
    ) -> str:
        """An ECR repository with ``images`` tagged images pushed ``pushed_days`` ago."""
        import json

        ecr = self.clients("ecr")
        ecr.create_repository(repositoryName=name, tags=self.tags(name, team, env))
        for n in range(images):
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": 7023,
                    "digest": f"sha256:{n:064x}",
                },
                "layers": [],
            }
            ecr.put_image(repositoryName=name, imageManifest=json.dumps(manifest), imageTag=f"v{n}")
        if lifecycle:
            policy = {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "any",
                            "countType": "imageCountMoreThan",
                            "countNumber": 20,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
            ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(policy))
        self.counts["aws.ecr.repository"] += 1
        self.backdate.append(("repository", name, self.ago(pushed_days)))
        return name

    def secret(self, name: str, team: Team, env: str, *, age_days: float, read: bool) -> str:
        """A Secrets Manager secret; ``read`` retrieves it once (so it counts as accessed)."""
        sm = self.clients("secretsmanager")
        arn = sm.create_secret(
            Name=name, SecretString="sandbox-value", Tags=self.tags(name, team, env)
        )["ARN"]
        if read:
            sm.get_secret_value(SecretId=arn)
        self.counts["aws.secretsmanager.secret"] += 1
        self.backdate.append(("secret", name, self.ago(age_days)))
        return arn

    def cache_cluster(
        self,
        identifier: str,
        node_type: str,
        engine_version: str,
        team: Team,
        env: str,
        *,
        age_days: float,
    ) -> str:
        """A single-node Redis cache cluster."""
        self.clients("elasticache").create_cache_cluster(
            CacheClusterId=identifier,
            Engine="redis",
            EngineVersion=engine_version,
            CacheNodeType=node_type,
            NumCacheNodes=1,
            Tags=self.tags(identifier, team, env),
        )
        self.counts["aws.elasticache.cluster"] += 1
        self.backdate.append(("cache_cluster", identifier, self.ago(age_days)))
        return identifier

    def eks_cluster(self, name: str, version: str, subnets: list[str], team: Team, env: str) -> str:
        """An EKS cluster on ``version``."""
        self.clients("eks").create_cluster(
            name=name,
            version=version,
            roleArn=self._service_role("sandbox-eks", "eks.amazonaws.com"),
            resourcesVpcConfig={"subnetIds": subnets},
            tags={t["Key"]: t["Value"] for t in self.tags(name, team, env)},
        )
        self.counts["aws.eks.cluster"] += 1
        return name

    def _service_role(self, name: str, principal: str) -> str:
        """The ARN of a role ``principal`` may assume, created on first use in the account."""
        import json

        from botocore.exceptions import ClientError

        iam = self.clients("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": principal},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))[
                "Role"
            ]["Arn"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "EntityAlreadyExists":
                raise
            return iam.get_role(RoleName=name)["Role"]["Arn"]

    def auto_scaling_group(
        self,
        name: str,
        instance_type: str,
        subnets: list[str],
        team: Team,
        env: str,
        *,
        capacity: tuple[int, int, int],
        group_metrics: bool,
        age_days: float = 120,
    ) -> str:
        """An Auto Scaling group (min, max, desired) on its own launch template.

        The instances the group launches (and their root volumes) are counted too.
        """
        template = self.launch_template(f"{name}-lt", LINUX_AMI, instance_type)
        autoscaling = self.clients("autoscaling")
        low, high, desired = capacity
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
            MinSize=low,
            MaxSize=high,
            DesiredCapacity=desired,
            VPCZoneIdentifier=",".join(subnets),
            Tags=[
                {
                    **tag,
                    "PropagateAtLaunch": True,
                    "ResourceId": name,
                    "ResourceType": "auto-scaling-group",
                }
                for tag in self.tags(name, team, env)
            ],
        )
        if group_metrics:
            autoscaling.enable_metrics_collection(AutoScalingGroupName=name, Granularity="1Minute")
        self.counts["aws.autoscaling.group"] += 1
        self.backdate.append(("auto_scaling_group", name, self.ago(age_days)))
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        instances = [i["InstanceId"] for i in group["AutoScalingGroups"][0].get("Instances", [])]
        if instances:
            found = self.clients("ec2").describe_instances(InstanceIds=instances)["Reservations"]
            for reservation in found:
                for instance in reservation["Instances"]:
                    self.counts["aws.ec2.instance"] += 1
                    self.counts["aws.ebs.volume"] += sum(
                        1 for device in instance.get("BlockDeviceMappings", []) if "Ebs" in device
                    )
        return name

    def warehouse_cluster(
        self, identifier: str, node_type: str, nodes: int, team: Team, env: str, *, age_days: float
    ) -> str:
        """A provisioned Redshift cluster."""
        params: dict[str, Any] = {
            "ClusterIdentifier": identifier,
            "NodeType": node_type,
            "MasterUsername": "fintropy",
            "MasterUserPassword": "Sandbox-password-1",
            "Tags": self.tags(identifier, team, env),
        }
        if nodes > 1:
            params.update(ClusterType="multi-node", NumberOfNodes=nodes)
        else:
            params["ClusterType"] = "single-node"
        self.clients("redshift").create_cluster(**params)
        self.counts["aws.redshift.cluster"] += 1
        self.backdate.append(("redshift_cluster", identifier, self.ago(age_days)))
        return identifier

    def hosted_zone(self, name: str, team: Team, env: str, *, records: int) -> str:
        """A public hosted zone with ``records`` A records besides its SOA and NS sets."""
        route53 = self.clients("route53")
        zone = route53.create_hosted_zone(Name=name, CallerReference=f"sandbox-{name}")
        zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
        route53.change_tags_for_resource(
            ResourceType="hostedzone", ResourceId=zone_id, AddTags=self.tags(name, team, env)
        )
        if records:
            route53.change_resource_record_sets(
                HostedZoneId=zone_id,
                ChangeBatch={
                    "Changes": [
                        {
                            "Action": "CREATE",
                            "ResourceRecordSet": {
                                "Name": f"host{n}.{name}",
                                "Type": "A",
                                "TTL": 300,
                                "ResourceRecords": [{"Value": f"10.0.0.{n + 1}"}],
                            },
                        }
                        for n in range(records)
                    ]
                },
            )
        self.counts["aws.route53.hosted_zone"] += 1
        return zone_id
