"""A tiny HTTP proxy in front of moto that injects AWS errors into chosen calls.

Requests pass through to moto unchanged unless a fault matches them (by service, region and
operation, read from the SigV4 ``Authorization`` header and the request); a matching fault
answers with a real AWS error body (EC2 or query-protocol XML) instead. boto3 itself is
never patched: the client parses a genuine HTTP error, retries it if it is a throttle, and
raises ``ClientError`` exactly as it would against AWS.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
_HOP_HEADERS = {"connection", "transfer-encoding", "content-length", "keep-alive"}


@dataclass
class Fault:
    """Answer matching calls with ``code`` (``times`` None: always)."""

    code: str
    status: int
    service: str | None = None
    region: str | None = None
    operation: str | None = None
    times: int | None = None
    hits: int = 0

    def matches(self, service: str, region: str, operation: str) -> bool:
        """True when this fault applies to the call and has uses left."""
        if self.times is not None and self.hits >= self.times:
            return False
        return (
            (self.service is None or self.service == service)
            and (self.region is None or self.region == region)
            and (self.operation is None or self.operation == operation)
        )


def _cbor_text(value: str) -> bytes:
    raw = value.encode()
    return (bytes([0x60 + len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])) + raw


def _error_body(service: str, code: str, content_type: str) -> bytes:
    if "cbor" in content_type:  # smithy-rpc-v2-cbor: a CBOR map {"__type", "message"}
        return (
            bytes([0xA2])
            + _cbor_text("__type")
            + _cbor_text(code)
            + _cbor_text("message")
            + _cbor_text(f"Injected {code}")
        )
    if "json" in content_type:
        return json.dumps({"__type": code, "message": f"Injected {code}"}).encode()
    if service == "ec2":
        return (
            f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{code}</Code>"
            f"<Message>Injected {code}</Message></Error></Errors>"
            "<RequestID>fault-proxy</RequestID></Response>"
        ).encode()
    return (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>Injected {code}</Message></Error>"
        "<RequestId>fault-proxy</RequestId></ErrorResponse>"
    ).encode()


class FaultProxy:
    """Start with ``start()``; point clients at ``url``; stop with ``stop()``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlparse(upstream)
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str, str]] = []  # (service, region, operation) seen
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def fail(
        self,
        code: str,
        *,
        service: str | None = None,
        region: str | None = None,
        operation: str | None = None,
        status: int = 403,
        times: int | None = None,
    ) -> Fault:
        """Add a fault: ec2, query-protocol services (elbv2, rds, sts, iam) or cloudwatch."""
        fault = Fault(code, status, service, region, operation, times)
        with self._lock:
            self.faults.append(fault)
        return fault

    @property
    def url(self) -> str:
        """The proxy's endpoint URL."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FaultProxy:
        """Serve in a background thread."""
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                service, region, operation = proxy._identify(self, body)
                fault = proxy._match(service, region, operation)
                if fault is not None:
                    content_type = self.headers.get("Content-Type", "")
                    payload = _error_body(service, fault.code, content_type)
                    self.send_response(fault.status)
                    if "cbor" in content_type:
                        self.send_header("Content-Type", "application/cbor")
                        self.send_header("smithy-protocol", "rpc-v2-cbor")
                    elif "json" in content_type:
                        self.send_header("Content-Type", content_type)
                    else:
                        self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                status, headers, payload = proxy._forward(
                    self.command, self.path, self.headers, body
                )
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in _HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _identify(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[str, str, str]:
        found = _CREDENTIAL.search(handler.headers.get("Authorization", ""))
        region, service = found.groups() if found else ("", "")
        service = {"elasticloadbalancing": "elbv2", "monitoring": "cloudwatch"}.get(
            service, service
        )
        operation = ""
        target = handler.headers.get("X-Amz-Target")
        if target:
            operation = target.rsplit(".", 1)[-1]
        elif "/operation/" in handler.path:
            operation = handler.path.rsplit("/operation/", 1)[-1]
        elif body:
            operation = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        with self._lock:
            self.calls.append((service, region, operation))
        return service, region, operation

    def _match(self, service: str, region: str, operation: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(service, region, operation):
                    fault.hits += 1
                    return fault
        return None

    def _forward(
        self, method: str, path: str, headers: object, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(
            self.upstream.hostname, self.upstream.port, timeout=60
        )
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}  # type: ignore[attr-defined]
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()
