"""Opaque, signed values for card buttons.

A button's value comes back to us from the chat platform, so it is attacker-controlled input.
It carries a token bound to a tenant, a finding, an action and a card; the token is signed with
a key derived from the service secret and the tenant, so it cannot be forged, altered or
replayed into another tenant's workspace. Handlers read the finding id from the verified
claims only, never from anything else in the payload.

Layout: ``v1.<base64url(fingerprint|finding|action|card)>.<base64url(mac)>`` where the
fingerprint is a short hash of the tenant id (so a foreign-tenant token can be named as such)
and the MAC is a truncated HMAC-SHA256 over the version and payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

from fintropy.errors import FinOpsError

VERSION = "v1"
MAX_TOKEN_LENGTH = 199
CARD_ACTION = "decide"  # the action the finding workflow's cards are issued for
_MAC_BYTES = 16
_FINGERPRINT_CHARS = 10
_SEPARATOR = "|"


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token vouches for."""

    tenant_id: str
    finding_id: str
    action: str
    card_id: str


class ButtonTokenError(FinOpsError):
    """A button value failed verification; ``reason`` is malformed, tampered or foreign_tenant."""

    code = "invalid_button_token"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(
            message, "Ask for a fresh card with `/fintropy show ID` and use its buttons."
        )
        self.reason = reason


def issue_token(secret: bytes, tenant_id: str, finding_id: str, action: str, card_id: str) -> str:
    """Sign a token binding ``tenant_id``, ``finding_id``, ``action`` and ``card_id``.

    Raises ``ValueError`` when the secret is empty, a field is empty or contains ``|``, or the
    token would exceed ``MAX_TOKEN_LENGTH`` characters.
    """
    if not secret:
        raise ValueError("the button token secret is empty; configure a random secret")
    fields = {
        "tenant_id": tenant_id,
        "finding_id": finding_id,
        "action": action,
        "card_id": card_id,
    }
    for name, value in fields.items():
        if not value or _SEPARATOR in value:
            raise ValueError(f"{name} must be non-empty and must not contain {_SEPARATOR!r}")
    payload = _SEPARATOR.join((_fingerprint(tenant_id), finding_id, action, card_id))
    body = _b64encode(payload.encode())
    token = f"{VERSION}.{body}.{_b64encode(_mac(secret, tenant_id, body))}"
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError(
            f"button token would be {len(token)} characters (limit {MAX_TOKEN_LENGTH}); "
            "use a shorter card id"
        )
    return token


def verify_token(secret: bytes, token: str, *, tenant_id: str) -> TokenClaims:
    """Check ``token`` was issued by us for ``tenant_id``; return its claims.

    Raises ``ButtonTokenError`` with reason ``malformed`` (not a token of ours at all),
    ``foreign_tenant`` (a genuine-looking token for another tenant) or ``tampered`` (the
    signature does not match the content).
    """
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != VERSION or len(token) > MAX_TOKEN_LENGTH:
        raise ButtonTokenError("malformed", "This button value is not a Fintropy card token.")
    _, body, mac_text = parts
    try:
        fields = _b64decode(body).decode().split(_SEPARATOR)
        mac = _b64decode(mac_text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise ButtonTokenError("malformed", "This button value cannot be decoded.") from err
    if len(fields) != 4 or not all(fields):
        raise ButtonTokenError("malformed", "This button value does not have the token's fields.")
    fingerprint, finding_id, action, card_id = fields
    if not hmac.compare_digest(fingerprint, _fingerprint(tenant_id)):
        raise ButtonTokenError(
            "foreign_tenant", "This button belongs to a card of another Fintropy tenant."
        )
    if not hmac.compare_digest(mac, _mac(secret, tenant_id, body)):
        raise ButtonTokenError("tampered", "This button value was altered after it was issued.")
    return TokenClaims(tenant_id, finding_id, action, card_id)


def _fingerprint(tenant_id: str) -> str:
    return hashlib.sha256(f"fintropy-tenant|{tenant_id}".encode()).hexdigest()[:_FINGERPRINT_CHARS]


def _mac(secret: bytes, tenant_id: str, body: str) -> bytes:
    # A per-tenant key: a token verified against another tenant's key can never match.
    key = hmac.new(secret, f"fintropy-button-key|{tenant_id}".encode(), hashlib.sha256).digest()
    return hmac.new(key, f"{VERSION}.{body}".encode(), hashlib.sha256).digest()[:_MAC_BYTES]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    if not text or any(c not in _B64_ALPHABET for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
