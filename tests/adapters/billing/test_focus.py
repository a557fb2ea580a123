"""The FOCUS 1.2 schema and the shared column helpers."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from adapters.billing import focus


def test_schema_has_the_57_focus_1_2_columns_with_spec_types() -> None:
    assert len(focus.FOCUS_COLUMNS) == 57
    assert focus.FOCUS_SCHEMA["BilledCost"] == focus.DECIMAL
    assert focus.FOCUS_SCHEMA["ChargePeriodStart"] == pl.Datetime("us", "UTC")
    assert focus.FOCUS_SCHEMA["Tags"] == pl.String
    new_in_1_2 = {
        "BillingAccountType",
        "SubAccountType",
        "InvoiceId",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
    }
    assert new_in_1_2 <= set(focus.FOCUS_COLUMN_NAMES)


def test_nullability_follows_the_spec() -> None:
    mandatory_nullable = {c.name for c in focus.FOCUS_COLUMNS if c.level == "M" and c.nullable}
    assert mandatory_nullable == {
        "BillingAccountName",
        "ChargeClass",
        "ChargeDescription",
        "PricingQuantity",
        "PricingUnit",
    }
    assert {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost"} <= focus.NON_NULLABLE
    assert "PricingCurrencyEffectiveCost" in focus.NON_NULLABLE


def _parse(values: list[str | None]) -> list[dt.datetime | None]:
    frame = pl.DataFrame({"t": values}, schema={"t": pl.String})
    return frame.select(focus.utc_datetime(pl.col("t"), pl.String())).to_series().to_list()


def test_timestamps_are_parsed_to_utc_whatever_their_form() -> None:
    utc = dt.UTC
    parsed = _parse(
        [
            "2023-11-01T00:00:00.000Z",
            "2023-11-13T10:00Z",
            "2023-11-01T01:00:00+01:00",
            "2024-09-01 00:00:00",
            "9/2/2023",
            "2023-11-01",
            None,
        ]
    )
    assert parsed == [
        dt.datetime(2023, 11, 1, tzinfo=utc),
        dt.datetime(2023, 11, 13, 10, tzinfo=utc),
        dt.datetime(2023, 11, 1, tzinfo=utc),
        dt.datetime(2024, 9, 1, tzinfo=utc),
        dt.datetime(2023, 9, 2, tzinfo=utc),
        dt.datetime(2023, 11, 1, tzinfo=utc),
        None,
    ]


def test_only_the_formats_an_export_uses_are_tried() -> None:
    sample = pl.Series(["2023-11-13T10:00Z", "2023-11-13T11:00:00Z"])
    chosen = focus.choose_datetime_formats(sample)
    assert chosen == focus.ISO_AWARE


def test_blank_strings_and_null_words_become_null() -> None:
    frame = pl.DataFrame({"v": ["a", "", " ", "NULL", "null", "x y"]})
    out = frame.select(focus.null_if_blank(pl.col("v"))).to_series().to_list()
    assert out == ["a", None, None, None, None, "x y"]


def test_tags_are_a_json_object_without_absent_keys_and_null_when_empty() -> None:
    frame = pl.DataFrame(
        {"t1": ["prod", None, None], "t2": ['say "hi"\\', "x", None]},
        schema={"t1": pl.String, "t2": pl.String},
    )
    tags = frame.select(focus.tags_from_columns([("t1", "env"), ("t2", "note")])).to_series()
    assert json.loads(tags[0]) == {"env": "prod", "note": 'say "hi"\\'}
    assert json.loads(tags[1]) == {"note": "x"}
    assert tags[2] is None


def test_azure_style_tags_get_their_braces() -> None:
    frame = pl.DataFrame({"t": ['"a": "b","c": "d"', '{"e": "f"}', ""]})
    out = frame.select(focus.wrap_json_object(pl.col("t"))).to_series().to_list()
    assert [json.loads(v) if v else v for v in out] == [{"a": "b", "c": "d"}, {"e": "f"}, None]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GB-Mo", "GB-Months"),
        ("Hrs", "Hours"),
        ("LCU-Hrs", "LCU-Hours"),
        ("Obj-Month", "Object-Months"),
        ("Requests", "Requests"),
        (None, None),
    ],
)
def test_units_are_spelled_in_focus_unit_format(raw: str | None, expected: str | None) -> None:
    frame = pl.LazyFrame({"u": [raw]})
    assert focus.join_units(frame, pl.col("u"), "unit").collect()["unit"].item() == expected


def test_currency_codes_are_trimmed_and_upper_case() -> None:
    frame = pl.DataFrame({"c": [" usd", "EUR", ""]})
    assert frame.select(focus.currency_code(pl.col("c"))).to_series().to_list() == [
        "USD",
        "EUR",
        None,
    ]


def test_conformance_check_reports_real_problems() -> None:
    good = pl.DataFrame(schema=focus.FOCUS_SCHEMA)
    assert focus.conformance_problems(good) == []
    bad = good.drop("Tags")
    assert focus.conformance_problems(bad) == ["Tags: column missing"]
