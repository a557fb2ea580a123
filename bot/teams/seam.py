"""The seam around the Bot Framework SDK: the only module that imports botbuilder.

Fintropy's Teams bot runs on botbuilder-core / botbuilder-integration-aiohttp 4.17, the last
Bot Framework SDK for Python. Upstream has archived it, and its successors (the Microsoft 365
Agents SDK's Teams hosting, the Teams SDK) need a newer Python for the Teams parts. So the SDK
stays behind this module: handlers see ``bot.teams.turn`` types only, and botbuilder is imported
when a ``BotFrameworkSeam`` is built, never when the package is imported. Porting means
reimplementing this module's three jobs:

- ``handle_request``: the aiohttp handler for ``POST /api/messages``. Every activity is
  authenticated first (the Bot Framework JWT: issuer, audience = our app id, signing keys from
  the OpenID metadata, ``serviceurl`` claim); anything that fails gets 401 before any handler
  runs. With no app id configured, botbuilder accepts unauthenticated requests, which is for
  local runs only (``build_teams_app`` warns).
- the turn: messages, installations and ``adaptiveCard/action`` invokes become calls on a
  ``TurnHandler``; the invoke response carries a card or a message, in the shape Teams expects.
- ``post_card`` / ``update_card``: proactive sends through a stored conversation reference,
  retried on 412, 429, 502, 503 and 504 (honouring ``Retry-After``), failing with
  ``ChatDeliveryError`` otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from bot.teams.config import TeamsConfig
from bot.teams.turn import (
    INVOKE_CARD_ACTION,
    CardActionReply,
    Inbound,
    TurnHandler,
    read_inbound,
)
from bot.views.adaptive import CONTENT_TYPE
from fintropy.errors import ChatDeliveryError

logger = logging.getLogger(__name__)

CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
ERROR_RESPONSE = "application/vnd.microsoft.error"
RETRYABLE_STATUSES = frozenset({412, 429, 502, 503, 504})
DEFAULT_RETRY_DELAYS = (1.0, 4.0, 15.0)
_MAX_RETRY_AFTER = 60.0


class BotFrameworkSeam:
    """A botbuilder ``CloudAdapter`` and activity handler driving a ``TurnHandler``.

    ``openid_metadata_url`` replaces the Bot Framework's OpenID metadata document, from which
    the keys that sign inbound tokens are read (sovereign clouds; tests serve their own). It is
    process-wide in botbuilder. ``retry_delays`` are the pauses between proactive attempts.
    With no ``handler`` (a worker process that only posts cards) inbound requests get 503.
    """

    def __init__(
        self,
        config: TeamsConfig,
        handler: TurnHandler | None,
        *,
        openid_metadata_url: str | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        from botbuilder.integration.aiohttp import (
            CloudAdapter,
            ConfigurationBotFrameworkAuthentication,
        )

        if openid_metadata_url:
            from botframework.connector.auth import ChannelValidation

            ChannelValidation.open_id_metadata_endpoint = openid_metadata_url
        self._config = config
        self._handler = handler
        self._retry_delays = tuple(retry_delays)
        self._adapter = CloudAdapter(
            ConfigurationBotFrameworkAuthentication(config.bot_framework_settings())
        )
        self._adapter.on_turn_error = self._on_turn_error
        self._bot = _activity_handler_class()(handler) if handler is not None else None

    # -- inbound ------------------------------------------------------------------------------

    async def handle_request(self, request: web.Request) -> web.Response:
        """Authenticate and process one activity POSTed by the Bot Framework service."""
        from botbuilder.schema import Activity
        from msrest.exceptions import DeserializationError

        if self._bot is None:
            return _problem(503, "this process posts Teams cards but does not take activities")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return _problem(415, "activities are JSON: send Content-Type application/json")
        try:
            body = await request.json()
        except ValueError:
            return _problem(400, "the body is not JSON")
        if not isinstance(body, dict) or not body.get("type"):
            return _problem(400, "the body is not a Bot Framework activity (no type)")
        try:
            activity = Activity().deserialize(body)
        except DeserializationError:
            return _problem(400, "the body is not a well-formed Bot Framework activity")
        auth = await self._authenticate(activity, request.headers.get("Authorization", ""))
        if isinstance(auth, web.Response):
            return auth
        response = await self._adapter.process_activity(auth, activity, self._bot.on_turn)
        if response is None:
            return web.Response(status=200)
        return web.json_response(response.body, status=int(response.status))

    async def _authenticate(self, activity: Any, header: str) -> Any:
        from requests import RequestException

        authenticator = self._adapter.bot_framework_authentication
        try:
            return await authenticator.authenticate_request(activity, header)
        except PermissionError as err:
            logger.warning(
                "teams request unauthenticated",
                extra={"error": type(err).__name__, "has_header": bool(header)},
            )
            return _problem(401, "unauthorized")
        except RequestException as err:
            # The signing keys could not be fetched: not the caller's fault, and retryable.
            logger.error("teams signing keys unavailable", extra={"error": type(err).__name__})
            return _problem(503, "the Bot Framework signing keys could not be read")
        except Exception as err:  # boundary: whatever fails authentication is a 401
            logger.warning(
                "teams request unauthenticated",
                extra={"error": type(err).__name__, "has_header": bool(header)},
            )
            return _problem(401, "unauthorized")

    async def _on_turn_error(self, turn_context: Any, error: Exception) -> None:
        """The turn's boundary: log with a correlation id, tell the person it failed."""
        from botbuilder.core import InvokeResponse
        from botbuilder.schema import Activity, ActivityTypes

        activity = turn_context.activity
        correlation_id = uuid.uuid4().hex[:12]
        logger.error(
            "teams turn failed",
            exc_info=error,
            extra={"correlation_id": correlation_id, "activity_type": activity.type},
        )
        if activity.type == ActivityTypes.event or self._handler is None:
            return
        text = self._handler.failure_text(correlation_id)
        try:
            if activity.type == ActivityTypes.invoke:
                body = _invoke_body(CardActionReply(message=text))
                await turn_context.send_activity(
                    Activity(
                        type=ActivityTypes.invoke_response,
                        value=InvokeResponse(status=200, body=body),
                    )
                )
            else:
                await turn_context.send_activity(_text_activity(text))
        except Exception:  # the error handler is the last boundary; never raise from it
            logger.warning("teams error reply failed", extra={"correlation_id": correlation_id})

    # -- proactive ----------------------------------------------------------------------------

    async def post_card(self, reference: dict[str, Any], card: dict[str, Any], summary: str) -> str:
        """Post ``card`` as a new message in the referenced conversation; return its id."""

        async def send(connector: Any, ref: Any) -> str:
            activity = _card_activity(card, summary, ref)
            response = await connector.conversations.send_to_conversation(
                ref.conversation.id, activity
            )
            return str(getattr(response, "id", "") or "")

        activity_id = await self._proactive(reference, send, "post the card")
        if not activity_id:
            raise ChatDeliveryError(
                "Teams accepted the card but returned no message id.",
                "The card cannot be updated later; check the Teams service URL.",
            )
        return activity_id

    async def update_card(
        self, reference: dict[str, Any], activity_id: str, card: dict[str, Any], summary: str
    ) -> None:
        """Replace the card of message ``activity_id`` in the referenced conversation."""

        async def update(connector: Any, ref: Any) -> None:
            activity = _card_activity(card, summary, ref)
            activity.id = activity_id
            await connector.conversations.update_activity(
                ref.conversation.id, activity_id, activity
            )

        await self._proactive(reference, update, "update the card")

    async def _proactive(
        self,
        reference: dict[str, Any],
        call: Callable[[Any, Any], Awaitable[Any]],
        operation: str,
    ) -> Any:
        from botbuilder.core import BotAdapter
        from botbuilder.schema import ConversationReference

        ref = ConversationReference().deserialize(reference)
        outcome: dict[str, Any] = {}

        async def logic(turn_context: Any) -> None:
            connector = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            # Retries are ours (below), so urllib3's must not multiply them.
            connector.config.retry_policy.retries = 0
            try:
                outcome["result"] = await self._with_retries(
                    functools.partial(call, connector, ref), operation
                )
            except ChatDeliveryError as err:
                outcome["error"] = err

        await self._adapter.continue_conversation(
            ref, logic, bot_app_id=self._config.app_id or None
        )
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("result")

    async def _with_retries(self, attempt: Callable[[], Awaitable[Any]], operation: str) -> Any:
        from msrest.exceptions import ClientRequestError, HttpOperationError

        for tries in range(len(self._retry_delays) + 1):
            try:
                return await attempt()
            except HttpOperationError as err:
                status = getattr(err.response, "status_code", 0) or 0
                if status not in RETRYABLE_STATUSES or tries >= len(self._retry_delays):
                    raise _delivery_error(operation, status, err) from err
                delay = _retry_after(err.response, self._retry_delays[tries])
                logger.warning(
                    "teams call retried",
                    extra={"status": status, "attempt": tries + 1, "delay_s": delay},
                )
                await asyncio.sleep(delay)
            except ClientRequestError as err:
                raise ChatDeliveryError(
                    f"Teams could not be reached to {operation}: {type(err).__name__}.",
                    "Check the network path to the Teams service URL; the workflow retries.",
                ) from err
        raise AssertionError("unreachable")  # the loop returns or raises


