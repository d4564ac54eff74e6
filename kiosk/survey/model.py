"""What the survey terminal shows and does, in plain Python: no Kivy, no MQTT here.

`SurveyModel` holds the flow of one rating and reacts, on one thread (Kivy's main thread in the app, the
test's own in tests), to:

- the citizen's taps: the number pad (`press_letter`, `press_digit`, `submit_number`), the faces
  (`rate`), the choices (`answer_more`, `choose`, `skip`, `back`, `finish`, `cancel`), the header
  (`toggle_lang`, `toggle_large`), and any touch (`touched`);
- a USB scanner's burst (`on_scan`), the counter this tablet stands at (`on_counter_state`);
- the network (`set_catalog`, `on_reply`), handed over by the MQTT link; timers (`Scheduler`).

The flow: **pad** (or a scan, or the bound counter completing a ticket) → **overall** (one tap, for
citizens in a hurry) → **more?** (answer the other questions, or send now) → **item** 1..n (five faces,
skip, back, send at any time) → **profile** (optional demographics, one question a screen) → the
server's verdict → **thanks** or a kind **refused** message → back to the pad. No free text anywhere
(Kivy's TextInput cannot shape Thai, REFERENCE.md).

Store and forward. A response goes into the durable outbox (`SurveyChannel.send`) and the screen waits
at most `reply_wait_s` for the server: with the server up its verdict comes within milliseconds, so the
citizen sees thanks or the server's own refusal ("บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ"); with the server away
the thanks comes after the short wait and the outbox delivers later. A refusal that arrives after the
citizen was thanked is shown to nobody (they have left): it is counted (`refused_later`) and published
in the terminal's `device.status` for staff, and logged.

Once per ticket, from this terminal: a number rated here today is refused at once, before any question
(the `RatedTickets` memory); the server stays the judge for every other case.

Abuse guard: a tap that lands within `debounce_s` of a screen change is ignored, so a double tap (or a
tap held through the change) never answers the next question too."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal, Protocol

from common.contract import (
    Catalog,
    CatalogSurveyItem,
    CounterState,
    Reply,
    SurveyAccepted,
    SurveyRejected,
    SurveyResponse,
    TicketView,
)
from common.thaidate import business_date
from common.vocabulary import Lang, TicketState
from kiosk.survey.scanner import ScannedTicket
from kiosk.survey.texts import LEVEL_WORDS, TEXTS, pick, text

log = logging.getLogger(__name__)

LEVELS: tuple[int, ...] = (5, 4, 3, 2, 1)
MAX_DIGITS = 4
Channel = Literal["terminal", "counter"]


# ------------------------------------------------------------------------------------------------ ports


class Timer(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """Calls back later on the model's thread (Kivy's Clock in the app)."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer: ...


class SurveyChannel(Protocol):
    """The way to the server (the MQTT link's durable outbox in the app)."""

    def send(self, response: SurveyResponse) -> None: ...

    def publish_health(self, health: SurveyHealth) -> None: ...


# ------------------------------------------------------------------------------------------------ state


class SurveyScreen(StrEnum):
    pad = "pad"
    overall = "overall"
    more = "more"
    item = "item"
    profile = "profile"
    sending = "sending"
    thanks = "thanks"
    refused = "refused"


QUESTION_SCREENS = (SurveyScreen.overall, SurveyScreen.more, SurveyScreen.item, SurveyScreen.profile)
RESTING_SCREENS = (SurveyScreen.pad, SurveyScreen.thanks, SurveyScreen.refused)
"""Screens where nobody is in the middle of a rating (a counter's completed ticket may take over)."""


@dataclass(frozen=True, slots=True)
class SurveySettings:
    """How this terminal behaves. Times in seconds; tests set the waits near zero."""

    device_id: str
    counter: str | None = None
    """The counter this tablet stands at: it then asks about each ticket completed there."""
    counter_name_th: str = ""
    counter_name_en: str = ""
    offline_series: tuple[str, ...] = ()
    """Second letters of offline ticket numbers (AX05): keys on the pad after the first letter."""
    reply_wait_s: float = 1.5
    """At most this long for the server's verdict before thanking anyway (store and forward)."""
    debounce_s: float = 0.4
    pad_idle_s: float = 30.0
    """A half-typed number is cleared after this long without a touch."""
    question_idle_s: float = 60.0
    """A rating left in the middle is sent as it is (when the overall question was answered) or dropped."""
    counter_ask_s: float = 90.0
    """How long a bound tablet keeps asking about a completed ticket nobody rates."""
    message_s: float = 6.0
    """Thanks and refusals stay this long, then the pad comes back."""
    days_valid: int = 3
    """How long a number rated here is remembered (the survey's days to rate)."""


