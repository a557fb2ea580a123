"""Azure Cost Management cost details (EA and MCA; actual and amortized) to FOCUS 1.2.

Azure exports the same charges as two datasets: *actual* (the cash view: commitment purchases
at full price, covered usage at 0) and *amortized* (purchases spread over the usage they
cover, unused commitment shown as its own rows). FOCUS needs both views in one row set, so:

- ``variant="amortized"``: every amortized row; BilledCost is 0 on commitment-covered usage;
- ``variant="actual"``: the cash view only; EffectiveCost equals BilledCost because an actual
  export carries no amortization (use ``combined`` when both files exist);
- :func:`to_focus_combined` (``variant="combined"`` in ``ingest``): every amortized row, plus
  the commitment Purchase and Refund rows of the actual file, with EffectiveCost 0 on those.
  This is Microsoft's own documented conversion and the only fully FOCUS-conformant one.

Column names differ between EA (``Cost``, ``BillingCurrency``, ``Product``) and MCA
(``costInBillingCurrency``, ``billingCurrency``, ``productName``) exports and between export
versions; they are matched case-insensitively and through the aliases below. The account type
is detected from the header (``account_type="auto"``). See docs/billing.md for each decision.
"""

from __future__ import annotations

import polars as pl

from adapters.billing import focus
from adapters.billing.focus import DECIMAL, null_if_blank, to_decimal, zero
from adapters.billing.lookups import (
    azure_pricing_units,
    azure_regions,
    azure_service_by_consumed,
    azure_service_by_type,
)
from adapters.billing.source import Columns, Source, open_source, require_columns
from fintropy.errors import ConfigError

EXPORT_NAME = "Azure cost details export (EA or MCA, actual or amortized)"
VARIANTS = ("actual", "amortized")
ACCOUNT_TYPES = ("auto", "ea", "mca")

# FOCUS input role -> accepted column names (lower-case), first match wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "cost": ("costinbillingcurrency", "cost", "pretaxcost"),
    "currency": ("billingcurrencycode", "billingcurrency", "currency"),
    "date": ("date", "usagedatetime"),
    "subscription": ("subscriptionid", "subscriptionguid"),
    "subscription_name": ("subscriptionname",),
    "product": ("productname", "product"),
    "pricing_currency": ("pricingcurrencycode", "pricingcurrency"),
    "cost_pricing": ("costinpricingcurrency",),
    "exchange_rate": ("exchangeratepricingtobilling",),
    "payg_cost": ("paygcostinbillingcurrency",),
    "invoice_section": ("invoicesectionname", "invoicesection"),
    "benefit_id": ("benefitid",),
    "benefit_name": ("benefitname",),
}
REQUIRED_ROLES = ("cost", "currency", "date", "subscription")
REQUIRED_COLUMNS = ("billingaccountid", "chargetype", "quantity", "unitofmeasure")

COMMITMENT_MODELS = ("Reservation", "SavingsPlan")
UNUSED_TYPES = ("UnusedReservation", "UnusedSavingsPlan")


def detect_account_type(columns: list[str]) -> str:
    """``mca`` when the header has MCA-only columns, else ``ea``."""
    lower = {c.lower() for c in columns}
    mca_only = {"invoiceid", "paygcostinbillingcurrency", "costinpricingcurrency"}
    return "mca" if lower & mca_only else "ea"


def to_focus(
    source: Source, *, variant: str = "amortized", account_type: str = "auto"
) -> pl.LazyFrame:
    """Convert one Azure cost-details export to a lazy FOCUS 1.2 frame.

    ``variant`` says which dataset the file is (``actual`` or ``amortized``); Azure files do
    not say it themselves. Raises ConfigError for a wrong file, variant or account type.
    """
    if variant == "combined":
        raise ConfigError(
            "The combined Azure conversion needs two files.",
            "Call to_focus_combined(actual, amortized), or ingest both files together.",
        )
    frame, cols, account = _open(source, variant, account_type)
    return focus.select_focus(_convert(frame, cols, variant, account), _EXTRA)


