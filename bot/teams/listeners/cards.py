"""Card actions: ``adaptiveCard/action`` invokes from Approve, Reject, Snooze, Details, refresh.

Steps, as for Slack's buttons: where from and who (an unbound tenant or channel is refused
before any work), verify the card's token for the actor's tenant (the finding id comes only
from its claims), check the role, then act. Approve and Reject go to ``Backend.decide``, the
same path and workflow validator as Slack. The invoke is answered with the card as it now
stands for this viewer, topped by the result of the click; refusals are answered with a
message and leave the card as it was. A refresh (Teams asking for this viewer's card) shows an
approver the buttons while the finding awaits a decision, and everyone else the status.
"""

from __future__ import annotations

import dataclasses
import logging

from bot import messages
from bot.backend import Actor
from bot.commands import CommandError, parse_reason
from bot.teams.context import (
    TeamsDeps,
    identify,
    require_role,
    resolve_tenant,
    source,
    submit_decision,
    verify_card_token,
)
from bot.teams.turn import CardActionReply, Inbound
from bot.tokens import TokenClaims
from bot.views.adaptive import (
    DURATION_INPUT_ID,
    REASON_INPUT_ID,
    TOKEN_KEY,
    VERB_APPROVE,
    VERB_DETAILS,
    VERB_REJECT,
    VERB_SNOOZE,
    VERBS,
    finding_card,
    finding_detail_card,
)
from fintropy.domain import FindingCard, FindingStatus, Role

logger = logging.getLogger(__name__)

# The only status in which the finding's workflow still takes decisions.
DECIDING_STATUS = FindingStatus.AWAITING_APPROVAL.value


async def handle_card_action(deps: TeamsDeps, inbound: Inbound) -> CardActionReply:
    """Answer one ``Action.Execute`` click or refresh."""
    said: list[str] = []

    async def reply(text: str) -> None:
        said.append(text)

    verb = inbound.verb if inbound.verb in VERBS else "unknown"
    what = f"{verb} card action"
    tenant_id = await resolve_tenant(deps, inbound)
    actor = await identify(deps, inbound, tenant_id, what, reply)
    if actor is None:
        return CardActionReply(message=said[-1])
    token = str(inbound.action_data.get(TOKEN_KEY) or "")
    claims = await verify_card_token(deps, actor, inbound, token, what, reply)
    if claims is None:
        return CardActionReply(message=said[-1])
    if verb == "unknown":
        logger.info("teams card verb unknown", extra={"tenant_id": actor.tenant_id})
        return CardActionReply(message=messages.STALE_BUTTON)

    # From here the finding is known (the token verified), so refusals are audited against it.
    what = f"{what} {claims.finding_id}"
    if verb in (VERB_APPROVE, VERB_REJECT):
        if not await require_role(deps, actor, inbound, Role.APPROVER, verb, what, reply):
            return CardActionReply(message=said[-1])
        answer = await _decide(deps, actor, inbound, claims, verb, token)
    elif verb == VERB_SNOOZE:
        if not await require_role(deps, actor, inbound, Role.APPROVER, verb, what, reply):
            return CardActionReply(message=said[-1])
        duration = str(inbound.action_data.get(DURATION_INPUT_ID) or "7d")
        result = await deps.backend.snooze(
            actor,
            claims.finding_id,
            duration,
            f"snoozed from the Teams card by {actor.display_name}",
        )
        answer = CardActionReply(message=result.message)
    elif verb == VERB_DETAILS:
        answer = await _details(deps, actor, claims)
    else:
        answer = await _refresh(deps, actor, claims, token)
    logger.info(
        "teams card action handled",
        extra={"tenant_id": actor.tenant_id, "chat_team_id": inbound.teams_tenant_id, "verb": verb},
    )
    return answer


async def _decide(
    deps: TeamsDeps, actor: Actor, inbound: Inbound, claims: TokenClaims, verb: str, token: str
) -> CardActionReply:
    reason = ""
    if verb == VERB_REJECT:
        try:
            reason = parse_reason(str(inbound.action_data.get(REASON_INPUT_ID) or ""))
        except CommandError as err:
            return CardActionReply(message=err.message)
    accepted, said = await submit_decision(
        deps, actor, claims.finding_id, verb, source(inbound, "card", claims), reason
    )
    card = await deps.backend.get_card(actor.tenant_id, claims.finding_id)
    if card is None:
        return CardActionReply(message=said)
    # Whoever just decided has nothing left to click; a refused click keeps the buttons.
    view = _live(card, token)
    return CardActionReply(
        card=finding_card(
            view, viewer_can_decide=not accepted, notice=said, notice_is_problem=not accepted
        )
    )


async def _details(deps: TeamsDeps, actor: Actor, claims: TokenClaims) -> CardActionReply:
    card = await deps.backend.get_card(actor.tenant_id, claims.finding_id)
    if card is None:
        return CardActionReply(message=messages.unknown_finding(claims.finding_id))
    trail = await deps.backend.audit_trail(actor.tenant_id, claims.finding_id)
    return CardActionReply(card=finding_detail_card(card, trail))


async def _refresh(
    deps: TeamsDeps, actor: Actor, claims: TokenClaims, token: str
) -> CardActionReply:
    card = await deps.backend.get_card(actor.tenant_id, claims.finding_id)
    if card is None:
        return CardActionReply(message=messages.unknown_finding(claims.finding_id))
    can_decide = actor.role.at_least(Role.APPROVER)
    return CardActionReply(card=finding_card(_live(card, token), viewer_can_decide=can_decide))


def _live(card: FindingCard, token: str) -> FindingCard:
    """The card with the clicked token while it still takes decisions, without buttons after."""
    if card.status == DECIDING_STATUS:
        return dataclasses.replace(card, buttons_enabled=True, action_token=token)
    return dataclasses.replace(card, buttons_enabled=False, action_token="")
