"""ingest() and summary(): files in, partitioned FOCUS out, reports and cost summaries."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from adapters.billing import aws_cur, azure, focus, gcp, oci
from adapters.billing.ingest import ingest, summary
from adapters.billing.writer import scan_focus, write_focus
from fintropy.errors import ConfigError
from tests.adapters.billing.conftest import (
    AWS_CUR2,
    AWS_LEGACY,
    AZURE_EA,
    AZURE_EA_ACTUAL,
    AZURE_EA_AMORTIZED,
    AZURE_EA_EMPTY,
    GCP_EXPORT,
    OCI_REPORT,
)


@pytest.mark.parametrize(
    ("provider", "files", "rows_in", "rows_out", "periods"),
    [
        ("aws", [AWS_LEGACY], 1281, 1281, ("2023-11",)),
        # 14 CUR rows: one negation dropped, two unused-commitment rows added.
        ("aws", [AWS_CUR2], 14, 15, ("2024-03", "2024-04")),
        ("azure-actual", [AZURE_EA], 27, 27, ("2023-09",)),
        ("azure-amortized", [AZURE_EA_AMORTIZED], 28, 28, ("2023-09",)),
        ("azure", [AZURE_EA_ACTUAL, AZURE_EA_AMORTIZED], 28, 29, ("2023-09",)),
        # 13 export rows plus one promotional credit row.
        ("gcp", [GCP_EXPORT], 13, 14, ("2024-05", "2024-06")),
        ("oci", [OCI_REPORT], 506, 506, ("2023-11",)),
    ],
)
def test_each_provider_ingests_and_reconciles(
    tmp_path: Path,
    provider: str,
    files: list[Path],
    rows_in: int,
    rows_out: int,
    periods: tuple[str, ...],
) -> None:
    report = ingest(provider, files, tmp_path)

    assert (report.rows_in, report.rows_out, report.periods) == (rows_in, rows_out, periods)
    assert report.reconciled, (report.billed_cost, report.effective_cost, report.native_cost)
    assert report.problems == ()
    written = sorted(p.relative_to(tmp_path).parts[0] for p in map(Path, report.output_files))
    assert written == [f"billing_period={p}" for p in periods]
    assert focus.conformance_problems(scan_focus(tmp_path).collect()) == []


def test_an_export_without_rows_ingests_to_nothing(tmp_path: Path) -> None:
    report = ingest("azure-actual", [AZURE_EA_EMPTY], tmp_path)
    assert (report.rows_in, report.rows_out, report.output_files) == (0, 0, ())
    assert report.reconciled


def test_report_totals_are_per_currency(tmp_path: Path) -> None:
    ingest("azure-actual", [AZURE_EA], tmp_path)
    report = ingest("aws", [AWS_LEGACY], tmp_path)
    assert set(report.billed_cost) == {"USD"}
    assert report.billed_cost["USD"] == Decimal("1.6823086974")
    cad = [r for r in summary(tmp_path, by="provider") if r.currency == "CAD"]
    assert [(r.key, r.rows) for r in cad] == [("Microsoft", 27)]


def test_reingesting_the_same_file_replaces_its_rows(tmp_path: Path) -> None:
    ingest("oci", [OCI_REPORT], tmp_path)
    ingest("aws", [AWS_LEGACY], tmp_path)
    ingest("oci", [OCI_REPORT], tmp_path)
    rows = scan_focus(tmp_path).group_by("ProviderName").len().collect()
    assert dict(rows.rows()) == {"Oracle": 506, "AWS": 1281}


def test_csv_output_uses_focus_timestamps_and_reads_back(tmp_path: Path) -> None:
    report = ingest("gcp", [GCP_EXPORT], tmp_path, fmt="csv")
    first = Path(report.output_files[0])
    assert first.suffix == ".csv"
    header, row = first.read_text().splitlines()[:2]
    assert "BillingPeriodStart" in header
    assert "2024-05-01T07:00:00Z" in row
    back = scan_focus(tmp_path).collect()
    assert back.schema == focus.FOCUS_SCHEMA
    assert back["BilledCost"].sum() == report.billed_cost["USD"]


def test_write_focus_refuses_unknown_formats(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="parquet"):
        write_focus(pl.LazyFrame(), tmp_path, fmt="xlsx")


def test_unknown_provider_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        ingest("ibm", [AWS_LEGACY], tmp_path)
    assert "ibm" in str(raised.value)
    assert "aws" in str(raised.value)


def test_wrong_file_names_file_missing_columns_and_export_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        ingest("oci", [AZURE_EA], tmp_path)
    message = str(raised.value)
    assert AZURE_EA.name in message
    assert "lineItem/tenantId" in message
    assert "OCI cost report" in message
    assert not list(tmp_path.iterdir())


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        ingest("aws", [tmp_path / "nope.csv"], tmp_path)


def test_azure_pair_needs_actual_and_amortized_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="actual"):
        ingest("azure", [AZURE_EA], tmp_path)


def test_summary_by_service_account_and_tag(tmp_path: Path) -> None:
    ingest("aws", [AWS_CUR2], tmp_path)
    ingest("gcp", [GCP_EXPORT], tmp_path)

    services = summary(tmp_path, by="service")
    effective = [r.effective_cost for r in services]
    assert effective == sorted(effective, reverse=True)
    rds = next(r for r in services if r.key == "Amazon Relational Database Service")
    # covered hour at list 0.25, RI fee 74.40, unused part 15, upfront fee 500
    assert rds.list_cost == Decimal("0.25") + Decimal("74.40") + Decimal("15") + Decimal("500")
    # amortized: covered hour 0.15 + unused 15 (the fees themselves carry 0)
    assert rds.effective_cost == Decimal("15.15")
    assert rds.savings == rds.list_cost - rds.effective_cost

    accounts = {r.key: r for r in summary(tmp_path, by="account")}
    assert {"acme-prod", "Shop Production"} <= set(accounts)

    teams = {r.key: r for r in summary(tmp_path, by="tag:team")}
    assert teams["checkout"].rows == 10  # 2 AWS rows + 8 GCP rows
    assert None in teams  # untagged rows are kept, under no key
    total = sum(r.effective_cost for r in teams.values())
    assert total == sum(r.effective_cost for r in services)


def test_summary_refuses_unknown_groupings_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="tag:<key>"):
        summary(tmp_path, by="colour")
    with pytest.raises(ConfigError, match="No FOCUS data"):
        summary(tmp_path, by="service")


def _in_memory_fallbacks(lf: pl.LazyFrame) -> list[str]:
    """Nodes of the streaming plan that polars would run on its in-memory engine instead."""
    graph = lf.show_graph(engine="streaming", plan_stage="physical", raw_output=True)
    return [line for line in graph.splitlines() if 'fillcolor="0.0 0.3 1.0"' in line]


@pytest.mark.parametrize(
    "convert",
    [
        lambda: aws_cur.to_focus(AWS_CUR2),
        lambda: aws_cur.to_focus(AWS_LEGACY),
        lambda: azure.to_focus_combined(AZURE_EA_ACTUAL, AZURE_EA_AMORTIZED),
        lambda: gcp.to_focus(GCP_EXPORT),
        lambda: oci.to_focus(OCI_REPORT),
    ],
)
def test_conversions_run_entirely_on_the_streaming_engine(convert) -> None:  # noqa: ANN001
    """Bounded memory: no step falls back to polars' in-memory engine (which holds a whole
    column), and no scan feeds two branches (which would buffer the input)."""
    lf = convert()
    assert _in_memory_fallbacks(lf) == []
    assert "multiplexer" not in lf.show_graph(
        engine="streaming", plan_stage="physical", raw_output=True
    )
