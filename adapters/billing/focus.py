"""The FOCUS 1.2 cost-and-usage schema, and the column helpers every billing converter shares.

FOCUS (the FinOps Open Cost and Usage Specification) is Fintropy's canonical billing schema.
This module holds the 57 columns of version 1.2 with their data types and nullability, the
allowed values of the enumerated columns, and small polars expression builders for the
conversions every provider needs: decimals, UTC timestamps, currency codes, tags as a JSON
object, and "empty string means null".

All helpers return polars expressions, so converters stay lazy and columnar: no Python code
runs per row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import polars as pl

FOCUS_VERSION = "1.2"

# Money and quantities: 38 digits with 18 after the point. Cloud exports carry values as
# small as 6e-12 (OCI) and per-row costs never approach 10^20, so this loses nothing.
DECIMAL = pl.Decimal(38, 18)
DATETIME = pl.Datetime("us", "UTC")
STRING = pl.String

# The FOCUS date/time format: ISO 8601 extended, seconds, trailing Z.
FOCUS_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class FocusColumn:
    """One FOCUS column: name, polars type, requirement level and whether nulls are allowed."""

    name: str
    dtype: pl.DataType
    level: str  # "M" mandatory, "C" conditional, "R" recommended
    nullable: bool
    type_name: str  # the spec's type: String, Decimal, DateTime or JSON


def _c(name: str, type_name: str, level: str, nullable: bool) -> FocusColumn:
    dtype = {"String": STRING, "Decimal": DECIMAL, "DateTime": DATETIME, "JSON": STRING}[type_name]
    return FocusColumn(name, dtype, level, nullable, type_name)


# Every FOCUS 1.2 column, in the spec's (alphabetical) order. Nullability is the spec's
# "Allows nulls"; PricingCurrency and PricingCurrencyEffectiveCost say "yes" in the table but
# "must not be null when present" in the text, and the text wins.
FOCUS_COLUMNS: tuple[FocusColumn, ...] = (
    _c("AvailabilityZone", "String", "R", True),
    _c("BilledCost", "Decimal", "M", False),
    _c("BillingAccountId", "String", "M", False),
    _c("BillingAccountName", "String", "M", True),
    _c("BillingAccountType", "String", "C", False),
    _c("BillingCurrency", "String", "M", False),
    _c("BillingPeriodEnd", "DateTime", "M", False),
    _c("BillingPeriodStart", "DateTime", "M", False),
    _c("CapacityReservationId", "String", "C", True),
    _c("CapacityReservationStatus", "String", "C", True),
    _c("ChargeCategory", "String", "M", False),
    _c("ChargeClass", "String", "M", True),
    _c("ChargeDescription", "String", "M", True),
    _c("ChargeFrequency", "String", "R", False),
    _c("ChargePeriodEnd", "DateTime", "M", False),
    _c("ChargePeriodStart", "DateTime", "M", False),
    _c("CommitmentDiscountCategory", "String", "C", True),
    _c("CommitmentDiscountId", "String", "C", True),
    _c("CommitmentDiscountName", "String", "C", True),
    _c("CommitmentDiscountQuantity", "Decimal", "C", True),
    _c("CommitmentDiscountStatus", "String", "C", True),
    _c("CommitmentDiscountType", "String", "C", True),
    _c("CommitmentDiscountUnit", "String", "C", True),
    _c("ConsumedQuantity", "Decimal", "C", True),
    _c("ConsumedUnit", "String", "C", True),
    _c("ContractedCost", "Decimal", "M", False),
    _c("ContractedUnitPrice", "Decimal", "C", True),
    _c("EffectiveCost", "Decimal", "M", False),
    _c("InvoiceId", "String", "R", True),
    _c("InvoiceIssuerName", "String", "M", False),
    _c("ListCost", "Decimal", "M", False),
    _c("ListUnitPrice", "Decimal", "C", True),
    _c("PricingCategory", "String", "C", True),
    _c("PricingCurrency", "String", "C", False),
    _c("PricingCurrencyContractedUnitPrice", "Decimal", "C", True),
    _c("PricingCurrencyEffectiveCost", "Decimal", "C", False),
    _c("PricingCurrencyListUnitPrice", "Decimal", "C", True),
    _c("PricingQuantity", "Decimal", "M", True),
    _c("PricingUnit", "String", "M", True),
    _c("ProviderName", "String", "M", False),
    _c("PublisherName", "String", "M", False),
    _c("RegionId", "String", "C", True),
    _c("RegionName", "String", "C", True),
    _c("ResourceId", "String", "C", True),
    _c("ResourceName", "String", "C", True),
    _c("ResourceType", "String", "C", True),
    _c("ServiceCategory", "String", "M", False),
    _c("ServiceName", "String", "M", False),
    _c("ServiceSubcategory", "String", "R", False),
    _c("SkuId", "String", "C", True),
    _c("SkuMeter", "String", "C", True),
    _c("SkuPriceDetails", "JSON", "C", True),
    _c("SkuPriceId", "String", "C", True),
    _c("SubAccountId", "String", "C", True),
    _c("SubAccountName", "String", "C", True),
    _c("SubAccountType", "String", "C", True),
    _c("Tags", "JSON", "C", True),
)

FOCUS_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in FOCUS_COLUMNS)
FOCUS_SCHEMA = pl.Schema({c.name: c.dtype for c in FOCUS_COLUMNS})
NON_NULLABLE: frozenset[str] = frozenset(c.name for c in FOCUS_COLUMNS if not c.nullable)
COST_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")

CHARGE_CATEGORIES = frozenset({"Usage", "Purchase", "Tax", "Credit", "Adjustment"})
CHARGE_FREQUENCIES = frozenset({"One-Time", "Recurring", "Usage-Based"})
PRICING_CATEGORIES = frozenset({"Standard", "Committed", "Dynamic", "Other"})
COMMITMENT_CATEGORIES = frozenset({"Spend", "Usage"})
COMMITMENT_STATUSES = frozenset({"Used", "Unused"})

SERVICE_SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "AI and Machine Learning": (
        "AI Platforms",
        "Bots",
        "Generative AI",
        "Machine Learning",
        "Natural Language Processing",
    ),
    "Analytics": (
        "Analytics Platforms",
        "Business Intelligence",
        "Data Processing",
        "Search",
        "Streaming Analytics",
    ),
    "Business Applications": ("Productivity and Collaboration",),
    "Compute": (
        "Containers",
        "End User Computing",
        "Quantum Compute",
        "Serverless Compute",
        "Virtual Machines",
    ),
    "Databases": (
        "Caching",
        "Data Warehouses",
        "Ledger Databases",
        "NoSQL Databases",
        "Relational Databases",
        "Time Series Databases",
    ),
    "Developer Tools": (
        "Developer Platforms",
        "Continuous Integration and Deployment",
        "Development Environments",
        "Source Code Management",
        "Quality Assurance",
    ),
    "Identity": ("Identity and Access Management",),
    "Integration": ("API Management", "Messaging", "Workflow Orchestration"),
    "Internet of Things": ("IoT Analytics", "IoT Platforms"),
    "Management and Governance": (
        "Architecture",
        "Compliance",
        "Cost Management",
        "Data Governance",
        "Disaster Recovery",
        "Endpoint Management",
        "Observability",
        "Support",
    ),
    "Media": ("Content Creation", "Gaming", "Media Streaming", "Mixed Reality"),
    "Migration": ("Data Migration", "Resource Migration"),
    "Mobile": (),
    "Multicloud": ("Multicloud Integration",),
    "Networking": (
        "Application Networking",
        "Content Delivery",
        "Network Connectivity",
        "Network Infrastructure",
        "Network Routing",
        "Network Security",
    ),
    "Security": (
        "Secret Management",
        "Security Posture Management",
        "Threat Detection and Response",
    ),
    "Storage": (
        "Backup Storage",
        "Block Storage",
        "File Storage",
        "Object Storage",
        "Storage Platforms",
    ),
    "Web": ("Application Platforms",),
    "Other": (),
}
SERVICE_CATEGORIES = frozenset(SERVICE_SUBCATEGORIES)

# A ServiceSubcategory value -> its one parent category ("Other (X)" included).
SUBCATEGORY_PARENT: dict[str, str] = {
    sub: cat for cat, subs in SERVICE_SUBCATEGORIES.items() for sub in (*subs, f"Other ({cat})")
}

# Parent/child nullability pairs of FOCUS 1.2: the child is null exactly when the parent is.
NULL_TOGETHER: tuple[tuple[str, str], ...] = (
    ("ConsumedQuantity", "ConsumedUnit"),
    ("PricingQuantity", "PricingUnit"),
    ("RegionId", "RegionName"),
    ("SubAccountId", "SubAccountName"),
    ("CommitmentDiscountId", "CommitmentDiscountCategory"),
    ("CommitmentDiscountId", "CommitmentDiscountType"),
    ("CommitmentDiscountQuantity", "CommitmentDiscountUnit"),
    ("ResourceId", "ResourceType"),
)


# ---------------------------------------------------------------------------------------------
# Expression helpers
# ---------------------------------------------------------------------------------------------


_BLANK_WORDS = ("null", "NULL", "Null", "N/A", "n/a", " ", "  ")


def null_if_blank(expr: pl.Expr) -> pl.Expr:
    """A string column with empty or whitespace-only values turned into real nulls.

    FOCUS forbids empty strings and placeholders; CSV exports write "no value" as an empty
    field, and some write the words ``null`` or ``NULL``.
    """
    text = expr.cast(STRING)
    blank = (text.str.len_bytes() == 0) | text.is_in(_BLANK_WORDS)
    return pl.when(blank).then(None).otherwise(text)


def to_decimal(expr: pl.Expr) -> pl.Expr:
    """A number (or numeric string, E-notation included) as a FOCUS decimal; blanks become null."""
    return expr.cast(DECIMAL, strict=False)


def decimal_or_zero(expr: pl.Expr) -> pl.Expr:
    """Like :func:`to_decimal`, but a missing value counts as 0 (for cost sums)."""
    return to_decimal(expr).fill_null(pl.lit(0).cast(DECIMAL))


def zero() -> pl.Expr:
    """A decimal zero literal."""
    return pl.lit(0).cast(DECIMAL)


def null_decimal() -> pl.Expr:
    """A typed null decimal literal."""
    return pl.lit(None, dtype=DECIMAL)


def null_string() -> pl.Expr:
    """A typed null string literal."""
    return pl.lit(None, dtype=STRING)


# Formats tried, in order, by :func:`utc_datetime`. Zone-aware forms come first; a timestamp
# without a zone is taken to be UTC already, which holds for every export handled here (Azure
# and GCP document UTC, AWS and OCI write a trailing Z).
ISO_AWARE = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z")
ISO_NAIVE = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M")
DATE_ONLY = ("%Y-%m-%d", "%m/%d/%Y")
ALL_FORMATS = ISO_AWARE + ISO_NAIVE + DATE_ONLY


def utc_datetime(
    expr: pl.Expr, source_dtype: pl.DataType | None = None, formats: Sequence[str] = ALL_FORMATS
) -> pl.Expr:
    """A timestamp column as a UTC datetime, whatever form the export wrote it in.

    ``source_dtype`` is the input column's type when known: datetime columns (Parquet exports)
    are converted to UTC, naive ones assumed to be UTC; strings are parsed with ``formats``.
    A space between date and time is accepted in place of ``T``.
    """
    if source_dtype is not None and isinstance(source_dtype, pl.Datetime):
        if source_dtype.time_zone is None:
            return expr.dt.cast_time_unit("us").dt.replace_time_zone("UTC")
        return expr.dt.cast_time_unit("us").dt.convert_time_zone("UTC")
    if source_dtype is not None and isinstance(source_dtype, pl.Date):
        return expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")

    text = expr.cast(STRING).str.strip_chars()
    if any(" " not in f for f in formats):
        text = text.str.replace(" ", "T", literal=True)
    parsed: list[pl.Expr] = []
    for fmt in formats:
        value = text.str.to_datetime(fmt, strict=False, time_unit="us")
        if fmt.endswith("%#z"):
            value = value.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        parsed.append(value)
    combined = parsed[0] if len(parsed) == 1 else pl.coalesce(parsed)
    return combined.dt.replace_time_zone("UTC")


def choose_datetime_formats(
    sample: pl.Series, formats: Sequence[str] = ALL_FORMATS
) -> tuple[str, ...]:
    """The formats (from ``formats``, in order) that parse some value of ``sample``.

    Converters call this on the first rows of a timestamp column so the full scan tries only
    the formats the export actually uses (each extra format costs a parse of every row).
    When nothing in the sample parses, all formats are kept.
    """
    if sample.dtype != STRING:
        return tuple(formats)
    text = sample.drop_nulls().str.strip_chars().str.replace(" ", "T", literal=True)
    chosen = tuple(
        fmt
        for fmt in formats
        if text.str.to_datetime(fmt, strict=False, time_unit="us").null_count() < len(text)
    )
    return chosen or tuple(formats)


def month_start(ts: pl.Expr) -> pl.Expr:
    """The first instant (UTC) of the calendar month that contains ``ts``."""
    return ts.dt.truncate("1mo")


def next_month_start(ts: pl.Expr) -> pl.Expr:
    """The first instant (UTC) of the month after the one that contains ``ts``."""
    return ts.dt.truncate("1mo").dt.offset_by("1mo")


def currency_code(expr: pl.Expr) -> pl.Expr:
    """An ISO 4217 currency code: trimmed and upper-cased; blanks become null."""
    return null_if_blank(expr).str.strip_chars().str.to_uppercase()


def json_string(expr: pl.Expr) -> pl.Expr:
    """A value as a JSON string literal (quoted, escaped), computed column-wise; null stays null.

    polars' struct encoder does the escaping; the wrapper object is cut away afterwards.
    """
    text = expr.cast(STRING)
    encoded = pl.struct(text.alias("v")).struct.json_encode()
    return pl.when(text.is_not_null()).then(encoded.str.slice(5).str.strip_suffix("}"))


def json_object(members: Iterable[tuple[str, pl.Expr]]) -> pl.Expr:
    """A JSON object built column-wise from (key, value expression) pairs.

    Null or empty values leave their key out; a row with no members gets null, not ``{}``.
    Values are written as JSON strings.
    """
    parts = [
        # A null value makes the whole part null, and concat_str skips null parts.
        pl.lit(json_key(key) + ":") + json_string(pl.when(value != "").then(value))
        for key, value in members
    ]
    if not parts:
        return null_string()
    body = pl.concat_str(parts, separator=",", ignore_nulls=True)
    return pl.when(body == "").then(None).otherwise(pl.lit("{") + body + pl.lit("}"))


def tags_from_columns(tag_columns: Iterable[tuple[str, str]]) -> pl.Expr:
    """A FOCUS ``Tags`` JSON object built from one column per tag key.

    ``tag_columns`` pairs each input column with the tag key it carries. A blank cell means the
    resource does not carry that tag (CSV exports cannot tell "absent" from "empty"), so the
    key is left out. A row with no tags at all gets a null ``Tags``, not ``{}``.
    """
    return json_object((key, pl.col(column)) for column, key in tag_columns)


def json_key(key: str) -> str:
    """A tag key as a JSON string literal (for keys known when the plan is built)."""
    import json

    return json.dumps(key, ensure_ascii=False)


def wrap_json_object(expr: pl.Expr) -> pl.Expr:
    """Azure-style key-value text (``"a": "b","c": "d"``) as a JSON object; blanks become null.

    Azure cost details write tags without the outer braces; newer exports include them.
    """
    text = null_if_blank(expr).str.strip_chars()
    return (
        pl.when(text.is_null())
        .then(None)
        .when(text.str.starts_with("{"))
        .then(text)
        .otherwise(pl.lit("{") + text + pl.lit("}"))
    )


def empty_object_to_null(expr: pl.Expr) -> pl.Expr:
    """A JSON object column where ``{}`` and blanks become null."""
    text = null_if_blank(expr)
    compact = text.str.replace_all(r"\s", "")
    return pl.when(compact == "{}").then(None).otherwise(text)


# Provider unit spellings -> FOCUS unit format, same meaning: abbreviations spelled out, time
# units capitalised and plural after a hyphen. Applied as a dictionary lookup (cheap on
# hundreds of millions of rows); units not listed pass through unchanged.
UNIT_SPELLINGS: dict[str, str] = {
    "Hrs": "Hours",
    "Hr": "Hours",
    "hrs": "Hours",
    "GB-Mo": "GB-Months",
    "GB-Month": "GB-Months",
    "GB-Hrs": "GB-Hours",
    "GB-Hr": "GB-Hours",
    "Obj-Month": "Object-Months",
    "LCU-Hrs": "LCU-Hours",
    "IdleLCU-Hr": "IdleLCU-Hours",
    "ConsumedLCU-Hrs": "ConsumedLCU-Hours",
    "vCPU-Hours": "vCPU-Hours",
    "ReadCapacityUnit-Hrs": "ReadCapacityUnit-Hours",
    "WriteCapacityUnit-Hrs": "WriteCapacityUnit-Hours",
    "IOPS-Mo": "IOPS-Months",
    "MBPS-Mo": "MBPS-Months",
    "GiBps-mo": "GiBps-Months",
    "Tag-Mo": "Tag-Months",
    "NatGateway-Hours": "NatGateway-Hours",
    "ACU-Hr": "ACU-Hours",
    "DPU-Hour": "DPU-Hours",
    "Instance-Hrs": "Instance-Hours",
}


def join_lookup(
    frame: pl.LazyFrame,
    key: pl.Expr,
    table: Mapping[str, str | tuple[str | None, ...]],
    columns: Sequence[str],
) -> pl.LazyFrame:
    """Left-join a small lookup table on ``key``, adding ``columns`` (null for unknown keys).

    A join rather than ``replace``: polars' streaming engine runs joins against a small build
    side in bounded memory, while ``replace``/``replace_strict`` fall back to the in-memory
    engine and would hold the whole column.
    """
    key_name = f"_key_{columns[0]}"
    rows = [(k, *(v if isinstance(v, tuple) else (v,))) for k, v in table.items()]
    right = pl.LazyFrame(
        rows, schema={key_name: STRING, **dict.fromkeys(columns, STRING)}, orient="row"
    )
    return (
        frame.with_columns(key.cast(STRING).alias(key_name))
        .join(right, on=key_name, how="left", maintain_order="left")
        .drop(key_name)
    )


def join_units(
    frame: pl.LazyFrame, raw: pl.Expr, name: str, mapping: Mapping[str, str] | None = None
) -> pl.LazyFrame:
    """Add column ``name``: ``raw`` in FOCUS unit spelling where known, else unchanged."""
    table = {**UNIT_SPELLINGS, **(mapping or {})}
    frame = frame.with_columns(raw.alias(f"{name}_raw"))
    frame = join_lookup(frame, pl.col(f"{name}_raw"), table, [f"{name}_focus"])
    return frame.with_columns(
        pl.coalesce(pl.col(f"{name}_focus"), pl.col(f"{name}_raw")).alias(name)
    ).drop(f"{name}_raw", f"{name}_focus")


def subcategory_or_other(subcategory: pl.Expr, category: pl.Expr) -> pl.Expr:
    """The mapped ServiceSubcategory, or ``Other (<category>)`` when no mapping exists."""
    return pl.coalesce(subcategory, pl.lit("Other (") + category + pl.lit(")"))


def multiply(*factors: pl.Expr) -> pl.Expr:
    """The product of numeric columns as a FOCUS decimal.

    Computed in float64 (38-digit decimal products would overflow), then rounded to 15
    significant digits so binary noise (0.096 x 0.92 = 0.08832000000000002) does not leak
    into prices and costs.
    """
    product = factors[0].cast(pl.Float64)
    for factor in factors[1:]:
        product = product * factor.cast(pl.Float64)
    return product.round_sig_figs(15).cast(DECIMAL, strict=False)


def select_focus(lf: pl.LazyFrame, extra: Sequence[str] = ()) -> pl.LazyFrame:
    """Cast and order a converter's output to the FOCUS schema, then the ``x_`` columns.

    Every FOCUS column must exist in ``lf``; ``extra`` names the provider's ``x_`` columns,
    which follow the FOCUS columns as the spec asks.
    """
    focus = [pl.col(c.name).cast(c.dtype) for c in FOCUS_COLUMNS]
    return lf.select([*focus, *(pl.col(name) for name in extra)])


def conformance_problems(df: pl.DataFrame) -> list[str]:
    """Fintropy's own checks of the FOCUS rules that matter most; an empty list means clean.

    This is not the FinOps Foundation validator (see scripts/focus-validator-venv.sh); it is a
    quick in-process check of column presence and types, non-null columns, empty strings,
    allowed values, parent/child nullability and UTC timestamps, used by tests and by
    :func:`adapters.billing.ingest.ingest`.
    """
    problems: list[str] = []
    for column in FOCUS_COLUMNS:
        if column.name not in df.columns:
            problems.append(f"{column.name}: column missing")
        elif df.schema[column.name] != column.dtype:
            problems.append(f"{column.name}: type {df.schema[column.name]}, want {column.dtype}")
    if problems:
        return problems

    for name in sorted(NON_NULLABLE):
        nulls = df[name].null_count()
        if nulls:
            problems.append(f"{name}: {nulls} null value(s) in a non-nullable column")
    for name, dtype in df.schema.items():
        if dtype == STRING:
            blanks = df.filter(pl.col(name).str.strip_chars() == "").height
            if blanks:
                problems.append(f"{name}: {blanks} empty string(s); FOCUS wants null")
    allowed = {
        "ChargeCategory": CHARGE_CATEGORIES,
        "ChargeFrequency": CHARGE_FREQUENCIES,
        "PricingCategory": PRICING_CATEGORIES,
        "CommitmentDiscountCategory": COMMITMENT_CATEGORIES,
        "CommitmentDiscountStatus": COMMITMENT_STATUSES,
        "CapacityReservationStatus": COMMITMENT_STATUSES,
        "ChargeClass": frozenset({"Correction"}),
        "ServiceCategory": SERVICE_CATEGORIES,
        "ServiceSubcategory": frozenset(SUBCATEGORY_PARENT),
    }
    for name, values in allowed.items():
        bad = df.filter(pl.col(name).is_not_null() & ~pl.col(name).is_in(sorted(values)))
        if bad.height:
            sample = bad[name].unique().head(3).to_list()
            problems.append(f"{name}: {bad.height} value(s) outside the allowed set, e.g. {sample}")
    for parent, child in NULL_TOGETHER:
        mismatched = df.filter(pl.col(parent).is_null() != pl.col(child).is_null()).height
        if mismatched:
            problems.append(f"{child}: null on {mismatched} row(s) where {parent} is not, or not")
    sub_parent = df.filter(
        pl.col("ServiceSubcategory").replace_strict(SUBCATEGORY_PARENT, default=None)
        != pl.col("ServiceCategory")
    ).height
    if sub_parent:
        problems.append(f"ServiceSubcategory: {sub_parent} row(s) under the wrong category")
    purchase_usage_based = df.filter(
        (pl.col("ChargeCategory") == "Purchase") & (pl.col("ChargeFrequency") == "Usage-Based")
    ).height
    if purchase_usage_based:
        problems.append(f"ChargeFrequency: {purchase_usage_based} Purchase row(s) Usage-Based")
    tax_priced = df.filter(
        (pl.col("ChargeCategory") == "Tax")
        & (pl.col("PricingCategory").is_not_null() | pl.col("SkuId").is_not_null())
    ).height
    if tax_priced:
        problems.append(f"Tax: {tax_priced} Tax row(s) with a PricingCategory or SkuId")
    unused_consumed = df.filter(
        (pl.col("CommitmentDiscountStatus") == "Unused") & pl.col("ConsumedQuantity").is_not_null()
    ).height
    if unused_consumed:
        problems.append(f"ConsumedQuantity: set on {unused_consumed} Unused commitment row(s)")
    periods = df.filter(
        (pl.col("ChargePeriodEnd") < pl.col("ChargePeriodStart"))
        | (pl.col("BillingPeriodEnd") <= pl.col("BillingPeriodStart"))
    ).height
    if periods:
        problems.append(f"periods: {periods} row(s) end before they start")
    return problems