# -- botbuilder types, built on first use --------------------------------------------------------


@functools.cache
def _activity_handler_class() -> type:
    from botbuilder.core import ActivityHandler, InvokeResponse

    class FintropyActivityHandler(ActivityHandler):
        """Routes botbuilder's callbacks to a ``TurnHandler``."""

        def __init__(self, handler: TurnHandler) -> None:
            self._handler = handler

        async def on_message_activity(self, turn_context: Any) -> None:
            inbound = _inbound(turn_context)
            await self._handler.on_message(inbound, _TurnReplier(turn_context))

        async def on_members_added_activity(self, members_added: Any, turn_context: Any) -> None:
            inbound = _inbound(turn_context)
            if inbound.bot_added:
                await self._handler.on_installed(inbound)

        async def on_installation_update_add(self, turn_context: Any) -> None:
            await self._handler.on_installed(_inbound(turn_context))

        async def on_invoke_activity(self, turn_context: Any) -> Any:
            if turn_context.activity.name != INVOKE_CARD_ACTION:
                return await super().on_invoke_activity(turn_context)
            inbound = _inbound(turn_context)
            if inbound.action_type != "Action.Execute":
                body = _error_body(400, "NotSupported", "only Action.Execute is supported")
                return InvokeResponse(status=400, body=body)
            reply = await self._handler.on_card_action(inbound)
            return InvokeResponse(status=200, body=_invoke_body(reply))

    return FintropyActivityHandler


