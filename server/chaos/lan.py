"""The office LAN between the devices and the broker, as a TCP relay on loopback that can unplug one
device's cable.

Every device connects to the relay instead of the broker. The relay reads the first MQTT packet (CONNECT)
to learn which device it is (from its client id, `khiu-{site}-{device}`), then relays bytes both ways.
`cut(device)` unplugs that device: from then on its bytes go nowhere in either direction and new
connections from it are accepted but never answered, exactly what a pulled cable looks like from both
ends (each side finds out only through its own keepalive; nobody gets a clean close). `restore(device)`
plugs it back: the dead connections are dropped and the device's next connection goes through.

Only loopback addresses are used; no firewall rules are needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

CONNECT_READ_TIMEOUT_S = 10.0
BUFFER = 65536


class PacketError(ValueError):
    """The first packet was not an MQTT CONNECT we can read."""


def _varint(data: bytes, start: int) -> tuple[int, int]:
    """An MQTT variable byte integer at `start`: (value, index after it)."""
    value, shift, index = 0, 0, start
    while True:
        if index >= len(data) or shift > 21:
            raise PacketError("bad variable byte integer")
        byte = data[index]
        value |= (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            return value, index
        shift += 7


def client_id_of(connect: bytes) -> str:
    """The client identifier in an MQTT 3.1.1 or 5 CONNECT packet (fixed header included)."""
    if not connect or connect[0] >> 4 != 1:
        raise PacketError("not a CONNECT packet")
    _length, i = _varint(connect, 1)
    name_length = int.from_bytes(connect[i : i + 2], "big")
    i += 2 + name_length
    level = connect[i]
    i += 1 + 1 + 2  # level, connect flags, keepalive
    if level == 5:
        properties, i = _varint(connect, i)
        i += properties
    id_length = int.from_bytes(connect[i : i + 2], "big")
    return connect[i + 2 : i + 2 + id_length].decode("utf-8", "replace")


async def read_connect(reader: asyncio.StreamReader) -> bytes:
    """The whole first packet, as it came."""
    head = await reader.readexactly(2)
    data = bytearray(head)
    while data[-1] & 0x80:
        if len(data) > 5:
            raise PacketError("remaining length too long")
        data += await reader.readexactly(1)
    length, start = _varint(bytes(data), 1)
    data += await reader.readexactly(length)
    if start + length != len(data):
        raise PacketError("short packet")
    return bytes(data)


@dataclass(eq=False)
class _Link:
    device: str
    down_writer: asyncio.StreamWriter
    up_writer: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


class LanRelay:
    """A relay on `127.0.0.1:{port}` to the broker at `upstream`. Thread-safe controls; the relay runs
    its own event loop in a background thread."""

    def __init__(self, upstream_host: str, upstream_port: int, *, site: str, host: str = "127.0.0.1") -> None:
        self.upstream = (upstream_host, upstream_port)
        self.host = host
        self.port = 0
        self._prefix = f"khiu-{site}-"
        self._cut: set[str] = set()
        self._links: set[_Link] = set()
        self._held: dict[str, list[asyncio.StreamWriter]] = {}
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="lan-relay", daemon=True)
        self.connections = 0
        """Device connections relayed so far (reconnects included)."""

    def start(self) -> int:
        """Listen on a free port (or the one of an earlier start); return it."""
        self._thread.start()
        self.port = self._call(self._listen())
        log.info("LAN relay on %s:%d to the broker at %s:%d", self.host, self.port, *self.upstream)
        return self.port

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._call(self._close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def cut(self, device: str) -> None:
        """Unplug `device`: its bytes go nowhere from now on."""
        self._call(self._set_cut(device, True))
        log.warning("LAN: %s unplugged", device)

    def restore(self, device: str) -> None:
        """Plug `device` back in: its dead connections are dropped, new ones go through."""
        self._call(self._set_cut(device, False))
        log.warning("LAN: %s plugged back in", device)

    def is_cut(self, device: str) -> bool:
        return device in self._cut

    # ------------------------------------------------------------------------------------------ loop side

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=15)

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, self.port or 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _set_cut(self, device: str, cut: bool) -> None:
        if cut:
            self._cut.add(device)
            return
        self._cut.discard(device)
        for writer in self._held.pop(device, []):
            writer.transport.abort()
        for link in [link for link in self._links if link.device == device]:
            self._drop(link)

    async def _close_all(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            self._drop(link)
        for writers in self._held.values():
            for writer in writers:
                writer.transport.abort()
        self._held.clear()

    def _drop(self, link: _Link) -> None:
        self._links.discard(link)
        for task in link.tasks:
            task.cancel()
        link.down_writer.transport.abort()
        if link.up_writer is not None:
            link.up_writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            connect = await asyncio.wait_for(read_connect(reader), CONNECT_READ_TIMEOUT_S)
            device = client_id_of(connect).removeprefix(self._prefix)
        except (TimeoutError, asyncio.IncompleteReadError, PacketError, OSError) as exc:
            log.debug("LAN: dropped a connection before CONNECT: %s", exc)
            writer.transport.abort()
            return
        if device in self._cut:
            self._held.setdefault(device, []).append(writer)  # a SYN into the void: never answered
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()  # the broker is down: the device sees a refused connection
            return
        link = _Link(device, writer, up_writer)
        self._links.add(link)
        self.connections += 1
        up_writer.write(connect)
        link.tasks = [
            asyncio.create_task(self._pump(link, reader, up_writer, towards_broker=True)),
            asyncio.create_task(self._pump(link, up_reader, writer, towards_broker=False)),
        ]

    async def _pump(
        self,
        link: _Link,
        source: asyncio.StreamReader,
        target: asyncio.StreamWriter,
        *,
        towards_broker: bool,
    ) -> None:
        try:
            while True:
                chunk = await source.read(BUFFER)
                if not chunk:
                    break
                if link.device in self._cut:
                    continue  # the cable is out: nothing arrives anywhere
                target.write(chunk)
                await target.drain()
        except (OSError, asyncio.CancelledError):
            pass
        if link.device in self._cut:
            # One side closed while unplugged: the other side never hears of it (no FIN crosses a
            # pulled cable). The connection is dropped when the device is plugged back in.
            return
        if link in self._links:
            self._drop(link)
