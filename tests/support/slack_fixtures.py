"""A local recording Slack: a fake Web API server and signed request builders.

``RecordingSlackServer`` answers the Web API methods Fintropy calls (chat.postMessage,
chat.update, chat.postEphemeral, views.open, auth.test) and any response_url under ``/resp/``,
on 127.0.0.1 with a free port, in its own thread (so both the sync ``WebClient`` used by
activities and the async clients used by Bolt can call it from any thread or loop). Every
request is recorded as a ``SlackCall`` for assertions.

``signed_command`` and ``signed_action`` build request bodies and headers exactly as Slack
sends them: form-encoded, signed with the v0 scheme, with an optional timestamp override and
``X-Slack-Retry-Num``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-0000"
TEAM_ID = "T0FINTROPY"
BOT_USER_ID = "U0FINBOT"
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class SlackCall:
    """One request the fake Slack received.

    ``method`` is the Web API method ("chat.postMessage") for ``/api/...`` paths and
    ``"response_url"`` for ``/resp/...`` paths; ``body`` is the parsed JSON or form body, with
    JSON-encoded form fields (blocks, view, attachments) decoded.
    """

    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.time)


@dataclass
class _Canned:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str]


class RecordingSlackServer:
    """A fake Slack Web API that records every call it receives."""

    def __init__(self) -> None:
        self._calls: list[SlackCall] = []
        self._cond = threading.Condition()
        self._canned: dict[str, list[_Canned]] = {}
        self._ts = itertools.count(1)
        self._views = itertools.count(1)
        self._posted: set[tuple[str, str]] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-slack", daemon=True
        )

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> RecordingSlackServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL to give a WebClient (ends with ``/api/``)."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url on this server; calls to it are recorded as ``"response_url"``."""
        return f"{self.base_url}/resp/{name}"

    # -- inspection -------------------------------------------------------------------------

    @property
    def calls(self) -> list[SlackCall]:
        """Every call received since the last ``clear()``, oldest first (a copy)."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[SlackCall]:
        """The calls to one method (or ``"response_url"``)."""
        return [c for c in self.calls if c.method == method]

    def clear(self) -> None:
        """Forget recorded calls and canned responses (posted message ids are kept)."""
        with self._cond:
            self._calls.clear()
            self._canned.clear()

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Block until ``count`` calls to ``method`` arrived; return them, else AssertionError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._calls if c.method == method]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._cond.wait(remaining)
        if len(found) < count:
            raise AssertionError(_not_received(method, count, found, self.calls))
        return found

    async def await_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[SlackCall]:
        """Like ``wait_for`` without blocking the event loop (Bolt listeners run on it)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method)
            if len(found) >= count or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.01)
        if len(found) < count:
            raise AssertionError(_not_received(method, count, found, self.calls))
        return found

    async def settle(self, quiet: float = 0.15, timeout: float = 5.0) -> list[SlackCall]:
        """Wait until no call arrived for ``quiet`` seconds; return every call so far."""
        deadline = time.monotonic() + timeout
        seen = -1
        while time.monotonic() < deadline:
            now = len(self.calls)
            if now == seen:
                break
            seen = now
            await asyncio.sleep(quiet)
        return self.calls

    # -- behaviour --------------------------------------------------------------------------

    def queue_response(
        self,
        method: str,
        *,
        status: int = 200,
        body: dict[str, Any] | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next call to ``method`` with this response instead of the normal one.

        E.g. ``queue_response("chat.postMessage", body={"ok": False, "error":
        "channel_not_found"})`` or ``queue_response("chat.update", status=429,
        body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "0"})``.
        """
        with self._cond:
            self._canned.setdefault(method, []).append(
                _Canned(status, body if body is not None else {"ok": True}, headers or {})
            )

    def _record_and_answer(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any] | str, dict[str, str]]:
        method = _method_of(path)
        body = _parse_body(headers.get("content-type", ""), raw, path)
        with self._cond:
            self._calls.append(SlackCall(method, path, body, headers))
            self._cond.notify_all()
            canned = self._canned.get(method)
            if canned:
                c = canned.pop(0)
                return c.status, c.body, c.headers
        return 200, self._answer(method, headers, body), {}

    def _answer(
        self, method: str, headers: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any] | str:
        if method == "response_url":
            return "ok"
        if not headers.get("authorization", "").startswith("Bearer xox"):
            return {"ok": False, "error": "not_authed"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fintropy-test.slack.com/",
                "team": "Fintropy",
                "user": "fintropy",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": "B0FINBOT",
            }
        channel = str(body.get("channel") or "")
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update") and not channel:
            return {"ok": False, "error": "channel_not_found"}
        if method == "chat.postMessage":
            ts = self._next_ts()
            with self._cond:
                self._posted.add((channel, ts))
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {"text": body.get("text", ""), "ts": ts},
            }
        if method == "chat.update":
            ts = str(body.get("ts") or "")
            if (channel, ts) not in self._posted:
                return {"ok": False, "error": "message_not_found"}
            return {"ok": True, "channel": channel, "ts": ts, "text": body.get("text", "")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "views.open":
            if not body.get("trigger_id"):
                return {"ok": False, "error": "invalid_arguments"}
            view = dict(body.get("view") or {})
            return {"ok": True, "view": {**view, "id": f"V{next(self._views):08d}"}}
        return {"ok": False, "error": "unknown_method"}

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"


def _handler_for(server: RecordingSlackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = server._record_and_answer(self.path, headers, raw)
            payload = body if isinstance(body, str) else json.dumps(body)
            data = payload.encode()
            self.send_response(status)
            ctype = "text/plain" if isinstance(body, str) else "application/json; charset=utf-8"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler


def _method_of(path: str) -> str:
    clean = path.split("?", 1)[0]
    if clean.startswith("/api/"):
        return clean[len("/api/") :]
    if clean.startswith("/resp/"):
        return "response_url"
    return clean


def _parse_body(content_type: str, raw: bytes, path: str) -> dict[str, Any]:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        parsed = json.loads(text or "{}")
        body = parsed if isinstance(parsed, dict) else {"_": parsed}
    else:
        body = {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}
    if "?" in path:
        query = urllib.parse.parse_qs(path.split("?", 1)[1])
        body.update({k: v[0] for k, v in query.items() if k not in body})
    for key in _JSON_FIELDS:
        if isinstance(body.get(key), str):
            with contextlib.suppress(json.JSONDecodeError):
                body[key] = json.loads(body[key])
    return body


def _not_received(method: str, count: int, found: list[SlackCall], every: list[SlackCall]) -> str:
    seen = [c.method for c in every]
    return f"expected {count} call(s) to {method}, got {len(found)}; all calls: {seen}"


# ---------------------------------------------------------------------------------------------
# Signed requests, as Slack sends them
# ---------------------------------------------------------------------------------------------


def sign_request(
    secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, str]:
    """Headers for ``body`` signed with the v0 scheme (``v0:{ts}:{body}``, HMAC-SHA256)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason
    return headers


