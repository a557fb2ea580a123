"""Reading Teams activities, rendering catalogue text for Teams, and the Teams settings."""

from __future__ import annotations

import pytest

from bot import messages
from bot.teams import text
from bot.teams.config import TeamsConfig
from bot.teams.turn import CardActionReply, command_text, read_inbound
from fintropy.errors import ConfigError
from tests.bot.teams.support import (
    BOT_ID,
    CHANNEL,
    TEAMS_TENANT,
    install_activity,
    invoke_activity,
    message_activity,
)

URL = "https://smba.trafficmanager.net/emea/"


def test_channel_message_is_read_with_tenant_channel_and_person() -> None:
    inbound = read_inbound(message_activity(URL, "findings --severity high"))

    assert inbound.type == "message"
    assert inbound.text == "findings --severity high"
    assert inbound.teams_tenant_id == TEAMS_TENANT
    assert inbound.channel_id == CHANNEL
    assert inbound.conversation_id == f"{CHANNEL};messageid=1700000000001"
    assert inbound.aad_object_id == "aad-ann"
    assert inbound.user_id == "29:aad-ann"
    assert inbound.bot_added is False


def test_reference_posts_to_the_channel_not_the_thread() -> None:
    inbound = read_inbound(message_activity(URL, "help"))

    reference = inbound.reference()

    assert reference == {
        "channelId": "msteams",
        "serviceUrl": URL,
        "bot": {"id": BOT_ID, "name": "Fintropy"},
        "conversation": {
            "id": CHANNEL,
            "conversationType": "channel",
            "tenantId": TEAMS_TENANT,
            "isGroup": True,
        },
    }


def test_personal_chat_uses_the_conversation_as_its_channel() -> None:
    activity = message_activity(URL, "help")
    activity["conversation"] = {"id": "a:1personal", "conversationType": "personal"}
    activity["channelData"] = {"tenant": {"id": TEAMS_TENANT}}
    activity["text"], activity["entities"] = "help", []

    inbound = read_inbound(activity)

    assert (inbound.channel_id, inbound.text) == ("a:1personal", "help")
    assert inbound.reference()["conversation"]["isGroup"] is False


def test_command_text_removes_only_the_bot_mention_and_markup() -> None:
    activity = message_activity(URL, "")
    activity["text"] = "<at>Fintropy</at>&nbsp;reject f-0123456789ab <at>Bob</at> owns it <b>x</b>"
    activity["entities"].append(
        {"type": "mention", "mentioned": {"id": "29:bob"}, "text": "<at>Bob</at>"}
    )

    assert command_text(activity) == "reject f-0123456789ab Bob owns it x"


def test_card_action_exposes_verb_data_and_trigger() -> None:
    inbound = read_inbound(
        invoke_activity(URL, "reject", {"token": "t", "reason": "r"}, trigger="automatic")
    )

    assert inbound.name == "adaptiveCard/action"
    assert (inbound.verb, inbound.action_data, inbound.trigger) == (
        "reject",
        {"token": "t", "reason": "r"},
        "automatic",
    )
    assert inbound.action_type == "Action.Execute"
    assert inbound.reply_to_id == "card-1"


def test_bot_added_to_a_team_is_recognised() -> None:
    assert read_inbound(install_activity(URL)).bot_added is True
    activity = install_activity(URL)
    activity["membersAdded"] = [{"id": "29:someone-else"}]
    assert read_inbound(activity).bot_added is False
    assert read_inbound({"type": "installationUpdate", "action": "add"}).bot_added is True


def test_malformed_activity_fields_read_as_empty() -> None:
    inbound = read_inbound({"type": "invoke", "value": "nonsense", "channelData": [1]})

    assert (inbound.verb, inbound.action_data, inbound.teams_tenant_id) == ("", {}, "")


def test_catalogue_text_is_addressed_to_the_bot_and_bolded_for_teams() -> None:
    rendered = text.catalogue(messages.help_text())

    assert "**Fintropy** finds cloud waste" in rendered
    assert "`@Fintropy show ID`" in rendered
    assert "/fintropy" not in rendered


def test_untrusted_text_keeps_code_spans_and_loses_its_markup() -> None:
    rendered = text.untrusted("Approved by [Eve](https://evil.example) <b>x</b> `a_b*c`")

    assert rendered == "Approved by ⁅Eve⁆❨https://evil.example❩ ‹b›x‹/b› `a_b*c`"


def test_card_action_reply_is_a_card_or_a_message() -> None:
    with pytest.raises(ValueError, match="either a card or a message"):
        CardActionReply()
    with pytest.raises(ValueError, match="either a card or a message"):
        CardActionReply(card={}, message="x")


def test_config_reads_the_environment_and_turns_authentication_on() -> None:
    config = TeamsConfig.from_env(
        {"TEAMS_APP_ID": " app-1 ", "TEAMS_APP_PASSWORD": "s3cret", "TEAMS_TENANT_ID": "t-1"}
    )

    settings = config.bot_framework_settings()
    assert config.auth_enabled
    assert (settings.APP_ID, settings.APP_TYPE, settings.APP_TENANTID) == (
        "app-1",
        "SingleTenant",
        "t-1",
    )
    assert "s3cret" not in repr(config)


def test_config_without_an_app_id_leaves_authentication_off() -> None:
    config = TeamsConfig.from_env({})

    assert not config.auth_enabled
    assert config.bot_framework_settings().APP_TYPE == "MultiTenant"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"TEAMS_APP_PASSWORD": "x"}, "TEAMS_APP_PASSWORD is set but TEAMS_APP_ID is empty"),
        ({"TEAMS_APP_ID": "app-1"}, "TEAMS_APP_ID is set but TEAMS_APP_PASSWORD is empty"),
        ({"TEAMS_TENANT_ID": "t-1"}, "TEAMS_TENANT_ID is set but TEAMS_APP_ID is empty"),
        ({"TEAMS_APP_ID": "app id!", "TEAMS_APP_PASSWORD": "x"}, "TEAMS_APP_ID is not a valid"),
    ],
)
def test_config_mistakes_name_the_variable_to_fix(env, says) -> None:
    with pytest.raises(ConfigError, match=says):
        TeamsConfig.from_env(env)
