"""Copy each accepted survey response to the office's Google Form (the guideline's online channel),
when the office file turns it on (`[survey.google_form]`: url, entries, enabled).

How it works, and why it can never slow the queue down:

- The sequencer stores a response and knows nothing of Google. A worker thread of its own (`FormMirror`)
  finds responses that have no row in the `form_mirror` table yet and queues them there (responses rating
  tickets of the last `BACKLOG_DAYS` days, so turning the mirror on does not send a year of old answers).
- It then POSTs each queued response to the form's `formResponse` URL as `entry.NNN` fields, with
  `requests`, outside any database transaction. A 2xx answer marks the row `sent`; anything else (an
  HTTP error, no network, a timeout) counts an attempt and tries again later, waiting twice as long each
  time (`backoff_first_s` doubling up to `backoff_max_s`). After `max_attempts` the row is `failed`: it
  is visible in `mirror_status` and `requeue_failed` sends it again.
- The queue is a table, so a restart (or a power cut) loses nothing: pending rows are sent when the
  server comes back. A row is leased before its POST, so two workers on one database never send it at
  the same time.

Delivery is **at least once**: if Google records a response but its answer never reaches us (a timeout,
a crash between the POST and the update), the response is sent again and the form holds it twice.
Google Forms cannot tell us it already has it, so exactly once is not possible; the office's own
database stays the record of truth and is never affected.

What is sent: each rated item as its score `1`..`5` (make those questions "linear scale 1-5" in the
form), each demographic answer as the option's Thai label (the form's choices must read the same), and
the phone page's comment. Nothing else: no ticket number, no time (PDPA: the form needs no more)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from sqlalchemy import Table, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from common.config import Survey
from common.contract import utcnow
from common.thaidate import business_date
from server.store import Store
from server.store.models import FormMirrorRow
from server.store.records import answers_t, responses_t

logger = logging.getLogger(__name__)

mirror_t: Table = FormMirrorRow.__table__  # type: ignore[assignment]

PENDING, SENT, FAILED = "pending", "sent", "failed"

POLL_S = 5.0
"""The worker looks for new responses this often (a citizen's answer reaches the form within seconds)."""
BACKLOG_DAYS = 2
"""Responses rating tickets of this many days back are queued when found without a row."""
BATCH = 50
"""Rows sent per round before looking for new responses again."""
BACKOFF_FIRST_S = 10.0
BACKOFF_MAX_S = 3600.0
"""A failing form is tried again after 10 s, 20 s, 40 s ... and then once an hour."""
MAX_ATTEMPTS = 48
"""With the hourly cap, about two days of trying before a response is marked failed."""
TIMEOUT_S = 15.0
"""Google answers in well under a second; a slow office line gets some slack."""
LEASE_S = 120.0
"""A row being sent is not due again for this long (another worker leaves it alone; after a crash, it
is sent again once the lease has passed)."""
ERROR_LENGTH = 300


class FormPoster(Protocol):
    """What the mirror needs of `requests.Session` (tests may pass their own)."""

    def post(self, url: str, *, data: Mapping[str, str], timeout: float) -> Any: ...


@dataclass(frozen=True, slots=True)
class MirrorStatus:
    """What the dashboard shows of the mirror."""

    enabled: bool | None
    """From the office file (None: not known to the caller)."""
    pending: int
    sent: int
    failed: int
    last_sent_at: dt.datetime | None
    last_error: str | None
    """The latest error of a row not yet sent (None once everything went through)."""
    last_error_at: dt.datetime | None
    oldest_pending_at: dt.datetime | None
    """When the oldest response still waiting was queued: a growing age means the form is unreachable."""

    @property
    def healthy(self) -> bool:
        return self.failed == 0 and self.last_error is None


def mirror_status(store: Store, survey: Survey | None = None) -> MirrorStatus:
    """Counts per state, the last success and the last error; read on the store's reader."""
    m = mirror_t
    enabled = None
    if survey is not None:
        enabled = survey.google_form is not None and survey.google_form.enabled
    with store.read_engine.connect() as connection:
        counts: dict[str, int] = {
            str(row[0]): int(row[1])
            for row in connection.execute(select(m.c.status, func.count()).group_by(m.c.status))
        }
        last_sent_at: dt.datetime | None = connection.execute(select(func.max(m.c.sent_at))).scalar_one()
        oldest: dt.datetime | None = connection.execute(
            select(func.min(m.c.queued_at)).where(m.c.status == PENDING)
        ).scalar_one()
        error = connection.execute(
            select(m.c.last_error, m.c.last_error_at)
            .where(m.c.status != SENT, m.c.last_error.is_not(None))
            .order_by(m.c.last_error_at.desc())
            .limit(1)
        ).first()
    return MirrorStatus(
        enabled=enabled,
        pending=int(counts.get(PENDING, 0)),
        sent=int(counts.get(SENT, 0)),
        failed=int(counts.get(FAILED, 0)),
        last_sent_at=_utc(last_sent_at),
        last_error=error[0] if error else None,
        last_error_at=_utc(error[1]) if error else None,
        oldest_pending_at=_utc(oldest),
    )


def requeue_failed(store: Store, *, now: dt.datetime | None = None) -> int:
    """Send the failed rows again (after the office fixed its form); returns how many."""
    now = now or utcnow()
    with store.engine.begin() as connection:
        result = connection.execute(
            update(mirror_t)
            .where(mirror_t.c.status == FAILED)
            .values(status=PENDING, attempts=0, next_attempt_at=now)
        )
    count = int(result.rowcount or 0)
    if count:
        logger.info("Google Form mirror: %d failed response(s) queued again", count)
    return count


def form_fields(
    survey: Survey,
    entries: Mapping[str, str],
    *,
    answers: Mapping[str, int],
    demographics: Mapping[str, str],
    comment: str | None,
) -> dict[str, str]:
    """The form fields of one response: `entry.NNN` → value, for the items the office mapped."""
    fields: dict[str, str] = {}
    for key, entry in entries.items():
        if key in answers:
            fields[entry] = str(int(answers[key]))
        elif key in demographics:
            fields[entry] = _option_label(survey, key, demographics[key])
        elif key == "comment" and comment:
            fields[entry] = comment
    return fields


def _option_label(survey: Survey, question_id: str, option_id: str) -> str:
    for qid, question in survey.demographics.questions():
        if qid == question_id:
            for option in question.options:
                if option.id == option_id:
                    return option.label_th
    return option_id


def backoff_s(attempts: int, first_s: float = BACKOFF_FIRST_S, max_s: float = BACKOFF_MAX_S) -> float:
    """How long to wait after the `attempts`-th failure (1, 2, ...): first_s, doubling, capped."""
    return float(min(max_s, first_s * 2 ** max(0, attempts - 1)))


class FormMirror:
    """The mirror's worker. `start()` runs it in a thread of its own; `run_once()` is one round (tests,
    and the thread's loop body). Safe to construct when the office has no form: `enabled` is then
    False and `start()` does nothing."""

    def __init__(
        self,
        store: Store,
        survey: Survey,
        *,
        url: str | None = None,
        poster: FormPoster | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        poll_s: float = POLL_S,
        backoff_first_s: float = BACKOFF_FIRST_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        max_attempts: int = MAX_ATTEMPTS,
        timeout_s: float = TIMEOUT_S,
        lease_s: float = LEASE_S,
        backlog_days: int = BACKLOG_DAYS,
    ) -> None:
        form = survey.google_form
        self.store = store
        self.survey = survey
        self.enabled = form is not None and form.enabled
        self.url = url or (form.url if form is not None else "")
        """`url` replaces the office file's address (tests point it at a fake form on 127.0.0.1)."""
        self.entries: dict[str, str] = dict(form.entries) if form is not None else {}
        self._poster: FormPoster = poster or requests.Session()
        self._clock = clock
        self.poll_s = poll_s
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self.lease_s = lease_s
        self.backlog_days = backlog_days
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------ thread

    def start(self) -> None:
        if not self.enabled:
            logger.info("Google Form mirror is off (survey.google_form.enabled = false)")
            return
        if not self.entries:
            logger.warning("Google Form mirror is on but maps no item to a form field: nothing to send")
        if self._thread is not None:
            raise RuntimeError("the Google Form mirror is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="form-mirror", daemon=True)
        self._thread.start()
        logger.info("Google Form mirror started: %s", self.url)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the POST in flight (at most `timeout_s`) and stop."""
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.error("the Google Form mirror did not stop within %.0f s", timeout)
        self._thread = None

    def wake(self) -> None:
        """Look for new responses now instead of at the next poll."""
        self._wake.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            try:
                busy = self.run_once() >= BATCH
            except Exception:
                logger.exception("Google Form mirror round failed; trying again in %.0f s", self.poll_s)
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    # ------------------------------------------------------------------------------------------ a round

    def run_once(self) -> int:
        """Queue new responses, then send the rows that are due. Returns how many rows were tried."""
        self.queue_new()
        tried = 0
        for response_id in self._due():
            if self._stop.is_set():
                break
            if self._claim(response_id):
                self._send(response_id)
                tried += 1
        return tried

    def queue_new(self) -> int:
        """Add a `pending` row for each recent response that has none; returns how many were added."""
        r, m = responses_t, mirror_t
        now = self._clock()
        since = business_date(now) - dt.timedelta(days=self.backlog_days)
        missing = (
            select(r.c.id)
            .select_from(r.outerjoin(m, m.c.response_id == r.c.id))
            .where(m.c.response_id.is_(None), r.c.business_date >= since)
        )
        with self.store.read_engine.connect() as connection:
            if connection.execute(missing.limit(1)).first() is None:
                return 0  # nothing new: no write transaction at all
        rows = select(
            r.c.id,
            literal(PENDING),
            literal(0),
            literal(now, type_=m.c.queued_at.type),
            literal(now, type_=m.c.next_attempt_at.type),
        ).select_from(r.outerjoin(m, m.c.response_id == r.c.id))
        rows = rows.where(m.c.response_id.is_(None), r.c.business_date >= since)
        with self.store.engine.begin() as connection:
            result = connection.execute(
                insert(m).from_select(
                    ["response_id", "status", "attempts", "queued_at", "next_attempt_at"], rows
                )
            )
        added = int(result.rowcount or 0)
        if added:
            logger.info("Google Form mirror: %d new response(s) queued", added)
        return added

    def _due(self) -> list[str]:
        m = mirror_t
        with self.store.read_engine.connect() as connection:
            return list(
                connection.execute(
                    select(m.c.response_id)
                    .where(m.c.status == PENDING, m.c.next_attempt_at <= self._clock())
                    .order_by(m.c.queued_at, m.c.response_id)
                    .limit(BATCH)
                ).scalars()
            )

    def _claim(self, response_id: str) -> bool:
        """Lease the row: only the worker that moves its next attempt forward sends it."""
        m = mirror_t
        now = self._clock()
        with self.store.engine.begin() as connection:
            result = connection.execute(
                update(m)
                .where(m.c.response_id == response_id, m.c.status == PENDING, m.c.next_attempt_at <= now)
                .values(next_attempt_at=now + dt.timedelta(seconds=self.lease_s))
            )
        return bool(result.rowcount == 1)

    def _send(self, response_id: str) -> None:
        with self.store.read_engine.connect() as connection:
            fields = self._fields(connection, response_id)
        error: str | None = None
        if fields is None:
            error = "the response is no longer in the database"
        else:
            try:
                reply = self._poster.post(self.url, data=fields, timeout=self.timeout_s)
                status = int(reply.status_code)
                if not 200 <= status < 300:
                    error = f"HTTP {status} from the form"
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
        self._record(response_id, error)

    def _fields(self, connection: Connection, response_id: str) -> dict[str, str] | None:
        r, a = responses_t, answers_t
        head = connection.execute(select(r.c.demographics, r.c.comment).where(r.c.id == response_id)).first()
        if head is None:
            return None
        answers: dict[str, int] = {
            str(row[0]): int(row[1])
            for row in connection.execute(select(a.c.item, a.c.score).where(a.c.response_id == response_id))
        }
        return form_fields(
            self.survey,
            self.entries,
            answers=answers,
            demographics=dict(head.demographics or {}),
            comment=head.comment,
        )

    def _record(self, response_id: str, error: str | None) -> None:
        m = mirror_t
        now = self._clock()
        with self.store.engine.begin() as connection:
            if error is None:
                connection.execute(
                    update(m)
                    .where(m.c.response_id == response_id)
                    .values(status=SENT, attempts=m.c.attempts + 1, sent_at=now, last_error=None)
                )
                logger.debug("Google Form mirror: response %s sent", response_id)
                return
            attempts = (
                connection.execute(select(m.c.attempts).where(m.c.response_id == response_id)).scalar_one()
                + 1
            )
            gave_up = attempts >= self.max_attempts
            connection.execute(
                update(m)
                .where(m.c.response_id == response_id)
                .values(
                    status=FAILED if gave_up else PENDING,
                    attempts=attempts,
                    next_attempt_at=now
                    + dt.timedelta(seconds=backoff_s(attempts, self.backoff_first_s, self.backoff_max_s)),
                    last_error=error[:ERROR_LENGTH],
                    last_error_at=now,
                )
            )
        if gave_up:
            logger.error(
                "Google Form mirror gave up on response %s after %d attempts: %s",
                response_id,
                attempts,
                error,
            )
        else:
            logger.warning(
                "Google Form mirror: response %s not sent (attempt %d): %s", response_id, attempts, error
            )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
