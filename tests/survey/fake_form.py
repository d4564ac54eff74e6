"""A stand-in for a Google Form's `formResponse` endpoint on 127.0.0.1: it keeps every POST it takes
(the form fields, decoded) and can be told to fail, to be slow, or to go away."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class FakeForm:
    """`url` takes POSTs. `fail_next` answers that many with HTTP 500 (nothing recorded); `slow_next`
    records that many and then waits `slow_s` before answering (a reply lost to a timeout)."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.fail_next = 0
        self.slow_next = 0
        self.slow_s = 0.0
        self.refused = 0
        self._lock = threading.Lock()
        form = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length).decode()
                fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                status, delay = form._take(fields)
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"<html>ok</html>" if status == 200 else b"<html>error</html>")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/forms/d/e/TEST-FORM/formResponse"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _take(self, fields: dict[str, str]) -> tuple[int, float]:
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                self.refused += 1
                return 500, 0.0
            self.received.append(fields)
            if self.slow_next > 0:
                self.slow_next -= 1
                return 200, self.slow_s
            return 200, 0.0

    def comments(self, entry: str) -> list[str]:
        with self._lock:
            return [f.get(entry, "") for f in self.received]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_form() -> Iterator[FakeForm]:
    form = FakeForm()
    form.start()
    try:
        yield form
    finally:
        form.stop()
