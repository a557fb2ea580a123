"""AWS Cost and Usage Report (legacy CUR and CUR 2.0) to FOCUS 1.2.

Three spellings of the same data are accepted and told apart by their header:

- legacy CUR CSV, with ``lineItem/UsageStartDate``-style headers and one ``resourceTags/…``
  column per tag key;
- legacy CUR in Athena/Parquet form, with snake_case names (``line_item_usage_start_date``)
  and one ``resource_tags_…`` column per tag key;
- CUR 2.0 (Data Exports), snake_case with a single ``resource_tags`` map column (a JSON
  object in CSV exports).

The mapping decisions (negation and discount rows, refunds, amortization, unused
commitments, tags) are explained in docs/billing.md; each has a test in
tests/adapters/billing/test_aws_cur.py.
"""

from __future__ import annotations

import re

import polars as pl

from adapters.billing import focus
from adapters.billing.focus import DECIMAL, null_if_blank, to_decimal, zero
from adapters.billing.lookups import AWS_SUBCATEGORIES, aws_categories
from adapters.billing.source import Columns, OpenedSource, Source, open_source, require_columns

EXPORT_NAME = "AWS Cost and Usage Report (legacy CUR or CUR 2.0)"
VARIANTS = ("auto", "legacy", "cur2")

# Columns without which a file cannot be a CUR, by their snake_case names.
REQUIRED = (
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_unblended_cost",
    "line_item_currency_code",
    "line_item_product_code",
)

USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
DISCOUNT_TYPES = ("BundledDiscount", "EdpDiscount", "PrivateRateDiscount", "Discount")
PURCHASE_TYPES = ("Fee", "RIFee", "SavingsPlanUpfrontFee", "SavingsPlanRecurringFee")
DROPPED_TYPES = ("SavingsPlanNegation",)

# String columns passed through to FOCUS; blanks become nulls once, up front.
_STRING_INPUTS = (
    "bill_payer_account_name",
    "bill_invoice_id",
    "bill_invoicing_entity",
    "line_item_usage_account_id",
    "line_item_usage_account_name",
    "line_item_line_item_description",
    "line_item_availability_zone",
    "line_item_resource_id",
    "line_item_legal_entity",
    "product_product_name",
    "product_servicename",
    "product_region_code",
    "product_region",
    "product_location",
    "product_sku",
    "product_product_family",
    "pricing_rate_code",
    "pricing_rate_id",
    "pricing_term",
)
_DATE_INPUTS = (
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
)

_TAG_PREFIXES = ("resourceTags/", "resource_tags_")
_USER_TAG = re.compile(r"^user[:_]")


def snake_name(header: str) -> str:
    """A legacy CUR CSV header as the Athena/CUR 2.0 column name.

    ``lineItem/UsageStartDate`` becomes ``line_item_usage_start_date`` and
    ``savingsPlan/SavingsPlanARN`` becomes ``savings_plan_savings_plan_a_r_n`` (every capital
    letter starts a new word, as AWS's own Athena integration does).
    """
    if "/" not in header:
        return header
    category, name = header.split("/", 1)
    return f"{_split_camel(category)}_{_split_camel(name)}"


