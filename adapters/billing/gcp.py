"""Google Cloud billing export (BigQuery standard or detailed usage cost) to FOCUS 1.2.

BigQuery exports its billing table as newline-delimited JSON or Parquet, keeping the nested
fields (``service.description``, ``credits[]``, ``labels[]`` …). Both are accepted; NDJSON is
read with the documented export schema below, so a file whose first rows lack an optional
field still reads with the right types.

Credits are split by kind (docs/billing.md): credits that are discounts applied when the charge
is made (sustained use, committed use, negotiated discounts, free tier, subscription benefit)
reduce the row's own BilledCost and EffectiveCost; promotional and any other credits become
separate ``Credit`` rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from adapters.billing import focus
from adapters.billing.focus import DECIMAL, to_decimal, zero
from adapters.billing.lookups import gcp_categories
from adapters.billing.source import (
    REMEDIATION,
    Columns,
    OpenedSource,
    Source,
    missing_columns_message,
    open_source,
)
from fintropy.errors import ConfigError

EXPORT_NAME = "Google Cloud billing export (BigQuery standard or detailed, NDJSON or Parquet)"
VARIANTS = ("standard", "detailed", "auto")

_KV = pl.List(pl.Struct({"key": pl.String, "value": pl.String}))
EXPORT_SCHEMA = pl.Schema(
    {
        "billing_account_id": pl.String,
        "service": pl.Struct({"id": pl.String, "description": pl.String}),
        "sku": pl.Struct({"id": pl.String, "description": pl.String}),
        "usage_start_time": pl.String,
        "usage_end_time": pl.String,
        "project": pl.Struct(
            {
                "id": pl.String,
                "number": pl.String,
                "name": pl.String,
                "labels": _KV,
                "ancestry_numbers": pl.String,
            }
        ),
        "labels": _KV,
        "system_labels": _KV,
        "location": pl.Struct(
            {"location": pl.String, "country": pl.String, "region": pl.String, "zone": pl.String}
        ),
        "tags": pl.List(
            pl.Struct(
                {
                    "key": pl.String,
                    "value": pl.String,
                    "inherited": pl.Boolean,
                    "namespace": pl.String,
                }
            )
        ),
        "transaction_type": pl.String,
        "seller_name": pl.String,
        "export_time": pl.String,
        "cost": pl.Float64,
        "currency": pl.String,
        "currency_conversion_rate": pl.Float64,
        "usage": pl.Struct(
            {
                "amount": pl.Float64,
                "unit": pl.String,
                "amount_in_pricing_units": pl.Float64,
                "pricing_unit": pl.String,
            }
        ),
        "credits": pl.List(
            pl.Struct(
                {
                    "name": pl.String,
                    "amount": pl.Float64,
                    "full_name": pl.String,
                    "id": pl.String,
                    "type": pl.String,
                }
            )
        ),
        "invoice": pl.Struct({"month": pl.String, "publisher_type": pl.String}),
        "cost_type": pl.String,
        "adjustment_info": pl.Struct(
            {"id": pl.String, "description": pl.String, "mode": pl.String, "type": pl.String}
        ),
        "price": pl.Struct(
            {
                "effective_price": pl.Float64,
                "tier_start_amount": pl.Float64,
                "unit": pl.String,
                "pricing_unit_quantity": pl.Float64,
            }
        ),
        "resource": pl.Struct({"name": pl.String, "global_name": pl.String}),
        "cost_at_list": pl.Float64,
        "subscription": pl.Struct({"instance_id": pl.String}),
    }
)
REQUIRED = (
    "billing_account_id",
    "service",
    "sku",
    "usage_start_time",
    "usage_end_time",
    "cost",
    "currency",
    "invoice",
    "cost_type",
)

# Credits that are discounts applied when the charge is made: folded into the row.
DISCOUNT_CREDITS = (
    "SUSTAINED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT",
    "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE",
    "DISCOUNT",
    "FREE_TIER",
    "SUBSCRIPTION_BENEFIT",
    "RESELLER_MARGIN",
    "FEE_UTILIZATION_OFFSET",
)
CUD_CREDITS = ("COMMITTED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE")
GOODWILL_ADJUSTMENTS = ("GOODWILL", "SALES_BASED_GOODWILL", "SLA_VIOLATION")
CORRECTION_ADJUSTMENTS = ("USAGE_CORRECTION", "PRICE_CORRECTION")
# Google invoices by Pacific-time months: invoice.month 202405 runs from 2024-05-01 00:00
# America/Los_Angeles (07:00 UTC) to 2024-06-01 00:00 Pacific.
INVOICE_TIME_ZONE = "America/Los_Angeles"
# GCP's lower-case unit words in FOCUS unit format (same meaning, FOCUS spelling).
UNITS = {
    "seconds": "Seconds",
    "second": "Seconds",
    "hour": "Hours",
    "hours": "Hours",
    "month": "Months",
    "day": "Days",
    "byte": "B",
    "bytes": "B",
    "byte-seconds": "B-Seconds",
    "gibibyte": "GiB",
    "gibibyte hour": "GiB-Hours",
    "gibibyte month": "GiB-Months",
    "gibibyte second": "GiB-Seconds",
    "tebibyte": "TiB",
    "requests": "Requests",
    "request": "Requests",
    "count": "Count",
}

_EXTRA = ["x_CostType", "x_CreditType", "x_ProjectNumber", "x_CurrencyConversionRate"]


def to_focus(source: Source, *, variant: str = "auto") -> pl.LazyFrame:
    """Convert a BigQuery billing export (NDJSON or Parquet) to a lazy FOCUS 1.2 frame.

    ``variant`` is informational (``standard`` exports simply lack ``resource`` and ``price``).
    Raises ConfigError when the file is not a GCP billing export.
    """
    if variant not in VARIANTS:
        raise ConfigError(
            f"Unknown GCP export variant {variant!r}.", f"Use one of: {', '.join(VARIANTS)}."
        )
    opened = _open(source)
    frame = _with_all_fields(opened)
    cols = Columns(frame.collect_schema())
    frame = frame.with_columns(_base_columns(cols))
    frame = focus.join_lookup(frame, pl.col("ServiceName"), gcp_categories(), ["_category"])
    frame = focus.join_units(frame, _field("usage", "pricing_unit"), "_pricing_unit", UNITS)
    frame = focus.join_units(frame, _field("usage", "unit"), "_usage_unit", UNITS)

    # One pass: each export row is exploded into itself (``_credit`` null) and one row per
    # promotional credit. Two branches over one scan would make polars buffer the whole
    # input for the second branch.
    credit_type = cols.dtype("credits").inner  # type: ignore[union-attr]
    promotions = pl.col("credits").list.eval(
        pl.element().filter(~pl.element().struct.field("type").is_in(DISCOUNT_CREDITS))
    )
    parts = pl.concat_list(
        pl.lit(None, dtype=credit_type).implode(),
        promotions.fill_null(pl.lit([], dtype=pl.List(credit_type))),
    )
    frame = frame.with_columns(parts.alias("_credit")).explode("_credit")

    is_credit = pl.col("_credit").is_not_null()
    charge = {e.meta.output_name(): e for e in _charge_columns()}
    credit = {e.meta.output_name(): e for e in _credit_columns()}
    merged = [
        pl.when(is_credit)
        .then(credit.get(name, pl.col(name)))
        .otherwise(charge.get(name, pl.col(name)))
        .alias(name)
        for name in {**charge, **credit}
    ]
    return focus.select_focus(frame.with_columns(merged), _EXTRA)


def _open(source: Source) -> OpenedSource:
    if isinstance(source, str | Path) and str(source).lower().endswith(
        (".json", ".jsonl", ".ndjson")
    ):
        path = Path(source)
        keys = _first_record_keys(path)
        missing = [name for name in REQUIRED if name not in keys]
        if missing:
            raise ConfigError(missing_columns_message(str(path), missing, EXPORT_NAME), REMEDIATION)
        frame = pl.scan_ndjson(path, schema=EXPORT_SCHEMA)
        return OpenedSource(frame, EXPORT_SCHEMA, str(path))
    opened = open_source(source, export=EXPORT_NAME)
    missing = [name for name in REQUIRED if name not in opened.columns]
    if missing:
        raise ConfigError(missing_columns_message(opened.label, missing, EXPORT_NAME), REMEDIATION)
    return opened


def _first_record_keys(path: Path) -> set[str]:
    """Top-level keys of the first JSON record (an empty file has none)."""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(
                        f"{path} is not newline-delimited JSON: {exc}.",
                        "Export the BigQuery billing table as NEWLINE_DELIMITED_JSON or Parquet.",
                    ) from exc
                return set(record) if isinstance(record, dict) else set()
    return set(REQUIRED)


def _with_all_fields(opened: OpenedSource) -> pl.LazyFrame:
    """Add typed nulls for optional export fields the file lacks (standard export)."""
    missing = [
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in EXPORT_SCHEMA.items()
        if name not in opened.schema
    ]
    return opened.frame.with_columns(missing) if missing else opened.frame


def _field(column: str, field: str) -> pl.Expr:
    return pl.col(column).struct.field(field)


def _timestamp(cols: Columns, name: str) -> pl.Expr:
    dtype = cols.dtype(name)
    if dtype == pl.String:
        # BigQuery's JSON export writes TIMESTAMP as "2024-05-01 07:00:00 UTC".
        text = pl.col(name).str.replace(r" UTC$", "Z")
        return focus.utc_datetime(text, pl.String(), focus.ISO_AWARE + focus.ISO_NAIVE)
    return focus.utc_datetime(pl.col(name), dtype)


def _base_columns(cols: Columns) -> list[pl.Expr]:
    credits = pl.col("credits")
    credit_type = pl.element().struct.field("type")
    credit_amount = pl.element().struct.field("amount")
    discount_sum = credits.list.eval(
        credit_amount.filter(credit_type.is_in(DISCOUNT_CREDITS))
    ).list.sum()
    cud_credit = credits.list.eval(pl.element().filter(credit_type.is_in(CUD_CREDITS))).list.first()
    invoice_month = (
        _field("invoice", "month")
        .str.strptime(pl.Datetime("us"), "%Y%m", strict=False)
        .dt.replace_time_zone(INVOICE_TIME_ZONE)
    )
    start = _timestamp(cols, "usage_start_time")
    return [
        start.alias("ChargePeriodStart"),
        _timestamp(cols, "usage_end_time").alias("ChargePeriodEnd"),
        pl.coalesce(
            invoice_month.dt.convert_time_zone("UTC"),
            focus.month_start(start),
        ).alias("BillingPeriodStart"),
        pl.coalesce(
            invoice_month.dt.offset_by("1mo").dt.convert_time_zone("UTC"),
            focus.next_month_start(start),
        ).alias("BillingPeriodEnd"),
        to_decimal(pl.col("cost")).fill_null(zero()).alias("_cost"),
        to_decimal(discount_sum.fill_null(0.0)).alias("_discounts"),
        cud_credit.alias("_cud"),
        focus.currency_code(pl.col("currency")).alias("BillingCurrency"),
        pl.col("billing_account_id").alias("BillingAccountId"),
        focus.null_if_blank(_field("project", "id")).alias("SubAccountId"),
        focus.null_if_blank(_field("service", "description")).alias("ServiceName"),
        pl.col("cost_type").alias("x_CostType"),
        _field("project", "number").alias("x_ProjectNumber"),
        pl.col("currency_conversion_rate").cast(pl.String).alias("x_CurrencyConversionRate"),
    ]


def _charge_columns() -> list[pl.Expr]:
    """The FOCUS columns of an export row (its discount credits folded in)."""
    cost_type = pl.col("cost_type")
    adjustment = _field("adjustment_info", "type")
    sku_description = _field("sku", "description").fill_null("")
    is_commitment_fee = (cost_type == "regular") & sku_description.str.starts_with("Commitment")
    category = (
        pl.when(is_commitment_fee)
        .then(pl.lit("Purchase"))
        .when(cost_type == "regular")
        .then(pl.lit("Usage"))
        .when(cost_type == "tax")
        .then(pl.lit("Tax"))
        .when(cost_type == "rounding_error")
        .then(pl.lit("Adjustment"))
        .when((cost_type == "adjustment") & adjustment.is_in(GOODWILL_ADJUSTMENTS))
        .then(pl.lit("Credit"))
        .when((cost_type == "adjustment") & adjustment.is_in(CORRECTION_ADJUSTMENTS))
        .then(pl.lit("Usage"))
        .otherwise(pl.lit("Adjustment"))
    )
    is_usage = cost_type == "regular"
    is_priced = category.is_in(("Usage", "Purchase")) & is_usage
    net = pl.col("_cost") + pl.col("_discounts")
    quantity = pl.when(is_priced).then(to_decimal(_field("usage", "amount_in_pricing_units")))
    qty = _field("usage", "amount_in_pricing_units")
    list_cost = pl.coalesce(pl.col("cost_at_list"), pl.col("cost"))
    effective_price = _field("price", "effective_price")
    has_prices = is_priced & (qty > 0) & effective_price.is_not_null()
    list_price = pl.when(qty > 0).then((list_cost / qty).round_sig_figs(15))
    list_price = list_price.cast(DECIMAL, strict=False)
    cud = pl.col("_cud")
    cud_id = pl.when(is_priced & ~is_commitment_fee).then(cud.struct.field("id"))
    commitment_id = pl.coalesce(
        cud_id, pl.when(is_commitment_fee).then(_field("subscription", "instance_id"))
    )
    is_spend = cud.struct.field("type") == "COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE"
    resource = focus.null_if_blank(_field("resource", "global_name"))
    region = focus.null_if_blank(_field("location", "region"))
    service_category = pl.col("_category").fill_null("Other")
    sku_id = pl.when(cost_type != "tax").then(_field("sku", "id"))
    return [
        category.alias("ChargeCategory"),
        pl.when(
            (cost_type == "adjustment")
            & (
                adjustment.is_in(CORRECTION_ADJUSTMENTS)
                | (pl.col("ChargePeriodStart") < pl.col("BillingPeriodStart"))
            )
        )
        .then(pl.lit("Correction"))
        .alias("ChargeClass"),
        pl.when(is_commitment_fee)
        .then(pl.lit("Recurring"))
        .when(is_usage)
        .then(pl.lit("Usage-Based"))
        .otherwise(pl.lit("One-Time"))
        .alias("ChargeFrequency"),
        net.alias("BilledCost"),
        net.alias("EffectiveCost"),
        net.alias("PricingCurrencyEffectiveCost"),
        pl.when(has_prices)
        .then(to_decimal(list_cost))
        .otherwise(pl.when(is_priced).then(to_decimal(list_cost)).otherwise(pl.col("_cost")))
        .alias("ListCost"),
        pl.when(has_prices)
        .then(focus.multiply(effective_price, qty))
        .otherwise(pl.col("_cost"))
        .alias("ContractedCost"),
        pl.when(has_prices).then(list_price).alias("ListUnitPrice"),
        pl.when(has_prices).then(effective_price.cast(DECIMAL)).alias("ContractedUnitPrice"),
        pl.when(has_prices).then(list_price).alias("PricingCurrencyListUnitPrice"),
        pl.when(has_prices)
        .then(effective_price.cast(DECIMAL))
        .alias("PricingCurrencyContractedUnitPrice"),
        pl.col("BillingCurrency").alias("PricingCurrency"),
        quantity.alias("PricingQuantity"),
        pl.when(quantity.is_not_null())
        .then(pl.coalesce(pl.col("_pricing_unit"), pl.lit("Units")))
        .alias("PricingUnit"),
        pl.when(is_usage & ~is_commitment_fee)
        .then(to_decimal(_field("usage", "amount")))
        .alias("ConsumedQuantity"),
        pl.when(is_usage & ~is_commitment_fee & _field("usage", "amount").is_not_null())
        .then(pl.coalesce(pl.col("_usage_unit"), pl.lit("Units")))
        .alias("ConsumedUnit"),
        pl.when(~is_priced)
        .then(None)
        .when(cud_id.is_not_null())
        .then(pl.lit("Committed"))
        .otherwise(pl.lit("Standard"))
        .alias("PricingCategory"),
        commitment_id.alias("CommitmentDiscountId"),
        pl.when(commitment_id.is_null())
        .then(None)
        .when(is_spend)
        .then(pl.lit("Spend"))
        .otherwise(pl.lit("Usage"))
        .alias("CommitmentDiscountCategory"),
        pl.when(commitment_id.is_not_null())
        .then(pl.lit("Committed Use Discount"))
        .alias("CommitmentDiscountType"),
        pl.when(cud_id.is_not_null())
        .then(cud.struct.field("full_name"))
        .alias("CommitmentDiscountName"),
        pl.when(cud_id.is_not_null()).then(pl.lit("Used")).alias("CommitmentDiscountStatus"),
        pl.when(commitment_id.is_not_null()).then(quantity).alias("CommitmentDiscountQuantity"),
        pl.when(commitment_id.is_not_null() & quantity.is_not_null())
        .then(pl.coalesce(pl.col("_pricing_unit"), pl.lit("Units")))
        .alias("CommitmentDiscountUnit"),
        focus.null_string().alias("CapacityReservationId"),
        focus.null_string().alias("CapacityReservationStatus"),
        *_account_columns(),
        focus.null_string().alias("InvoiceId"),
        pl.lit("Google Cloud").alias("InvoiceIssuerName"),
        pl.lit("Google Cloud").alias("ProviderName"),
        pl.when(pl.col("transaction_type").fill_null("GOOGLE") == "GOOGLE")
        .then(pl.lit("Google Cloud"))
        .otherwise(pl.coalesce(pl.col("seller_name"), pl.lit("Google Cloud")))
        .alias("PublisherName"),
        pl.coalesce(_field("adjustment_info", "description"), _field("sku", "description")).alias(
            "ChargeDescription"
        ),
        focus.null_if_blank(_field("location", "zone")).alias("AvailabilityZone"),
        region.alias("RegionId"),
        region.alias("RegionName"),
        resource.alias("ResourceId"),
        pl.when(resource.is_not_null())
        .then(focus.null_if_blank(_field("resource", "name")))
        .alias("ResourceName"),
        pl.when(resource.is_not_null())
        .then(pl.coalesce(_resource_type(resource), pl.col("ServiceName")))
        .alias("ResourceType"),
        pl.coalesce(pl.col("ServiceName"), pl.lit("Google Cloud")).alias("ServiceName"),
        service_category.alias("ServiceCategory"),
        focus.subcategory_or_other(focus.null_string(), service_category).alias(
            "ServiceSubcategory"
        ),
        sku_id.alias("SkuId"),
        pl.when(sku_id.is_not_null())
        .then(
            pl.concat_str(
                [
                    sku_id,
                    _field("price", "tier_start_amount").cast(pl.String).fill_null("0"),
                ],
                separator="/",
            )
        )
        .alias("SkuPriceId"),
        pl.when(sku_id.is_not_null()).then(_field("sku", "description")).alias("SkuMeter"),
        focus.null_string().alias("SkuPriceDetails"),
        _tags().alias("Tags"),
        pl.lit(None, dtype=pl.String).alias("x_CreditType"),
    ]


def _account_columns() -> list[pl.Expr]:
    project = pl.col("SubAccountId")
    return [
        focus.null_string().alias("BillingAccountName"),
        pl.lit("Billing Account").alias("BillingAccountType"),
        pl.when(project.is_not_null())
        .then(pl.coalesce(_field("project", "name"), project))
        .alias("SubAccountName"),
        pl.when(project.is_not_null()).then(pl.lit("Project")).alias("SubAccountType"),
    ]


def _credit_columns() -> list[pl.Expr]:
    """The FOCUS columns of a ``Credit`` row made from one promotional credit (``_credit``)."""
    credit = pl.col("_credit")
    amount = to_decimal(credit.struct.field("amount")).fill_null(zero())
    priced_nulls = [
        "ListUnitPrice",
        "ContractedUnitPrice",
        "PricingCurrencyListUnitPrice",
        "PricingCurrencyContractedUnitPrice",
        "PricingQuantity",
        "ConsumedQuantity",
        "CommitmentDiscountQuantity",
    ]
    string_nulls = [
        "PricingUnit",
        "ConsumedUnit",
        "PricingCategory",
        "CommitmentDiscountId",
        "CommitmentDiscountCategory",
        "CommitmentDiscountType",
        "CommitmentDiscountName",
        "CommitmentDiscountStatus",
        "CommitmentDiscountUnit",
        "CapacityReservationId",
        "CapacityReservationStatus",
        "InvoiceId",
        "SkuId",
        "SkuPriceId",
        "SkuMeter",
        "SkuPriceDetails",
        "AvailabilityZone",
        "ResourceName",
    ]
    resource = focus.null_if_blank(_field("resource", "global_name"))
    region = focus.null_if_blank(_field("location", "region"))
    service_category = pl.col("_category").fill_null("Other")
    return [
        pl.lit("Credit").alias("ChargeCategory"),
        pl.when(pl.col("ChargePeriodStart") < pl.col("BillingPeriodStart"))
        .then(pl.lit("Correction"))
        .alias("ChargeClass"),
        pl.lit("One-Time").alias("ChargeFrequency"),
        *(amount.alias(name) for name in _COST_NAMES),
        *(focus.null_decimal().alias(name) for name in priced_nulls),
        *(focus.null_string().alias(name) for name in string_nulls),
        pl.col("BillingCurrency").alias("PricingCurrency"),
        *_account_columns(),
        pl.lit("Google Cloud").alias("InvoiceIssuerName"),
        pl.lit("Google Cloud").alias("ProviderName"),
        pl.lit("Google Cloud").alias("PublisherName"),
        pl.coalesce(credit.struct.field("full_name"), credit.struct.field("name")).alias(
            "ChargeDescription"
        ),
        region.alias("RegionId"),
        region.alias("RegionName"),
        resource.alias("ResourceId"),
        pl.when(resource.is_not_null())
        .then(pl.coalesce(_resource_type(resource), pl.col("ServiceName")))
        .alias("ResourceType"),
        pl.coalesce(pl.col("ServiceName"), pl.lit("Google Cloud")).alias("ServiceName"),
        service_category.alias("ServiceCategory"),
        focus.subcategory_or_other(focus.null_string(), service_category).alias(
            "ServiceSubcategory"
        ),
        _tags().alias("Tags"),
        credit.struct.field("type").alias("x_CreditType"),
    ]


_COST_NAMES = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "PricingCurrencyEffectiveCost",
)


def _resource_type(global_name: pl.Expr) -> pl.Expr:
    """``compute.googleapis.com/instances`` from ``//compute.googleapis.com/…/instances/1``."""
    host = global_name.str.extract(r"^//([^/]+)/", 1)
    collection = global_name.str.extract(r"/([^/]+)/[^/]+$", 1)
    return pl.when(host.is_not_null() & collection.is_not_null()).then(
        host + pl.lit("/") + collection
    )


