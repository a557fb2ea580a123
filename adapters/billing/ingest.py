"""Ingest billing exports into FOCUS files, and summarise FOCUS data: the billing CLI's engine.

``fintropy billing ingest`` and ``fintropy billing summary`` are thin wrappers around
:func:`ingest` and :func:`summary`. Both run in bounded memory: conversion streams from the
input files to partitioned output files, and the report and summary are aggregations that
polars computes without materialising the rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from adapters.billing import aws_cur, azure, focus, gcp, oci
from adapters.billing.writer import FORMATS, scan_focus, write_focus
from fintropy.errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderSpec:
    """How one ``provider`` argument converts files and totals their native cost."""

    description: str
    convert: Callable[[Path], pl.LazyFrame]
    native_totals: Callable[[Path], pl.LazyFrame]
    # The FOCUS cost column that must equal the native cost column's sum.
    reconciles_with: str


PROVIDERS: dict[str, ProviderSpec] = {
    "aws": ProviderSpec(
        "AWS CUR, legacy or 2.0 (detected from the header)",
        lambda p: aws_cur.to_focus(p),
        aws_cur.native_totals,
        "BilledCost",
    ),
    "aws-legacy": ProviderSpec(
        "AWS legacy CUR",
        lambda p: aws_cur.to_focus(p, variant="legacy"),
        aws_cur.native_totals,
        "BilledCost",
    ),
    "aws-cur2": ProviderSpec(
        "AWS CUR 2.0 (Data Exports)",
        lambda p: aws_cur.to_focus(p, variant="cur2"),
        aws_cur.native_totals,
        "BilledCost",
    ),
    "azure-actual": ProviderSpec(
        "Azure cost details, actual cost (EA or MCA)",
        lambda p: azure.to_focus(p, variant="actual"),
        lambda p: azure.native_totals(p, variant="actual"),
        "BilledCost",
    ),
    "azure-amortized": ProviderSpec(
        "Azure cost details, amortized cost (EA or MCA)",
        lambda p: azure.to_focus(p, variant="amortized"),
        lambda p: azure.native_totals(p, variant="amortized"),
        "EffectiveCost",
    ),
    "gcp": ProviderSpec(
        "Google Cloud BigQuery billing export (NDJSON or Parquet)",
        lambda p: gcp.to_focus(p),
        gcp.native_totals,
        "BilledCost",
    ),
    "oci": ProviderSpec(
        "OCI cost report", lambda p: oci.to_focus(p), oci.native_totals, "BilledCost"
    ),
}
# "azure" takes an actual and an amortized file together (see ingest()).
PROVIDER_NAMES = (*PROVIDERS, "azure")


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did: rows in and out, billing periods, and money per currency."""

    provider: str
    files: tuple[str, ...]
    rows_in: int
    rows_out: int
    periods: tuple[str, ...]
    billed_cost: dict[str, Decimal]
    effective_cost: dict[str, Decimal]
    list_cost: dict[str, Decimal]
    native_cost: dict[str, Decimal] = field(default_factory=dict)
    reconciles_with: str = "BilledCost"
    output_files: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def reconciled(self) -> bool:
        """True when, per currency, the FOCUS total equals the input's native cost total."""
        focus_totals = (
            self.billed_cost if self.reconciles_with == "BilledCost" else self.effective_cost
        )
        if not self.native_cost and not focus_totals:
            return True  # an export without rows
        tolerance = Decimal("1e-9")
        return set(focus_totals) == set(self.native_cost) and all(
            abs(focus_totals[c] - self.native_cost[c]) <= tolerance * max(1, abs(focus_totals[c]))
            for c in focus_totals
        )


