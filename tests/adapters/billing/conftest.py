"""Paths of the billing fixtures (see tests/data/billing/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "billing"
AWS_LEGACY = DATA / "aws" / "sample-anonymous-aws-export-dataset.csv"
AWS_CUR2 = DATA / "aws" / "cur2_sample.csv"
AZURE_EA = DATA / "azure" / "sample-anonymous-ea-export-dataset.csv"
AZURE_EA_ACTUAL = DATA / "azure" / "EA_ActualCost_Small.csv"
AZURE_EA_AMORTIZED = DATA / "azure" / "EA_AmortizedCost_Small.csv"
AZURE_EA_EMPTY = DATA / "azure" / "EA_NoRows.csv"
AZURE_MCA_ACTUAL = DATA / "azure" / "mca_actual_sample.csv"
AZURE_MCA_AMORTIZED = DATA / "azure" / "mca_amortized_sample.csv"
GCP_EXPORT = DATA / "gcp" / "gcp_billing_export_resource_v1_sample.jsonl"
OCI_REPORT = DATA / "oci" / "reports_cost-csv_0000000030000269.csv"


@pytest.fixture
def data_dir() -> Path:
    """The billing fixture folder."""
    return DATA
