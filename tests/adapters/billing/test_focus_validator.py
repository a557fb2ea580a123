"""Each converter's output run through the FinOps Foundation FOCUS 1.2 validator.

The validator needs Python >= 3.12, so scripts/focus-validator-venv.sh builds it a virtual
environment of its own (once, under the user's cache dir; about a minute the first time).
The test is skipped, with the script's reason, only when that environment cannot be made.
Every failing rule must be a documented validator false positive or a documented gap of that
export (adapters/billing/conformance.py, docs/billing.md).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from adapters.billing import aws_cur, azure, conformance, gcp, oci
from adapters.billing.writer import write_focus
from tests.adapters.billing.conftest import (
    AWS_CUR2,
    AWS_LEGACY,
    AZURE_EA,
    AZURE_EA_ACTUAL,
    AZURE_EA_AMORTIZED,
    AZURE_MCA_ACTUAL,
    AZURE_MCA_AMORTIZED,
    GCP_EXPORT,
    OCI_REPORT,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "billing.md"

# Each validator run costs 10-20 s, so outputs are validated in a few multi-provider files
# (a FOCUS dataset may mix providers). Files are grouped so that every member has the same
# expected failures: InvoiceId is all-null or all-set within a file (a mix trips the
# validator's OR evaluation), and exports with a known gap are kept with that gap.
GROUPS = {
    "aws-cur2+azure-ea": (
        None,
        [
            lambda: aws_cur.to_focus(AWS_CUR2),
            lambda: azure.to_focus(AZURE_EA, variant="actual"),
            lambda: azure.to_focus_combined(AZURE_EA_ACTUAL, AZURE_EA_AMORTIZED),
        ],
    ),
    "azure-mca": (
        None,
        [lambda: azure.to_focus_combined(AZURE_MCA_ACTUAL, AZURE_MCA_AMORTIZED)],
    ),
    "aws-legacy+oci": (
        "oci",  # both lack a billing-account name, the only gap of each
        [lambda: aws_cur.to_focus(AWS_LEGACY), lambda: oci.to_focus(OCI_REPORT)],
    ),
    "gcp": ("gcp", [lambda: gcp.to_focus(GCP_EXPORT)]),
}


def _one_file(frames: list, path: Path) -> Path:  # noqa: ANN001
    """Write converter outputs through write_focus, then gather them into one file."""
    written: list[Path] = []
    for index, frame in enumerate(frames):
        written += write_focus(frame(), path.parent / "focus", "parquet", name=f"part{index}")
    pl.concat([pl.read_parquet(p) for p in written], how="diagonal_relaxed").write_parquet(path)
    return path


@pytest.fixture(scope="module")
def validator() -> Path:
    try:
        return conformance.ensure_validator()
    except conformance.ValidatorUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_converter_output_passes_the_focus_validator(
    validator: Path, tmp_path: Path, group: str
) -> None:
    gaps, frames = GROUPS[group]
    data_file = _one_file(frames, tmp_path / f"{group}.parquet")

    result = conformance.run_validator(data_file, tmp_path / "junit", dataset=gaps or group)

    assert result.tests > 500, result
    assert result.unexpected == (), f"{group}: undocumented validator failures {result.unexpected}"


def test_validator_flags_a_real_violation(validator: Path, tmp_path: Path) -> None:
    """The oracle is not a rubber stamp: a broken row set fails rules nobody excused."""
    broken = oci.to_focus(OCI_REPORT).with_columns(pl.lit("Spend").alias("ChargeCategory"))
    files = write_focus(broken, tmp_path / "focus", "parquet", name="broken")
    result = conformance.run_validator(files[0], tmp_path / "junit", dataset="oci")
    assert any(rule.startswith("ChargeCategory") for rule in result.unexpected)


def test_every_expected_failure_is_documented() -> None:
    text = DOCS.read_text()
    expected = set(conformance.VALIDATOR_FALSE_POSITIVES)
    for gaps in conformance.KNOWN_GAPS.values():
        expected |= set(gaps)
    assert sorted(rule for rule in expected if rule not in text) == []