def ingest(
    provider: str, files: Sequence[Path | str], out_dir: Path | str, fmt: str = "parquet"
) -> IngestReport:
    """Convert ``files`` of ``provider`` to FOCUS 1.2 under ``out_dir``, partitioned by period.

    ``provider`` is one of :data:`PROVIDER_NAMES`. ``azure`` expects exactly two files, the
    actual and the amortized export, told apart by "actual"/"amortized" in their names.
    Re-ingesting the same files replaces their earlier output. Raises ConfigError for an
    unknown provider, a missing file, or a file with the wrong columns (naming the file, the
    missing columns and the export expected).
    """
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown output format {fmt!r}.", "Use 'parquet' or 'csv'.")
    if provider not in PROVIDER_NAMES:
        raise ConfigError(
            f"Unknown billing provider {provider!r}.",
            f"Use one of: {', '.join(PROVIDER_NAMES)}.",
        )
    paths = [Path(f) for f in files]
    if not paths:
        raise ConfigError("No billing files given.", "Pass one or more export files.")
    for path in paths:
        if not path.is_file():
            raise ConfigError(
                f"Billing file {path} does not exist.", "Check the path and try again."
            )

    if provider == "azure":
        return _ingest_azure_pair(paths, Path(out_dir), fmt)

    spec = PROVIDERS[provider]
    frames = [spec.convert(path) for path in paths]
    natives = [spec.native_totals(path) for path in paths]
    lf = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")
    native = pl.concat(natives).group_by("currency").agg(pl.col("rows").sum(), pl.col("cost").sum())
    name = _dataset_name(provider, paths)
    written = write_focus(lf, out_dir, fmt, name=name)
    return _report(provider, paths, native, written, spec.reconciles_with)


def _ingest_azure_pair(paths: list[Path], out_dir: Path, fmt: str) -> IngestReport:
    actual = [p for p in paths if "actual" in p.name.lower()]
    amortized = [p for p in paths if "amortized" in p.name.lower()]
    if len(paths) != 2 or len(actual) != 1 or len(amortized) != 1:
        raise ConfigError(
            "Provider 'azure' needs one actual and one amortized cost-details file, with "
            "'actual' and 'amortized' in their names.",
            "Pass both files, or use 'azure-actual' / 'azure-amortized' for a single file.",
        )
    lf = azure.to_focus_combined(actual[0], amortized[0])
    native = azure.native_totals(amortized[0], variant="amortized")
    written = write_focus(lf, out_dir, fmt, name=_dataset_name("azure", paths))
    return _report("azure", paths, native, written, "EffectiveCost")


def _dataset_name(provider: str, paths: Sequence[Path]) -> str:
    stems = "+".join(sorted(p.name.split(".")[0] for p in paths))
    return f"{provider}-{stems}"[:120]


def _report(
    provider: str,
    paths: Sequence[Path],
    native: pl.LazyFrame,
    written: list[Path],
    reconciles_with: str,
) -> IngestReport:
    native_df = native.collect()
    rows_in = int(native_df["rows"].sum()) if native_df.height else 0
    if written:
        out = _scan_written(written)
        totals = (
            out.group_by("BillingCurrency")
            .agg(
                pl.len().alias("rows"),
                pl.col("BilledCost").sum(),
                pl.col("EffectiveCost").sum(),
                pl.col("ListCost").sum(),
            )
            .collect()
        )
        periods = (
            out.select(pl.col("BillingPeriodStart").dt.strftime("%Y-%m").unique().sort())
            .collect()
            .to_series()
            .to_list()
        )
        problems = _output_problems(out)
    else:
        totals = pl.DataFrame(
            schema={
                "BillingCurrency": pl.String,
                "rows": pl.UInt32,
                "BilledCost": focus.DECIMAL,
                "EffectiveCost": focus.DECIMAL,
                "ListCost": focus.DECIMAL,
            }
        )
        periods, problems = [], []

    def by_currency(frame: pl.DataFrame, key: str, value: str) -> dict[str, Decimal]:
        return {row[0]: Decimal(row[1]) for row in frame.select(key, value).iter_rows()}

    report = IngestReport(
        provider=provider,
        files=tuple(str(p) for p in paths),
        rows_in=rows_in,
        rows_out=int(totals["rows"].sum()) if totals.height else 0,
        periods=tuple(periods),
        billed_cost=by_currency(totals, "BillingCurrency", "BilledCost"),
        effective_cost=by_currency(totals, "BillingCurrency", "EffectiveCost"),
        list_cost=by_currency(totals, "BillingCurrency", "ListCost"),
        native_cost=by_currency(native_df, "currency", "cost"),
        reconciles_with=reconciles_with,
        output_files=tuple(str(p) for p in written),
        problems=tuple(problems),
    )
    logger.info(
        "billing ingest finished",
        extra={
            "provider": provider,
            "rows_in": report.rows_in,
            "rows_out": report.rows_out,
            "periods": len(report.periods),
            "reconciled": report.reconciled,
        },
    )
    return report


