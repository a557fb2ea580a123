"""Running the FinOps Foundation FOCUS validator, and the failures we expect from it.

The validator (PyPI ``focus-validator``) needs Python 3.12+, so it runs from its own virtual
environment made by ``scripts/focus-validator-venv.sh``. :func:`run_validator` calls that
script and reads the JUnit XML it writes.

Two kinds of expected failure are listed here, each with its reason (docs/billing.md repeats
them for readers):

- :data:`VALIDATOR_FALSE_POSITIVES`: rules the validator reports although the data meets the
  FOCUS text, because of how the rule is encoded or evaluated;
- :data:`KNOWN_GAPS`: real non-conformance of a given export, because the export lacks the
  information (and the converter does not invent it).

Anything else the validator reports is a bug in a converter.
"""

from __future__ import annotations

import logging
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "focus-validator-venv.sh"
NO_PYTHON_312 = 3

_STATUS_FP = (
    "The rule model encodes the condition as 'CommitmentDiscountId is null' instead of "
    "'is not null and ChargeCategory is Usage', so every row without a commitment fails "
    "(FOCUS_Spec issue #2394)."
)
_CAPACITY_FP = (
    "The validator drops the AND in the rule's condition (focus_validator#142), so every row "
    "with a null CapacityReservationId fails although the rule only covers rows that have one."
)

VALIDATOR_FALSE_POSITIVES: dict[str, str] = {
    "CommitmentDiscountStatus-C-004-C": _STATUS_FP,
    "CommitmentDiscountStatus-C-002-C": "Composite over CommitmentDiscountStatus-C-004-C.",
    "CommitmentDiscountStatus-C-000-C": "Composite over CommitmentDiscountStatus-C-002-C.",
    "CapacityReservationStatus-C-004-C": _CAPACITY_FP,
    "CapacityReservationStatus-C-002-C": "Composite over CapacityReservationStatus-C-004-C.",
    "CapacityReservationStatus-C-000-C": "Composite over CapacityReservationStatus-C-002-C.",
    "InvoiceId-C-004-C": (
        "One branch of the OR in InvoiceId-C-003-C, encoded without its condition ('must be "
        "null when not invoiced'), so it fails on every row that has an InvoiceId; the parent "
        "rule passes."
    ),
    "InvoiceId-C-005-C": (
        "The other branch of InvoiceId-C-003-C, encoded without its condition ('must not be "
        "null when invoiced'), so it fails when the export's charges are not invoiced yet and "
        "InvoiceId is null; the parent rule passes."
    ),
    "CostAndUsage-D-000-M": "Dataset composite: fails whenever any rule above fails.",
    "CostAndUsage-D-002-M": "Dataset composite: fails whenever any rule above fails.",
}

_NO_ACCOUNT_NAME = (
    "The export carries no billing-account display name, and the converter does not invent "
    "one; FOCUS wants it when the provider supports naming."
)
KNOWN_GAPS: dict[str, dict[str, str]] = {
    "aws-legacy": {
        "BillingAccountName-C-003-C": _NO_ACCOUNT_NAME + " (CUR 2.0 has bill_payer_account_name)",
        "BillingAccountName-C-000-M": "Composite over BillingAccountName-C-003-C.",
    },
    "gcp": {
        "BillingAccountName-C-003-C": _NO_ACCOUNT_NAME,
        "BillingAccountName-C-000-M": "Composite over BillingAccountName-C-003-C.",
        "EffectiveCost-C-005-C": (
            "Committed-use-discount fees stay Purchase rows with EffectiveCost = BilledCost: the "
            "export does not say which usage rows a fee covers, so the fee is not amortized "
            "onto them (the covered rows' CUD credits bring their cost to ~0)."
        ),
        "EffectiveCost-C-000-M": "Composite over EffectiveCost-C-005-C.",
    },
    "oci": {
        "BillingAccountName-C-003-C": _NO_ACCOUNT_NAME,
        "BillingAccountName-C-000-M": "Composite over BillingAccountName-C-003-C.",
    },
}


@dataclass(frozen=True)
class ValidatorResult:
    """One validator run: every failing rule ID, and those nobody expected."""

    data_file: str
    tests: int
    failed: tuple[str, ...]
    unexpected: tuple[str, ...]
    junit_xml: str


class ValidatorUnavailableError(RuntimeError):
    """The validator's virtual environment could not be created (reason in the message)."""


def ensure_validator(timeout: float = 900) -> Path:
    """Create the validator venv if needed; return its bin folder.

    Raises ValidatorUnavailableError with the script's explanation when no Python >= 3.12 is
    available or the install fails.
    """
    result = subprocess.run(
        ["bash", str(SCRIPT), "setup"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()
        detail = " ".join(line for line in reason if "is ignored" not in line)[-2000:]
        raise ValidatorUnavailableError(
            f"focus-validator venv unavailable (exit {result.returncode}): {detail}"
        )
    return Path(result.stdout.strip().splitlines()[-1])


def failing_rules(junit_xml: Path) -> tuple[int, list[str]]:
    """The number of test cases and the rule IDs that failed or errored in a JUnit report."""
    root = ET.parse(junit_xml).getroot()
    failed: list[str] = []
    total = 0
    for case in root.iter("testcase"):
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append((case.get("name") or "").split(" ")[0])
    return total, sorted(set(failed))


def run_validator(
    data_file: Path, out_dir: Path, *, dataset: str, criteria: str = "ALL"
) -> ValidatorResult:
    """Validate one FOCUS file (Parquet or CSV) against FOCUS 1.2, offline.

    ``dataset`` picks the known gaps that apply (a key of :data:`KNOWN_GAPS`, or any other
    label for none). Raises ValidatorUnavailableError when the validator cannot be set up.
    """
    ensure_validator()
    out_dir.mkdir(parents=True, exist_ok=True)
    junit = out_dir / f"{data_file.stem}.xml"
    result = subprocess.run(
        ["bash", str(SCRIPT), "run", str(data_file), str(junit), criteria],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not junit.exists():
        raise RuntimeError(
            f"focus-validator failed on {data_file} (exit {result.returncode}): "
            f"{result.stderr[-2000:]}"
        )
    total, failed = failing_rules(junit)
    allowed = set(VALIDATOR_FALSE_POSITIVES) | set(KNOWN_GAPS.get(dataset, {}))
    unexpected = tuple(rule for rule in failed if rule not in allowed)
    logger.info(
        "focus validator finished",
        extra={"data_file": str(data_file), "failed": len(failed), "unexpected": len(unexpected)},
    )
    return ValidatorResult(str(data_file), total, tuple(failed), unexpected, str(junit))
