"""AWS CUR (legacy and 2.0) to FOCUS: the public sample, and each mapping decision."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from adapters.billing import aws_cur, focus
from fintropy.errors import ConfigError
from tests.adapters.billing.conftest import AWS_CUR2, AWS_LEGACY


def _row(df: pl.DataFrame, line_item_type: str, part: int = 0) -> dict:
    rows = df.filter(pl.col("x_LineItemType") == line_item_type).to_dicts()
    return rows[part]


@pytest.fixture(scope="module")
def cur2() -> pl.DataFrame:
    return aws_cur.to_focus(AWS_CUR2).collect()


def test_legacy_sample_normalizes_and_reconciles() -> None:
    native = pl.read_csv(AWS_LEGACY, infer_schema=False)
    df = aws_cur.to_focus(AWS_LEGACY).collect()

    assert df.height == native.height == 1281
    assert focus.conformance_problems(df) == []
    native_total = native["lineItem/UnblendedCost"].cast(focus.DECIMAL).sum()
    assert df["BilledCost"].sum() == native_total
    assert df["ChargeCategory"].value_counts().sort("ChargeCategory").rows() == [
        ("Tax", 12),
        ("Usage", 1269),
    ]
    # 12-digit account IDs stay strings, the invoicing entity is kept beside the issuer.
    assert df["BillingAccountId"].unique().to_list() == ["123412340534"]
    assert df["x_InvoicingEntity"].unique().to_list() == ["Amazon Web Services Canada, Inc."]


def test_legacy_sample_timestamps_are_utc_and_periods_exclusive() -> None:
    df = aws_cur.to_focus(AWS_LEGACY).collect()
    assert df["BillingPeriodStart"].unique().to_list() == [dt.datetime(2023, 11, 1, tzinfo=dt.UTC)]
    assert df["BillingPeriodEnd"].unique().to_list() == [dt.datetime(2023, 12, 1, tzinfo=dt.UTC)]
    assert df.filter(pl.col("ChargePeriodEnd") <= pl.col("ChargePeriodStart")).height == 0


def test_variant_is_detected_from_the_header() -> None:
    legacy = pl.read_csv(AWS_LEGACY, n_rows=0).columns
    cur2 = pl.read_csv(AWS_CUR2, n_rows=0).columns
    assert aws_cur.detect_variant([aws_cur.snake_name(c) for c in legacy]) == "legacy"
    assert aws_cur.detect_variant(cur2) == "cur2"


@pytest.mark.parametrize(
    ("header", "snake"),
    [
        ("lineItem/UsageStartDate", "line_item_usage_start_date"),
        ("savingsPlan/SavingsPlanARN", "savings_plan_savings_plan_a_r_n"),
        ("product/regionCode", "product_region_code"),
        ("bill/PayerAccountId", "bill_payer_account_id"),
    ],
)
def test_legacy_headers_map_to_athena_names(header: str, snake: str) -> None:
    assert aws_cur.snake_name(header) == snake


def test_savings_plan_negation_is_folded_into_the_covered_row(cur2: pl.DataFrame) -> None:
    native = pl.read_csv(AWS_CUR2, infer_schema=False)
    assert "SavingsPlanNegation" not in cur2["x_LineItemType"].to_list()

    covered = _row(cur2, "SavingsPlanCoveredUsage")
    assert covered["BilledCost"] == 0
    assert covered["EffectiveCost"] == Decimal("0.11")
    assert covered["ListCost"] == Decimal("0.17")
    assert covered["PricingCategory"] == "Committed"
    assert covered["CommitmentDiscountStatus"] == "Used"
    assert covered["CommitmentDiscountCategory"] == "Spend"
    # The covered row and its dropped negation cancel: totals still match the CUR.
    assert cur2["BilledCost"].sum() == native["line_item_unblended_cost"].cast(focus.DECIMAL).sum()


def test_unused_savings_plan_commitment_becomes_its_own_usage_row(cur2: pl.DataFrame) -> None:
    fee = _row(cur2, "SavingsPlanRecurringFee", 0)
    unused = _row(cur2, "SavingsPlanRecurringFee", 1)

    assert (fee["ChargeCategory"], fee["ChargeFrequency"]) == ("Purchase", "Recurring")
    assert (fee["BilledCost"], fee["EffectiveCost"]) == (Decimal("0.12"), 0)
    assert unused["ChargeCategory"] == "Usage"
    assert unused["CommitmentDiscountStatus"] == "Unused"
    assert unused["EffectiveCost"] == Decimal("0.01")
    assert unused["BilledCost"] == 0
    assert unused["ConsumedQuantity"] is None
    assert unused["ResourceId"] == unused["CommitmentDiscountId"] == fee["CommitmentDiscountId"]
    # FOCUS: a commitment's amortized usage (used + unused) equals what was paid for it.
    sp = cur2.filter(pl.col("CommitmentDiscountId") == fee["CommitmentDiscountId"])
    usage_effective = sp.filter(pl.col("ChargeCategory") == "Usage")["EffectiveCost"].sum()
    purchase_billed = sp.filter(pl.col("ChargeCategory") == "Purchase")["BilledCost"].sum()
    assert usage_effective == purchase_billed


def test_reserved_instance_amortization(cur2: pl.DataFrame) -> None:
    covered = _row(cur2, "DiscountedUsage")
    fee = _row(cur2, "RIFee", 0)
    unused = _row(cur2, "RIFee", 1)
    upfront = _row(cur2, "Fee")

    assert (covered["BilledCost"], covered["EffectiveCost"]) == (0, Decimal("0.15"))
    assert covered["CommitmentDiscountCategory"] == "Usage"
    assert (fee["ChargeCategory"], fee["EffectiveCost"]) == ("Purchase", 0)
    assert fee["PricingCategory"] == "Standard"
    assert (unused["EffectiveCost"], unused["CommitmentDiscountQuantity"]) == (15, 100)
    assert unused["PricingUnit"] == "Hours"
    assert (upfront["ChargeFrequency"], upfront["EffectiveCost"]) == ("One-Time", 0)
    assert upfront["BilledCost"] == 500


def test_refund_keeps_usage_category_and_corrects_the_earlier_period(cur2: pl.DataFrame) -> None:
    refund = _row(cur2, "Refund")
    assert refund["ChargeCategory"] == "Usage"
    assert refund["ChargeClass"] == "Correction"
    assert refund["BilledCost"] == Decimal("-3")
    in_period = cur2.filter(pl.col("x_LineItemType") == "Usage")["ChargeClass"]
    assert in_period.null_count() == in_period.len()


def test_credits_and_separate_discount_lines_are_credit_rows(cur2: pl.DataFrame) -> None:
    assert _row(cur2, "Credit")["ChargeCategory"] == "Credit"
    edp = _row(cur2, "EdpDiscount")
    assert (edp["ChargeCategory"], edp["BilledCost"]) == ("Credit", Decimal("-0.0048"))
    assert edp["SkuId"] is None
    assert edp["PricingQuantity"] is None


def test_net_unblended_cost_is_billed_cost_when_the_export_has_it(tmp_path: Path) -> None:
    native = pl.read_csv(AWS_CUR2, infer_schema=False)
    net = native.with_columns(
        pl.when(pl.col("identity_line_item_id") == "r01-ondemand")
        .then(pl.lit("0.0912"))
        .otherwise(pl.col("line_item_unblended_cost"))
        .alias("line_item_net_unblended_cost")
    )
    path = tmp_path / "net.csv"
    net.write_csv(path)
    df = aws_cur.to_focus(path).collect()
    row = df.filter(pl.col("ResourceId") == "i-0aaa1111bbbb2222c").row(0, named=True)
    assert row["BilledCost"] == Decimal("0.0912")
    assert row["ListCost"] == Decimal("0.096")


def test_spot_usage_is_dynamic_pricing(cur2: pl.DataFrame) -> None:
    spot = cur2.filter(pl.col("x_UsageType") == "SpotUsage:m5.large").row(0, named=True)
    assert spot["PricingCategory"] == "Dynamic"


def test_tax_rows_have_no_sku_or_pricing(cur2: pl.DataFrame) -> None:
    tax = _row(cur2, "Tax")
    assert tax["ChargeCategory"] == "Tax"
    assert tax["SkuId"] is tax["PricingCategory"] is tax["PricingQuantity"] is None


def test_cur2_tags_are_json_with_user_prefix_removed(cur2: pl.DataFrame) -> None:
    tags = json.loads(_row(cur2, "Usage")["Tags"])
    assert tags == {"team": "checkout", "Name": "web-1", "aws_createdBy": "IAMUser:alice"}
    spot = cur2.filter(pl.col("x_UsageType") == "SpotUsage:m5.large").row(0, named=True)
    # A tag without a value is true in FOCUS.
    assert json.loads(spot["Tags"]) == {"team": "batch", "public": True}
    # No tags at all is null, not {}.
    assert _row(cur2, "Tax")["Tags"] is None
    assert _row(cur2, "Usage")["ResourceName"] == "web-1"


def test_cur2_parquet_map_columns_give_the_same_tags(cur2: pl.DataFrame, tmp_path: Path) -> None:
    native = pl.read_csv(AWS_CUR2, infer_schema=False)
    as_map = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))

    def to_map(column: str) -> pl.Expr:
        decoded = pl.col(column).map_elements(
            lambda text: [{"key": k, "value": v} for k, v in json.loads(text or "{}").items()],
            return_dtype=as_map,
        )
        return decoded.alias(column)

    path = tmp_path / "cur2.parquet"
    native.with_columns(to_map("resource_tags"), to_map("product")).write_parquet(path)
    from_parquet = aws_cur.to_focus(path).collect()

    assert from_parquet["Tags"].to_list() == [
        json.dumps(json.loads(t), separators=(",", ":")) if t else None
        for t in cur2["Tags"].to_list()
    ]
    assert from_parquet["ServiceName"].to_list() == cur2["ServiceName"].to_list()
    assert from_parquet["ResourceName"].to_list() == cur2["ResourceName"].to_list()


def test_legacy_tag_columns_become_tags(tmp_path: Path) -> None:
    native = pl.read_csv(AWS_LEGACY, infer_schema=False).head(3)
    tagged = native.with_columns(
        pl.Series("resourceTags/user:team", ["web", None, "db"]),
        pl.Series("resourceTags/aws:createdBy", ["root", None, None]),
    )
    path = tmp_path / "tagged.csv"
    tagged.write_csv(path)
    tags = aws_cur.to_focus(path).collect()["Tags"].to_list()
    assert [json.loads(t) if t else None for t in tags] == [
        {"team": "web", "aws:createdBy": "root"},
        None,
        {"team": "db"},
    ]


def test_units_use_focus_spelling(cur2: pl.DataFrame) -> None:
    units = set(cur2["PricingUnit"].drop_nulls().to_list())
    assert "GB-Months" in units
    assert "Hours" in units
    assert not {"GB-Mo", "Hrs"} & units


def test_a_file_of_another_export_is_refused_with_its_missing_columns() -> None:
    with pytest.raises(ConfigError) as raised:
        aws_cur.to_focus(Path(__file__).parents[2] / "data" / "billing" / "oci" / _oci_name())
    message = str(raised.value)
    assert "reports_cost-csv" in message
    # The file has slash headers like a legacy CUR, so the legacy spelling is named.
    assert "bill/PayerAccountId" in message
    assert "lineItem/UnblendedCost" in message
    assert "AWS Cost and Usage Report" in message


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ConfigError, match="variant"):
        aws_cur.to_focus(AWS_CUR2, variant="cur3")


def _oci_name() -> str:
    return "reports_cost-csv_0000000030000269.csv"