def to_focus_combined(
    actual: Source, amortized: Source, *, account_type: str = "auto"
) -> pl.LazyFrame:
    """FOCUS rows from an actual and an amortized export of the same scope and period.

    Keeps every amortized row and adds the actual file's commitment Purchase and Refund rows
    (which the amortized file spreads over usage), per Microsoft's documented conversion.
    """
    frame_a, cols_a, account_a = _open(amortized, "amortized", account_type)
    frame_b, cols_b, account_b = _open(actual, "actual", account_type)
    purchases = frame_b.filter(
        pl.col("chargetype").is_in(("Purchase", "Refund")) & _is_commitment(cols_b)
    )
    amortized_rows = _convert(frame_a, cols_a, "amortized", account_a)
    purchase_rows = _convert(purchases, cols_b, "amortized", account_b)
    return pl.concat(
        [focus.select_focus(amortized_rows, _EXTRA), focus.select_focus(purchase_rows, _EXTRA)],
        how="vertical",
    )


_EXTRA = [
    "x_ChargeType",
    "x_PricingModel",
    "x_ResourceGroupName",
    "x_BillingAccountId",
    "x_BillingProfileId",
    "x_InvoiceSectionName",
    "x_AccountType",
]


def _open(source: Source, variant: str, account_type: str) -> tuple[pl.LazyFrame, Columns, str]:
    if variant not in VARIANTS:
        raise ConfigError(
            f"Unknown Azure cost-details variant {variant!r}.",
            "Use 'actual' or 'amortized' (or to_focus_combined for both files).",
        )
    if account_type not in ACCOUNT_TYPES:
        raise ConfigError(
            f"Unknown Azure account type {account_type!r}.", "Use 'auto', 'ea' or 'mca'."
        )
    opened = open_source(source, export=EXPORT_NAME)
    lower = [c.lower() for c in opened.columns]
    missing = [
        ALIASES[role][0] for role in REQUIRED_ROLES if not set(ALIASES[role]) & set(lower)
    ] + [c for c in REQUIRED_COLUMNS if c not in lower]
    if missing:
        shown = [_display(name) for name in missing]
        require_columns(opened, shown, export=EXPORT_NAME, present=opened.columns)
    frame = opened.frame.rename({c: c.lower() for c in opened.columns})
    schema = frame.collect_schema()
    account = detect_account_type(opened.columns) if account_type == "auto" else account_type
    return frame, _AzureColumns(schema), account


def _display(lower: str) -> str:
    names = {
        "costinbillingcurrency": "CostInBillingCurrency (or Cost)",
        "billingcurrencycode": "BillingCurrencyCode (or BillingCurrency)",
        "date": "Date",
        "subscriptionid": "SubscriptionId",
        "billingaccountid": "BillingAccountId",
        "chargetype": "ChargeType",
        "quantity": "Quantity",
        "unitofmeasure": "UnitOfMeasure",
    }
    return names.get(lower, lower)


