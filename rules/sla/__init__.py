"""SLA credit recovery: provider uptime commitments as versioned data, and the pure arithmetic
that turns outage intervals into monthly uptime, a credit and a claim deadline.

``rules.sla.catalogue`` loads ``rules/sla/terms/<provider>.yaml``; ``rules.sla.credit.assess``
is the single entry point for the arithmetic. Nothing in this package does network I/O or
reads the clock.
"""

from rules.sla.catalogue import SlaCatalogue, default_catalogue, load_catalogue, load_terms_file
from rules.sla.credit import (
    Assessment,
    BillingMonth,
    Member,
    Outage,
    SlaInputError,
    assess,
    claim_deadline,
    split_by_month,
)
from rules.sla.model import SlaTerm

__all__ = [
    "Assessment",
    "BillingMonth",
    "Member",
    "Outage",
    "SlaCatalogue",
    "SlaInputError",
    "SlaTerm",
    "assess",
    "claim_deadline",
    "default_catalogue",
    "load_catalogue",
    "load_terms_file",
    "split_by_month",
]