@dataclass(frozen=True, slots=True)
class SurveyHealth:
    """What staff see of this terminal in its retained `device.status`."""

    sent: int
    refused_later: int
    """Refusals that came after the citizen had been thanked (the server was slow or away)."""
    last_refusal_code: str | None


@dataclass
class Rating:
    """The rating being given now."""

    number: str
    ticket_id: str | None
    channel: Channel
    answers: dict[str, int] = field(default_factory=dict)
    demographics: dict[str, str] = field(default_factory=dict)
    request_id: uuid.UUID | None = None


# ------------------------------------------------------------------------------------------------ views


@dataclass(frozen=True, slots=True)
class ChromeView:
    title: str
    ticket: str
    """`บัตรคิว A012` while a rating is under way, else empty."""
    lang_button: str
    large_button: str


@dataclass(frozen=True, slots=True)
class PadView:
    prompt: str
    scan_hint: str
    entry: str
    """What was typed, e.g. `A01`; the placeholder when nothing."""
    entry_empty: bool
    letters: tuple[str, ...]
    """The services' prefixes, then (after a first letter) the offline series letters."""
    letters_enabled: bool
    digits_enabled: bool
    can_delete: bool
    can_submit: bool
    ok: str
    delete: str
    clear: str
    notice: str
    """A hint (tap a letter first, a scan without a number) or the note of a bound tablet."""


@dataclass(frozen=True, slots=True)
class Face:
    level: int
    word: str
    chosen: bool


@dataclass(frozen=True, slots=True)
class QuestionView:
    ticket: str
    heading: str
    """The section's title, or a greeting on the overall question."""
    question: str
    prompt: str
    progress: str
    faces: tuple[Face, ...]
    back: str
    skip: str
    finish: str
    cancel: str
    is_overall: bool


@dataclass(frozen=True, slots=True)
class MoreView:
    title: str
    text: str
    yes: str
    no: str


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    label: str
    chosen: bool


@dataclass(frozen=True, slots=True)
class ProfileView:
    title: str
    hint: str
    question: str
    progress: str
    options: tuple[Option, ...]
    back: str
    skip: str
    finish: str


@dataclass(frozen=True, slots=True)
class MessageView:
    kind: str
    """`sending`, `thanks` or `refused`."""
    title: str
    text: str
    ok: str


# ------------------------------------------------------------------------------------------------ memory


class RatedTickets:
    """Numbers rated on this terminal, by business day, kept in a small JSON file so a restart still
    refuses a second rating at once. The server is the judge; this only spares the citizen the questions
    when the answer is already known."""

    def __init__(self, path: Path | None, keep_days: int = 3) -> None:
        self.path = path
        self.keep_days = keep_days
        self._seen: dict[str, list[str]] = {}
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict):
                    self._seen = {str(k): [str(n) for n in v] for k, v in data.items() if isinstance(v, list)}
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as exc:
                log.warning("ignoring the rated-tickets file %s: %s", path, exc)

    def has(self, day: dt.date, number: str) -> bool:
        return number in self._seen.get(day.isoformat(), [])

    def add(self, day: dt.date, number: str) -> None:
        numbers = self._seen.setdefault(day.isoformat(), [])
        if number not in numbers:
            numbers.append(number)
            self._prune(day)
            self._save()

    def remove(self, day: dt.date, number: str) -> None:
        numbers = self._seen.get(day.isoformat(), [])
        if number in numbers:
            numbers.remove(number)
            self._save()

    def _prune(self, today: dt.date) -> None:
        oldest = (today - dt.timedelta(days=self.keep_days)).isoformat()
        self._seen = {d: n for d, n in self._seen.items() if d >= oldest}

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._seen), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("cannot keep the rated tickets in %s: %s", self.path, exc)


# ------------------------------------------------------------------------------------------------ model


_SERVER_NUMBER = re.compile(r"^([A-Z])([0-9]{1,4})$")
_OFFLINE_NUMBER = re.compile(r"^([A-Z])([A-Z])([0-9]{1,4})$")


