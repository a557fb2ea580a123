"""What the Teams handlers see of a Bot Framework turn, with no SDK type in sight.

``Inbound`` is read from the activity's wire JSON by ``read_inbound`` (pure), and the handlers
answer through the small protocols below, which ``bot.teams.seam`` implements over botbuilder.
Replacing the archived SDK means reimplementing the seam, not the handlers.

Where a Teams activity comes from: ``channelData.tenant.id`` (or ``conversation.tenantId``) is
the Microsoft Entra tenant, bound to a Fintropy tenant like a Slack workspace;
``channelData.channel.id`` is the Teams channel (a chat has none: its conversation id stands in),
bound like a Slack channel; ``from.aadObjectId`` is the person, mapped to a Fintropy person.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

INVOKE_CARD_ACTION = "adaptiveCard/action"
_MENTION = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{1,200}>")


@dataclass(frozen=True)
class Inbound:
    """One inbound activity, reduced to what Fintropy reads from it."""

    type: str  # "message", "invoke", "conversationUpdate", "installationUpdate", ...
    name: str  # invoke name, e.g. "adaptiveCard/action"
    activity_id: str
    teams_tenant_id: str
    conversation_id: str
    conversation_type: str  # "channel", "groupChat" or "personal"
    channel_id: str  # what chat bindings name: the Teams channel, or the chat itself
    user_id: str  # the Bot Framework user id ("29:...")
    aad_object_id: str  # the person's Microsoft Entra object id
    service_url: str
    text: str = ""  # the command text, bot mention removed
    value: dict[str, Any] = field(default_factory=dict)
    reply_to_id: str = ""
    bot_added: bool = False  # installed, or the bot joined the conversation
    bot: dict[str, Any] = field(default_factory=dict)  # the bot's account (recipient)

    @property
    def verb(self) -> str:
        """The ``Action.Execute`` verb of a card action ("" otherwise)."""
        return str(_action(self.value).get("verb") or "")

    @property
    def action_data(self) -> dict[str, Any]:
        """The ``Action.Execute`` data, with the card's inputs merged in by Teams."""
        data = _action(self.value).get("data")
        return data if isinstance(data, dict) else {}

    @property
    def action_type(self) -> str:
        """``Action.Execute`` for Universal Actions."""
        return str(_action(self.value).get("type") or "")

    @property
    def trigger(self) -> str:
        """``manual`` for a click, ``automatic`` for a refresh Teams ran by itself."""
        return str(self.value.get("trigger") or "manual")

    def reference(self) -> dict[str, Any]:
        """A conversation reference that posts new messages to this channel or chat."""
        conversation: dict[str, Any] = {
            "id": self.channel_id,
            "conversationType": self.conversation_type,
            "tenantId": self.teams_tenant_id,
            "isGroup": self.conversation_type != "personal",
        }
        return {
            "channelId": "msteams",
            "serviceUrl": self.service_url,
            "bot": {k: v for k, v in self.bot.items() if k in ("id", "name")},
            "conversation": conversation,
        }


def read_inbound(activity: dict[str, Any]) -> Inbound:
    """Read an activity in wire format (camelCase JSON) into an ``Inbound``."""
    data = _dict(activity.get("channelData"))
    conversation = _dict(activity.get("conversation"))
    sender = _dict(activity.get("from"))
    recipient = _dict(activity.get("recipient"))
    conversation_id = str(conversation.get("id") or "")
    channel = str(_dict(data.get("channel")).get("id") or "")
    kind = str(activity.get("type") or "")
    return Inbound(
        type=kind,
        name=str(activity.get("name") or ""),
        activity_id=str(activity.get("id") or ""),
        teams_tenant_id=str(
            _dict(data.get("tenant")).get("id") or conversation.get("tenantId") or ""
        ),
        conversation_id=conversation_id,
        conversation_type=str(conversation.get("conversationType") or "personal"),
        # A channel thread's conversation id is "<channel>;messageid=<root>": post to the channel.
        channel_id=channel or conversation_id.split(";", 1)[0],
        user_id=str(sender.get("id") or ""),
        aad_object_id=str(sender.get("aadObjectId") or ""),
        service_url=str(activity.get("serviceUrl") or ""),
        text=command_text(activity) if kind == "message" else "",
        value=_dict(activity.get("value")),
        reply_to_id=str(activity.get("replyToId") or ""),
        bot_added=_bot_added(activity, str(recipient.get("id") or "")),
        bot=recipient,
    )


def command_text(activity: dict[str, Any]) -> str:
    """The message text with the bot's @mention removed and markup stripped."""
    bot_id = str(_dict(activity.get("recipient")).get("id") or "")
    text = str(activity.get("text") or "")
    for entity in activity.get("entities") or []:
        mentioned = _dict(_dict(entity).get("mentioned"))
        if entity.get("type") == "mention" and mentioned.get("id") == bot_id:
            text = text.replace(str(entity.get("text") or "\x00"), " ")
    # Other people's mentions keep their names; remaining tags and entities become text.
    text = _MENTION.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    return " ".join(html.unescape(text).split())


def _bot_added(activity: dict[str, Any], bot_id: str) -> bool:
    if activity.get("type") == "installationUpdate":
        return str(activity.get("action") or "").startswith("add")
    if activity.get("type") == "conversationUpdate":
        added = activity.get("membersAdded") or []
        return any(_dict(member).get("id") == bot_id for member in added)
    return False


def _action(value: dict[str, Any]) -> dict[str, Any]:
    return _dict(value.get("action"))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# -- what handlers answer with ----------------------------------------------------------------


@dataclass(frozen=True)
class CardActionReply:
    """The answer to an ``adaptiveCard/action`` invoke: a card to show, or a message."""

    card: dict[str, Any] | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if (self.card is None) == (not self.message):
            raise ValueError("a card action reply is either a card or a message")


class Replier(Protocol):
    """Sends replies into the conversation an activity came from."""

    async def send_text(self, text: str) -> None:
        """A text message (Teams markdown)."""
        ...

    async def send_card(self, card: dict[str, Any], summary: str) -> None:
        """An Adaptive Card; ``summary`` is the notification preview."""
        ...


class TurnHandler(Protocol):
    """Fintropy's side of a turn; the seam calls it for the activities it understands."""

    async def on_message(self, inbound: Inbound, reply: Replier) -> None:
        """A message to the bot (an @mention in a channel, any message in a chat)."""
        ...

    async def on_card_action(self, inbound: Inbound) -> CardActionReply:
        """An ``adaptiveCard/action`` invoke from an ``Action.Execute`` button or a refresh."""
        ...

    async def on_installed(self, inbound: Inbound) -> None:
        """The app was installed in a team or chat, or the bot was added to one."""
        ...

    def failure_text(self, correlation_id: str) -> str:
        """What to tell the person when handling their activity failed."""
        ...


class ProactiveSender(Protocol):
    """Posts and updates cards through a stored conversation reference."""

    async def post_card(self, reference: dict[str, Any], card: dict[str, Any], summary: str) -> str:
        """Post ``card`` as a new message; return the new activity's id."""
        ...

    async def update_card(
        self, reference: dict[str, Any], activity_id: str, card: dict[str, Any], summary: str
    ) -> None:
        """Replace the card of the message ``activity_id`` in place."""
        ...


Reply = Callable[[str], Awaitable[None]]
