"""A small OpenAI-compatible chat server on 127.0.0.1 for the pipeline tests (test support).

It answers ``POST /v1/chat/completions`` (streamed or not) with ``reply(messages) -> str``, can
wait before answering (``delay``) and can drop connections: every ``drop_every``-th request is cut
off without a response (the socket closed mid-request), as a crashing or overloaded server does.
It counts requests and the most that were in flight at once.
"""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


class FakeServer:
    def __init__(self, reply: Callable[[list[dict]], str], delay: float = 0.0, drop_every: int = 0):
        self.reply, self.delay, self.drop_every = reply, delay, drop_every
        self.requests = self.dropped = self.in_flight = self.most_in_flight = 0
        self.bodies: list[dict] = []
        self._lock = threading.Lock()
        self.url = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # /v1/models
                self._send(200, {"data": [{"id": "fake"}]})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests += 1
                    number = server.requests
                    server.bodies.append(body)
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    if server.drop_every and number % server.drop_every == 0:
                        with server._lock:
                            server.dropped += 1
                        self.close_connection = True
                        self.connection.close()  # no status line: the client sees a dropped connection
                        return
                    n = int(body.get("n", 1))
                    text = server.reply(body.get("messages", []))
                    if body.get("stream"):
                        self.send_response(200)
                        self.send_header("Content-Type", "text/event-stream")
                        self.send_header("Connection", "close")
                        self.end_headers()
                        chunk = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                        self.close_connection = True
                        return
                    self._send(200, {"choices": [{"index": i, "message": {"role": "assistant", "content": text},
                                                  "finish_reason": "stop"} for i in range(n)]})
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


@contextmanager
def fake_server(reply: Callable[[list[dict]], str], delay: float = 0.0, drop_every: int = 0,
                port: int = 0) -> Iterator[FakeServer]:
    """A running :class:`FakeServer` (its ``url`` set; ``port`` 0: any free one); stopped afterwards."""
    fake = FakeServer(reply, delay, drop_every)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), fake.handler())
    httpd.daemon_threads = True
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
