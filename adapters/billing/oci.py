"""OCI cost reports (``reports/cost-csv/*.csv.gz``) to FOCUS 1.2.

An OCI cost report is usage only: one row per resource, SKU and hour, with the tenancy's own
unit price (there is no separate list price) and one ``tags/<namespace>.<key>`` column per
tag. The mapping decisions are in docs/billing.md.
"""

from __future__ import annotations

import polars as pl

from adapters.billing import focus
from adapters.billing.focus import null_if_blank, to_decimal, zero
from adapters.billing.lookups import OCI_SERVICES
from adapters.billing.source import Columns, Source, open_source, require_columns
from fintropy.errors import ConfigError

EXPORT_NAME = "OCI cost report (reports/cost-csv)"
VARIANTS = ("cost-report",)

REQUIRED = (
    "lineItem/tenantId",
    "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd",
    "product/service",
    "product/resourceId",
    "usage/billedQuantity",
    "cost/productSku",
    "cost/unitPrice",
    "cost/myCost",
    "cost/currencyCode",
)

_STRINGS = (
    "product/compartmentId",
    "product/compartmentName",
    "product/region",
    "product/availabilityDomain",
    "product/resourceId",
    "product/Description",
    "cost/productSku",
    "cost/skuUnitDescription",
    "cost/subscriptionId",
)


def tag_key(column: str) -> str:
    """The FOCUS tag key of a ``tags/…`` column.

    Defined tags keep their ``namespace.key`` form (the namespace is the prefix FOCUS asks
    for, Oracle's own ``Oracle-Tags`` included); free-form tags, which have no namespace,
    are the one unprefixed scheme.
    """
    return column.split("/", 1)[1]


def to_focus(source: Source, *, variant: str = "cost-report") -> pl.LazyFrame:
    """Convert an OCI cost report to a lazy FOCUS 1.2 frame.

    Raises ConfigError when the file is not an OCI cost report.
    """
    if variant not in VARIANTS:
        raise ConfigError(f"Unknown OCI variant {variant!r}.", "Use 'cost-report'.")
    opened = open_source(source, export=EXPORT_NAME)
    require_columns(opened, REQUIRED, export=EXPORT_NAME)
    cols = Columns(opened.schema)
    tags = [(c, tag_key(c)) for c in opened.columns if c.startswith("tags/")]

    frame = opened.frame.with_columns(
        null_if_blank(pl.col(n)).alias(n) for n in _STRINGS if cols.dtype(n) == pl.String
    )
    formats = _date_formats(frame, cols)
    frame = frame.with_columns(_base_columns(cols, formats))
    frame = focus.join_lookup(
        frame, pl.col("ServiceName"), OCI_SERVICES, ["_category", "_subcategory"]
    )
    frame = frame.with_columns(_focus_columns(cols, tags))
    extra = ["x_ReferenceNo", "x_BackReferenceNo", "x_SubscriptionId", "x_OverageFlag"]
    return focus.select_focus(frame, extra)


def _date_formats(frame: pl.LazyFrame, cols: Columns) -> tuple[str, ...]:
    names = ["lineItem/intervalUsageStart", "lineItem/intervalUsageEnd"]
    if any(cols.dtype(n) != pl.String for n in names):
        return focus.ISO_AWARE
    sample = frame.select(names).head(2_000).collect()
    values = pl.concat([sample[n] for n in names])
    return focus.choose_datetime_formats(values, focus.ISO_AWARE + focus.ISO_NAIVE)


def _base_columns(cols: Columns, formats: tuple[str, ...]) -> list[pl.Expr]:
    start = focus.utc_datetime(
        pl.col("lineItem/intervalUsageStart"), cols.dtype("lineItem/intervalUsageStart"), formats
    )
    end = focus.utc_datetime(
        pl.col("lineItem/intervalUsageEnd"), cols.dtype("lineItem/intervalUsageEnd"), formats
    )
    return [
        start.alias("ChargePeriodStart"),
        end.alias("ChargePeriodEnd"),
        focus.month_start(start).alias("BillingPeriodStart"),
        focus.next_month_start(start).alias("BillingPeriodEnd"),
        to_decimal(pl.col("cost/myCost")).fill_null(zero()).alias("BilledCost"),
        to_decimal(pl.col("usage/billedQuantity")).alias("PricingQuantity"),
        to_decimal(pl.col("cost/unitPrice")).alias("ListUnitPrice"),
        focus.currency_code(pl.col("cost/currencyCode")).alias("BillingCurrency"),
        null_if_blank(pl.col("product/service")).alias("ServiceName"),
    ]


