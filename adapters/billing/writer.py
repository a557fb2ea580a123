"""Writing FOCUS frames to disk: one folder per billing period, streamed, Parquet or CSV.

Layout::

    <out_dir>/billing_period=2023-11/<name>-0.parquet
    <out_dir>/billing_period=2023-12/<name>-0.parquet

``billing_period`` is the month of BillingPeriodStart (UTC). ``name`` identifies the dataset
(``ingest`` derives it from the provider and the input file names), so writing the same
dataset again replaces its earlier files instead of duplicating its rows, while datasets of
other providers or other exports in the same folder are left alone.

The frame is written by polars' streaming engine straight from the lazy plan, so memory stays
bounded by the engine's batch size rather than by the input's size. Files are first written to
a hidden staging folder and moved into place when the whole plan has run, so a failed run
leaves the previous output untouched.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from pathlib import Path

import polars as pl

from adapters.billing.focus import FOCUS_DATETIME_FORMAT
from fintropy.errors import ConfigError

logger = logging.getLogger(__name__)

FORMATS = ("parquet", "csv")
# Rows per Parquet row group. Each open partition buffers up to one row group before writing,
# so this bounds memory (about 25 MB per open partition at 60 FOCUS columns) while keeping
# row groups large enough for fast scans.
ROW_GROUP_ROWS = 16_384
# polars prefetches up to 512 row groups (64 MB compressed) of a Parquet input. Billing
# exports compress well, and that much compressed prefetch decodes to well over 1 GiB; 16 row
# groups keep two cores busy. Used only when the caller has not set the variable.
PARQUET_PREFETCH_ENV = "POLARS_ROW_GROUP_PREFETCH_SIZE"
PARQUET_PREFETCH_ROW_GROUPS = "16"
PARTITION_PREFIX = "billing_period="
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def partition_key() -> pl.Expr:
    """The partition value of a row: ``YYYY-MM`` of BillingPeriodStart in UTC."""
    return pl.col("BillingPeriodStart").dt.convert_time_zone("UTC").dt.strftime("%Y-%m")


def write_focus(
    lf: pl.LazyFrame, out_dir: str | Path, fmt: str = "parquet", *, name: str = "focus"
) -> list[Path]:
    """Stream ``lf`` (a FOCUS frame) into ``out_dir`` partitioned by billing period.

    Returns the files written, sorted. ``fmt`` is ``parquet`` (default) or ``csv``; CSV
    timestamps use the FOCUS form ``YYYY-MM-DDTHH:MM:SSZ`` and nulls are empty fields.
    Raises ConfigError for an unknown format.
    """
    if fmt not in FORMATS:
        raise ConfigError(
            f"Unknown output format {fmt!r} for FOCUS data.", "Use 'parquet' or 'csv'."
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _SAFE_NAME.sub("_", name).strip("_") or "focus"
    staging = out / f".staging-{uuid.uuid4().hex}"

    def file_path(args: pl.io.partition.FileProviderArgs) -> str:
        period = args.partition_keys["billing_period"][0]
        return f"{PARTITION_PREFIX}{period}/{stem}-{args.index_in_partition}.{fmt}"

    target = pl.PartitionBy(
        staging,
        key={"billing_period": partition_key()},
        include_key=False,
        file_path_provider=file_path,
    )
    previous_prefetch = os.environ.get(PARQUET_PREFETCH_ENV)
    if previous_prefetch is None:
        os.environ[PARQUET_PREFETCH_ENV] = PARQUET_PREFETCH_ROW_GROUPS
    try:
        if fmt == "parquet":
            # No column statistics: min/max over ~40 string columns costs a quarter of the
            # write time, and readers prune by the billing_period folders instead.
            lf.sink_parquet(
                target,
                mkdir=True,
                engine="streaming",
                row_group_size=ROW_GROUP_ROWS,
                statistics=False,
            )
        else:
            lf.sink_csv(
                target, mkdir=True, engine="streaming", datetime_format=FOCUS_DATETIME_FORMAT
            )
        written = _publish(staging, out, stem, fmt)
    finally:
        if previous_prefetch is None:
            os.environ.pop(PARQUET_PREFETCH_ENV, None)
        shutil.rmtree(staging, ignore_errors=True)
    logger.info(
        "focus data written",
        extra={"out_dir": str(out), "files": len(written), "format": fmt, "dataset": stem},
    )
    return written


def _publish(staging: Path, out: Path, stem: str, fmt: str) -> list[Path]:
    """Move staged partition files into ``out``, replacing the same dataset's old files."""
    written: list[Path] = []
    if not staging.exists():
        return written
    for partition in sorted(staging.glob(f"{PARTITION_PREFIX}*")):
        final_dir = out / partition.name
        final_dir.mkdir(exist_ok=True)
        for old in final_dir.glob(f"{stem}-*.*"):
            if old.suffix in (".parquet", ".csv") and old.stem.rsplit("-", 1)[0] == stem:
                old.unlink()
        for new in sorted(partition.iterdir()):
            destination = final_dir / new.name
            new.replace(destination)
            written.append(destination)
    return sorted(written)


def scan_focus(focus_dir: str | Path) -> pl.LazyFrame:
    """Lazily read every FOCUS file under ``focus_dir`` (Parquet and CSV may be mixed).

    Raises ConfigError when the folder holds no FOCUS files.
    """
    from adapters.billing.focus import FOCUS_SCHEMA

    root = Path(focus_dir)
    parquet = sorted(root.glob(f"{PARTITION_PREFIX}*/*.parquet"))
    csv = sorted(root.glob(f"{PARTITION_PREFIX}*/*.csv"))
    if not parquet and not csv:
        raise ConfigError(
            f"No FOCUS data under {root}.",
            "Run the billing ingest first, or pass the folder it wrote to.",
        )
    frames: list[pl.LazyFrame] = []
    if parquet:
        frames.append(
            pl.scan_parquet(parquet, missing_columns="insert", extra_columns="ignore").select(
                list(FOCUS_SCHEMA.names())
            )
        )
    for path in csv:
        frames.append(
            pl.scan_csv(path, schema_overrides=FOCUS_SCHEMA, infer_schema=False)
            .select(list(FOCUS_SCHEMA.names()))
            .with_columns(pl.col(name).cast(dtype) for name, dtype in FOCUS_SCHEMA.items())
        )
    return pl.concat(frames, how="vertical_relaxed")