class _AzureColumns(Columns):
    """Columns with role lookup through :data:`ALIASES`."""

    def role(self, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
        return self.first(*ALIASES[name], dtype=dtype)

    def has_role(self, name: str) -> bool:
        return any(self.has(alias) for alias in ALIASES[name])


def _is_commitment(cols: Columns) -> pl.Expr:
    """Rows tied to a reservation or savings plan."""
    benefit = null_if_blank(cols.first("benefitid", "reservationid"))
    return cols.get("pricingmodel").is_in(COMMITMENT_MODELS) | benefit.is_not_null()


def _convert(frame: pl.LazyFrame, cols: _AzureColumns, variant: str, account: str) -> pl.LazyFrame:
    blanks = [n for n, dtype in cols.schema.items() if dtype == pl.String]
    frame = frame.with_columns(null_if_blank(pl.col(n)).alias(n) for n in blanks)
    frame = _join_lookups(frame, cols)
    frame = frame.with_columns(_base_columns(frame, cols))
    frame = frame.with_columns(_cost_columns(cols, variant))
    frame = frame.with_columns(_focus_columns(cols, account))
    return frame.with_columns(
        pl.col("EffectiveCost").alias("PricingCurrencyEffectiveCost")
        if not cols.has_role("cost_pricing")
        else pl.col("_pricing_effective").alias("PricingCurrencyEffectiveCost")
    )


def _join_lookups(frame: pl.LazyFrame, cols: _AzureColumns) -> pl.LazyFrame:
    """Units, services and regions from Microsoft's open-data tables (streaming joins)."""
    frame = focus.join_lookup(
        frame, cols.get("unitofmeasure"), azure_pricing_units(), ["_block_text", "_unit_focus"]
    )
    service = ["_name", "_category", "_subcategory"]
    frame = focus.join_lookup(
        frame,
        _arm_type(cols.get("resourceid")),
        azure_service_by_type(),
        [f"_by_type{c}" for c in service],
    )
    frame = focus.join_lookup(
        frame,
        cols.get("consumedservice").str.to_lowercase(),
        azure_service_by_consumed(),
        [f"_by_consumed{c}" for c in service],
    )
    return focus.join_lookup(
        frame,
        cols.get("resourcelocation").str.to_lowercase(),
        azure_regions(),
        ["_region_id", "_region_name"],
    )


def _date_formats(frame: pl.LazyFrame, cols: _AzureColumns) -> tuple[str, ...]:
    names = [n for n in (*ALIASES["date"], "billingperiodstartdate") if cols.has(n)]
    sample = frame.select(pl.concat_list(names).alias("v")).head(2_000).collect()
    values = sample["v"].explode()
    return focus.choose_datetime_formats(values.cast(pl.String), focus.ALL_FORMATS)


def _base_columns(frame: pl.LazyFrame, cols: _AzureColumns) -> list[pl.Expr]:
    """Typed inputs: dates, money, classification flags."""
    formats = _date_formats(frame, cols)

    def when(name: str) -> pl.Expr:
        return focus.utc_datetime(cols.get(name), cols.dtype(name), formats)

    charge_date = focus.utc_datetime(
        cols.role("date"), cols.dtype(next(a for a in ALIASES["date"] if cols.has(a))), formats
    )
    period_start = pl.coalesce(when("billingperiodstartdate"), focus.month_start(charge_date))
    # Azure's period end date is the last day of the period (inclusive): FOCUS wants the
    # exclusive end, the next day's midnight.
    period_end = pl.coalesce(
        when("billingperiodenddate").dt.offset_by("1d"), focus.next_month_start(charge_date)
    )
    charge_type = cols.get("chargetype")
    model = cols.get("pricingmodel")
    benefit_id = pl.coalesce(
        cols.role("benefit_id"),
        pl.when(cols.get("reservationid").is_not_null()).then(
            pl.lit("/providers/Microsoft.Capacity/reservationOrders/")
            + pl.coalesce(cols.get("productorderid"), pl.lit("unknown"))
            + pl.lit("/reservations/")
            + cols.get("reservationid")
        ),
    )
    block = pl.col("_block_text").cast(pl.Float64, strict=False)
    unit = pl.col("_unit_focus")
    return [
        charge_date.alias("ChargePeriodStart"),
        charge_date.dt.offset_by("1d").alias("ChargePeriodEnd"),
        period_start.alias("BillingPeriodStart"),
        period_end.alias("BillingPeriodEnd"),
        to_decimal(cols.role("cost")).fill_null(zero()).alias("_cost"),
        to_decimal(cols.get("quantity")).alias("_quantity"),
        block.fill_null(1.0).alias("_block"),
        pl.coalesce(unit, cols.get("unitofmeasure"), pl.lit("Units")).alias("_unit"),
        charge_type.alias("x_ChargeType"),
        model.alias("x_PricingModel"),
        (charge_type.is_in(("Usage", *UNUSED_TYPES)) & model.is_in(COMMITMENT_MODELS)).alias(
            "_commitment_usage"
        ),
        (charge_type.is_in(("Purchase", "Refund")) & _is_commitment(cols)).alias(
            "_commitment_purchase"
        ),
        charge_type.is_in(UNUSED_TYPES).alias("_unused"),
        focus.currency_code(cols.role("currency")).alias("BillingCurrency"),
        benefit_id.alias("_benefit_id"),
        focus.currency_code(
            pl.coalesce(cols.role("pricing_currency"), cols.role("currency"))
        ).alias("PricingCurrency"),
        to_decimal(cols.role("exchange_rate")).cast(pl.Float64).fill_null(1.0).alias("_fx"),
    ]


def _cost_columns(cols: _AzureColumns, variant: str) -> list[pl.Expr]:
    """BilledCost/EffectiveCost by dataset; list and contracted prices and costs."""
    cost = pl.col("_cost")
    if variant == "amortized":
        billed = pl.when(pl.col("_commitment_usage")).then(zero()).otherwise(cost)
        effective = pl.when(pl.col("_commitment_purchase")).then(zero()).otherwise(cost)
    else:
        billed = cost
        effective = cost
    pricing_cost = to_decimal(cols.role("cost_pricing")).fill_null(zero())
    pricing_effective = (
        pl.when(pl.col("_commitment_purchase") & pl.lit(variant == "amortized"))
        .then(zero())
        .otherwise(pricing_cost)
    )

    charge_type = pl.col("x_ChargeType")
    priced = charge_type.is_in(("Usage", "Purchase", *UNUSED_TYPES))
    quantity = pl.when(priced).then(pl.col("_quantity"))
    fx = pl.col("_fx")
    payg = to_decimal(cols.get("paygprice")).cast(pl.Float64)
    unit_price = to_decimal(cols.get("unitprice")).cast(pl.Float64)
    has_prices = priced & quantity.is_not_null() & payg.is_not_null() & unit_price.is_not_null()
    list_price = focus.multiply(payg, fx)
    contracted_price = focus.multiply(unit_price, fx)
    qty = pl.col("_quantity").cast(pl.Float64)
    return [
        billed.alias("BilledCost"),
        effective.alias("EffectiveCost"),
        pricing_effective.alias("_pricing_effective"),
        quantity.alias("PricingQuantity"),
        pl.when(has_prices).then(list_price).alias("ListUnitPrice"),
        pl.when(has_prices).then(contracted_price).alias("ContractedUnitPrice"),
        pl.when(has_prices).then(payg.cast(DECIMAL)).alias("PricingCurrencyListUnitPrice"),
        pl.when(has_prices)
        .then(unit_price.cast(DECIMAL))
        .alias("PricingCurrencyContractedUnitPrice"),
        # List and contracted cost are price x quantity, which FOCUS checks exactly; rows
        # without prices (tax, credits, adjustments) are standalone: both equal billed.
        pl.when(has_prices).then(focus.multiply(payg, fx, qty)).otherwise(billed).alias("ListCost"),
        pl.when(has_prices)
        .then(focus.multiply(unit_price, fx, qty))
        .otherwise(billed)
        .alias("ContractedCost"),
    ]


def _focus_columns(cols: _AzureColumns, account: str) -> list[pl.Expr]:
    charge_type = pl.col("x_ChargeType")
    model = pl.col("x_PricingModel")
    benefit = pl.col("_benefit_id")
    benefit_lower = benefit.str.to_lowercase()
    is_savings_plan = benefit_lower.str.contains("microsoft.billingbenefits", literal=True)

    category = (
        pl.when(charge_type.is_in(("Usage", *UNUSED_TYPES)))
        .then(pl.lit("Usage"))
        .when(charge_type == "Purchase")
        .then(pl.lit("Purchase"))
        .when(charge_type == "Tax")
        .then(pl.lit("Tax"))
        .when(charge_type == "Credit")
        .then(pl.lit("Credit"))
        .when((charge_type == "Refund") & pl.col("_commitment_purchase"))
        .then(pl.lit("Purchase"))
        .when(charge_type == "Refund")
        .then(pl.lit("Usage"))
        .otherwise(pl.lit("Adjustment"))
    )
    frequency_native = cols.get("frequency")
    frequency = (
        pl.when(frequency_native == "OneTime")
        .then(pl.lit("One-Time"))
        .when(frequency_native == "Recurring")
        .then(pl.lit("Recurring"))
        .when(charge_type.is_in(("Purchase", "Refund")))
        .then(pl.lit("One-Time"))
        .when(charge_type.is_in(("Usage", *UNUSED_TYPES)))
        .then(pl.lit("Usage-Based"))
        .otherwise(pl.lit("One-Time"))
    )
    pricing_category = (
        pl.when(charge_type == "Tax")
        .then(None)
        .when(model.is_in(COMMITMENT_MODELS))
        .then(pl.lit("Committed"))
        .when(model == "Spot")
        .then(pl.lit("Dynamic"))
        .when(model == "OnDemand")
        .then(pl.lit("Standard"))
        .when(charge_type.is_in(("Usage", "Purchase", *UNUSED_TYPES)))
        .then(pl.lit("Standard"))
    )
    usage_or_purchase = charge_type.is_in(("Usage", "Purchase", "Refund", *UNUSED_TYPES))
    cd_id = pl.when(usage_or_purchase | pl.col("_commitment_usage")).then(benefit)
    # FOCUS: no commitment quantity on corrections (Azure refunds are corrections).
    cd_quantity = pl.when(cd_id.is_not_null() & (charge_type != "Refund")).then(pl.col("_quantity"))
    resource_id = cols.get("resourceid")
    arm_type = _arm_type(resource_id)
    consumed = cols.get("consumedservice").str.to_lowercase()

    def service(field: str, fallback: pl.Expr) -> pl.Expr:
        return pl.coalesce(pl.col(f"_by_type_{field}"), pl.col(f"_by_consumed_{field}"), fallback)

    service_category = service("category", pl.lit("Other"))
    location = cols.get("resourcelocation")
    location_key = location.str.to_lowercase()
    region_known = location.is_not_null() & ~location_key.is_in(("unassigned", "global", ""))
    region_id = pl.when(region_known).then(
        pl.coalesce(pl.col("_region_id"), location_key.str.replace_all(" ", ""))
    )
    region_name = pl.when(region_known).then(pl.coalesce(pl.col("_region_name"), location))
    subscription = cols.role("subscription")
    sub_id = pl.when(subscription.is_not_null()).then(
        pl.when(subscription.str.starts_with("/subscriptions/"))
        .then(subscription)
        .otherwise(pl.lit("/subscriptions/") + subscription)
    )
    is_tax = charge_type == "Tax"
    sku_id = pl.when(~is_tax).then(pl.coalesce(cols.get("productid"), cols.get("meterid")))
    sku_price_id = pl.when(~is_tax).then(
        pl.coalesce(cols.get("partnumber"), cols.get("productid"), cols.get("meterid"))
    )
    ea = account == "ea"
    billing_account_id = cols.get("billingaccountid") if ea else cols.get("billingprofileid")
    billing_account_name = cols.get("billingaccountname") if ea else cols.get("billingprofilename")
    additional = cols.get("additionalinfo")
    consumed_quantity = pl.when(
        charge_type.is_in(("Usage",)) & pl.col("_quantity").is_not_null()
    ).then(focus.multiply(pl.col("_quantity"), pl.col("_block")))
    return [
        category.alias("ChargeCategory"),
        pl.when(charge_type == "Refund").then(pl.lit("Correction")).alias("ChargeClass"),
        frequency.alias("ChargeFrequency"),
        pricing_category.alias("PricingCategory"),
        pl.when(pl.col("PricingQuantity").is_not_null())
        .then(
            pl.when(pl.col("_block") == 1.0)
            .then(pl.col("_unit"))
            .otherwise(
                pl.col("_block").cast(pl.Int64).cast(pl.String) + pl.lit(" ") + pl.col("_unit")
            )
        )
        .alias("PricingUnit"),
        consumed_quantity.alias("ConsumedQuantity"),
        pl.when(consumed_quantity.is_not_null()).then(pl.col("_unit")).alias("ConsumedUnit"),
        cd_id.alias("CommitmentDiscountId"),
        pl.when(cd_id.is_null())
        .then(None)
        .when(is_savings_plan)
        .then(pl.lit("Spend"))
        .otherwise(pl.lit("Usage"))
        .alias("CommitmentDiscountCategory"),
        pl.when(cd_id.is_null())
        .then(None)
        .when(is_savings_plan)
        .then(pl.lit("Savings Plan"))
        .otherwise(pl.lit("Reservation"))
        .alias("CommitmentDiscountType"),
        pl.when(cd_id.is_not_null())
        .then(pl.coalesce(cols.role("benefit_name"), cols.get("reservationname")))
        .alias("CommitmentDiscountName"),
        pl.when(cd_id.is_null() | ~charge_type.is_in(("Usage", *UNUSED_TYPES)))
        .then(None)
        .when(pl.col("_unused"))
        .then(pl.lit("Unused"))
        .otherwise(pl.lit("Used"))
        .alias("CommitmentDiscountStatus"),
        cd_quantity.alias("CommitmentDiscountQuantity"),
        pl.when(cd_quantity.is_null())
        .then(None)
        .when(is_savings_plan)
        .then(pl.col("BillingCurrency"))
        .otherwise(pl.col("_unit"))
        .alias("CommitmentDiscountUnit"),
        billing_account_id.cast(pl.String).alias("BillingAccountId"),
        billing_account_name.alias("BillingAccountName"),
        pl.lit("Enterprise Agreement" if ea else "Billing Profile").alias("BillingAccountType"),
        sub_id.alias("SubAccountId"),
        pl.when(sub_id.is_not_null())
        .then(pl.coalesce(cols.role("subscription_name"), sub_id))
        .alias("SubAccountName"),
        pl.when(sub_id.is_not_null()).then(pl.lit("Subscription")).alias("SubAccountType"),
        cols.get("invoiceid").alias("InvoiceId"),
        pl.coalesce(cols.get("partnername"), pl.lit("Microsoft")).alias("InvoiceIssuerName"),
        pl.lit("Microsoft").alias("ProviderName"),
        pl.coalesce(cols.get("publishername"), pl.lit("Microsoft")).alias("PublisherName"),
        cols.role("product").alias("ChargeDescription"),
        focus.null_string().alias("CapacityReservationId"),
        focus.null_string().alias("CapacityReservationStatus"),
        cols.get("availabilityzone").alias("AvailabilityZone"),
        region_id.alias("RegionId"),
        region_name.alias("RegionName"),
        resource_id.alias("ResourceId"),
        pl.when(resource_id.is_not_null()).then(cols.get("resourcename")).alias("ResourceName"),
        pl.when(resource_id.is_not_null())
        .then(pl.coalesce(arm_type, consumed, pl.lit("unknown")))
        .alias("ResourceType"),
        service("name", pl.coalesce(cols.get("metercategory"), pl.lit("Azure"))).alias(
            "ServiceName"
        ),
        service_category.alias("ServiceCategory"),
        focus.subcategory_or_other(
            service("subcategory", focus.null_string()), service_category
        ).alias("ServiceSubcategory"),
        sku_id.alias("SkuId"),
        sku_price_id.alias("SkuPriceId"),
        pl.when(sku_id.is_not_null()).then(cols.get("metername")).alias("SkuMeter"),
        pl.when(sku_price_id.is_not_null())
        .then(
            focus.json_object(
                [
                    ("InstanceType", additional.str.json_path_match("$.ServiceType")),
                    ("CoreCount", additional.str.json_path_match("$.vCores")),
                    ("x_MeterSubCategory", cols.get("metersubcategory")),
                ]
            )
        )
        .alias("SkuPriceDetails"),
        focus.wrap_json_object(cols.get("tags")).alias("Tags"),
        cols.get("resourcegroup").alias("x_ResourceGroupName"),
        cols.get("billingaccountid").cast(pl.String).alias("x_BillingAccountId"),
        cols.get("billingprofileid").cast(pl.String).alias("x_BillingProfileId"),
        cols.role("invoice_section").alias("x_InvoiceSectionName"),
        pl.lit(account.upper()).alias("x_AccountType"),
    ]


def _arm_type(resource_id: pl.Expr) -> pl.Expr:
    """``microsoft.compute/virtualmachines`` from an ARM resource ID (lower-cased)."""
    lower = resource_id.str.to_lowercase()
    return lower.str.extract(r"/providers/([^/]+/[^/]+)", 1)


def native_totals(source: Source, *, variant: str = "amortized") -> pl.LazyFrame:
    """Input rows and the native cost column's sum per currency (for reconciliation)."""
    frame, cols, _ = _open(source, variant, "auto")
    currency = focus.currency_code(cols.role("currency"))
    cost = to_decimal(cols.role("cost")).fill_null(zero())
    return (
        frame.select(currency.alias("currency"), cost.alias("cost"))
        .group_by("currency")
        .agg(pl.len().alias("rows"), pl.col("cost").sum())
    )