def _tags() -> pl.Expr:
    """Labels and tags as one FOCUS Tags object.

    Resource labels are the unprefixed user scheme; project labels get ``project:``; system
    labels keep their own Google-owned keys (``goog-…``, ``compute.googleapis.com/…``);
    resource-manager tags are ``<namespace>/<key>``, as Google spells them.
    """

    def members(column: pl.Expr, key_prefix: pl.Expr | None, namespaced: bool) -> pl.Expr:
        key = pl.element().struct.field("key")
        if namespaced:
            key = pl.element().struct.field("namespace") + pl.lit("/") + key
        elif key_prefix is not None:
            key = key_prefix + key
        value = pl.element().struct.field("value")
        # FOCUS: a tag without a value has the value true.
        value_json = (
            pl.when(value.is_null() | (value == ""))
            .then(pl.lit("true"))
            .otherwise(focus.json_string(value))
        )
        member = focus.json_string(key) + pl.lit(":") + value_json
        return column.list.eval(member.filter(key.is_not_null())).fill_null(
            pl.lit([], dtype=pl.List(pl.String))
        )

    combined = pl.concat_list(
        members(pl.col("labels"), None, False),
        members(_field("project", "labels"), pl.lit("project:"), False),
        members(pl.col("system_labels"), None, False),
        members(pl.col("tags"), None, True),
    )
    body = combined.list.join(",")
    return (
        pl.when(body.is_null() | (body == ""))
        .then(None)
        .otherwise(pl.lit("{") + body + pl.lit("}"))
    )


def native_totals(source: Source) -> pl.LazyFrame:
    """Input rows and cost + all credits per currency: what the invoice charges."""
    frame = _with_all_fields(_open(source))
    credits = pl.col("credits").list.eval(pl.element().struct.field("amount")).list.sum()
    cost = to_decimal(pl.col("cost").fill_null(0.0) + credits.fill_null(0.0))
    return (
        frame.select(focus.currency_code(pl.col("currency")).alias("currency"), cost.alias("cost"))
        .group_by("currency")
        .agg(pl.len().alias("rows"), pl.col("cost").sum())
    )
