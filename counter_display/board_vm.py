"""What the hall board shows, in plain Python: the board screen binds to `BoardView` and nothing else,
so everything a citizen sees is tested without a window.

Fed from retained `board/state` (now serving, last calls, waiting per service, kiosks offline),
`board/call` (announce: the counter's tile flashes while its announcement plays), the retained catalog
(office and service names) and `server/status`, plus the link's connection changes. All methods run on
one thread (Kivy's main thread in the app); `now` is passed in so the tests own the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from common.contract import (
    BoardCall,
    BoardState,
    Catalog,
    DecodeFailure,
    Message,
    ServerStatus,
)
from common.link import Inbound
from common.thaidate import format_en_date, format_thai_date, to_local
from common.thainum import PHRASES, call_text_en
from common.topics import Topics
from common.vocabulary import TicketState
from counter_display.announce import Announcement, Call

log = logging.getLogger(__name__)

FLASH_S = 8.0
"""A counter's tile stays highlighted this long after its announcement starts: long enough for a
citizen who looked up at the chime to find it, short enough that two calls in a row both stand out."""

STALE_CALL_S = 120.0
"""A `board/call` handed over on connecting and older than this (by the server's clock, as live messages
set the display's) is not announced: the broker hands over the calls missed meanwhile, and announcing
history would send people to the wrong counter. The tile still shows the truth from `board/state`. A
live call, just made, is announced whatever the display's clock says."""

LIVE_AFTER_S = 5.0
"""Messages coming this long after the link connected are live: the first ones are what the broker kept
or queued while the board was away, and say nothing of the server's clock now."""
CLOCK_SAMPLES = 16
"""The board's clock is set against the server's by the latest live messages: each one's age on arrival
is the two clocks' difference plus its journey, so the least of these is the difference."""
CLOCK_SET = dt.timedelta(seconds=30)
CLOCK_SET_SAMPLES = 3
"""When this many live messages in a row all came more than `CLOCK_SET` later than the least gap says,
the display's clock was set forward, and the gaps start again from them (a set back shows at once, as a
smaller gap)."""
CLOCK_OFF = dt.timedelta(minutes=2)
"""A display's clock this far from the server's is logged (once): it would show the wrong time and, ahead,
take every call for one missed while away."""

ANNOUNCED_IDS = 64
"""How many `board/call` event ids the board remembers: a broker that crashed hands over again what it
delivered since its last snapshot (up to a second of calls), and a call is announced once."""

RECENT_ROWS = 5
WAITING_ROWS = 6
DASH = "–"
WELCOME = ("ยินดีต้อนรับ กรุณารับบัตรคิวที่ตู้กดบัตรคิว", "Welcome: please take a ticket at the kiosk")


def caption(number: str, counter_number: int) -> tuple[str, str]:
    """The call as written on screen: "ขอเชิญหมายเลข A012 ที่ช่องบริการ 2" (the number as on the ticket,
    not spelled out as the voice reads it)."""
    th = f"{PHRASES['invite'].th} {number} {PHRASES['at_counter'].th} {counter_number}"
    return th, call_text_en(number, counter_number)


@dataclass(frozen=True, slots=True)
class Tile:
    """One counter on the board."""

    counter: str
    counter_number: int
    counter_th: str
    counter_en: str
    number: str
    """The ticket now at this counter, or a dash."""
    service_th: str
    service_en: str
    state: str
    """`called` (go there now), `serving`, or `idle`."""
    flashing: bool


@dataclass(frozen=True, slots=True)
class RecentRow:
    number: str
    counter_number: int


@dataclass(frozen=True, slots=True)
class WaitingRow:
    prefix: str
    name_th: str
    name_en: str
    waiting: int


@dataclass(frozen=True, slots=True)
class BoardView:
    """Everything on the board at one moment."""

    office_th: str
    office_en: str
    date_th: str
    date_en: str
    clock: str
    tiles: tuple[Tile, ...]
    recent: tuple[RecentRow, ...]
    waiting: tuple[WaitingRow, ...]
    waiting_more: int
    """Services with people waiting that did not fit in `waiting`."""
    waiting_total: int
    caption_th: str
    """The call being announced (or the last one): also for people who cannot hear it."""
    caption_en: str
    caption_live: bool
    banner_th: str
    """Empty when all is well; else a discreet line: connection lost, server stopped."""
    banner_en: str
    staff_note: str
    """For staff, small: kiosks that cannot reach the server."""
    has_state: bool


@dataclass
class BoardViewModel:
    """State of the hall board. `announce` queues a call (the Announcer); `changed` asks for a redraw."""

    topics: Topics
    announce: Callable[[Call], None]
    office_th: str = ""
    office_en: str = ""
    changed: Callable[[], None] = lambda: None
    state: BoardState | None = None
    catalog: Catalog | None = None
    connected: bool = False
    server_online: bool | None = None
    _flash_until: dict[int, dt.datetime] = field(default_factory=dict)
    _caption: tuple[str, str] | None = None
    _caption_until: dt.datetime | None = None
    _ever_connected: bool = False
    _announced: deque[uuid.UUID] = field(default_factory=lambda: deque(maxlen=ANNOUNCED_IDS))
    _clock_gaps: deque[dt.timedelta] = field(default_factory=lambda: deque(maxlen=CLOCK_SAMPLES))
    _clock_off_said: bool = False

    # ------------------------------------------------------------------------------------------ inputs

    def subscriptions(self) -> list[str]:
        """Topic filters the board listens to (all readable by a display under the broker's ACL)."""
        t = self.topics
        return [t.board_state(), t.board_call(), t.catalog(), t.server_status()]

    def on_message(self, inbound: Inbound, now: dt.datetime, *, live: bool = False) -> None:
        """One message from the link, on the UI thread. `live`: it came `LIVE_AFTER_S` or more after the
        link connected (measured on a clock that is never set; the app knows)."""
        message = inbound.decode(expect=(BoardState, BoardCall, Catalog, ServerStatus))
        if isinstance(message, DecodeFailure):
            log.warning("ignored a message on %s: %s", inbound.topic, message.reason)
            return
        self.apply(message, now, live=live and not inbound.retain)

    def apply(self, message: Message, now: dt.datetime, *, live: bool = False) -> None:
        """`live`: delivered as it was sent (`on_message`). A live board state or call was made by the
        server at its `ts`, so it sets the board's clock (a status or catalog may have waited since)."""
        if live and isinstance(message, BoardState | BoardCall):
            self._set_clock(message.ts, now)
        if isinstance(message, BoardState):
            if self.state is not None and message.ts < self.state.ts:
                log.info("ignored an older board state (%s)", message.ts)
                return
            self.state = message
        elif isinstance(message, BoardCall):
            self._on_call(message, now, live=live)
        elif isinstance(message, Catalog):
            self.catalog = message
            self.office_th, self.office_en = message.office.name_th, message.office.name_en
        elif isinstance(message, ServerStatus):
            self.server_online = message.online
        self.changed()

    def on_connection(self, up: bool) -> None:
        self.connected = up
        self._ever_connected = self._ever_connected or up
        self.changed()

    def on_announcement(self, announcement: Announcement, now: dt.datetime) -> None:
        """An announcement starts playing: flash its counter and caption it, in step with the voice."""
        call = announcement.call
        self._flash_until[call.counter_number] = now + dt.timedelta(seconds=FLASH_S)
        self._caption = caption(call.number, call.counter_number)
        self._caption_until = now + dt.timedelta(seconds=FLASH_S)
        self.changed()

    def _on_call(self, call: BoardCall, now: dt.datetime, *, live: bool = False) -> None:
        """Announce a call once. A live one was just made; one handed over on connecting is announced only
        if it is recent by the server's clock (`STALE_CALL_S`)."""
        if call.id in self._announced:
            log.info(
                "not announcing %s at counter %s again: delivered twice", call.number, call.counter_number
            )
            return
        self._announced.append(call.id)
        age = (self.server_now(now) - call.ts).total_seconds()
        if not live and age > STALE_CALL_S:
            log.info(
                "not announcing %s at counter %s: called %.0f s ago", call.number, call.counter_number, age
            )
            if age > 3600:
                log.warning("a call looks %.0f min old: is this display's clock right?", age / 60)
            return
        self.announce(Call(call.number, call.counter_number, call.repeat))

    def server_now(self, now: dt.datetime) -> dt.datetime:
        """`now` (this display's clock) on the server's clock, as the latest live messages set it: the
        same when the display keeps time; right when it does not (no time server since it started)."""
        return now - min(self._clock_gaps) if self._clock_gaps else now

    def _set_clock(self, sent: dt.datetime, now: dt.datetime) -> None:
        self._clock_gaps.append(now - sent)
        recent = list(self._clock_gaps)[-CLOCK_SET_SAMPLES:]
        if len(recent) == CLOCK_SET_SAMPLES and min(recent) - min(self._clock_gaps) > CLOCK_SET:
            # Every latest message came later than the least gap allows: this display's clock was set
            # forward (a time server found at last). The older gaps belong to the clock before.
            self._clock_gaps = deque(recent, maxlen=CLOCK_SAMPLES)
        off = min(self._clock_gaps)
        if abs(off) > CLOCK_OFF and not self._clock_off_said:
            self._clock_off_said = True
            log.warning(
                "this display's clock is %s %s the server's: the board shows the server's time and "
                "announces by it; set the display's clock (a time server)",
                dt.timedelta(seconds=round(abs(off).total_seconds())),
                "ahead of" if off > dt.timedelta(0) else "behind",
            )

    # ------------------------------------------------------------------------------------------ output

    def next_change(self, now: dt.datetime) -> float | None:
        """Seconds until a flash ends (the screen redraws then), or None."""
        ends = [t for t in self._flash_until.values() if t > now]
        return (min(ends) - now).total_seconds() if ends else None

    def view(self, now: dt.datetime) -> BoardView:
        local = to_local(self.server_now(now))
        names = self._service_names()
        tiles: list[Tile] = []
        recent: tuple[RecentRow, ...] = ()
        waiting_rows: list[WaitingRow] = []
        waiting_more = 0
        waiting_total = 0
        staff_note = ""
        if self.state is not None:
            for s in sorted(self.state.serving, key=lambda s: s.counter_number):
                service_th, service_en = names.get(s.service or "", ("", ""))
                if s.number is None:
                    state = "idle"
                elif s.state is TicketState.serving:
                    state = "serving"
                else:
                    state = "called"
                until = self._flash_until.get(s.counter_number)
                tiles.append(
                    Tile(
                        counter=s.counter,
                        counter_number=s.counter_number,
                        counter_th=s.counter_name_th,
                        counter_en=s.counter_name_en,
                        number=s.number or DASH,
                        service_th=service_th if s.number else "",
                        service_en=service_en if s.number else "",
                        state=state,
                        flashing=until is not None and until > now and s.number is not None,
                    )
                )
            recent = tuple(
                RecentRow(c.number, c.counter_number) for c in self.state.recent_calls[:RECENT_ROWS]
            )
            busy = [w for w in self.state.waiting if w.waiting > 0]
            busy.sort(key=lambda w: w.prefix)
            waiting_total = sum(w.waiting for w in busy)
            shown = busy[:WAITING_ROWS] if len(busy) <= WAITING_ROWS else busy[: WAITING_ROWS - 1]
            waiting_more = len(busy) - len(shown)
            waiting_rows = [WaitingRow(w.prefix, w.name_th, w.name_en, w.waiting) for w in shown]
            if self.state.kiosks_offline:
                kiosks = ", ".join(self.state.kiosks_offline)
                staff_note = f"ตู้กดบัตรคิวติดต่อระบบไม่ได้ / kiosks offline: {kiosks}"
        caption_th, caption_en, live = "", "", False
        if self._caption is not None:
            caption_th, caption_en = self._caption
            live = self._caption_until is not None and self._caption_until > now
        elif self.state is not None and self.state.recent_calls:
            last = self.state.recent_calls[0]
            caption_th, caption_en = caption(last.number, last.counter_number)
        else:
            caption_th, caption_en = WELCOME
        banner_th, banner_en = self._banner()
        return BoardView(
            office_th=self.office_th,
            office_en=self.office_en,
            date_th=format_thai_date(local.date(), weekday=True),
            date_en=format_en_date(local.date()),
            clock=local.strftime("%H:%M"),
            tiles=tuple(tiles),
            recent=recent,
            waiting=tuple(waiting_rows),
            waiting_more=waiting_more,
            waiting_total=waiting_total,
            caption_th=caption_th,
            caption_en=caption_en,
            caption_live=live,
            banner_th=banner_th,
            banner_en=banner_en,
            staff_note=staff_note,
            has_state=self.state is not None,
        )

    def _banner(self) -> tuple[str, str]:
        if not self.connected:
            if not self._ever_connected:
                return "กำลังเชื่อมต่อระบบคิว…", "Connecting to the queue system…"
            return "ขาดการเชื่อมต่อกับระบบคิว กำลังเชื่อมต่อใหม่…", "Connection lost: reconnecting…"
        if self.server_online is False:
            return (
                "ระบบคิวหยุดทำงานชั่วคราว ข้อมูลบนจออาจไม่เป็นปัจจุบัน",
                "The queue server is stopped: the board may be out of date.",
            )
        return "", ""

    def _service_names(self) -> dict[str, tuple[str, str]]:
        names: dict[str, tuple[str, str]] = {}
        if self.state is not None:
            names.update({w.service: (w.name_th, w.name_en) for w in self.state.waiting})
        if self.catalog is not None:
            names.update({s.code: (s.name_th, s.name_en) for s in self.catalog.services})
        return names