def _inbound(turn_context: Any) -> Inbound:
    activity = turn_context.activity
    wire = activity.serialize()
    # msrest drops a model's additional properties when serialising; a mention's are in them.
    wire["entities"] = [
        {**(getattr(entity, "additional_properties", None) or {}), **entity.serialize()}
        for entity in activity.entities or []
    ]
    return read_inbound(wire)


class _TurnReplier:
    """``bot.teams.turn.Replier`` over a botbuilder ``TurnContext``."""

    def __init__(self, turn_context: Any) -> None:
        self._turn_context = turn_context

    async def send_text(self, text: str) -> None:
        await self._turn_context.send_activity(_text_activity(text))

    async def send_card(self, card: dict[str, Any], summary: str) -> None:
        await self._turn_context.send_activity(_card_activity(card, summary))


def _text_activity(text: str) -> Any:
    from botbuilder.schema import Activity, ActivityTypes, TextFormatTypes

    return Activity(type=ActivityTypes.message, text=text, text_format=TextFormatTypes.markdown)


def _card_activity(card: dict[str, Any], summary: str, ref: Any = None) -> Any:
    from botbuilder.schema import Activity, ActivityTypes, Attachment

    activity = Activity(
        type=ActivityTypes.message,
        summary=summary,
        attachments=[Attachment(content_type=CONTENT_TYPE, content=card)],
    )
    if ref is not None:
        activity.conversation = ref.conversation
        activity.from_property = ref.bot
        activity.channel_id = ref.channel_id
        activity.service_url = ref.service_url
    return activity


def _invoke_body(reply: CardActionReply) -> dict[str, Any]:
    if reply.card is not None:
        return {"statusCode": 200, "type": CARD_RESPONSE, "value": reply.card}
    return {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": reply.message}


def _error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "type": ERROR_RESPONSE,
        "value": {"code": code, "message": message},
    }


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _retry_after(response: Any, default: float) -> float:
    headers = getattr(response, "headers", None) or {}
    try:
        return min(max(float(headers.get("Retry-After", "")), default), _MAX_RETRY_AFTER)
    except ValueError:
        return default


def _delivery_error(operation: str, status: int, err: Exception) -> ChatDeliveryError:
    hints = {
        401: "Check TEAMS_APP_ID and TEAMS_APP_PASSWORD, and that the service URL is Teams'.",
        403: "Install the Fintropy app in the team or chat (and allow it to post there).",
        404: "The conversation or message is gone; mention the bot in the channel again.",
        413: "The card is too large for Teams; report this, the card builder caps its size.",
        429: "Teams is rate limiting the bot; the workflow retries later.",
    }
    return ChatDeliveryError(
        f"Teams refused to {operation}: HTTP {status or 'error'} ({type(err).__name__}).",
        hints.get(status, "See the Bot Framework connector documentation for this status."),
    )