def normalize_number(entry: str) -> str | None:
    """The ticket number a pad entry means: `A12` → `A012` (server numbers have three digits or more),
    `AX5` → `AX05` (offline numbers two or more); None when it is not a number yet."""
    m = _SERVER_NUMBER.match(entry)
    if m:
        return f"{m.group(1)}{int(m.group(2)):03d}" if len(m.group(2)) < 3 else entry
    m = _OFFLINE_NUMBER.match(entry)
    if m:
        return f"{m.group(1)}{m.group(2)}{int(m.group(3)):02d}" if len(m.group(3)) < 2 else entry
    return None


class SurveyModel:
    """The survey terminal's state. Listeners (the app's redraw) are called after every change."""

    def __init__(
        self,
        settings: SurveySettings,
        *,
        channel: SurveyChannel,
        scheduler: Scheduler,
        catalog: Catalog | None = None,
        rated: RatedTickets | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.channel = channel
        self.scheduler = scheduler
        self.catalog = catalog
        self.rated = rated or RatedTickets(None, settings.days_valid)
        self._clock = clock
        self._wall_clock = wall_clock
        self.lang = Lang.th
        self.large = False
        self.screen = SurveyScreen.pad
        self.entry = ""
        self.pad_notice_key: str | None = None
        self.scanned_id: str | None = None
        """A scan gave the ticket's id but not its number: the pad asks for the number too."""
        self.rating: Rating | None = None
        self.item_index = 0
        self.profile_index = 0
        self._message: tuple[tuple[str, str], tuple[str, str]] = (TEXTS["thanks_title"], TEXTS["thanks_text"])
        """(title, text) of the thanks or refusal, each in Thai and English (the language may change)."""
        self.sent = 0
        self.refused_later = 0
        self.last_refusal_code: str | None = None
        self._screen_since = -1e9
        self._idle_timer: Timer | None = None
        self._reply_timer: Timer | None = None
        self._awaiting: uuid.UUID | None = None
        """The request whose verdict the `sending` screen waits for."""
        self._listeners: list[Callable[[], None]] = []
        self._counter_serving: TicketView | None = None
        self._counter_done: str | None = None
        """Id of the counter's `last_completed` in the last state seen."""
        self._counter_seen = False

    # ------------------------------------------------------------------------------------------ plumbing

    def add_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _go(self, screen: SurveyScreen) -> None:
        if screen is not self.screen:
            self._screen_since = self._clock()
        self.screen = screen

    def _tap_ok(self) -> bool:
        """False for a tap that lands right after the screen changed (a double tap, a held finger)."""
        return self._clock() - self._screen_since >= self.settings.debounce_s

    def _today(self) -> dt.date:
        return business_date(self._wall_clock())

    def _arm_idle(self, delay_s: float) -> None:
        self._cancel_idle()
        self._idle_timer = self.scheduler.call_later(delay_s, self._on_idle)

    def _cancel_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    # ------------------------------------------------------------------------------------------ catalog

    @property
    def items(self) -> list[CatalogSurveyItem]:
        """The questions after the overall one, in the form's order."""
        if self.catalog is None:
            return []
        survey = self.catalog.survey
        return [i for s in survey.sections for i in s.items if i.id != survey.overall_item]

    def set_catalog(self, catalog: Catalog) -> None:
        """A new catalog takes effect at the next rating; one under way keeps its questions."""
        self.catalog = catalog
        self._changed()

    def _prefixes(self) -> tuple[str, ...]:
        if self.catalog is None:
            return ()
        return tuple(sorted({s.prefix for s in self.catalog.services}))

    # ------------------------------------------------------------------------------------------ header

    def touched(self) -> None:
        """Any touch: the idle timer starts again."""
        if self.screen is SurveyScreen.pad and self.entry:
            self._arm_idle(self.settings.pad_idle_s)
        elif self.screen in QUESTION_SCREENS:
            self._arm_idle(self.settings.question_idle_s)

    def toggle_lang(self) -> None:
        self.lang = Lang.en if self.lang is Lang.th else Lang.th
        self._changed()

    def toggle_large(self) -> None:
        self.large = not self.large
        self._changed()

    # ------------------------------------------------------------------------------------------ the pad

    def press_letter(self, letter: str) -> None:
        if self.screen is not SurveyScreen.pad:
            return
        prefixes = self._prefixes()
        if len(self.entry) == 1 and letter in self.settings.offline_series and letter not in prefixes:
            self.entry += letter
        elif letter in prefixes and (not self.entry or self.entry.isalpha()):
            self.entry = letter  # a first letter, or another first letter instead
        else:
            return
        self.pad_notice_key = None
        self._arm_idle(self.settings.pad_idle_s)
        self._changed()

    def press_digit(self, digit: str) -> None:
        if self.screen is not SurveyScreen.pad or not digit.isdigit() or len(digit) != 1:
            return
        if not self.entry:
            self.pad_notice_key = "pad_letter_first"
            self._changed()
            return
        if sum(c.isdigit() for c in self.entry) >= MAX_DIGITS:
            return
        self.entry += digit
        self.pad_notice_key = None
        self._arm_idle(self.settings.pad_idle_s)
        self._changed()

    def press_delete(self) -> None:
        if self.screen is SurveyScreen.pad and self.entry:
            self.entry = self.entry[:-1]
            self._changed()

    def press_clear(self) -> None:
        if self.screen is SurveyScreen.pad:
            self.entry = ""
            self.scanned_id = None
            self.pad_notice_key = None
            self._cancel_idle()
            self._changed()

    def submit_number(self) -> None:
        if self.screen is not SurveyScreen.pad or not self._tap_ok():
            return
        number = normalize_number(self.entry)
        if number is None:
            return
        ticket_id, self.scanned_id = self.scanned_id, None
        self.entry = ""
        self._begin(number, ticket_id, "terminal")

    def on_scan(self, scanned: ScannedTicket) -> None:
        """A ticket's QR code (or number) came from the scanner: rate it, whatever screen is showing
        unless a rating is under way."""
        unanswered_ask = (
            self.screen is SurveyScreen.overall
            and self.rating is not None
            and self.rating.channel == "counter"
            and not self.rating.answers
        )
        if (self.screen in QUESTION_SCREENS or self.screen is SurveyScreen.sending) and not unanswered_ask:
            log.info("scan ignored: a rating is under way")
            return
        if scanned.number is None:
            self._go(SurveyScreen.pad)
            self.entry = ""
            self.scanned_id = scanned.ticket_id
            self.pad_notice_key = "pad_number_of_id"
            self._arm_idle(self.settings.pad_idle_s)
            self._changed()
            return
        self.entry = ""
        self.scanned_id = None
        self._begin(scanned.number, scanned.ticket_id, "terminal")

    # ------------------------------------------------------------------------------------------ counter

    def on_counter_state(self, state: CounterState) -> None:
        """The bound counter's retained state: ask about each ticket it completes. The server says which
        (`last_completed`); from a server that does not, infer it: the ticket it was serving is gone and
        not parked (which also takes a transfer for a completion)."""
        if self.settings.counter is None or state.counter != self.settings.counter:
            return
        before = self._counter_serving
        current = state.current
        self._counter_serving = (
            current if current is not None and current.state is TicketState.serving else None
        )
        first, self._counter_seen = not self._counter_seen, True
        if "last_completed" in state.model_fields_set:
            done = state.last_completed
            before_done, self._counter_done = self._counter_done, done.ticket_id if done else None
            if first or done is None or done.ticket_id == before_done:
                return  # the state at start says what is going on, not what just ended
            self._ask_after_counter(done, state.counter)
            return
        if first or before is None:
            return  # the state at start says what is going on, not what just ended
        if current is not None and current.ticket_id == before.ticket_id:
            return
        if before.number in state.parked:
            return
        self._ask_after_counter(before, state.counter)

    def _ask_after_counter(self, ticket: TicketView, counter: str) -> None:
        if self.screen not in RESTING_SCREENS or (self.screen is SurveyScreen.pad and self.entry):
            log.info("ticket %s completed at %s while in use: not asked", ticket.number, counter)
            return
        self._begin(ticket.number, ticket.ticket_id, "counter")

    # ------------------------------------------------------------------------------------------ rating

    def _begin(self, number: str, ticket_id: str | None, channel: Channel) -> None:
        self._cancel_reply_wait()
        if self.catalog is None:
            self._show_refused(TEXTS["no_survey"])
            return
        if self.rated.has(self._today(), number):
            self._show_refused(TEXTS["already_rated"], code="already_rated")
            return
        self.rating = Rating(number=number, ticket_id=ticket_id, channel=channel)
        self.item_index = 0
        self.profile_index = 0
        self._go(SurveyScreen.overall)
        self._arm_idle(self.settings.counter_ask_s if channel == "counter" else self.settings.question_idle_s)
        self._changed()

    def rate(self, level: int) -> None:
        """A face was tapped on the overall question or an item."""
        if level not in LEVELS or self.rating is None or not self._tap_ok():
            return
        if self.screen is SurveyScreen.overall and self.catalog is not None:
            self.rating.answers[self.catalog.survey.overall_item] = level
            if self.items or self._questions():
                self._go(SurveyScreen.more)
                self._arm_idle(self.settings.question_idle_s)
                self._changed()
            else:
                self._send()
        elif self.screen is SurveyScreen.item:
            self.rating.answers[self.items[self.item_index].id] = level
            self._next_item()

    def answer_more(self, yes: bool) -> None:
        if self.screen is not SurveyScreen.more or not self._tap_ok():
            return
        if not yes:
            self._send()
            return
        self.item_index = 0
        if self.items:
            self._go(SurveyScreen.item)
        elif self._questions():
            self._go(SurveyScreen.profile)
        else:
            self._send()
            return
        self._arm_idle(self.settings.question_idle_s)
        self._changed()

    def skip(self) -> None:
        if not self._tap_ok():
            return
        if self.screen is SurveyScreen.item:
            self._next_item()
        elif self.screen is SurveyScreen.profile:
            self._next_profile()

    def choose(self, option_id: str) -> None:
        """A demographic choice was tapped."""
        if self.screen is not SurveyScreen.profile or self.rating is None or not self._tap_ok():
            return
        qid, options = self._questions()[self.profile_index]
        if option_id not in options:
            return
        self.rating.demographics[qid] = option_id
        self._next_profile()

    def back(self) -> None:
        if not self._tap_ok():
            return
        if self.screen is SurveyScreen.item:
            if self.item_index > 0:
                self.item_index -= 1
                self._go_again(SurveyScreen.item)
            else:
                self._go(SurveyScreen.more)
        elif self.screen is SurveyScreen.profile:
            if self.profile_index > 0:
                self.profile_index -= 1
                self._go_again(SurveyScreen.profile)
            elif self.items:
                self.item_index = len(self.items) - 1
                self._go(SurveyScreen.item)
            else:
                self._go(SurveyScreen.more)
        else:
            return
        self._arm_idle(self.settings.question_idle_s)
        self._changed()

    def finish(self) -> None:
        """Send the answers given so far."""
        if self.screen in (SurveyScreen.more, SurveyScreen.item, SurveyScreen.profile) and self._tap_ok():
            self._send()

    def cancel(self) -> None:
        """Leave the overall question without rating (a wrong number)."""
        if self.screen is SurveyScreen.overall and self._tap_ok():
            self._reset()
            self._changed()

    def dismiss(self) -> None:
        """OK on a thanks or refusal: the pad at once."""
        if self.screen in (SurveyScreen.thanks, SurveyScreen.refused) and self._tap_ok():
            self._reset()
            self._changed()

    def _go_again(self, screen: SurveyScreen) -> None:
        """The same kind of screen with another question: it counts as a change for the debounce."""
        self.screen = screen
        self._screen_since = self._clock()

    def _questions(self) -> list[tuple[str, dict[str, str]]]:
        """(question id, {option id: label}) of the demographics, in the form's order."""
        if self.catalog is None:
            return []
        return [
            (d.id, {o.id: pick((o.label_th, o.label_en), self.lang) for o in d.options})
            for d in self.catalog.survey.demographics
        ]

    def _next_item(self) -> None:
        if self.item_index + 1 < len(self.items):
            self.item_index += 1
            self._go_again(SurveyScreen.item)
        elif self._questions():
            self.profile_index = 0
            self._go(SurveyScreen.profile)
        else:
            self._send()
            return
        self._arm_idle(self.settings.question_idle_s)
        self._changed()

    def _next_profile(self) -> None:
        if self.profile_index + 1 < len(self._questions()):
            self.profile_index += 1
            self._go_again(SurveyScreen.profile)
            self._arm_idle(self.settings.question_idle_s)
            self._changed()
        else:
            self._send()

    # ------------------------------------------------------------------------------------------ sending

    def _send(self, *, quietly: bool = False) -> None:
        """Into the outbox; wait briefly for the verdict (or, `quietly`, go straight back to the pad)."""
        rating = self.rating
        if rating is None or not rating.answers:
            self._reset()
            self._changed()
            return
        response = SurveyResponse(
            ticket=rating.number,
            ticket_id=rating.ticket_id,
            answers=dict(rating.answers),
            demographics=dict(rating.demographics),
            channel=rating.channel,
        )
        rating.request_id = response.id
        try:
            self.channel.send(response)
        except Exception:
            log.exception("could not store the rating of %s: it is lost", rating.number)
            self._show_refused(TEXTS["send_failed"])
            return
        self.sent += 1
        self.rated.add(self._today(), rating.number)
        log.info("rating of %s sent (%d answers)", rating.number, len(rating.answers))
        self._publish_health()
        if quietly:
            self._reset()
            self._changed()
            return
        self._cancel_idle()
        self._awaiting = response.id
        self._go(SurveyScreen.sending)
        self._reply_timer = self.scheduler.call_later(self.settings.reply_wait_s, self._on_reply_wait_over)
        self._changed()

    def _on_reply_wait_over(self) -> None:
        self._reply_timer = None
        if self.screen is SurveyScreen.sending:
            log.info(
                "no verdict within %.1f s: thanking (the outbox delivers later)", self.settings.reply_wait_s
            )
            self._awaiting = None
            self._show_thanks()

    def _cancel_reply_wait(self) -> None:
        if self._reply_timer is not None:
            self._reply_timer.cancel()
            self._reply_timer = None
        self._awaiting = None

    def on_reply(self, reply: Reply) -> None:
        """A reply that settled one of this terminal's requests (the link calls this once per request)."""
        if not isinstance(reply, SurveyAccepted | SurveyRejected):
            return
        waiting_for_it = (
            self.screen is SurveyScreen.sending
            and self._awaiting is not None
            and reply.request_id == self._awaiting
        )
        if isinstance(reply, SurveyAccepted):
            if waiting_for_it:
                self._cancel_reply_wait()
                self._show_thanks()
            return
        log.info("the server refused a rating: %s", reply.code)
        if reply.code != "already_rated":
            number = self._number_of(reply)
            if number is not None:
                self.rated.remove(self._today(), number)  # not rated after all: it may be tried again
        if waiting_for_it:
            self._cancel_reply_wait()
            self._show_refused((reply.message_th, reply.message_en), code=reply.code)
            return
        self.refused_later += 1
        self.last_refusal_code = reply.code
        self._publish_health()
        self._changed()

    def _number_of(self, reply: Reply) -> str | None:
        if self.rating is not None and self.rating.request_id == reply.request_id:
            return self.rating.number
        return None

    def health(self) -> SurveyHealth:
        return SurveyHealth(
            sent=self.sent, refused_later=self.refused_later, last_refusal_code=self.last_refusal_code
        )

    def _publish_health(self) -> None:
        try:
            self.channel.publish_health(self.health())
        except Exception:
            log.exception("could not publish the terminal's status")

    # ------------------------------------------------------------------------------------------ endings

    def _show_thanks(self) -> None:
        self._message = (TEXTS["thanks_title"], TEXTS["thanks_text"])
        self._go(SurveyScreen.thanks)
        self._arm_idle(self.settings.message_s)
        self._changed()

    def _show_refused(self, message: tuple[str, str], *, code: str = "") -> None:
        """A kind refusal; a ticket already rated is thanked, not apologised to."""
        title = TEXTS["thanks_title"] if code == "already_rated" else TEXTS["refused_title"]
        self._message = (title, message)
        self._go(SurveyScreen.refused)
        self._arm_idle(self.settings.message_s)
        self._changed()

    def _on_idle(self) -> None:
        self._idle_timer = None
        if self.screen in QUESTION_SCREENS and self.rating is not None and self.rating.answers:
            self._send(quietly=True)  # they answered and walked away: keep what they said
            return
        self._reset()
        self._changed()

    def _reset(self) -> None:
        self._cancel_idle()
        self._cancel_reply_wait()
        self.rating = None
        self.entry = ""
        self.scanned_id = None
        self.pad_notice_key = None
        self._go(SurveyScreen.pad)

    # ------------------------------------------------------------------------------------------ views

    def chrome_view(self) -> ChromeView:
        showing_ticket = self.rating is not None and self.screen in (*QUESTION_SCREENS, SurveyScreen.sending)
        return ChromeView(
            title=text("title", self.lang),
            ticket=text("ticket_label", self.lang, number=self.rating.number)
            if showing_ticket and self.rating
            else "",
            lang_button=text("switch_lang", self.lang),
            large_button=text("large_off" if self.large else "large_on", self.lang),
        )

    def pad_view(self) -> PadView:
        letters = self._prefixes()
        after_first = len(self.entry) == 1
        series = tuple(s for s in self.settings.offline_series if s not in letters)
        notice = text(self.pad_notice_key, self.lang) if self.pad_notice_key else ""
        if not notice and self.settings.counter:
            name = pick((self.settings.counter_name_th, self.settings.counter_name_en), self.lang)
            notice = text("counter_note", self.lang, counter=name or self.settings.counter)
        return PadView(
            prompt=text("pad_prompt", self.lang),
            scan_hint=text("scan_hint", self.lang),
            entry=self.entry or text("pad_placeholder", self.lang),
            entry_empty=not self.entry,
            letters=letters + (series if after_first else ()),
            letters_enabled=not self.entry or self.entry.isalpha(),
            # Digits stay live before the letter: a tap on one says to tap the letter first.
            digits_enabled=sum(c.isdigit() for c in self.entry) < MAX_DIGITS,
            can_delete=bool(self.entry),
            can_submit=normalize_number(self.entry) is not None,
            ok=text("pad_ok", self.lang),
            delete=text("pad_delete", self.lang),
            clear=text("pad_clear", self.lang),
            notice=notice,
        )

    def question_view(self) -> QuestionView | None:
        if self.rating is None or self.catalog is None:
            return None
        survey = self.catalog.survey
        if self.screen is SurveyScreen.overall:
            item_id = survey.overall_item
            item = next((i for s in survey.sections for i in s.items if i.id == item_id), None)
            heading = text("after_service", self.lang) if self.rating.channel == "counter" else ""
            progress = ""
        else:
            items = self.items
            if not items:
                return None
            item = items[min(self.item_index, len(items) - 1)]
            section = next(s for s in survey.sections if any(i.id == item.id for i in s.items))
            heading = pick((section.title_th, section.title_en), self.lang)
            progress = text("progress", self.lang, n=self.item_index + 1, total=len(items))
        question = pick((item.text_th, item.text_en), self.lang) if item else survey.overall_item
        chosen = self.rating.answers.get(item.id) if item else None
        return QuestionView(
            ticket=text("ticket_label", self.lang, number=self.rating.number),
            heading=heading,
            question=question,
            prompt=text("overall_prompt", self.lang),
            progress=progress,
            faces=tuple(
                Face(level, pick(LEVEL_WORDS[level], self.lang), chosen == level) for level in LEVELS
            ),
            back=text("back", self.lang),
            skip=text("skip", self.lang),
            finish=text("finish", self.lang),
            cancel=text("cancel", self.lang),
            is_overall=self.screen is SurveyScreen.overall,
        )

    def more_view(self) -> MoreView:
        n = len(self.items)
        return MoreView(
            title=text("more_title", self.lang),
            text=text("more_text", self.lang, n=n),
            yes=text("more_yes", self.lang),
            no=text("more_no", self.lang),
        )

    def profile_view(self) -> ProfileView | None:
        questions = self._questions()
        if self.rating is None or not questions or self.catalog is None:
            return None
        index = min(self.profile_index, len(questions) - 1)
        qid, options = questions[index]
        demographic = self.catalog.survey.demographics[index]
        chosen = self.rating.demographics.get(qid)
        return ProfileView(
            title=text("profile_title", self.lang),
            hint=text("profile_hint", self.lang),
            question=pick((demographic.label_th, demographic.label_en), self.lang),
            progress=text("progress", self.lang, n=index + 1, total=len(questions)),
            options=tuple(Option(oid, label, oid == chosen) for oid, label in options.items()),
            back=text("back", self.lang),
            skip=text("skip", self.lang),
            finish=text("finish", self.lang),
        )

    def message_view(self) -> MessageView:
        if self.screen is SurveyScreen.sending:
            return MessageView("sending", text("sending", self.lang), "", "")
        kind = "thanks" if self.screen is SurveyScreen.thanks else "refused"
        title, body = self._message
        return MessageView(kind, pick(title, self.lang), pick(body, self.lang), text("ok", self.lang))
