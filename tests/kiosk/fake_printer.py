"""A fake ESC/POS network printer on 127.0.0.1, for the kiosk's printing tests.

It listens on a free port like a printer's port 9100, keeps every byte it receives, answers the
real-time status queries DLE EOT n from the state the test sets (paper low or out, cover open), and can
misbehave the way real printers do: drop the connection in the middle of a ticket, or accept the
connection and then never read nor answer.

It parses just enough ESC/POS to tell a status query from the same bytes inside raster image data
(GS v 0 carries its own length).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

DLE_EOT = b"\x10\x04"
GS_V0 = b"\x1dv0"

SMALL_BUFFER = 4096
"""Receive buffer of a `silent` printer: small, so a sender that is not read from blocks soon, as it
does on a real printer whose buffer is full."""


@dataclass
class Connection:
    """What one TCP connection brought: all bytes, the print data (without status queries), queries."""

    received: bytearray = field(default_factory=bytearray)
    printed: bytearray = field(default_factory=bytearray)
    queries: list[int] = field(default_factory=list)


class FakePrinter:
    """Start with `with FakePrinter() as printer:`; point a PrinterConfig at `printer.port`.

    State (change it at any time):
    - `paper`: "ok", "low" or "out";
    - `cover_open`: True while the cover is open;
    - `answer_status`: False for a printer that ignores DLE EOT (still prints);
    - `close_after`: drop each connection (TCP reset) once it has received this many bytes.

    `silent=True` makes a printer that accepts connections but never reads from them nor answers.
    """

    def __init__(self, *, silent: bool = False) -> None:
        self.paper = "ok"
        self.cover_open = False
        self.answer_status = True
        self.close_after: int | None = None
        self.silent = silent
        self.connections: list[Connection] = []
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if silent:  # before listen: the window is agreed when the connection opens
            self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self.port: int = self._server.getsockname()[1]
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept_loop, name="fake-printer", daemon=True)

    # --- test side -----------------------------------------------------------------------------------

    def __enter__(self) -> FakePrinter:
        self._acceptor.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)  # wakes accept(); close() alone would not
        with contextlib.suppress(OSError):
            self._server.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
        for thread in self._threads:
            thread.join(timeout=2)
        self._acceptor.join(timeout=2)

    @property
    def printed(self) -> bytes:
        """Print data of every connection, in order (status queries left out)."""
        return b"".join(bytes(c.printed) for c in self.connections)

    def wait_for(self, n_bytes: int, timeout: float = 5.0) -> bool:
        """Wait until at least `n_bytes` of print data arrived (the sender may return before we read)."""
        deadline = time.monotonic() + timeout
        while len(self.printed) < n_bytes and time.monotonic() < deadline:
            self._stopping.wait(0.01)
        return len(self.printed) >= n_bytes

    def status_byte(self, n: int) -> int:
        """The answer to DLE EOT n for the current state (ESC/POS: bits 1 and 4 are always set)."""
        out_of_paper = self.paper == "out"
        if n == 1:
            return 0x12 | (0x08 if (out_of_paper or self.cover_open) else 0)
        if n == 2:
            return 0x12 | (0x04 if self.cover_open else 0) | (0x20 if out_of_paper else 0)
        if n == 4:
            return 0x12 | (0x0C if self.paper == "low" else 0) | (0x60 if out_of_paper else 0)
        return 0x12

    # --- printer side --------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._server.accept()
            except OSError:
                return
            conn = Connection()
            with self._lock:
                self.connections.append(conn)
                self._open.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock, conn), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, conn: Connection) -> None:
        if self.silent:
            self._stopping.wait()  # holds the connection open, reads nothing, answers nothing
            return
        buffer = bytearray()
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                conn.received += chunk
                buffer += chunk
                self._parse(sock, conn, buffer)
                if self.close_after is not None and len(conn.received) >= self.close_after:
                    # SO_LINGER 0: close with a reset, as a printer that loses power mid-ticket does.
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.close()
                    return
        except OSError:
            return

    def _parse(self, sock: socket.socket, conn: Connection, buffer: bytearray) -> None:
        """Consume complete commands from `buffer`; keep an incomplete one for the next chunk."""
        while buffer:
            if buffer.startswith(DLE_EOT):
                if len(buffer) < 3:
                    return
                n = buffer[2]
                del buffer[:3]
                conn.queries.append(n)
                if self.answer_status:
                    sock.sendall(bytes((self.status_byte(n),)))
                continue
            if buffer.startswith(GS_V0):
                if len(buffer) < 8:
                    return
                width_bytes = buffer[4] | buffer[5] << 8
                height = buffer[6] | buffer[7] << 8
                total = 8 + width_bytes * height
                if len(buffer) < total:
                    return
                conn.printed += buffer[:total]
                del buffer[:total]
                continue
            if buffer[0] in (0x10, 0x1D) and len(buffer) < 3:
                return  # maybe the start of a command split across chunks
            conn.printed.append(buffer[0])
            del buffer[:1]
