"""Azure cost details (EA and MCA, actual and amortized) to FOCUS."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import polars as pl
import pytest

from adapters.billing import azure, focus
from fintropy.errors import ConfigError
from tests.adapters.billing.conftest import (
    AZURE_EA,
    AZURE_EA_ACTUAL,
    AZURE_EA_AMORTIZED,
    AZURE_EA_EMPTY,
    AZURE_MCA_ACTUAL,
    AZURE_MCA_AMORTIZED,
    GCP_EXPORT,
)


def _native_cost(path, column: str = "Cost") -> Decimal:  # noqa: ANN001
    native = pl.read_csv(path, infer_schema=False)
    name = next(c for c in native.columns if c.lower() in (column.lower(), "costinbillingcurrency"))
    return native[name].cast(focus.DECIMAL).sum()


@pytest.mark.parametrize(
    ("path", "variant", "rows"),
    [
        (AZURE_EA, "actual", 27),
        (AZURE_EA_ACTUAL, "actual", 11),
        (AZURE_EA_AMORTIZED, "amortized", 28),
        (AZURE_EA_EMPTY, "actual", 0),
    ],
)
def test_public_ea_samples_normalize(path, variant: str, rows: int) -> None:  # noqa: ANN001
    df = azure.to_focus(path, variant=variant).collect()
    assert df.height == rows
    assert focus.conformance_problems(df) == []
    assert df["x_AccountType"].unique().to_list() in ([], ["EA"])


def test_actual_cost_reconciles_with_billed_cost() -> None:
    df = azure.to_focus(AZURE_EA_ACTUAL, variant="actual").collect()
    assert df["BilledCost"].sum() == _native_cost(AZURE_EA_ACTUAL)
    # With only the actual file there is no amortization to apply.
    assert df["EffectiveCost"].sum() == df["BilledCost"].sum()
    purchase = df.filter(pl.col("ChargeCategory") == "Purchase").row(0, named=True)
    assert purchase["CommitmentDiscountType"] == "Reservation"
    assert purchase["ChargeFrequency"] == "Recurring"


def test_amortized_cost_reconciles_with_effective_cost_and_bills_commitments_at_zero() -> None:
    df = azure.to_focus(AZURE_EA_AMORTIZED, variant="amortized").collect()
    assert df["EffectiveCost"].sum() == _native_cost(AZURE_EA_AMORTIZED)
    covered = df.filter(pl.col("x_PricingModel").is_in(["Reservation", "SavingsPlan"]))
    assert covered.height > 0
    assert covered["BilledCost"].to_list() == [0] * covered.height
    assert set(covered["PricingCategory"]) == {"Committed"}
    assert set(covered["CommitmentDiscountCategory"]) == {"Usage", "Spend"}
    assert set(covered["CommitmentDiscountStatus"]) == {"Used"}


def test_combined_adds_commitment_purchases_with_zero_effective_cost() -> None:
    df = azure.to_focus_combined(AZURE_EA_ACTUAL, AZURE_EA_AMORTIZED).collect()
    amortized = azure.to_focus(AZURE_EA_AMORTIZED, variant="amortized").collect()

    purchases = df.filter(pl.col("ChargeCategory") == "Purchase")
    assert purchases.height == 1
    assert purchases["EffectiveCost"].to_list() == [0]
    assert df.height == amortized.height + 1
    assert df["EffectiveCost"].sum() == _native_cost(AZURE_EA_AMORTIZED)
    assert df["BilledCost"].sum() == amortized["BilledCost"].sum() + purchases["BilledCost"].sum()
    assert focus.conformance_problems(df) == []


def test_periods_are_utc_and_exclusive() -> None:
    df = azure.to_focus(AZURE_EA, variant="actual").collect()
    assert df["BillingPeriodStart"].unique().to_list() == [dt.datetime(2023, 9, 1, tzinfo=dt.UTC)]
    # Azure writes the period's last day (9/30/2023); FOCUS wants the next day's midnight.
    assert df["BillingPeriodEnd"].unique().to_list() == [dt.datetime(2023, 10, 1, tzinfo=dt.UTC)]
    assert df["ChargePeriodStart"].unique().to_list() == [dt.datetime(2023, 9, 2, tzinfo=dt.UTC)]
    assert df["ChargePeriodEnd"].unique().to_list() == [dt.datetime(2023, 9, 3, tzinfo=dt.UTC)]


def test_tags_services_regions_and_block_units() -> None:
    df = azure.to_focus(AZURE_EA, variant="actual").collect()
    assert json.loads(df["Tags"][0]) == {"tagA": "valueA", "tagB": "valueB", "tagC": "valueC"}
    assert df["BillingCurrency"].unique().to_list() == ["CAD"]
    spot = df.filter(pl.col("x_PricingModel") == "Spot")
    assert set(spot["PricingCategory"]) == {"Dynamic"}
    assert "centralus" in df["RegionId"].to_list()
    compute = df.filter(pl.col("ServiceCategory") == "Compute")
    assert compute.height > 0
    ops = df.filter(pl.col("PricingUnit") == "10000 Units").row(0, named=True)
    # Quantity is in 10K blocks: the metered count is 10,000 times larger.
    assert ops["ConsumedQuantity"] == ops["PricingQuantity"] * 10_000


def test_mca_is_detected_and_prices_are_converted_to_billing_currency() -> None:
    df = azure.to_focus(AZURE_MCA_AMORTIZED, variant="amortized").collect()
    assert set(df["x_AccountType"]) == {"MCA"}
    assert set(df["BillingAccountId"]) == {"ABCD-EFGH-IJK-LMN"}  # the billing profile
    assert set(df["BillingAccountType"]) == {"Billing Profile"}
    assert set(df["BillingCurrency"]) == {"EUR"}
    assert set(df["PricingCurrency"]) == {"USD"}
    vm = df.filter(pl.col("x_PricingModel") == "OnDemand").row(0, named=True)
    assert vm["PricingCurrencyListUnitPrice"] == Decimal("0.096")
    assert vm["ListUnitPrice"] == Decimal("0.08832")  # x 0.92 EUR per USD
    assert vm["PricingCurrencyEffectiveCost"] == Decimal("2.304")
    assert vm["EffectiveCost"] == Decimal("2.11968")
    assert df["SubAccountId"][0].startswith("/subscriptions/")


def test_unused_savings_plan_is_usage_with_unused_status() -> None:
    df = azure.to_focus(AZURE_MCA_AMORTIZED, variant="amortized").collect()
    unused = df.filter(pl.col("x_ChargeType") == "UnusedSavingsPlan").row(0, named=True)
    assert unused["ChargeCategory"] == "Usage"
    assert unused["CommitmentDiscountStatus"] == "Unused"
    assert unused["ConsumedQuantity"] is None
    assert unused["BilledCost"] == 0
    assert unused["EffectiveCost"] == Decimal("0.46")


def test_mca_refund_is_a_correction_of_the_purchase() -> None:
    df = azure.to_focus_combined(AZURE_MCA_ACTUAL, AZURE_MCA_AMORTIZED).collect()
    refund = df.filter(pl.col("x_ChargeType") == "Refund").row(0, named=True)
    assert (refund["ChargeCategory"], refund["ChargeClass"]) == ("Purchase", "Correction")
    assert refund["BilledCost"] == Decimal("-138")
    assert refund["EffectiveCost"] == 0
    assert refund["CommitmentDiscountQuantity"] is None
    assert focus.conformance_problems(df) == []
    assert set(df["InvoiceId"]) == {"E0600AB1CD"}


def test_a_file_of_another_export_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        azure.to_focus(GCP_EXPORT, variant="actual")
    message = str(raised.value)
    assert GCP_EXPORT.name in message
    assert "Date" in message
    assert "SubscriptionId" in message
    assert "ChargeType" in message
    assert "Azure cost details" in message


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ConfigError, match="actual"):
        azure.to_focus(AZURE_EA, variant="cash")
