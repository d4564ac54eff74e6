"""The Google Form mirror against a fake form on 127.0.0.1: what each POST carries, a form that fails
for a while and then recovers, a server restart with responses still queued, a lost answer (the form
then holds a response twice: delivery is at least once), giving up, and never sending old responses.

Rounds are driven by hand (`run_once`) with the test's clock, so retries need no sleeping; one test runs
the real worker thread with short waits."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.contract import SurveyAccepted
from server.office import Office
from server.store import Store
from server.survey.mirror import FormMirror, backoff_s, form_fields, mirror_status, requeue_failed
from tests.survey.fake_form import FakeForm, fake_form
from tests.survey.helpers import ENTRIES, Clock, rate, serve, start_office, stop_office, survey_config

COMMENT = ENTRIES["comment"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def office(tmp_path: Path, clock: Clock) -> Iterator[Office]:
    office = start_office(tmp_path, survey_config(form=True), clock)
    yield office
    stop_office(office)


@pytest.fixture
def form() -> Iterator[FakeForm]:
    with fake_form() as form:
        yield form


def mirror_for(office: Office, form: FakeForm | str, clock: Clock, **kwargs: object) -> FormMirror:
    url = form.url if isinstance(form, FakeForm) else form
    return FormMirror(office.store, office.config.survey, url=url, clock=clock, **kwargs)  # type: ignore[arg-type]


def rated(office: Office, comment: str, score: int = 5, **extra: object) -> str:
    ticket = serve(office)
    reply = rate(office, ticket.number, {"result.overall": score}, comment=comment, channel="phone", **extra)  # type: ignore[arg-type]
    assert isinstance(reply, SurveyAccepted)
    return ticket.number


def test_a_response_reaches_the_form_with_its_mapped_fields(
    office: Office, form: FakeForm, clock: Clock
) -> None:
    ticket = serve(office)
    rate(
        office,
        ticket.number,
        {"result.overall": 5, "staff.polite": 4, "process.speed": 3},
        demographics={"gender": "female", "occupation": "farmer"},
        comment="บริการดีมากค่ะ",
        channel="phone",
    )
    mirror = mirror_for(office, form, clock)
    assert mirror.run_once() == 1
    assert form.received == [
        {"entry.1001": "5", "entry.1002": "4", "entry.1003": "หญิง", COMMENT: "บริการดีมากค่ะ"}
    ], "mapped items as scores, the gender as the form's Thai choice; unmapped answers stay home"
    status = mirror_status(office.store, office.config.survey)
    assert (status.enabled, status.sent, status.pending, status.failed) == (True, 1, 0, 0)
    assert status.healthy and status.last_sent_at == clock.now
    assert mirror.run_once() == 0 and len(form.received) == 1, "sent once, never again"


def test_a_failing_form_is_retried_with_backoff_until_it_recovers(
    office: Office, form: FakeForm, clock: Clock
) -> None:
    for comment in ("r1", "r2", "r3"):
        rated(office, comment)
    form.fail_next = 4
    mirror = mirror_for(office, form, clock)
    mirror.run_once()  # three attempts, three HTTP 500
    status = mirror_status(office.store)
    assert (status.pending, status.sent) == (3, 0)
    assert status.last_error == "HTTP 500 from the form" and not status.healthy
    assert status.oldest_pending_at == clock.now
    assert mirror.run_once() == 0, "not due before the backoff has passed"
    clock.advance(seconds=10)
    mirror.run_once()  # one more 500, then two go through
    assert len(form.comments(COMMENT)) == 2
    clock.advance(seconds=19)
    assert mirror.run_once() == 0, "the twice-failed one waits 20 s"
    clock.advance(seconds=1)
    mirror.run_once()
    assert sorted(form.comments(COMMENT)) == ["r1", "r2", "r3"], "every response exactly once"
    status = mirror_status(office.store)
    assert (status.pending, status.sent, status.last_error) == (0, 3, None)


def test_the_worker_thread_sends_new_responses_through_an_outage(
    office: Office, form: FakeForm, clock: Clock
) -> None:
    # The office's day, running at real speed for the worker's backoff: on the wall clock's own day the
    # ratings would be older than the backlog the mirror looks at.
    started = time.monotonic()

    def running() -> dt.datetime:
        return clock() + dt.timedelta(seconds=time.monotonic() - started)

    mirror = FormMirror(
        office.store,
        office.config.survey,
        url=form.url,
        clock=running,
        poll_s=0.05,
        backoff_first_s=0.05,
        backoff_max_s=0.2,
    )
    form.fail_next = 6
    mirror.start()
    try:
        comments = [f"t{i}" for i in range(5)]
        for comment in comments:
            rated(office, comment)
            mirror.wake()
        deadline = time.monotonic() + 30
        while len(form.received) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        mirror.stop()
    assert form.refused == 6
    assert sorted(form.comments(COMMENT)) == comments
    assert mirror_status(office.store).sent == 5


def test_queued_responses_survive_a_restart(tmp_path: Path, clock: Clock, form: FakeForm) -> None:
    config = survey_config(form=True)
    office = start_office(tmp_path, config, clock)
    rated(office, "before the restart")
    unreachable = "http://127.0.0.1:9/formResponse"  # discard port: nothing listens
    mirror_for(office, unreachable, clock).run_once()
    status = mirror_status(office.store)
    assert status.pending == 1 and status.last_error and "ConnectionError" in status.last_error
    stop_office(office)

    store = Store(f"sqlite:///{tmp_path / 'office.db'}")  # the server starts again
    try:
        clock.advance(minutes=5)
        mirror = FormMirror(store, config.survey, url=form.url, clock=clock)
        assert mirror.run_once() == 1
        assert form.comments(COMMENT) == ["before the restart"]
        assert mirror_status(store).sent == 1
    finally:
        store.close()


def test_an_answer_lost_on_the_way_back_means_the_form_gets_it_twice(
    office: Office, form: FakeForm, clock: Clock
) -> None:
    rated(office, "once, recorded twice")
    form.slow_next, form.slow_s = 1, 1.0
    mirror = mirror_for(office, form, clock, timeout_s=0.2)
    mirror.run_once()
    status = mirror_status(office.store)
    assert status.pending == 1 and status.last_error and "Timeout" in status.last_error
    clock.advance(seconds=10)
    mirror.run_once()
    assert form.comments(COMMENT) == ["once, recorded twice", "once, recorded twice"], (
        "at least once: the form recorded the first POST but its answer never came back"
    )
    assert mirror_status(office.store).sent == 1


def test_after_the_last_attempt_a_response_is_failed_until_queued_again(
    office: Office, form: FakeForm, clock: Clock
) -> None:
    rated(office, "stubborn")
    form.fail_next = 3
    mirror = mirror_for(office, form, clock, max_attempts=3)
    for _ in range(3):
        mirror.run_once()
        clock.advance(hours=1)
    assert mirror.run_once() == 0
    status = mirror_status(office.store)
    assert (status.failed, status.pending, status.sent) == (1, 0, 0)
    assert status.last_error == "HTTP 500 from the form"
    assert requeue_failed(office.store, now=clock.now) == 1
    assert mirror.run_once() == 1
    assert form.comments(COMMENT) == ["stubborn"]
    assert mirror_status(office.store).healthy


def test_old_responses_are_not_sent_when_the_mirror_is_first_turned_on(
    office: Office, form: FakeForm, clock: Clock
) -> None:
    rated(office, "last week")
    clock.advance(days=7)
    office.call(lambda _c: None).result(30)  # the office rolls over to today
    rated(office, "today")
    mirror_for(office, form, clock).run_once()
    assert form.comments(COMMENT) == ["today"]


def test_an_office_without_a_form_sends_nothing(tmp_path: Path, clock: Clock, form: FakeForm) -> None:
    office = start_office(tmp_path, survey_config(), clock)
    try:
        mirror = FormMirror(office.store, office.config.survey, url=form.url)
        mirror.start()
        assert not mirror.running and not mirror.enabled
        mirror.stop()
        assert mirror_status(office.store, office.config.survey).enabled is False
    finally:
        stop_office(office)


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff_s(30) == 3600


def test_fields_leave_out_what_the_office_did_not_map() -> None:
    survey = survey_config(form=True).survey
    fields = form_fields(
        survey, {"result.overall": "entry.1"}, answers={"staff.polite": 2}, demographics={}, comment=None
    )
    assert fields == {}
