"""Google Cloud BigQuery billing export to FOCUS (fixture built to the export schema)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from adapters.billing import focus, gcp
from fintropy.errors import ConfigError
from tests.adapters.billing.conftest import AZURE_EA, GCP_EXPORT


@pytest.fixture(scope="module")
def df() -> pl.DataFrame:
    return gcp.to_focus(GCP_EXPORT).collect()


def _native() -> pl.DataFrame:
    return pl.read_ndjson(GCP_EXPORT, schema=gcp.EXPORT_SCHEMA)


def _by_sku(df: pl.DataFrame, description: str) -> list[dict]:
    return df.filter(pl.col("SkuMeter") == description).to_dicts()


def test_export_normalizes_and_reconciles_with_cost_plus_credits(df: pl.DataFrame) -> None:
    native = _native()
    promotions = native.select(pl.col("credits").explode()).unnest("credits")
    promotions = promotions.filter(pl.col("type") == "PROMOTION")
    assert df.height == native.height + promotions.height
    assert focus.conformance_problems(df) == []

    credits = native.select(pl.col("credits").list.eval(pl.element().struct.field("amount")))
    invoice_total = Decimal(str(native["cost"].sum())) + Decimal(
        str(credits.to_series().explode().drop_nulls().sum())
    )
    assert abs(df["BilledCost"].sum() - invoice_total) < Decimal("1e-12")
    assert df["EffectiveCost"].sum() == df["BilledCost"].sum()


def test_discount_credits_reduce_the_row_and_promotions_become_credit_rows(
    df: pl.DataFrame,
) -> None:
    sud = df.filter(pl.col("ChargePeriodStart") == dt.datetime(2024, 5, 10, 11, tzinfo=dt.UTC))
    assert sud["BilledCost"].to_list() == [Decimal("0.1008")]  # 0.126 - 0.0252

    storage = _by_sku(df, "Standard Storage US Multi-region")[0]
    assert storage["BilledCost"] == Decimal("0.009")  # free tier folded in
    promo = df.filter(pl.col("ChargeCategory") == "Credit", pl.col("x_CreditType") == "PROMOTION")
    assert promo["BilledCost"].to_list() == [Decimal("-0.004")]
    assert promo["ResourceId"].to_list() == [storage["ResourceId"]]


def test_committed_use_discounts(df: pl.DataFrame) -> None:
    covered = df.filter(pl.col("CommitmentDiscountStatus") == "Used")
    assert covered.height == 2
    resource_cud = covered.filter(pl.col("CommitmentDiscountCategory") == "Usage").row(
        0, named=True
    )
    assert resource_cud["BilledCost"] == 0
    assert resource_cud["PricingCategory"] == "Committed"
    spend_cud = covered.filter(pl.col("CommitmentDiscountCategory") == "Spend").row(0, named=True)
    assert spend_cud["BilledCost"] == Decimal("0.062")
    fee = df.filter(pl.col("ChargeCategory") == "Purchase").row(0, named=True)
    assert fee["ChargeFrequency"] == "Recurring"
    assert fee["CommitmentDiscountId"] == resource_cud["CommitmentDiscountId"]


def test_cost_types_map_to_charge_categories(df: pl.DataFrame) -> None:
    by_type = dict(
        df.filter(pl.col("x_CreditType").is_null())
        .group_by("x_CostType")
        .agg(pl.col("ChargeCategory").unique().sort())
        .rows()
    )
    assert by_type["tax"] == ["Tax"]
    assert by_type["rounding_error"] == ["Adjustment"]
    assert by_type["adjustment"] == ["Credit", "Usage"]  # goodwill, usage correction
    tax = df.filter(pl.col("ChargeCategory") == "Tax").row(0, named=True)
    assert tax["SkuId"] is None
    assert tax["PricingCategory"] is None


def test_usage_correction_of_a_previous_month_is_a_correction(df: pl.DataFrame) -> None:
    correction = df.filter(pl.col("ChargeClass") == "Correction")
    assert correction.height == 1
    row = correction.row(0, named=True)
    assert row["ChargeCategory"] == "Usage"
    assert row["ChargePeriodStart"] < row["BillingPeriodStart"]


def test_invoice_month_is_a_pacific_time_month_in_utc(df: pl.DataFrame) -> None:
    may = dt.datetime(2024, 5, 1, 7, tzinfo=dt.UTC)
    june = dt.datetime(2024, 6, 1, 7, tzinfo=dt.UTC)
    early_june_utc = df.filter(
        pl.col("ChargePeriodStart") == dt.datetime(2024, 6, 1, 3, tzinfo=dt.UTC)
    )
    assert early_june_utc["BillingPeriodStart"].to_list() == [may]
    assert early_june_utc["BillingPeriodEnd"].to_list() == [june]
    assert set(df["BillingPeriodStart"]) == {may, june}


def test_tags_merge_labels_project_labels_system_labels_and_tags(df: pl.DataFrame) -> None:
    first = json.loads(df["Tags"][0])
    assert first == {
        "team": "checkout",
        "env": "prod",
        "project:cost-center": "cc-42",
        "compute.googleapis.com/machine_spec": "n2-standard-4",
        "111111111111/environment": "production",
    }
    storage = json.loads(_by_sku(df, "Standard Storage US Multi-region")[0]["Tags"])
    assert storage["public"] is True  # a label without a value


def test_resources_publishers_and_units(df: pl.DataFrame) -> None:
    vm = df.row(0, named=True)
    assert vm["ResourceType"] == "compute.googleapis.com/instances"
    assert vm["ResourceName"] == "web-1"
    assert (vm["PricingUnit"], vm["ConsumedUnit"]) == ("Hours", "Seconds")
    assert vm["ListCost"] == Decimal("0.1356")
    assert vm["ContractedCost"] == Decimal("0.126")
    market = _by_sku(df, "Acme Analytics Pro plan")[0]
    assert market["PublisherName"] == "Acme Analytics Inc."
    assert market["ProviderName"] == "Google Cloud"


def test_parquet_export_gives_the_same_rows(df: pl.DataFrame, tmp_path: Path) -> None:
    native = _native().with_columns(
        pl.col(name).str.replace(" UTC$", "").str.to_datetime(time_zone="UTC")
        for name in ("usage_start_time", "usage_end_time", "export_time")
    )
    path = tmp_path / "export.parquet"
    native.write_parquet(path)
    from_parquet = gcp.to_focus(path).collect()
    assert from_parquet.equals(df)


def test_a_file_of_another_export_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        gcp.to_focus(AZURE_EA)
    assert AZURE_EA.name in str(raised.value)
    assert "billing_account_id" in str(raised.value)
    wrong_json = tmp_path / "other.jsonl"
    wrong_json.write_text('{"id": 1}\n')
    with pytest.raises(ConfigError, match="usage_start_time"):
        gcp.to_focus(wrong_json)
