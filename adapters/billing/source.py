"""Opening billing exports lazily, and rejecting the wrong kind of file with a useful message.

A source is a path (CSV, gzip CSV, Parquet or newline-delimited JSON) or a polars LazyFrame
that a caller already built. CSV files are read with every column as text, so account IDs
with leading zeros and 12-digit AWS account numbers stay strings; converters cast the numeric
columns they use themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from fintropy.errors import ConfigError

logger = logging.getLogger(__name__)

Source = str | Path | pl.LazyFrame

_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".snappy.parquet", ".gz.parquet")
_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")


@dataclass(frozen=True)
class OpenedSource:
    """A lazily scanned export: the frame, its schema, and a label naming it in messages."""

    frame: pl.LazyFrame
    schema: pl.Schema
    label: str

    @property
    def columns(self) -> list[str]:
        """The export's column names, as written."""
        return list(self.schema.names())


def open_source(source: Source, *, export: str) -> OpenedSource:
    """Scan ``source`` without reading its rows; ``export`` names the expected export type.

    Raises ConfigError when the file does not exist, has an unknown extension, or cannot be
    parsed as its extension says.
    """
    if isinstance(source, pl.LazyFrame):
        return OpenedSource(source, source.collect_schema(), "<LazyFrame>")

    path = Path(source)
    label = str(path)
    if not path.is_file():
        raise ConfigError(
            f"Billing file {label} does not exist.",
            f"Pass the path of a {export} file.",
        )
    name = path.name.lower()
    try:
        if name.endswith(_PARQUET_SUFFIXES):
            frame = pl.scan_parquet(path)
        elif name.endswith(_JSON_SUFFIXES):
            frame = pl.scan_ndjson(path, infer_schema_length=10_000)
        elif name.endswith(_CSV_SUFFIXES):
            frame = pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
        else:
            raise ConfigError(
                f"Billing file {label} has an extension Fintropy cannot read.",
                "Use .csv, .csv.gz, .parquet or .jsonl (newline-delimited JSON).",
            )
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ConfigError(
            f"Billing file {label} could not be read as a {export}: {exc}",
            "Check that the file is a complete, uncorrupted export.",
        ) from exc
    logger.debug("billing source opened", extra={"path": label, "columns": len(schema)})
    return OpenedSource(frame, schema, label)


def require_columns(
    opened: OpenedSource, required: Iterable[str], *, export: str, present: Iterable[str] = ()
) -> None:
    """Raise ConfigError naming the file, the missing columns and the expected export type.

    ``present`` overrides the names to check against (for converters that rename first).
    """
    have = set(present) or set(opened.columns)
    missing = [name for name in required if name not in have]
    if missing:
        raise ConfigError(missing_columns_message(opened.label, missing, export), REMEDIATION)


REMEDIATION = "Pass an export of the expected type, or choose the provider that matches the file."


def missing_columns_message(label: str, missing: Iterable[str], export: str) -> str:
    """The ConfigError text for a file that lacks columns of the expected export."""
    return f"{label} is missing column(s) {', '.join(missing)}; expected export type: {export}."


class Columns:
    """Column access for one export: present columns by name, absent ones as typed nulls.

    Converters map many optional columns; this keeps each mapping one readable expression
    instead of an if/else on the header.
    """

    def __init__(self, schema: pl.Schema) -> None:
        self.schema = schema
        self.names = set(schema.names())

    def has(self, name: str) -> bool:
        """True when the export has column ``name``."""
        return name in self.names

    def get(self, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
        """Column ``name``, or a null literal of ``dtype`` when the export lacks it."""
        if name in self.names:
            return pl.col(name)
        return pl.lit(None, dtype=dtype)

    def first(self, *names: str, dtype: pl.DataType = pl.String) -> pl.Expr:
        """The first of ``names`` that the export has, or a null literal."""
        for name in names:
            if name in self.names:
                return pl.col(name)
        return pl.lit(None, dtype=dtype)

    def dtype(self, name: str) -> pl.DataType | None:
        """The type of column ``name``, or None when the export lacks it."""
        return self.schema.get(name)
