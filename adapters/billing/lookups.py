"""Small lookup tables shipped with the billing adapters (service categories, regions, units).

The CSV files in ``adapters/billing/data/`` are copies of public MIT-licensed tables (see
``data/SOURCES.md``). They are read once per process and turned into dictionaries that the
converters apply as vectorised ``replace`` expressions.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

DATA_DIR = Path(__file__).parent / "data"

# ServiceSubcategory for the services seen most in AWS bills. Unlisted services get
# "Other (<category>)", which FOCUS allows for every category.
AWS_SUBCATEGORIES: dict[str, str] = {
    "AmazonEC2": "Virtual Machines",
    "AmazonECS": "Containers",
    "AmazonEKS": "Containers",
    "AWSLambda": "Serverless Compute",
    "AmazonS3": "Object Storage",
    "AmazonS3GlacierDeepArchive": "Backup Storage",
    "AmazonGlacier": "Backup Storage",
    "AmazonEFS": "File Storage",
    "AmazonFSx": "File Storage",
    "AWSBackup": "Backup Storage",
    "AmazonRDS": "Relational Databases",
    "AmazonAurora": "Relational Databases",
    "AmazonDynamoDB": "NoSQL Databases",
    "AmazonElastiCache": "Caching",
    "AmazonRedshift": "Data Warehouses",
    "AmazonCloudWatch": "Observability",
    "AWSCloudTrail": "Compliance",
    "AWSConfig": "Compliance",
    "AWSCostExplorer": "Cost Management",
    "AWSSupportBusiness": "Support",
    "AWSSupportEnterprise": "Support",
    "AWSDataTransfer": "Network Connectivity",
    "AmazonVPC": "Network Infrastructure",
    "AmazonCloudFront": "Content Delivery",
    "AmazonRoute53": "Network Routing",
    "AWSELB": "Application Networking",
    "AWSQueueService": "Messaging",
    "AmazonSNS": "Messaging",
    "AmazonMQ": "Messaging",
    "AmazonStates": "Workflow Orchestration",
    "AmazonApiGateway": "API Management",
    "AWSGlue": "Data Processing",
    "AmazonAthena": "Analytics Platforms",
    "AmazonKinesis": "Streaming Analytics",
    "AmazonES": "Search",
    "AWSSecretsManager": "Secret Management",
    "awskms": "Secret Management",
    "AmazonGuardDuty": "Threat Detection and Response",
    "AWSSecurityHub": "Security Posture Management",
    "AmazonCognito": "Identity and Access Management",
    "AmazonSageMaker": "Machine Learning",
    "AmazonBedrock": "Generative AI",
    "AWSCloudShell": "Development Environments",
    "AWSCodeCommit": "Source Code Management",
    "AWSCodePipeline": "Continuous Integration and Deployment",
}

# Product codes the copied category table lacks, seen in real bills.
AWS_CATEGORY_OVERRIDES: dict[str, str] = {
    "AWSCloudShell": "Developer Tools",
    "AmazonCognito": "Identity",
    "AWSSupportBusiness": "Management and Governance",
    "AWSSupportEnterprise": "Management and Governance",
}

# OCI product/service values (upper-case in cost reports) -> (category, subcategory).
OCI_SERVICES: dict[str, tuple[str, str]] = {
    "COMPUTE": ("Compute", "Virtual Machines"),
    "BLOCK_STORAGE": ("Storage", "Block Storage"),
    "OBJECTSTORE": ("Storage", "Object Storage"),
    "FILE_STORAGE": ("Storage", "File Storage"),
    "DATABASE": ("Databases", "Relational Databases"),
    "MYSQL": ("Databases", "Relational Databases"),
    "NOSQL": ("Databases", "NoSQL Databases"),
    "TELEMETRY": ("Management and Governance", "Observability"),
    "MONITORING": ("Management and Governance", "Observability"),
    "LOGGING": ("Management and Governance", "Observability"),
    "NETWORK": ("Networking", "Network Infrastructure"),
    "VCN": ("Networking", "Network Infrastructure"),
    "LOAD_BALANCER": ("Networking", "Application Networking"),
    "DNS": ("Networking", "Network Routing"),
    "KMS": ("Security", "Secret Management"),
    "VAULT": ("Security", "Secret Management"),
    "CLOUD_GUARD": ("Security", "Security Posture Management"),
    "FUNCTIONS": ("Compute", "Serverless Compute"),
    "OKE": ("Compute", "Containers"),
    "CONTAINER_ENGINE": ("Compute", "Containers"),
    "STREAMING": ("Analytics", "Streaming Analytics"),
    "DATA_SCIENCE": ("AI and Machine Learning", "Machine Learning"),
    "GENERATIVE_AI": ("AI and Machine Learning", "Generative AI"),
    "NOTIFICATIONS": ("Integration", "Messaging"),
    "API_GATEWAY": ("Integration", "API Management"),
    "INTEGRATION": ("Integration", "Workflow Orchestration"),
}


@cache
def aws_categories() -> dict[str, str]:
    """AWS product code -> FOCUS ServiceCategory."""
    table = pl.read_csv(DATA_DIR / "aws_category_mapping.csv", infer_schema=False)
    mapping = dict(zip(table["product_code"], table["ServiceCategory"], strict=True))
    mapping.update(AWS_CATEGORY_OVERRIDES)
    return mapping


@cache
def gcp_categories() -> dict[str, str]:
    """GCP service description -> FOCUS ServiceCategory."""
    table = pl.read_csv(DATA_DIR / "gcp_category_mapping.csv", infer_schema=False)
    return dict(zip(table["ConsumedService"], table["ServiceCategory"], strict=True))


@cache
def azure_services() -> pl.DataFrame:
    """Azure (ConsumedService, ResourceType) -> ServiceName, ServiceCategory, Subcategory.

    Keys are lower-cased; rows with an empty ResourceType are per-service defaults.
    """
    table = pl.read_csv(DATA_DIR / "Services.csv", infer_schema=False)
    return table.select(
        pl.col("ConsumedService").fill_null("").str.to_lowercase().alias("consumed_service"),
        pl.col("ResourceType").fill_null("").str.to_lowercase().alias("resource_type"),
        "ServiceName",
        "ServiceCategory",
        "ServiceSubcategory",
    ).unique(subset=["consumed_service", "resource_type"], keep="first", maintain_order=True)


@cache
def azure_service_by_type() -> dict[str, tuple[str, str, str]]:
    """Lower-cased ARM resource type -> (ServiceName, ServiceCategory, ServiceSubcategory)."""
    table = azure_services().filter(pl.col("resource_type") != "")
    table = table.unique(subset=["resource_type"], keep="first", maintain_order=True)
    return {
        row[0]: (row[1], row[2], row[3])
        for row in table.select(
            "resource_type", "ServiceName", "ServiceCategory", "ServiceSubcategory"
        ).iter_rows()
    }


@cache
def azure_service_by_consumed() -> dict[str, tuple[str, str, str]]:
    """Lower-cased ConsumedService -> (ServiceName, ServiceCategory, ServiceSubcategory)."""
    table = azure_services().filter(pl.col("consumed_service") != "")
    table = table.unique(subset=["consumed_service"], keep="first", maintain_order=True)
    return {
        row[0]: (row[1], row[2], row[3])
        for row in table.select(
            "consumed_service", "ServiceName", "ServiceCategory", "ServiceSubcategory"
        ).iter_rows()
    }


@cache
def azure_regions() -> dict[str, tuple[str, str]]:
    """Lower-cased Azure location string -> (RegionId, RegionName)."""
    table = pl.read_csv(DATA_DIR / "Regions.csv", infer_schema=False)
    table = table.with_columns(pl.col("OriginalValue").str.to_lowercase())
    table = table.unique(subset=["OriginalValue"], keep="first", maintain_order=True)
    return {
        row[0]: (row[1], row[2])
        for row in table.select("OriginalValue", "RegionId", "RegionName").iter_rows()
    }


@cache
def azure_pricing_units() -> dict[str, tuple[str, str]]:
    """Azure UnitOfMeasure -> (PricingBlockSize as text, FOCUS-style DistinctUnits)."""
    table = pl.read_csv(DATA_DIR / "PricingUnits.csv", infer_schema=False)
    table = table.unique(subset=["UnitOfMeasure"], keep="first", maintain_order=True)
    return {
        row[0]: (row[1], row[2])
        for row in table.select("UnitOfMeasure", "PricingBlockSize", "DistinctUnits").iter_rows()
    }
