"""Button tokens: round trip, tampering, foreign tenants, malformed values."""

from __future__ import annotations

import base64
import re

import pytest

from bot.tokens import MAX_TOKEN_LENGTH, ButtonTokenError, TokenClaims, issue_token, verify_token

SECRET = b"s3cret-key-for-tests"
TENANT = "3f1c2a9e-6d5b-4c1e-9a7f-0b2c4d6e8f10"
OTHER_TENANT = "b2a1c3d4-0000-4000-8000-000000000002"
FINDING = "f-0123456789ab"
CARD = f"finding-{TENANT}-{FINDING}"


def _token(tenant: str = TENANT, finding: str = FINDING) -> str:
    return issue_token(SECRET, tenant, finding, "decide", CARD)


def test_verified_token_returns_its_claims() -> None:
    token = _token()

    claims = verify_token(SECRET, token, tenant_id=TENANT)

    assert claims == TokenClaims(TENANT, FINDING, "decide", CARD)


def test_token_is_url_safe_and_fits_a_button_value() -> None:
    token = _token()

    assert len(token) < 200
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)
    assert FINDING not in token  # opaque, not a readable id


def test_token_for_another_tenant_is_refused_as_foreign() -> None:
    token = _token(tenant=OTHER_TENANT)

    with pytest.raises(ButtonTokenError) as err:
        verify_token(SECRET, token, tenant_id=TENANT)

    assert err.value.reason == "foreign_tenant"
    assert "another Fintropy tenant" in err.value.message


def test_token_signed_with_another_secret_is_refused_as_tampered() -> None:
    token = issue_token(b"attacker-secret", TENANT, FINDING, "decide", CARD)

    with pytest.raises(ButtonTokenError) as err:
        verify_token(SECRET, token, tenant_id=TENANT)

    assert err.value.reason == "tampered"


def test_token_pointed_at_another_finding_is_refused_as_tampered() -> None:
    version, body, mac = _token().split(".")
    fields = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("|")
    fields[1] = "f-ffffffffffff"
    forged_body = base64.urlsafe_b64encode("|".join(fields).encode()).decode().rstrip("=")

    with pytest.raises(ButtonTokenError) as err:
        verify_token(SECRET, f"{version}.{forged_body}.{mac}", tenant_id=TENANT)

    assert err.value.reason == "tampered"


def test_token_with_altered_signature_is_refused_as_tampered() -> None:
    version, body, mac = _token().split(".")
    altered = ("A" if mac[0] != "A" else "B") + mac[1:]

    with pytest.raises(ButtonTokenError) as err:
        verify_token(SECRET, f"{version}.{body}.{altered}", tenant_id=TENANT)

    assert err.value.reason == "tampered"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "approve",
        FINDING,
        "v1.only-two",
        "v2.abc.def",
        "v1.!!!!.abcd",
        "v1." + base64.urlsafe_b64encode(b"a|b|c").decode().rstrip("=") + ".AAAA",
        "v1.YQ.YQ.YQ",
        "v1." + "A" * 300 + ".AAAA",
    ],
)
def test_malformed_value_is_refused_as_malformed(value: str) -> None:
    with pytest.raises(ButtonTokenError) as err:
        verify_token(SECRET, value, tenant_id=TENANT)

    assert err.value.reason == "malformed"


def test_issue_refuses_fields_that_would_break_the_layout() -> None:
    with pytest.raises(ValueError, match="card_id"):
        issue_token(SECRET, TENANT, FINDING, "decide", "a|b")
    with pytest.raises(ValueError, match="finding_id"):
        issue_token(SECRET, TENANT, "", "decide", CARD)
    with pytest.raises(ValueError, match="secret"):
        issue_token(b"", TENANT, FINDING, "decide", CARD)


def test_issue_refuses_tokens_over_the_length_limit() -> None:
    with pytest.raises(ValueError, match=str(MAX_TOKEN_LENGTH)):
        issue_token(SECRET, TENANT, FINDING, "decide", "c" * 200)