def signed_command(
    secret: str,
    text: str,
    team_id: str,
    channel_id: str,
    user_id: str,
    *,
    response_url: str,
    command: str = "/fintropy",
    trigger_id: str = "1000000000.1000000000.trigger",
    user_name: str = "someone",
    timestamp: int | None = None,
    retry_num: int | None = None,
) -> tuple[str, dict[str, str]]:
    """A slash-command request: (form-encoded body, signed headers)."""
    fields = {
        "token": "deprecated-verification-token",
        "team_id": team_id,
        "team_domain": "fintropy-test",
        "channel_id": channel_id,
        "channel_name": "finops",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0FINTROPY",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    body = urllib.parse.urlencode(fields)
    return body, sign_request(secret, body, timestamp=timestamp, retry_num=retry_num)


def signed_action(
    secret: str,
    payload: dict[str, Any],
    *,
    timestamp: int | None = None,
    retry_num: int | None = None,
) -> tuple[str, dict[str, str]]:
    """An interactivity request (block_actions, view_submission): ``payload=<json>``, signed."""
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    return body, sign_request(secret, body, timestamp=timestamp, retry_num=retry_num)


def block_action_payload(
    action_id: str,
    value: str,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    response_url: str,
    message_ts: str = "1700000000.000001",
    trigger_id: str = "1000000000.1000000000.trigger",
    block_id: str = "finding_actions",
) -> dict[str, Any]:
    """A block_actions payload for one button click on a message in a channel."""
    return {
        "type": "block_actions",
        "api_app_id": "A0FINTROPY",
        "team": {"id": team_id, "domain": "fintropy-test"},
        "user": {"id": user_id, "username": "someone", "team_id": team_id},
        "channel": {"id": channel_id, "name": "finops"},
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "message": {"type": "message", "ts": message_ts, "text": "card"},
        "trigger_id": trigger_id,
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": "1700000001.0",
            }
        ],
    }


def view_submission_payload(
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    team_id: str,
    user_id: str,
) -> dict[str, Any]:
    """A view_submission payload for ``view`` (as sent to views.open) with ``values`` typed in.

    ``values`` is ``{block_id: {action_id: {"type": "plain_text_input", "value": ...}}}``.
    """
    submitted = {**view, "id": "V00000001", "team_id": team_id, "state": {"values": values}}
    return {
        "type": "view_submission",
        "api_app_id": "A0FINTROPY",
        "team": {"id": team_id, "domain": "fintropy-test"},
        "user": {"id": user_id, "username": "someone", "team_id": team_id},
        "trigger_id": "1000000000.1000000000.trigger2",
        "view": submitted,
    }


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def slack_api_server() -> Iterator[RecordingSlackServer]:
    """One fake Slack for the whole session."""
    server = RecordingSlackServer().start()
    yield server
    server.stop()


@pytest.fixture
def slack_api(slack_api_server: RecordingSlackServer) -> RecordingSlackServer:
    """The session's fake Slack with its recorded calls cleared for this test."""
    slack_api_server.clear()
    return slack_api_server