def _focus_columns(cols: Columns, tags: list[tuple[str, str]]) -> list[pl.Expr]:
    service = pl.col("ServiceName")
    category = pl.col("_category").fill_null("Other")
    subcategory = pl.col("_subcategory")
    quantity = pl.col("PricingQuantity")
    price = pl.col("ListUnitPrice")
    has_price = quantity.is_not_null() & price.is_not_null()
    # The report's unit price is the tenancy's price and myCost = unitPrice x quantity;
    # the product is recomputed so FOCUS's exact price x quantity check holds.
    priced_cost = focus.multiply(price, quantity)
    unit = pl.coalesce(cols.get("cost/skuUnitDescription"), pl.lit("Units"))
    resource_id = cols.get("product/resourceId")
    ocid_type = resource_id.str.extract(r"^ocid1\.([a-z0-9_-]+)\.", 1)
    is_correction = cols.get("lineItem/isCorrection").cast(pl.String).str.to_lowercase()
    region = cols.get("product/region")
    compartment = cols.get("product/compartmentId")
    return [
        pl.lit("Usage").alias("ChargeCategory"),
        pl.when(is_correction == "true").then(pl.lit("Correction")).alias("ChargeClass"),
        pl.lit("Usage-Based").alias("ChargeFrequency"),
        pl.col("BilledCost").alias("EffectiveCost"),
        pl.when(has_price).then(priced_cost).otherwise(pl.col("BilledCost")).alias("ListCost"),
        pl.when(has_price)
        .then(priced_cost)
        .otherwise(pl.col("BilledCost"))
        .alias("ContractedCost"),
        price.alias("ContractedUnitPrice"),
        pl.when(quantity.is_not_null()).then(unit).alias("PricingUnit"),
        quantity.alias("ConsumedQuantity"),
        pl.when(quantity.is_not_null()).then(unit).alias("ConsumedUnit"),
        pl.lit("Standard").alias("PricingCategory"),
        pl.col("BillingCurrency").alias("PricingCurrency"),
        pl.col("BilledCost").alias("PricingCurrencyEffectiveCost"),
        price.alias("PricingCurrencyListUnitPrice"),
        price.alias("PricingCurrencyContractedUnitPrice"),
        pl.col("lineItem/tenantId").alias("BillingAccountId"),
        focus.null_string().alias("BillingAccountName"),
        pl.lit("Tenancy").alias("BillingAccountType"),
        compartment.alias("SubAccountId"),
        pl.when(compartment.is_not_null())
        .then(pl.coalesce(cols.get("product/compartmentName"), compartment))
        .alias("SubAccountName"),
        pl.when(compartment.is_not_null()).then(pl.lit("Compartment")).alias("SubAccountType"),
        focus.null_string().alias("InvoiceId"),
        pl.lit("Oracle").alias("InvoiceIssuerName"),
        pl.lit("Oracle").alias("ProviderName"),
        pl.lit("Oracle").alias("PublisherName"),
        cols.get("product/Description").alias("ChargeDescription"),
        *(focus.null_string().alias(n) for n in _NULL_COMMITMENT_STRINGS),
        focus.null_decimal().alias("CommitmentDiscountQuantity"),
        cols.get("product/availabilityDomain").alias("AvailabilityZone"),
        region.alias("RegionId"),
        region.alias("RegionName"),
        resource_id.alias("ResourceId"),
        focus.null_string().alias("ResourceName"),
        pl.when(resource_id.is_not_null())
        .then(pl.coalesce(ocid_type, service.str.to_lowercase()))
        .alias("ResourceType"),
        category.alias("ServiceCategory"),
        focus.subcategory_or_other(subcategory, category).alias("ServiceSubcategory"),
        cols.get("cost/productSku").alias("SkuId"),
        cols.get("cost/productSku").alias("SkuPriceId"),
        pl.when(cols.get("cost/productSku").is_not_null())
        .then(cols.get("product/Description"))
        .alias("SkuMeter"),
        focus.null_string().alias("SkuPriceDetails"),
        focus.tags_from_columns(tags).alias("Tags"),
        cols.get("lineItem/referenceNo").alias("x_ReferenceNo"),
        cols.get("lineItem/backreferenceNo").cast(pl.String).alias("x_BackReferenceNo"),
        cols.get("cost/subscriptionId").alias("x_SubscriptionId"),
        cols.get("cost/overageFlag").cast(pl.String).alias("x_OverageFlag"),
    ]


_NULL_COMMITMENT_STRINGS = (
    "CommitmentDiscountId",
    "CommitmentDiscountCategory",
    "CommitmentDiscountType",
    "CommitmentDiscountName",
    "CommitmentDiscountStatus",
    "CommitmentDiscountUnit",
    "CapacityReservationId",
    "CapacityReservationStatus",
)


def native_totals(source: Source) -> pl.LazyFrame:
    """Input rows and the sum of ``cost/myCost`` per currency (for reconciliation)."""
    opened = open_source(source, export=EXPORT_NAME)
    require_columns(opened, REQUIRED, export=EXPORT_NAME)
    currency = focus.currency_code(pl.col("cost/currencyCode"))
    cost = to_decimal(pl.col("cost/myCost")).fill_null(zero())
    return (
        opened.frame.select(currency.alias("currency"), cost.alias("cost"))
        .group_by("currency")
        .agg(pl.len().alias("rows"), pl.col("cost").sum())
    )