def _scan_written(written: list[Path]) -> pl.LazyFrame:
    parquet = [p for p in written if p.suffix == ".parquet"]
    if parquet:
        return pl.scan_parquet(parquet)
    return pl.concat(
        [pl.scan_csv(p, schema_overrides=focus.FOCUS_SCHEMA, infer_schema=False) for p in written],
        how="diagonal_relaxed",
    )


def _output_problems(out: pl.LazyFrame) -> list[str]:
    """Null counts of the non-nullable FOCUS columns in the written output (cheap check)."""
    counts = out.select(pl.col(sorted(focus.NON_NULLABLE)).null_count()).collect()
    return [
        f"{name}: {counts[name][0]} null value(s) in a non-nullable column"
        for name in counts.columns
        if counts[name][0]
    ]


@dataclass(frozen=True)
class SummaryRow:
    """Cost of one group: list price versus what was actually paid (effective)."""

    key: str | None
    currency: str
    list_cost: Decimal
    effective_cost: Decimal
    billed_cost: Decimal
    rows: int

    @property
    def savings(self) -> Decimal:
        """List minus effective: what discounts and commitments saved."""
        return self.list_cost - self.effective_cost


SUMMARY_KEYS = {
    "service": pl.col("ServiceName"),
    "account": pl.coalesce(pl.col("SubAccountName"), pl.col("SubAccountId")),
    "billing-account": pl.col("BillingAccountId"),
    "provider": pl.col("ProviderName"),
    "region": pl.col("RegionId"),
    "category": pl.col("ServiceCategory"),
    "charge-category": pl.col("ChargeCategory"),
}


def summary(focus_dir: Path | str, by: str = "service") -> list[SummaryRow]:
    """Cost by ``by`` (``service``, ``account``, ``tag:<key>`` …), largest effective cost first.

    Rows are per (group, currency): amounts in different currencies are never added up.
    Untagged rows of a ``tag:`` summary have ``key`` None. Raises ConfigError for an unknown
    grouping or a folder without FOCUS data.
    """
    if by.startswith("tag:") and len(by) > 4:
        tag = by[4:].replace("'", "\\'")
        key = pl.col("Tags").str.json_path_match(f"$['{tag}']")
    elif by in SUMMARY_KEYS:
        key = SUMMARY_KEYS[by]
    else:
        raise ConfigError(
            f"Unknown summary grouping {by!r}.",
            f"Use one of: {', '.join(SUMMARY_KEYS)}, or tag:<key>.",
        )
    grouped = (
        scan_focus(focus_dir)
        .group_by(key.alias("key"), pl.col("BillingCurrency").alias("currency"))
        .agg(
            pl.col("ListCost").sum(),
            pl.col("EffectiveCost").sum(),
            pl.col("BilledCost").sum(),
            pl.len().alias("rows"),
        )
        .sort(["EffectiveCost", "key"], descending=[True, False], nulls_last=True)
        .collect()
    )
    return [
        SummaryRow(
            key=row["key"],
            currency=row["currency"],
            list_cost=Decimal(row["ListCost"]),
            effective_cost=Decimal(row["EffectiveCost"]),
            billed_cost=Decimal(row["BilledCost"]),
            rows=int(row["rows"]),
        )
        for row in grouped.iter_rows(named=True)
    ]