def _split_camel(word: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", word).lower()


def tag_key(raw: str) -> str:
    """The FOCUS tag key for a CUR tag key: user tags lose their ``user:`` prefix.

    User-defined tags are FOCUS's one unprefixed tag scheme; AWS-generated tags keep their
    ``aws:`` prefix, so the two cannot collide.
    """
    return _USER_TAG.sub("", raw)


def detect_variant(columns: list[str]) -> str:
    """``legacy`` or ``cur2`` from a header (see the module docstring)."""
    if "resource_tags" in columns or "bill_payer_account_name" in columns:
        return "cur2"
    return "legacy"


def to_focus(source: Source, *, variant: str = "auto") -> pl.LazyFrame:
    """Convert a CUR export to a lazy FOCUS 1.2 frame (FOCUS columns, then ``x_`` columns).

    ``variant`` is ``legacy``, ``cur2`` or ``auto`` (detected from the header). Raises
    ConfigError when the file is not a CUR or the variant is unknown.
    """
    if variant not in VARIANTS:
        from fintropy.errors import ConfigError

        raise ConfigError(
            f"Unknown AWS CUR variant {variant!r}.", f"Use one of: {', '.join(VARIANTS)}."
        )
    opened = open_source(source, export=EXPORT_NAME)
    frame, tag_columns = _normalise_names(opened)
    schema = frame.collect_schema()
    require_columns(opened, _required_as_written(opened), export=EXPORT_NAME)
    if variant == "auto":
        variant = detect_variant(list(schema.names()))
    return _convert(frame, Columns(schema), tag_columns, variant)


def _required_as_written(opened: OpenedSource) -> list[str]:
    """REQUIRED in the spelling of the export, so error messages quote its own headers."""
    if any("/" in name for name in opened.columns):
        by_snake = {snake_name(name): name for name in opened.columns}
        return [by_snake.get(name, _legacy_header(name)) for name in REQUIRED]
    return list(REQUIRED)


def _legacy_header(snake: str) -> str:
    category, _, rest = snake.partition("_")
    if category in ("line", "savings"):
        head, _, rest = rest.partition("_")
        category = category + head.capitalize()
    words = rest.split("_")
    return f"{category}/{words[0].capitalize()}{''.join(w.capitalize() for w in words[1:])}"


def _normalise_names(opened: OpenedSource) -> tuple[pl.LazyFrame, list[tuple[str, str]]]:
    """Rename legacy headers to snake_case and find the per-key tag columns."""
    renames: dict[str, str] = {}
    tags: list[tuple[str, str]] = []
    for name in opened.columns:
        if name.startswith(_TAG_PREFIXES):
            raw = name.split("/", 1)[1] if "/" in name else name[len("resource_tags_") :]
            column = "resource_tags_" + raw if "/" in name else name
            renames[name] = column
            tags.append((column, tag_key(raw)))
        elif "/" in name:
            renames[name] = snake_name(name)
    frame = opened.frame.rename(renames) if renames else opened.frame
    return frame, tags


def _convert(
    frame: pl.LazyFrame, cols: Columns, tag_columns: list[tuple[str, str]], variant: str
) -> pl.LazyFrame:
    item_type = pl.col("line_item_line_item_type")
    frame = frame.filter(~item_type.is_in(DROPPED_TYPES))

    # Fee rows of commitments also yield an "unused commitment" Usage row (FOCUS wants the
    # unused part of a commitment as its own row); _part = 1 marks that synthesized copy.
    unused = _unused_commitment(cols)
    has_commitments = any(
        cols.has(n)
        for n in ("reservation_unused_recurring_fee", "savings_plan_total_commitment_to_date")
    )
    if has_commitments:
        parts = pl.when(unused > 0).then(pl.lit([0, 1], dtype=pl.List(pl.Int8)))
        parts = parts.otherwise(pl.lit([0], dtype=pl.List(pl.Int8)))
        frame = frame.with_columns(parts.alias("_part")).explode("_part")
    else:
        frame = frame.with_columns(pl.lit(0, dtype=pl.Int8).alias("_part"))

    blanks = [n for n in _STRING_INPUTS if cols.dtype(n) == pl.String]
    frame = frame.with_columns(null_if_blank(pl.col(n)).alias(n) for n in blanks)
    frame = frame.with_columns(_base_columns(cols, unused, _date_formats(frame, cols)))
    frame = focus.join_units(frame, null_if_blank(cols.get("pricing_unit")), "_unit")
    frame = focus.join_lookup(
        frame, pl.col("x_ServiceCode"), _service_table(), ["_category", "_subcategory"]
    )
    frame = frame.with_columns(_flag_columns(cols))
    frame = frame.with_columns(_priced_columns(cols))
    frame = frame.with_columns(_derived_columns(cols, tag_columns, variant))
    frame = frame.with_columns(
        pl.col("EffectiveCost").alias("PricingCurrencyEffectiveCost"),
        pl.col("ListUnitPrice").alias("PricingCurrencyListUnitPrice"),
        pl.col("ContractedUnitPrice").alias("PricingCurrencyContractedUnitPrice"),
        pl.col("BillingCurrency").alias("PricingCurrency"),
    )
    extra = ["x_LineItemType", "x_ServiceCode", "x_UsageType", "x_Operation", "x_InvoicingEntity"]
    return focus.select_focus(frame, extra)


def _unused_commitment(cols: Columns) -> pl.Expr:
    """The unused part of a commitment on its fee row, in billing currency (0 otherwise)."""
    item_type = pl.col("line_item_line_item_type")

    def money(name: str) -> pl.Expr:
        return focus.decimal_or_zero(cols.get(name))

    ri_unused = money("reservation_unused_amortized_upfront_fee_for_billing_period") + money(
        "reservation_unused_recurring_fee"
    )
    sp_unused = money("savings_plan_total_commitment_to_date") - money(
        "savings_plan_used_commitment"
    )
    return (
        pl.when(item_type == "RIFee")
        .then(ri_unused)
        .when(item_type == "SavingsPlanRecurringFee")
        .then(sp_unused)
        .otherwise(zero())
    )


def _service_table() -> dict[str, tuple[str | None, str | None]]:
    """AWS product code -> (ServiceCategory, ServiceSubcategory)."""
    categories = aws_categories()
    table: dict[str, tuple[str | None, str | None]] = {}
    for code in set(categories) | set(AWS_SUBCATEGORIES):
        category = categories.get(code, "Other")
        sub = AWS_SUBCATEGORIES.get(code)
        # A subcategory belongs to exactly one category; keep it only under that one.
        table[code] = (category, sub if focus.SUBCATEGORY_PARENT.get(sub) == category else None)
    return table


def _date_formats(frame: pl.LazyFrame, cols: Columns) -> tuple[str, ...]:
    """The timestamp formats this export uses, judged from its first rows."""
    names = [n for n in _DATE_INPUTS if cols.dtype(n) == pl.String]
    if not names:
        return focus.ISO_AWARE
    sample = frame.select(names).head(2_000).collect()
    values = pl.concat([sample[n] for n in names])
    return focus.choose_datetime_formats(values, focus.ISO_AWARE + focus.ISO_NAIVE)


def _base_columns(cols: Columns, unused: pl.Expr, fmt: tuple[str, ...]) -> list[pl.Expr]:
    """Typed intermediate columns (prefixed ``_``) the FOCUS columns are computed from."""
    item_type = pl.col("line_item_line_item_type")
    billed_native = (
        pl.coalesce(
            to_decimal(cols.get("line_item_net_unblended_cost")),
            to_decimal(pl.col("line_item_unblended_cost")),
        )
        if cols.has("line_item_net_unblended_cost")
        else to_decimal(pl.col("line_item_unblended_cost"))
    ).fill_null(zero())
    sp_arn = null_if_blank(cols.get("savings_plan_savings_plan_a_r_n"))
    ri_arn = null_if_blank(cols.get("reservation_reservation_a_r_n"))
    return [
        billed_native.alias("_billed_native"),
        unused.alias("_unused"),
        sp_arn.alias("_sp_arn"),
        ri_arn.alias("_ri_arn"),
        focus.utc_datetime(
            pl.col("line_item_usage_start_date"), cols.dtype("line_item_usage_start_date"), fmt
        ).alias("ChargePeriodStart"),
        focus.utc_datetime(
            pl.col("line_item_usage_end_date"), cols.dtype("line_item_usage_end_date"), fmt
        ).alias("ChargePeriodEnd"),
        focus.utc_datetime(
            pl.col("bill_billing_period_start_date"),
            cols.dtype("bill_billing_period_start_date"),
            fmt,
        ).alias("BillingPeriodStart"),
        focus.utc_datetime(
            pl.col("bill_billing_period_end_date"), cols.dtype("bill_billing_period_end_date"), fmt
        ).alias("BillingPeriodEnd"),
        focus.currency_code(pl.col("line_item_currency_code")).alias("BillingCurrency"),
        to_decimal(cols.get("line_item_usage_amount")).alias("_usage_amount"),
        null_if_blank(cols.get("line_item_product_code")).alias("x_ServiceCode"),
        item_type.alias("x_LineItemType"),
        null_if_blank(cols.get("line_item_usage_type")).alias("x_UsageType"),
        null_if_blank(cols.get("line_item_operation")).alias("x_Operation"),
    ]


def _flag_columns(cols: Columns) -> list[pl.Expr]:
    """Row classification used by many FOCUS columns, computed once."""
    item_type = pl.col("line_item_line_item_type")
    synthesized = pl.col("_part") == 1
    commitment_id = pl.coalesce(pl.col("_sp_arn"), pl.col("_ri_arn"))
    is_usage = item_type.is_in(USAGE_TYPES) & ~synthesized
    commitment_related = synthesized | item_type.is_in(
        ("DiscountedUsage", "SavingsPlanCoveredUsage", "Refund", *PURCHASE_TYPES)
    )
    return [
        (pl.col("ChargePeriodStart") < pl.col("BillingPeriodStart")).alias("_correction"),
        synthesized.alias("_synth"),
        is_usage.alias("_is_usage"),
        (is_usage | item_type.is_in(PURCHASE_TYPES) | synthesized).alias("_is_priced"),
        pl.when(commitment_related).then(commitment_id).alias("CommitmentDiscountId"),
        pl.col("_sp_arn").is_not_null().alias("_is_sp"),
        to_decimal(cols.get("pricing_public_on_demand_rate")).alias("_list_rate"),
        to_decimal(cols.get("line_item_unblended_rate")).alias("_unblended_rate"),
        pl.coalesce(
            to_decimal(cols.get("savings_plan_net_savings_plan_effective_cost")),
            to_decimal(cols.get("savings_plan_savings_plan_effective_cost")),
        ).alias("_sp_effective"),
        pl.coalesce(
            to_decimal(cols.get("reservation_net_effective_cost")),
            to_decimal(cols.get("reservation_effective_cost")),
        ).alias("_ri_effective"),
    ]


def _priced_columns(cols: Columns) -> list[pl.Expr]:
    """Costs, prices and quantities (see docs/billing.md for each rule)."""
    item_type = pl.col("line_item_line_item_type")
    synthesized = pl.col("_synth")
    is_usage = pl.col("_is_usage")
    is_sp = pl.col("_is_sp")
    billed = pl.col("_billed_native")
    cd_id = pl.col("CommitmentDiscountId")

    # Covered usage: the SavingsPlanNegation row that cancels it was dropped, so its billed
    # cost is folded to 0 here; the commitment's fee rows carry the cash.
    billed_cost = (
        pl.when(synthesized | (item_type == "SavingsPlanCoveredUsage"))
        .then(zero())
        .otherwise(billed)
    )
    effective_cost = (
        pl.when(synthesized)
        .then(pl.col("_unused"))
        .when(item_type == "SavingsPlanCoveredUsage")
        .then(pl.col("_sp_effective").fill_null(zero()))
        .when(item_type == "DiscountedUsage")
        .then(pl.col("_ri_effective").fill_null(zero()))
        .when(item_type.is_in(("RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")))
        .then(zero())
        .when((item_type == "Fee") & cd_id.is_not_null())
        .then(zero())
        .otherwise(billed)
    )

    # Prices. List = public on-demand; contracted = the unblended rate (AWS's negotiated
    # rate before commitments), or the on-demand rate for covered rows whose unblended rate
    # is 0. Rows without a unit price (tax, credits, fees) are standalone charges whose list
    # and contracted cost equal the billed cost.
    quantity = (
        pl.when(synthesized)
        .then(_unused_quantity(cols, is_sp))
        .when(pl.col("_is_priced"))
        .then(pl.col("_usage_amount"))
    )
    list_price = pl.col("_list_rate")
    contracted_price = (
        pl.when(item_type.is_in(("DiscountedUsage", "SavingsPlanCoveredUsage")))
        .then(pl.coalesce(list_price, pl.col("_unblended_rate")))
        .otherwise(pl.coalesce(pl.col("_unblended_rate"), list_price))
    )
    has_prices = is_usage & list_price.is_not_null() & contracted_price.is_not_null()
    unused_rate = _safe_divide(pl.col("_unused"), quantity)
    return [
        billed_cost.alias("BilledCost"),
        effective_cost.alias("EffectiveCost"),
        quantity.alias("PricingQuantity"),
        pl.when(synthesized)
        .then(unused_rate)
        .when(has_prices)
        .then(list_price)
        .alias("ListUnitPrice"),
        pl.when(synthesized)
        .then(unused_rate)
        .when(has_prices)
        .then(contracted_price)
        .alias("ContractedUnitPrice"),
        pl.when(synthesized)
        .then(pl.col("_unused"))
        .when(has_prices)
        .then(focus.decimal_or_zero(cols.get("pricing_public_on_demand_cost")))
        .otherwise(billed)
        .alias("ListCost"),
        pl.when(synthesized)
        .then(pl.col("_unused"))
        .when(has_prices)
        .then(_multiply(contracted_price, pl.col("_usage_amount")))
        .otherwise(billed)
        .alias("ContractedCost"),
        pl.when(cd_id.is_null() | pl.col("_correction"))
        .then(None)
        .when(synthesized)
        .then(quantity)
        .when(item_type == "SavingsPlanCoveredUsage")
        .then(pl.col("_sp_effective"))
        .when(is_sp)
        .then(to_decimal(cols.get("savings_plan_total_commitment_to_date")))
        .when(item_type == "DiscountedUsage")
        .then(pl.col("_usage_amount"))
        .otherwise(to_decimal(cols.get("reservation_total_reserved_units")))
        .alias("CommitmentDiscountQuantity"),
    ]


def _derived_columns(
    cols: Columns, tag_columns: list[tuple[str, str]], variant: str
) -> list[pl.Expr]:
    item_type = pl.col("line_item_line_item_type")
    synthesized = pl.col("_synth")
    is_usage = pl.col("_is_usage")
    is_priced = pl.col("_is_priced")
    is_sp = pl.col("_is_sp")
    cd_id = pl.col("CommitmentDiscountId")
    quantity = pl.col("PricingQuantity")

    category = (
        pl.when(synthesized | item_type.is_in(USAGE_TYPES))
        .then(pl.lit("Usage"))
        .when(item_type.is_in(PURCHASE_TYPES))
        .then(pl.lit("Purchase"))
        .when(item_type == "Tax")
        .then(pl.lit("Tax"))
        .when(item_type.is_in(("Credit", *DISCOUNT_TYPES)))
        .then(pl.lit("Credit"))
        .when((item_type == "Refund") & cd_id.is_not_null())
        .then(pl.lit("Purchase"))
        .when(item_type == "Refund")
        .then(pl.lit("Usage"))
        .otherwise(pl.lit("Adjustment"))
    )
    frequency = (
        pl.when(synthesized | item_type.is_in((*USAGE_TYPES, *DISCOUNT_TYPES)))
        .then(pl.lit("Usage-Based"))
        .when(item_type.is_in(("RIFee", "SavingsPlanRecurringFee", "Tax")))
        .then(pl.lit("Recurring"))
        .when((item_type == "Refund") & cd_id.is_null())
        .then(pl.lit("Usage-Based"))
        .otherwise(pl.lit("One-Time"))
    )
    term = cols.get("pricing_term")
    usage_type = pl.col("x_UsageType").fill_null("")
    pricing_category = (
        pl.when(~(is_priced | (item_type == "Refund")))
        .then(None)
        .when(synthesized | item_type.is_in(("DiscountedUsage", "SavingsPlanCoveredUsage")))
        .then(pl.lit("Committed"))
        .when(item_type.is_in(PURCHASE_TYPES))
        .then(pl.lit("Standard"))
        .when(usage_type.str.contains("SpotUsage", literal=True))
        .then(pl.lit("Dynamic"))
        .when(term == "Reserved")
        .then(pl.lit("Committed"))
        .otherwise(pl.lit("Standard"))
    )
    cd_status = (
        pl.when(cd_id.is_null() | ~(is_usage | synthesized))
        .then(None)
        .when(synthesized)
        .then(pl.lit("Unused"))
        .otherwise(pl.lit("Used"))
    )
    unit = pl.col("_unit").fill_null("Units")
    pricing_unit = (
        pl.when(quantity.is_null())
        .then(None)
        .when(synthesized)
        .then(pl.when(is_sp).then(pl.col("BillingCurrency")).otherwise(pl.lit("Hours")))
        .otherwise(unit)
    )
    consumed = is_usage & pl.col("_usage_amount").is_not_null()

    product_code = pl.col("x_ServiceCode")
    service_category = pl.col("_category").fill_null("Other")
    service_name = pl.coalesce(
        cols.get("product_product_name"),
        cols.get("product_servicename"),
        _map_value(cols, "product", "product_name"),
        product_code,
        pl.lit("AWS"),
    )
    resource_id = pl.when(synthesized).then(cd_id).otherwise(cols.get("line_item_resource_id"))
    region_id = (
        pl.when(item_type == "Tax")
        .then(None)
        .otherwise(pl.coalesce(cols.get("product_region_code"), cols.get("product_region")))
    )
    sku_id = pl.when(is_priced).then(cols.get("product_sku"))
    sku_price_id = pl.when(is_priced).then(
        pl.coalesce(cols.get("pricing_rate_code"), cols.get("pricing_rate_id").cast(pl.String))
    )
    account_id = cols.get("line_item_usage_account_id").cast(pl.String)
    return [
        category.alias("ChargeCategory"),
        frequency.alias("ChargeFrequency"),
        pl.when(pl.col("_correction")).then(pl.lit("Correction")).alias("ChargeClass"),
        pricing_unit.alias("PricingUnit"),
        pl.when(consumed).then(pl.col("_usage_amount")).alias("ConsumedQuantity"),
        pl.when(consumed).then(unit).alias("ConsumedUnit"),
        pricing_category.alias("PricingCategory"),
        pl.col("bill_payer_account_id").cast(pl.String).alias("BillingAccountId"),
        cols.get("bill_payer_account_name").alias("BillingAccountName"),
        pl.lit("Payer Account").alias("BillingAccountType"),
        account_id.alias("SubAccountId"),
        pl.coalesce(cols.get("line_item_usage_account_name"), account_id).alias("SubAccountName"),
        pl.when(account_id.is_not_null()).then(pl.lit("Linked Account")).alias("SubAccountType"),
        cols.get("bill_invoice_id").alias("InvoiceId"),
        # AWS issues the invoice through a regional legal entity; FOCUS names the issuer
        # ("AWS", as ProviderName) and the entity is kept in x_InvoicingEntity.
        pl.lit("AWS").alias("InvoiceIssuerName"),
        cols.get("bill_invoicing_entity").alias("x_InvoicingEntity"),
        pl.lit("AWS").alias("ProviderName"),
        _publisher(cols).alias("PublisherName"),
        pl.when(synthesized)
        .then(pl.lit("Unused commitment: ") + cd_id)
        .otherwise(cols.get("line_item_line_item_description"))
        .alias("ChargeDescription"),
        pl.when(cd_id.is_null())
        .then(None)
        .when(is_sp)
        .then(pl.lit("Spend"))
        .otherwise(pl.lit("Usage"))
        .alias("CommitmentDiscountCategory"),
        pl.when(cd_id.is_null())
        .then(None)
        .when(is_sp)
        .then(pl.lit("Savings Plan"))
        .otherwise(pl.lit("Reserved Instance"))
        .alias("CommitmentDiscountType"),
        focus.null_string().alias("CommitmentDiscountName"),
        cd_status.alias("CommitmentDiscountStatus"),
        pl.when(pl.col("CommitmentDiscountQuantity").is_null())
        .then(None)
        .when(is_sp)
        .then(pl.col("BillingCurrency"))
        .otherwise(pl.lit("Hours"))
        .alias("CommitmentDiscountUnit"),
        focus.null_string().alias("CapacityReservationId"),
        focus.null_string().alias("CapacityReservationStatus"),
        pl.when(synthesized)
        .then(None)
        .otherwise(cols.get("line_item_availability_zone"))
        .alias("AvailabilityZone"),
        region_id.alias("RegionId"),
        pl.when(region_id.is_null())
        .then(None)
        .otherwise(pl.coalesce(cols.get("product_location"), region_id))
        .alias("RegionName"),
        resource_id.alias("ResourceId"),
        _resource_name(cols, tag_columns, variant).alias("ResourceName"),
        pl.when(resource_id.is_null())
        .then(None)
        .otherwise(_resource_type(resource_id, cols))
        .alias("ResourceType"),
        service_name.alias("ServiceName"),
        service_category.alias("ServiceCategory"),
        focus.subcategory_or_other(pl.col("_subcategory"), service_category).alias(
            "ServiceSubcategory"
        ),
        sku_id.alias("SkuId"),
        sku_price_id.alias("SkuPriceId"),
        pl.when(sku_id.is_null())
        .then(None)
        .otherwise(pl.coalesce(cols.get("product_product_family"), pl.col("x_UsageType")))
        .alias("SkuMeter"),
        pl.when(sku_price_id.is_null())
        .then(None)
        .otherwise(_sku_price_details(cols))
        .alias("SkuPriceDetails"),
        _tags(cols, tag_columns, variant).alias("Tags"),
    ]


def _unused_quantity(cols: Columns, is_sp: pl.Expr) -> pl.Expr:
    """Unused hours of a reservation, or unused commitment amount of a savings plan."""
    ri_hours = to_decimal(cols.get("reservation_unused_quantity"))
    return pl.when(is_sp).then(pl.col("_unused")).otherwise(ri_hours.fill_null(pl.col("_unused")))


def _multiply(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return focus.multiply(a, b)


def _safe_divide(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """a ÷ b as a FOCUS decimal; 0 when b is 0 or null."""
    ratio = (a.cast(pl.Float64) / b.cast(pl.Float64)).round_sig_figs(15)
    return pl.when(b.cast(pl.Float64) > 0).then(ratio.cast(DECIMAL, strict=False)).otherwise(zero())


def _publisher(cols: Columns) -> pl.Expr:
    """The seller: the legal entity (a Marketplace seller for third-party charges)."""
    return pl.coalesce(
        null_if_blank(cols.get("product_legal_entity")),
        null_if_blank(cols.get("line_item_legal_entity")),
        pl.lit("Amazon Web Services"),
    )


def _resource_type(resource_id: pl.Expr, cols: Columns) -> pl.Expr:
    """The resource type from an ARN (``arn:aws:ec2:…:volume/vol-1`` → ``ec2:volume``).

    Plain IDs (``i-0abc``, bucket names) fall back to the product family, then the
    product code, so the type is never null when the resource ID is set.
    """
    parts = resource_id.str.split(":")
    service = parts.list.get(2, null_on_oob=True)
    kind = parts.list.get(5, null_on_oob=True).str.split("/").list.first()
    from_arn = pl.when(resource_id.str.starts_with("arn:")).then(
        pl.concat_str([service, pl.lit(":"), kind.fill_null(service)])
    )
    return pl.coalesce(
        from_arn,
        null_if_blank(cols.get("product_product_family")),
        pl.col("x_ServiceCode"),
    )


def _resource_name(cols: Columns, tag_columns: list[tuple[str, str]], variant: str) -> pl.Expr:
    """The resource's ``Name`` tag when it has one; FOCUS forbids repeating IDs as names."""
    for column, key in tag_columns:
        if key in ("Name", "name"):
            return null_if_blank(pl.col(column))
    if variant == "cur2" and cols.has("resource_tags"):
        return pl.coalesce(
            _map_value(cols, "resource_tags", "user_Name"),
            _map_value(cols, "resource_tags", "user_name"),
            _map_value(cols, "resource_tags", "user:Name"),
        )
    return focus.null_string()


def _map_value(cols: Columns, column: str, key: str) -> pl.Expr:
    """One key of a CUR 2.0 map column: JSON text in CSV, a key/value list in Parquet."""
    dtype = cols.dtype(column)
    if dtype is None:
        return focus.null_string()
    if dtype == pl.String:
        return null_if_blank(pl.col(column).str.json_path_match(f"$['{key}']"))
    entry = pl.element().struct.field("key") == key
    values = pl.col(column).list.eval(pl.element().filter(entry).struct.field("value"))
    return null_if_blank(values.list.first().cast(pl.String))


def _sku_price_details(cols: Columns) -> pl.Expr:
    """FOCUS SkuPriceDetails from the product attributes that describe the price point."""
    keys = [
        ("product_instance_type", "InstanceType"),
        ("product_instance_type_family", "InstanceSeries"),
        ("product_operating_system", "OperatingSystem"),
        ("product_storage_class", "StorageClass"),
        ("product_volume_api_name", "DiskType"),
        ("product_vcpu", "CoreCount"),
    ]
    present = [(column, key) for column, key in keys if cols.has(column)]
    return focus.tags_from_columns(present)


def _tags(cols: Columns, tag_columns: list[tuple[str, str]], variant: str) -> pl.Expr:
    if variant == "cur2" and cols.has("resource_tags"):
        dtype = cols.dtype("resource_tags")
        if dtype == pl.String:
            # CSV exports write the map as JSON text; only the keys' user prefix changes.
            text = focus.empty_object_to_null(pl.col("resource_tags"))
            text = text.str.replace_all(r'([{,]\s*)"user[:_]', '${1}"')
            # FOCUS: a tag without a value has the value true.
            return text.str.replace_all(r'":\s*""', '":true')
        return _tags_from_map(pl.col("resource_tags"))
    return focus.tags_from_columns(tag_columns)


def _tags_from_map(column: pl.Expr) -> pl.Expr:
    """A Parquet map column (a list of key/value structs) as a FOCUS Tags JSON object."""
    key = pl.element().struct.field("key")
    value = pl.element().struct.field("value")
    # FOCUS: a tag without a value has the value true; a null value means no tag.
    value_json = pl.when(value == "").then(pl.lit("true")).otherwise(focus.json_string(value))
    member = focus.json_string(key.str.replace(r"^user[:_]", "")) + pl.lit(":") + value_json
    members = column.list.eval(member.filter(value.is_not_null()))
    body = members.list.join(",")
    return (
        pl.when(body.is_null() | (body == ""))
        .then(None)
        .otherwise(pl.lit("{") + body + pl.lit("}"))
    )


def native_totals(source: Source) -> pl.LazyFrame:
    """Input rows and native billed cost per currency, for reconciling the FOCUS output.

    The native billed cost is ``line_item_net_unblended_cost`` when the export has it, else
    ``line_item_unblended_cost``, summed over every input row (negation rows included: they
    cancel the covered usage that FOCUS folds to 0).
    """
    opened = open_source(source, export=EXPORT_NAME)
    frame, _ = _normalise_names(opened)
    require_columns(opened, _required_as_written(opened), export=EXPORT_NAME)
    cols = Columns(frame.collect_schema())
    cost = to_decimal(pl.col("line_item_unblended_cost"))
    if cols.has("line_item_net_unblended_cost"):
        cost = pl.coalesce(to_decimal(pl.col("line_item_net_unblended_cost")), cost)
    return _totals(frame, focus.currency_code(pl.col("line_item_currency_code")), cost)


def _totals(frame: pl.LazyFrame, currency: pl.Expr, cost: pl.Expr) -> pl.LazyFrame:
    return (
        frame.select(currency.alias("currency"), cost.fill_null(zero()).alias("cost"))
        .group_by("currency")
        .agg(pl.len().alias("rows"), pl.col("cost").sum())
    )
