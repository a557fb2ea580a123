"""What every Teams handler does before its own work: from where, as whom, with which role.

The Teams twin of ``bot.slack.context``. An activity is answered only when its Microsoft Entra
tenant and channel are bound to a Fintropy tenant and its sender's Entra object id is linked
to a person of that tenant; anything else is refused with a catalogue sentence, and the refusal
is written to the audit trail (``Backend.record_refusal``). Card tokens and roles are checked
here too. The sender's identity is trusted only because the seam authenticated the activity.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.backend import Actor, Backend
from bot.teams.store import ConversationStore
from bot.teams.turn import Inbound, Reply
from bot.tokens import CARD_ACTION, ButtonTokenError, TokenClaims, verify_token
from fintropy.domain import Role
from fintropy.errors import DecisionRefused, NotFoundError

logger = logging.getLogger(__name__)

PLATFORM = "teams"


@dataclass(frozen=True)
class TeamsDeps:
    """What the handlers need, injected by ``build_teams_bot``."""

    backend: Backend
    token_secret: bytes
    store: ConversationStore


async def resolve_tenant(deps: TeamsDeps, inbound: Inbound) -> str | None:
    """The Fintropy tenant bound to the activity's Entra tenant and channel, or None."""
    if not inbound.teams_tenant_id:
        return None
    return await deps.backend.resolve_tenant(
        PLATFORM, inbound.teams_tenant_id, inbound.channel_id or None
    )


async def remember_conversation(deps: TeamsDeps, tenant_id: str, inbound: Inbound) -> None:
    """Store the reference that lets cards be posted to this channel or chat later."""
    if not (inbound.service_url and inbound.channel_id):
        return
    await asyncio.to_thread(
        deps.store.save_conversation,
        tenant_id,
        inbound.channel_id,
        inbound.channel_id,
        inbound.service_url,
        inbound.reference(),
    )


async def identify(
    deps: TeamsDeps, inbound: Inbound, tenant_id: str | None, what: str, reply: Reply
) -> Actor | None:
    """The actor behind the activity, or None after refusing it (and auditing the refusal)."""
    if tenant_id is None:
        await refuse(
            deps,
            None,
            inbound,
            what,
            "tenant or channel not bound to a tenant",
            messages.UNBOUND_WORKSPACE,
            reply,
        )
        return None
    actor = None
    if inbound.aad_object_id:
        actor = await deps.backend.resolve_actor(
            tenant_id, PLATFORM, inbound.teams_tenant_id, inbound.aad_object_id
        )
    if actor is None:
        await refuse(
            deps,
            tenant_id,
            inbound,
            what,
            "chat identity not linked to a person",
            messages.UNKNOWN_PERSON,
            reply,
        )
    return actor


async def require_role(
    deps: TeamsDeps,
    actor: Actor,
    inbound: Inbound,
    needed: Role,
    action: str,
    what: str,
    reply: Reply,
) -> bool:
    """True when ``actor`` has at least ``needed``; otherwise refuse, audit and return False."""
    if actor.role.at_least(needed):
        return True
    why = messages.refusal_reason_role(needed.value, actor.role.value)
    text = messages.role_required(action, needed.value, actor.role.value)
    await refuse(deps, actor.tenant_id, inbound, what, why, text, reply)
    return False


async def verify_card_token(
    deps: TeamsDeps, actor: Actor, inbound: Inbound, token: str, what: str, reply: Reply
) -> TokenClaims | None:
    """The claims of a card's token for the actor's tenant, or None after refusing it."""
    try:
        claims = verify_token(deps.token_secret, token, tenant_id=actor.tenant_id)
    except ButtonTokenError as err:
        why = f"button token {err.reason}"
        await refuse(deps, actor.tenant_id, inbound, what, why, messages.INVALID_BUTTON, reply)
        return None
    if claims.action != CARD_ACTION:
        why = "button token issued for another action"
        await refuse(deps, actor.tenant_id, inbound, what, why, messages.STALE_BUTTON, reply)
        return None
    return claims


async def submit_decision(
    deps: TeamsDeps,
    actor: Actor,
    finding_id: str,
    decision: str,
    source: dict[str, Any],
    reason: str = "",
) -> tuple[bool, str]:
    """Hand a decision to the backend; (accepted, the sentence to show the person)."""
    try:
        result = await deps.backend.decide(actor, finding_id, decision, reason, source=source)
    except NotFoundError:
        return False, messages.unknown_finding(finding_id)
    except DecisionRefused as err:
        return False, messages.decision_failed(err.message)
    if result.accepted:
        return True, result.message
    return False, messages.decision_failed(result.message)


def source(inbound: Inbound, via: str, claims: TokenClaims | None = None) -> dict[str, Any]:
    """The ``source`` recorded with a decision from Teams."""
    src: dict[str, Any] = {
        "platform": PLATFORM,
        "via": via,
        "team_id": inbound.teams_tenant_id,
        "channel_id": inbound.channel_id,
        "user_id": inbound.aad_object_id,
    }
    if inbound.reply_to_id:
        src["activity_id"] = inbound.reply_to_id
    if claims is not None:
        src["card_id"] = claims.card_id
        src["token_action"] = claims.action
    return src


async def refuse(
    deps: TeamsDeps,
    tenant_id: str | None,
    inbound: Inbound,
    what: str,
    why: str,
    text: str,
    reply: Reply,
) -> None:
    """Log, audit and answer a refused activity."""
    logger.info(
        "teams request refused",
        extra={"tenant_id": tenant_id, "chat_team_id": inbound.teams_tenant_id, "reason": why},
    )
    await deps.backend.record_refusal(
        tenant_id, PLATFORM, inbound.teams_tenant_id, inbound.aad_object_id, what, why
    )
    await reply(text)
