"""OCI cost report to FOCUS."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from adapters.billing import focus, oci
from fintropy.errors import ConfigError
from tests.adapters.billing.conftest import AWS_CUR2, OCI_REPORT


def test_public_report_normalizes_and_reconciles() -> None:
    native = pl.read_csv(OCI_REPORT, infer_schema=False)
    df = oci.to_focus(OCI_REPORT).collect()
    assert df.height == native.height == 506
    assert focus.conformance_problems(df) == []
    assert df["BilledCost"].sum() == native["cost/myCost"].cast(focus.DECIMAL).sum()
    assert set(df["ChargeCategory"]) == {"Usage"}


def test_timestamps_without_seconds_are_read_as_utc() -> None:
    df = oci.to_focus(OCI_REPORT).collect()
    starts = set(df["ChargePeriodStart"])
    assert min(starts) == dt.datetime(2023, 11, 13, 5, tzinfo=dt.UTC)
    assert max(starts) == dt.datetime(2023, 11, 13, 11, tzinfo=dt.UTC)
    hours = df.select((pl.col("ChargePeriodEnd") - pl.col("ChargePeriodStart")).unique())
    assert hours.to_series().to_list() == [dt.timedelta(hours=1)]
    assert set(df["BillingPeriodStart"]) == {dt.datetime(2023, 11, 1, tzinfo=dt.UTC)}
    assert set(df["BillingPeriodEnd"]) == {dt.datetime(2023, 12, 1, tzinfo=dt.UTC)}


def test_tag_columns_fold_into_json_with_their_namespaces() -> None:
    df = oci.to_focus(OCI_REPORT).collect()
    tagged = [json.loads(t) for t in df["Tags"].drop_nulls()]
    keys = set().union(*tagged)
    assert "Oracle-Tags.CreatedBy" in keys
    assert "Valtest.Cat" in keys
    assert df["Tags"].null_count() > 0  # untagged rows have null Tags, not {}


def test_prices_accounts_and_services() -> None:
    df = oci.to_focus(OCI_REPORT).collect()
    mismatch = df.filter((pl.col("ListCost") - pl.col("BilledCost")).abs().cast(pl.Float64) > 1e-12)
    assert mismatch.height == 0  # myCost = unitPrice x billedQuantity
    assert df["BillingAccountId"][0].startswith("ocid1.tenancy.")
    assert set(df["SubAccountType"]) == {"Compartment"}
    db = df.filter(pl.col("ServiceName") == "DATABASE").row(0, named=True)
    assert (db["ServiceCategory"], db["ResourceType"]) == ("Databases", "autonomousdatabase")


def test_is_correction_marks_correction_rows(tmp_path: Path) -> None:
    native = pl.read_csv(OCI_REPORT, infer_schema=False).head(4)
    native = native.with_columns(pl.Series("lineItem/isCorrection", ["true", "false"] * 2))
    path = tmp_path / "corrected.csv"
    native.write_csv(path)
    classes = oci.to_focus(path).collect()["ChargeClass"].to_list()
    assert classes == ["Correction", None, "Correction", None]


def test_a_file_of_another_export_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        oci.to_focus(AWS_CUR2)
    message = str(raised.value)
    assert "cur2_sample.csv" in message
    assert "cost/myCost" in message
    assert "OCI" in message


def test_gzipped_reports_are_read_as_delivered(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "reports_cost-csv_0000000030000269.csv.gz"
    path.write_bytes(gzip.compress(OCI_REPORT.read_bytes()))
    df = oci.to_focus(path).collect()
    assert df.height == 506
    assert df["BilledCost"].sum() == oci.to_focus(OCI_REPORT).collect()["BilledCost"].sum()
