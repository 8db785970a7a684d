"""A local HTTP server on 127.0.0.1 for the provider stand-ins, with faults injected per request:
a status (500, 503, 429 with or without Retry-After), a connection reset, a response slower than
the client's timeout, a body that is not JSON, the tokens issued so far revoked (401), a body
trickled a few bytes at a time (each read well within the client's timeout, the whole far beyond
it), or a body larger than any page. Every answer is kept (`answers`), so a test can check what
the stand-in served against the vendor's specification."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.standin_http import JsonHandler, local_server
from tests.standin_http import serving as serve_http


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body.decode())

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass
class Fault:
    """Applied to the next request whose path contains MATCH (and method METHOD, if given)."""

    kind: str  # "status", "reset", "slow", "malformed", "revoke", "trickle", "huge"
    match: str = ""
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    method: str | None = None
    # Let this many matching requests through first (fault on the (AFTER+1)th).
    after: int = 0
    # "trickle": bytes per write and the pause between writes; "huge": the body's size, and
    # whether a Content-Length announces it (else the body ends when the connection closes).
    chunk: int = 16
    size: int = 0
    length: bool = True


class FakeServer:
    def __init__(self, handler: Callable[[Request], Answer]) -> None:
        self.handler = handler
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self.answers: list[tuple[Request, Answer]] = []
        self.on_revoke: Callable[[], None] = lambda: None
        self.lock = threading.Lock()
        server = self

        class Handler(JsonHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    urllib.parse.parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with server.lock:
                    server.requests.append(request)
                    fault = server._take_fault(request)
                if fault is not None:
                    if fault.kind == "reset":
                        # SO_LINGER 0: close sends RST, the client sees "connection reset".
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        self.connection.close()
                        self.close_connection = True
                        return
                    if fault.kind == "slow":
                        time.sleep(fault.delay)
                    elif fault.kind == "status":
                        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                        return self._send(Answer(fault.status, {"error": "injected"}, headers), request)
                    elif fault.kind == "malformed":
                        answer = server.handler(request)
                        answer.raw = json.dumps(answer.body).encode()[:40]
                        return self._send(answer, request)
                    elif fault.kind == "revoke":
                        server.on_revoke()
                    elif fault.kind == "trickle":
                        return self._trickle(server.handler(request), fault)
                    elif fault.kind == "huge":
                        return self._huge(fault)
                self._send(server.handler(request), request)

            do_GET = do_POST = _handle

            def _send(self, answer: Answer, request: Request) -> None:
                with server.lock:
                    server.answers.append((request, answer))
                self.send_json(answer.status, answer.body, answer.headers, answer.raw)

            def _trickle(self, answer: Answer, fault: Fault) -> None:
                data = json.dumps(answer.body).encode()
                self._head(answer.status, len(data))
                try:
                    for start in range(0, len(data), fault.chunk):
                        self.wfile.write(data[start : start + fault.chunk])
                        self.wfile.flush()
                        time.sleep(fault.delay)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up, as it should

            def _huge(self, fault: Fault) -> None:
                self._head(200, fault.size if fault.length else None)
                block = b" " * 65536
                try:
                    left = fault.size
                    while left > 0:
                        self.wfile.write(block[: min(left, len(block))])
                        left -= len(block)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _head(self, status: int, length: int | None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if length is None:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(length))
                self.end_headers()

        self.server = local_server(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _take_fault(self, request: Request) -> Fault | None:
        for i, fault in enumerate(self.faults):
            if fault.match in request.path and (fault.method is None or fault.method == request.method):
                if fault.after > 0:
                    fault.after -= 1
                    return None
                return self.faults.pop(i)
        return None

    def inject(self, *faults: Fault) -> None:
        with self.lock:
            self.faults.extend(faults)

    def paths(self, contains: str = "") -> list[str]:
        return [r.path for r in self.requests if contains in r.path]


@contextmanager
def serving(server: FakeServer) -> Iterator[FakeServer]:
    with serve_http(server.server):
        yield server
