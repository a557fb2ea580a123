"""The shipped SLA terms: coverage, facts from the reference, and validation errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from fintropy.errors import ConfigError
from rules.sla.catalogue import TERMS_DIR, default_catalogue, load_catalogue, parse_terms_document
from rules.sla.credit import Member, assess
from rules.sla.model import REQUIRED_CATEGORIES, ScopeKind

from .helpers import down, term_dict, utc

CATALOGUE = default_catalogue()
ALL_IDS = [term.id for term in CATALOGUE.terms]


# --- coverage and shape -------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp", "oci"])
def test_each_provider_covers_every_required_category(provider: str) -> None:
    categories = {term.category for term in CATALOGUE.for_provider(provider)}

    missing = [c.value for c in REQUIRED_CATEGORIES if c not in categories]

    assert missing == []


@pytest.mark.parametrize("term_id", ALL_IDS)
def test_term_carries_source_version_and_claim_facts(term_id: str) -> None:
    term = CATALOGUE.get(term_id)

    assert term.source.url.startswith("https://")
    assert term.version.count(".") == 2
    assert term.claim.must_contain
    assert term.deadline.text
    assert term.credit.base
    assert term.measurement.unavailable_means
    assert term.file == f"{term.provider}.yaml"


@pytest.mark.parametrize("term_id", ALL_IDS)
def test_every_term_assesses_a_one_hour_outage(term_id: str) -> None:
    term = CATALOGUE.get(term_id)
    members = None
    if term.scope.kind is ScopeKind.MULTI_ZONE:
        members = [Member(f"m-{n}", f"zone-{n}") for n in range(term.scope.min_members)]
    outage = down(utc(2026, 6, 10, 10), 60, source_event_id="evt-1")

    result = assess(term, [outage], "2026-06", members=members, monthly_charge=Decimal("1000"))

    # One hour in 43,200 minutes is 99.861%: below every commitment of 99.9% or more.
    assert result.breached is (term.commitment_pct > Decimal("99.8612"))
    assert result.summary.startswith("43,200 min in June 2026;")
    assert result == assess(term, [outage], "2026-06", members=members, monthly_charge="1000")


def test_catalogue_is_sorted_and_ids_are_unique() -> None:
    assert sorted(set(ALL_IDS)) == ALL_IDS


def test_unknown_term_lists_the_provider_terms() -> None:
    with pytest.raises(ConfigError) as caught:
        CATALOGUE.get("aws.ec2.instances")

    assert "aws.ec2.instance" in caught.value.remediation


# --- facts from the reference -------------------------------------------------------------


@pytest.mark.parametrize(
    ("term_id", "commitment"),
    [
        ("aws.ec2.region", "99.99"),
        ("aws.ec2.instance", "99.5"),
        ("aws.ebs.region", "99.99"),
        ("aws.ebs.volume", "99.9"),
        ("aws.s3.standard", "99.9"),
        ("aws.s3.infrequent_access", "99.0"),
        ("aws.rds.multi_az", "99.95"),
        ("aws.rds.single", "99.5"),
        ("aws.elb.multi_az", "99.99"),
        ("aws.elb.single_az", "99.9"),
        ("aws.eks.control_plane", "99.95"),
        ("aws.lambda.region", "99.95"),
        ("aws.route53.dns", "100"),
        ("azure.vm.availability_zones", "99.99"),
        ("azure.vm.availability_set", "99.95"),
        ("azure.vm.single.premium", "99.9"),
        ("azure.vm.single.standard_ssd", "99.5"),
        ("azure.vm.single.standard_hdd", "95"),
        ("azure.sql_database", "99.99"),
        ("azure.sql_database.business_critical_zr", "99.995"),
        ("azure.aks.standard_zones", "99.95"),
        ("azure.aks.standard", "99.9"),
        ("gcp.gce.multizone", "99.99"),
        ("gcp.gce.multizone.mexico_stockholm", "99.95"),
        ("gcp.gce.multizone.standard_tier", "99.9"),
        ("gcp.gce.single", "99.9"),
        ("gcp.gce.single.memory_optimized", "99.95"),
        ("gcp.cloud_load_balancing", "99.99"),
        ("gcp.gcs.standard_multiregion", "99.95"),
        ("gcp.cloudsql.enterprise_plus_ha", "99.99"),
        ("gcp.cloudsql.enterprise_ha", "99.95"),
        ("gcp.gke.regional", "99.95"),
        ("gcp.gke.zonal", "99.5"),
        ("oci.compute.instance", "99.95"),
        ("oci.object_storage", "99.9"),
    ],
)
def test_commitments_match_the_reference(term_id: str, commitment: str) -> None:
    assert CATALOGUE.get(term_id).commitment_pct == Decimal(commitment)


@pytest.mark.parametrize(
    ("term_id", "credits", "lower_bounds"),
    [
        ("aws.ec2.region", [10, 30, 100], ["99.0", "95.0", "0"]),
        ("aws.ebs.volume", [10, 30, 100], ["99.0", "95.0", "0"]),
        ("aws.s3.standard", [10, 25, 100], ["99.0", "95.0", "0"]),
        ("aws.s3.infrequent_access", [10, 25, 100], ["98.0", "95.0", "0"]),
        ("aws.rds.multi_az", [10, 25, 100], ["99.0", "95.0", "0"]),
        ("aws.eks.control_plane", [10, 25, 100], ["99.0", "95.0", "0"]),
        ("aws.elb.multi_az", [10, 30, 100], ["99.0", "95.0", "0"]),
        ("azure.vm.availability_zones", [10, 25, 100], ["99.0", "95.0", "0"]),
        ("gcp.gce.multizone", [10, 25, 50], ["99.0", "95.0", "0"]),
        ("gcp.gce.single", [10, 25, 100], ["95.0", "90.0", "0"]),
        ("gcp.cloud_functions", [10, 25, 50], ["99.0", "95.0", "0"]),
        ("oci.compute.instance", [10, 25], ["99.0", "0"]),
    ],
)
def test_tier_tables_match_the_reference(
    term_id: str, credits: list[int], lower_bounds: list[str]
) -> None:
    tiers = CATALOGUE.get(term_id).credit.tiers

    assert [t.credit_pct for t in tiers] == [Decimal(c) for c in credits]
    assert [t.at_least for t in tiers] == [Decimal(b) for b in lower_bounds]


def test_provider_caps_and_minimums() -> None:
    assert CATALOGUE.get("aws.ec2.region").credit.minimum_amount == Decimal("1.00")
    assert CATALOGUE.get("azure.vm.single.premium").credit.minimum_amount is None
    assert CATALOGUE.get("gcp.gce.multizone").credit.cap_pct == 50
    assert {t.credit.cap_pct for t in CATALOGUE.for_provider("oci")} == {Decimal(25)}


def test_only_gcp_lacks_a_filing_api() -> None:
    without_api = {t.provider for t in CATALOGUE.terms if t.claim.filing_api is None}

    assert without_api == {"gcp"}


def test_multi_zone_terms_require_two_members() -> None:
    multi = [t for t in CATALOGUE.terms if t.scope.kind is ScopeKind.MULTI_ZONE]

    assert {t.id for t in multi} >= {
        "aws.ec2.region",
        "azure.vm.availability_zones",
        "gcp.gce.multizone",
    }
    assert all(t.scope.min_members >= 2 for t in multi)


# --- unconfirmed facts stay marked --------------------------------------------------------


@pytest.mark.parametrize(
    ("term_id", "field"),
    [
        ("aws.ec2.instance", "measurement"),  # hourly or monthly (section 6, item 1)
        ("aws.ec2.instance", "credit.tiers"),
        ("aws.elb.single_az", "credit.tiers"),  # only the 10% tier was seen
        ("aws.lambda.region", "credit.tiers"),
        ("aws.route53.dns", "credit.day_tiers"),
        ("azure.vm.single.standard_ssd", "credit.tiers"),
        ("azure.load_balancer.standard", "commitment_pct"),
        ("azure.dns", "credit.tiers"),
        ("gcp.gce.single", "deadline.count"),  # 30 vs 60 days
        ("gcp.gce.multizone", "credit.tiers"),  # current version may differ
        ("gcp.cloud_dns", "commitment_pct"),
        ("oci.functions", "commitment_pct"),
        ("oci.compute.instance", "deadline"),
        ("oci.compute.instance", "credit.cap_pct"),
    ],
)
def test_facts_the_reference_does_not_confirm_are_marked(term_id: str, field: str) -> None:
    term = CATALOGUE.get(term_id)

    assert term.is_unconfirmed(field)
    assert all(item.note for item in term.unconfirmed)


@pytest.mark.parametrize(
    ("term_id", "field"),
    [
        ("aws.ec2.region", "credit.tiers"),
        ("aws.ec2.region", "commitment_pct"),
        ("aws.eks.control_plane", "credit.tiers"),
        ("azure.vm.availability_zones", "credit.tiers"),
        ("azure.vm.single.premium", "commitment_pct"),
        ("gcp.cloud_functions", "credit.tiers"),
    ],
)
def test_confirmed_facts_are_not_marked(term_id: str, field: str) -> None:
    assert not CATALOGUE.get(term_id).is_unconfirmed(field)


def test_assessment_lists_the_unconfirmed_fields_it_relied_on() -> None:
    result = assess(CATALOGUE.get("aws.route53.dns"), [down(utc(2026, 6, 1), 10)], "2026-06")

    assert "credit.day_tiers" in result.unconfirmed
    assert any(step.startswith("Unconfirmed in term aws.route53.dns") for step in result.arithmetic)


def test_common_notes_apply_only_to_fields_a_term_has() -> None:
    s3 = CATALOGUE.get("aws.s3.standard")  # error-rate: no minute policy
    ec2 = CATALOGUE.get("aws.ec2.instance")

    assert "measurement.minute_policy" not in {u.field for u in s3.unconfirmed}
    assert "measurement.minute_policy" in {u.field for u in ec2.unconfirmed}


def test_term_exclusions_add_to_the_provider_exclusions() -> None:
    term = CATALOGUE.get("gcp.cloudsql.enterprise_ha")

    assert any("Shared-core" in item for item in term.exclusions)
    assert any("exclusions section" in item for item in term.exclusions)


# --- validation errors name the file, the term and the field ------------------------------


def parse(*terms: dict, provider: str = "aws", filename: str = "aws.yaml", common=None):
    document = {"provider": provider, "terms": list(terms)}
    if common is not None:
        document["common"] = common
    return parse_terms_document(document, filename)


@pytest.mark.parametrize(
    ("term", "field", "words"),
    [
        (term_dict(commitment_pct="abc"), "commitment_pct", "is not valid"),
        (term_dict(commitment_pct=101), "commitment_pct", "outside (0, 100]"),
        (term_dict(category="storage"), "category", "is not one of"),
        (term_dict(version="1.0"), "version", "does not match"),
        (term_dict(scope={"kind": "multi_zone"}), "scope", "is a required property"),
        (
            term_dict(scope={"kind": "multi_zone", "min_zones": 2, "min_members": 1}),
            "scope.min_members",
            "less than the minimum of 2",
        ),
        (
            term_dict(measurement={"minute_policy": "nearest"}),
            "measurement.minute_policy",
            "is not one of",
        ),
        (term_dict(measurement={"mode": "error_rate"}), "measurement", "interval_minutes"),
        (term_dict(credit={"tiers": []}), "credit.tiers", "should be non-empty"),
        (term_dict(credit={"cap_pct": "0"}), "credit.cap_pct", "outside (0, 100]"),
        (term_dict(source={"url": "http://example.com"}), "source.url", "does not match"),
        (term_dict(deadline={"rule": "someday"}), "deadline.rule", "is not one of"),
        (term_dict(claim={"must_contain": []}), "claim.must_contain", "should be non-empty"),
        (term_dict(effective_date="June 2022"), "effective_date", "is not valid"),
        (term_dict(colour="blue"), "(top level)", "'colour' was unexpected"),
        (term_dict(period={"timezone": "Mars/Olympus"}), "period.timezone", "unknown time zone"),
        (
            term_dict(unconfirmed=[{"field": "credit.tier", "note": "x"}]),
            "unconfirmed",
            "not a field of this term",
        ),
        (term_dict(id="azure.vm.x"), "id", "does not start with 'aws.'"),
    ],
)
def test_invalid_term_is_refused_naming_file_term_and_field(
    term: dict, field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(term)

    message = caught.value.message
    assert message.startswith(f"aws.yaml: term {term['id']}: field {field}:")
    assert words in message
    assert caught.value.remediation


def tiers(*rows: tuple[str, str, int]) -> dict:
    return term_dict(
        credit={"tiers": [{"below": b, "at_least": a, "credit_pct": c} for b, a, c in rows]}
    )


@pytest.mark.parametrize(
    ("term", "field", "words"),
    [
        (tiers(("99.5", "99", 10), ("99", "0", 25)), "credit.tiers[0].below", "expected 99.9"),
        (tiers(("99.9", "99", 10), ("98", "0", 25)), "credit.tiers[1].below", "gap or overlap"),
        (tiers(("99.9", "99", 10), ("99", "95", 25)), "credit.tiers[1].at_least", "uncovered"),
        (tiers(("99.9", "99", 25), ("99", "0", 10)), "credit.tiers[1].credit_pct", "must exceed"),
        (tiers(("99.9", "99.9", 10), ("99.9", "0", 25)), "credit.tiers[0].at_least", "not below"),
        (tiers(("99.9", "99", 10), ("99", "0", 150)), "credit.tiers[1].credit_pct", "max 100"),
    ],
)
def test_broken_tier_tables_are_refused(term: dict, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(term)

    assert f"field {field}:" in caught.value.message
    assert words in caught.value.message


def day_tiers(*rows: tuple[int, int | None, int]) -> dict:
    term = term_dict(
        commitment_pct=100,
        credit={
            "basis": "downtime_minutes",
            "day_tiers": [
                {"at_least_minutes": a, "below_minutes": b, "credit_days": d} for a, b, d in rows
            ],
        },
    )
    del term["credit"]["tiers"]
    return term


def test_valid_day_tiers_load() -> None:
    (term,) = parse(day_tiers((5, 31, 1), (31, None, 7)))

    assert [t.credit_days for t in term.credit.day_tiers] == [1, 7]


@pytest.mark.parametrize(
    ("term", "field", "words"),
    [
        (day_tiers((5, 31, 1), (40, None, 7)), "credit.day_tiers[1].at_least_minutes", "gap"),
        (day_tiers((5, None, 1), (31, None, 7)), "credit.day_tiers[0].below_minutes", "last"),
        (day_tiers((5, 31, 1), (31, 60, 7)), "credit.day_tiers[1].below_minutes", "last"),
        (day_tiers((5, 31, 7), (31, None, 1)), "credit.day_tiers[1].credit_days", "does not rise"),
        (day_tiers((5, 5, 1), (5, None, 7)), "credit.day_tiers[0].below_minutes", "not above"),
    ],
)
def test_broken_day_tiers_are_refused(term: dict, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(term)

    assert f"field {field}:" in caught.value.message
    assert words in caught.value.message


def test_missing_field_is_named() -> None:
    term = term_dict()
    del term["claim"]

    with pytest.raises(
        ConfigError, match=r"term aws.test.term: field \(top level\): 'claim' is a required"
    ):
        parse(term)


def test_file_level_errors_are_named() -> None:
    with pytest.raises(ConfigError, match=r"aws.yaml: term \(file\): field provider"):
        parse_terms_document({"provider": "ibm", "terms": [term_dict()]}, "aws.yaml")


def test_provider_must_match_the_file_name() -> None:
    with pytest.raises(ConfigError, match="does not match the file name"):
        parse(term_dict(), filename="azure.yaml")


def test_common_block_is_merged_under_each_term() -> None:
    common = {"deadline": {"rule": "days_after_period_end", "count": 30, "text": "30 days"}}
    term = term_dict()
    del term["deadline"]

    (loaded,) = parse(term, common=common)

    assert loaded.deadline.count == 30


def test_unknown_field_in_common_unconfirmed_is_ignored_for_terms_without_it() -> None:
    common = {"unconfirmed": [{"field": "measurement.interval_minutes", "note": "assumed"}]}

    (loaded,) = parse(term_dict(), common=common)

    assert loaded.unconfirmed == ()


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    for provider in ("aws", "azure"):
        term = term_dict(id=f"{provider}.same.term")
        (tmp_path / f"{provider}.yaml").write_text(
            yaml.safe_dump({"provider": provider, "terms": [term]})
        )
    load_catalogue(tmp_path)  # distinct ids load
    term = term_dict(id="aws.same.term")
    (tmp_path / "aws.yaml").write_text(yaml.safe_dump({"provider": "aws", "terms": [term, term]}))

    with pytest.raises(ConfigError, match="field id: also defined in aws.yaml"):
        load_catalogue(tmp_path)


def test_invalid_yaml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "aws.yaml").write_text("provider: aws\nterms: [\n")

    with pytest.raises(ConfigError, match="aws.yaml: not valid YAML"):
        load_catalogue(tmp_path)


def test_empty_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no SLA terms files"):
        load_catalogue(tmp_path)


def test_shipped_files_are_the_four_providers() -> None:
    assert sorted(p.name for p in TERMS_DIR.glob("*.yaml")) == [
        "aws.yaml",
        "azure.yaml",
        "gcp.yaml",
        "oci.yaml",
    ]


def test_yaml_dates_and_years_are_read_as_text() -> None:
    import datetime

    (by_year,) = parse(term_dict(effective_date=2022))
    (by_day,) = parse(term_dict(effective_date=datetime.date(2024, 1, 15)))

    assert (by_year.effective_date, by_day.effective_date) == ("2022", "2024-01-15")
