"""Fuzzing every form of the web app: login, first-start setup, the language switch, the console's
counter actions, case follow-up, adding and changing users, and then every route the app has (the
dashboard's forms included) with generated fields, path and query values.

For every case: no 500 page, ever (the app answers 2xx, 3xx or 4xx); a refused form says why (a 4xx page,
or a redirect with an error message for the next page) and leaves the office's tables and the users as
they were; a redirect never leaves the site; the app still serves its pages afterwards."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
import tomli_w
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Table

from common.contract import CounterCommand, TicketIssued, TicketRequest
from common.vocabulary import CounterAction, Outcome
from server.office import Office
from server.store import Store
from server.web import WebSettings, create_app
from server.web.accounts import Accounts, Role, token_key
from server.web.models import User
from server.web.security import FORM_COOKIE, SESSION_COOKIE, flat_routes
from tests.fuzz.harness import BUSINESS_TABLES, CASES, FUZZ, fingerprint
from tests.fuzz.strategies import NASTY_TEXT, texts
from tests.server.office_helpers import FakeClock, Recorder, office_config, office_dict
from tests.web.conftest import cheap_hasher, form_token

PASSWORD = "correct horse battery"
USERS_TABLE: Table = User.__table__  # type: ignore[assignment]
GUARDED = (*BUSINESS_TABLES, USERS_TABLE)
"""A refused form changes none of these (sessions, login attempts and the audit log may record it)."""
TARGET_USERS = ("staff1", "manager1", "admin2", "nobody", "STAFF1", " staff1 ", "")
"""Users the admin forms act on. The fuzzing admin itself is left alone: a fuzzer that demotes itself
tests nothing after that."""


def as_browser_sends(value: str) -> str:
    """A browser sends UTF-8: a lone surrogate cannot be sent at all (it becomes '?')."""
    return value.encode("utf-8", "replace").decode("utf-8")


form_values = st.one_of(texts, st.sampled_from(NASTY_TEXT), st.integers().map(str)).map(as_browser_sends)
next_targets = (
    st.sampled_from(
        (
            "/",
            "/console",
            "//evil.example",
            "http://evil.example/",
            "https://evil.example",
            "/\\evil",
            "javascript:x",
        )
    )
    | form_values
)


ACTIONS = tuple(a.value for a in CounterAction)
OTHER_NAMES = st.sampled_from(TARGET_USERS) | form_values
BAD_IDS = st.sampled_from(("", "1", "not-a-uuid")) | form_values


class WebClock:
    """The web app's clock: moved forward by the login fuzz so throttling windows pass."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class FuzzedWeb:
    app: FastAPI
    office: Office
    store: Store
    accounts: Accounts
    settings: WebSettings
    clock: WebClock
    admin: TestClient
    staff: TestClient
    anonymous: TestClient
    cases: list[str] = field(default_factory=list)
    tokens: dict[tuple[int, str | None, str | None], str] = field(default_factory=dict)
    last_fingerprint: str | None = None
    """The guarded tables as the last form left them; cleared by whatever else writes them."""

    def flash(self, client: TestClient) -> dict[str, str] | None:
        token = client.cookies.get(SESSION_COOKIE)
        return self.accounts.pop_flash(token_key(token)) if token else None

    def post(
        self, kind: str, client: TestClient, path: str, data: dict[str, str], *, csrf: str | None
    ) -> tuple[Response, bool]:
        """POST a form; check the invariants; return the response and whether the form was refused."""
        if csrf is not None:
            data = {**data, "csrf_token": csrf}
        before = self.last_fingerprint or fingerprint(self.store.read_engine, GUARDED)
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code < 500, f"{response.status_code} on {path} with {data!r}"
        flash = self.flash(client)
        refused = response.status_code >= 400 or (flash is not None and flash.get("kind") == "error")
        self.last_fingerprint = fingerprint(self.store.read_engine, GUARDED)
        if refused:
            assert self.last_fingerprint == before, f"refused {path} {data!r} changed data"
        if response.is_redirect:
            assert same_site(response.headers["location"]), response.headers["location"]
        if response.status_code in (400, 401, 403, 429):
            assert "text/html" in response.headers.get("content-type", "") or response.headers.get(
                "content-type", ""
            ).startswith("application/json"), response.headers
        CASES.add(f"web {kind}", rejected=refused)
        return response, refused

    def csrf(self, client: TestClient, path: str) -> str:
        """The token forms of `path` carry; read from the page once per session or form cookie."""
        key = (id(client), client.cookies.get(SESSION_COOKIE), client.cookies.get(FORM_COOKIE))
        if key not in self.tokens:
            token = form_token(client, path)
            key = (id(client), client.cookies.get(SESSION_COOKIE), client.cookies.get(FORM_COOKIE))
            self.tokens[key] = token
        return self.tokens[key]


class Choose:
    """Choices with set odds for one example. Hypothesis favours boundary values, so `one_of` is far from
    even; a Random it controls (replayable) keeps valid fields common enough that the checks behind the
    first one are reached, while the junk itself still comes from Hypothesis."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.rnd = data.draw(st.randoms(use_true_random=False))

    def field(self, *valid: str, p: float = 0.8, junk: st.SearchStrategy[str] | None = None) -> str:
        """One of `valid` with probability `p`, else junk."""
        if valid and self.rnd.random() < p:
            return as_browser_sends(self.rnd.choice(valid))
        return as_browser_sends(self.data.draw(junk if junk is not None else form_values))

    def short_text(self) -> str:
        """Free text (a display name, a reference): mostly within the form's 200 characters."""
        return self.field(*(t for t in NASTY_TEXT[:14] if len(t) <= 200), "สมชาย ใจดี", "Somchai", "", p=0.7)

    def csrf(self, good: str) -> str | None:
        """The right token nine times in ten (to get past it), else none or a wrong one (a 403)."""
        return good if self.rnd.random() < 0.9 else self.rnd.choice((None, "", "x" * 43))

    def drop_some(self, form: dict[str, str]) -> None:
        """Now and then a field is missing, as from a hand-made request."""
        if self.rnd.random() < 0.1:
            for key in self.rnd.sample(sorted(form), k=min(len(form), self.rnd.randint(1, 2))):
                form.pop(key, None)

    @staticmethod
    def uuid() -> str:
        """A fresh id (the random source Hypothesis controls repeats itself: every event id would be a
        resend)."""
        return str(uuid.uuid4())


def same_site(location: str) -> bool:
    """A redirect stays on this server: a local path, or an absolute URL naming this host."""
    parsed = urlsplit(location)
    if parsed.scheme or parsed.netloc:
        return parsed.scheme in ("http", "https") and parsed.netloc == "testserver"
    return location.startswith("/") and not location.startswith("//") and "\\" not in location


@pytest.fixture
def web(fast_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FuzzedWeb]:
    # Everything the app may write (the dashboard edits the office file and the broker's device list)
    # stays in this test's folder, as on an installed office with its own /etc/khiu/office.toml.
    office_file = fast_dir / "office.toml"
    office_file.write_text(tomli_w.dumps(office_dict()), "utf-8")
    monkeypatch.setenv("KHIU_CONFIG", str(office_file))
    monkeypatch.setenv("KHIU_DATA_DIR", str(fast_dir))
    monkeypatch.chdir(fast_dir)
    store = Store(f"sqlite:///{fast_dir / 'khiu.db'}")
    store.migrate()
    config = office_config()
    office = Office(config, store, publish=Recorder(), clock=FakeClock(), state_interval_s=0.0)
    office.start()
    clock = WebClock()
    settings = WebSettings(web_dir=fast_dir / "web", secret_key="f" * 48, clock=clock)
    accounts = Accounts(office.engine, settings, hasher=cheap_hasher())
    for name, role in (
        ("admin", Role.admin),
        ("admin2", Role.admin),
        ("staff1", Role.staff),
        ("manager1", Role.manager),
    ):
        accounts.create_user(name, PASSWORD, role)
    app = create_app(office, settings, accounts=accounts)
    clients = []
    for name in ("admin", "staff1", None):
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        if name is not None:
            token = form_token(client)
            response = client.post(
                "/login",
                data={"username": name, "password": PASSWORD, "csrf_token": token},
                follow_redirects=False,
            )
            assert response.status_code == 303
        clients.append(client)
    fuzzed = FuzzedWeb(app, office, store, accounts, settings, clock, *clients)
    _seed(fuzzed)
    yield fuzzed
    if fuzzed.accounts.user("admin") is not None:  # the setup fuzz empties the office of users
        for path in ("/console", "/console/c1", "/admin/users", "/admin/audit"):
            assert fuzzed.admin.get(path).status_code == 200, path
    for client in clients:
        client.__exit__(None, None, None)
    office.stop()
    store.close()


def _seed(web: FuzzedWeb) -> None:
    """Tickets waiting at the counters' services, forwarded matters with open cases."""
    office = web.office
    for _ in range(12):
        reply = office.submit(TicketRequest(service="grant"), sender="kiosk-1").result(30)
        assert isinstance(reply, TicketIssued)
    office.counter_command("c1", CounterCommand(action=CounterAction.open, staff="staff1")).result(30)
    for i in range(3):
        for action, extra in (
            (CounterAction.call_next, {}),
            (CounterAction.start, {}),
            (CounterAction.complete, {"outcome": Outcome.forwarded, "reference": f"REF-{i}"}),
        ):
            office.counter_command("c1", CounterCommand(action=action, staff="staff1", **extra)).result(30)
    web.cases = [c.case_id for c in office.cases().result(30)]
    assert len(web.cases) == 3


# ---------------------------------------------------------------------------------------------- forms


@FUZZ
@given(data=st.data())
def test_login_form(web: FuzzedWeb, data: st.DataObject) -> None:
    web.clock.now += dt.timedelta(minutes=2)  # throttling windows pass; lockouts still happen
    choose = Choose(data)
    client = web.anonymous
    client.cookies.delete(SESSION_COOKIE)
    good = web.csrf(client, "/login")
    form = {
        "username": choose.field("staff1", "admin", "STAFF1", " manager1 "),
        "password": choose.field(PASSWORD),
        "next": choose.field("/", "/console", p=0.5, junk=next_targets),
    }
    choose.drop_some(form)
    response, refused = web.post("login", client, "/login", form, csrf=choose.csrf(good))
    if not refused:
        assert response.status_code == 303 and form.get("password") == PASSWORD
        client.cookies.delete(SESSION_COOKIE)


@FUZZ
@given(data=st.data())
def test_first_start_setup_form(web: FuzzedWeb, data: st.DataObject) -> None:
    """The setup form of an office without users, with the right code often enough to reach every check
    behind it; a success is undone so the next case finds the form open again."""
    web.clock.now += dt.timedelta(minutes=2)
    choose = Choose(data)
    firstrun = web.app.state.web.firstrun
    if not firstrun.pending:
        _empty_office_users(web)
        firstrun.arm()
        web.last_fingerprint = None
    code = (web.settings.web_dir / "setup-code").read_text().strip()
    client = web.anonymous
    client.cookies.delete(SESSION_COOKIE)
    good = web.csrf(client, "/setup")
    password = choose.field(PASSWORD, "short", "firstadmin", p=0.7)
    form = {
        "code": choose.field(code, code.lower().replace("-", ""), "AAAA-BBBB-CCCC"),
        "username": choose.field("firstadmin", "Admin.Two", "a", "x" * 41),
        "password": password,
        "password_again": choose.field(password),
        "display_name": choose.short_text(),
    }
    choose.drop_some(form)
    before_users = len(web.accounts.users())
    response, _refused = web.post("setup", client, "/setup", form, csrf=choose.csrf(good))
    created = len(web.accounts.users()) - before_users
    if response.status_code == 303 and response.headers["location"] == "/login?m=setup_ok":
        assert created == 1
        CASES.note("web setup accepted")
    else:
        assert created == 0, (response.status_code, form)


def _empty_office_users(web: FuzzedWeb) -> None:
    """Back to an office without users (the fuzz admin's session goes with them)."""
    from sqlalchemy import delete

    from server.web.models import UserSession

    with web.store.engine.begin() as connection:
        connection.execute(delete(UserSession))
        connection.execute(delete(USERS_TABLE))


@FUZZ
@given(data=st.data())
def test_language_switch(web: FuzzedWeb, data: st.DataObject) -> None:
    choose = Choose(data)
    client = web.anonymous
    good = web.csrf(client, "/login")
    form = {"lang": choose.field("th", "en"), "next": choose.field("/", "/console", p=0.5, junk=next_targets)}
    choose.drop_some(form)
    response, _refused = web.post("lang", client, "/lang", form, csrf=choose.csrf(good))
    if response.is_redirect:
        cookie = response.headers.get("set-cookie", "")
        assert "khiu_lang=th" in cookie or "khiu_lang=en" in cookie


@FUZZ
@given(data=st.data())
def test_console_actions(web: FuzzedWeb, data: st.DataObject) -> None:
    choose = Choose(data)
    if choose.rnd.random() < 0.3:  # citizens keep coming, so there is someone to call
        web.office.submit(TicketRequest(service="grant"), sender="kiosk-1").result(30)
        web.last_fingerprint = None
    client = web.staff
    counter = choose.field("c1", "c2", "c3", p=0.9, junk=st.sampled_from(("c99", "C1", "..", "%00", "c1 ")))
    good = web.csrf(client, "/console/c1")
    # The actions that move a ticket along come often enough for the later ones to find a ticket.
    action = choose.field("open", "call_next", "call_next", "start", "complete", *ACTIONS)
    numbers = [f"C{n:03d}" for n in range(1, 13)]
    form = {
        "action": action,
        "event_id": choose.field(choose.uuid(), p=0.9, junk=BAD_IDS),
        "ticket": choose.field("", *numbers, p=0.9),
        "outcome": choose.field(*([o.value for o in Outcome] if action == "complete" else [""])),
        "to_service": choose.field(*(("reg", "tax", "grant") if action == "transfer" else ("",))),
        "reference": choose.short_text(),
    }
    choose.drop_some(form)
    path = f"/console/{quote(counter, safe='')}/action"
    response, _refused = web.post("console action", client, path, form, csrf=choose.csrf(good))
    assert response.status_code in (303, 403, 404, 422), response.status_code


@FUZZ
@given(data=st.data())
def test_case_follow_up(web: FuzzedWeb, data: st.DataObject) -> None:
    choose = Choose(data)
    client = web.staff
    good = web.csrf(client, "/console/c1")
    case_id = choose.field(*web.cases, p=0.85, junk=st.sampled_from(("x", "..", "%2e", str(uuid.uuid4()))))
    form = {
        "status": choose.field("open", "in_progress", "done"),
        "note": choose.field(
            "โทรตามแล้ว", "", "agency replied", p=0.6, junk=texts | st.text(min_size=990, max_size=1100)
        ),
        "next": choose.field("/console", "/console/c1", p=0.7, junk=next_targets),
    }
    form = {k: as_browser_sends(v) for k, v in form.items()}
    choose.drop_some(form)
    path = f"/cases/{quote(case_id, safe='')}"
    response, _refused = web.post("case update", client, path, form, csrf=choose.csrf(good))
    assert response.status_code in (303, 403, 404, 405, 422), response.status_code


@FUZZ
@given(data=st.data())
def test_adding_users(web: FuzzedWeb, data: st.DataObject) -> None:
    choose = Choose(data)
    client = web.admin
    good = web.csrf(client, "/admin/users")
    password = choose.field(PASSWORD, "short", p=0.85)
    form = {
        "username": choose.field(f"u{choose.uuid()[:8]}", p=0.7, junk=OTHER_NAMES),
        "role": choose.field(*[r.value for r in Role]),
        "password": password,
        "password_again": choose.field(password, p=0.9),
        "display_name": choose.short_text(),
    }
    choose.drop_some(form)
    before = len(web.accounts.users())
    _response, refused = web.post("add user", client, "/admin/users", form, csrf=choose.csrf(good))
    assert len(web.accounts.users()) == before + (0 if refused else 1)


@FUZZ
@given(data=st.data())
def test_changing_users(web: FuzzedWeb, data: st.DataObject) -> None:
    choose = Choose(data)
    client = web.admin
    good = web.csrf(client, "/admin/users")
    username = choose.field(*TARGET_USERS, p=0.85)
    if username.strip().lower() == "admin":  # the fuzzing admin itself is left alone
        username = "admin2"
    form = {
        "change": choose.field("role", "disable", "enable", "password"),
        "role": choose.field(*[r.value for r in Role]),
        "password": choose.field(PASSWORD, "short"),
        "password_again": choose.field(PASSWORD),
    }
    choose.drop_some(form)
    path = "/admin/users/" + (quote(username, safe="") or "_")
    web.post("change user", client, path, form, csrf=choose.csrf(good))


# ---------------------------------------------------------------------------------------------- every route


def _routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    found = []
    for route in flat_routes(app.routes):
        if isinstance(route, APIRoute):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append((method, route))
    return sorted(found, key=lambda item: (item[0], item[1].path))


@FUZZ
@given(data=st.data())
def test_every_route_with_generated_fields(web: FuzzedWeb, data: st.DataObject) -> None:
    """Whatever the route (the dashboard's included, once the app has it), generated path, query and form
    values never get a 500, for a visitor of any role."""
    method, route = data.draw(st.sampled_from(_routes(web.app)))
    client = data.draw(st.sampled_from((web.admin, web.staff, web.anonymous)))
    path = route.path_format
    for param in route.dependant.path_params:
        value = data.draw(
            st.one_of(st.sampled_from(("c1", "staff1", "regular", *web.cases[:1])), form_values)
        )
        path = path.replace("{" + param.name + "}", quote(value, safe="") or "_")
    query = {p.name: data.draw(form_values) for p in route.dependant.query_params if data.draw(st.booleans())}
    form = {p.alias: data.draw(form_values) for p in route.dependant.body_params if data.draw(st.booleans())}
    if method == "GET":
        response = client.get(path, params=query, follow_redirects=False)
        assert response.status_code < 500, f"{response.status_code} on GET {path} {query!r}"
        CASES.add("web any route (GET)", rejected=response.status_code >= 400)
        return
    page = "/console/c1" if client is not web.anonymous else "/login"
    good = web.csrf(client, page)
    web.last_fingerprint = None
    before = fingerprint(web.store.read_engine, GUARDED)
    response = client.request(
        method, path, params=query, data={**form, "csrf_token": good}, follow_redirects=False
    )
    assert response.status_code < 500, f"{response.status_code} on {method} {path} {form!r}"
    if response.status_code >= 400:
        assert fingerprint(web.store.read_engine, GUARDED) == before, f"refused {method} {path} changed data"
    web.flash(client)
    CASES.add(f"web any route ({method})", rejected=response.status_code >= 400)


def test_a_wrong_or_missing_csrf_token_is_refused_and_changes_nothing(web: FuzzedWeb) -> None:
    event = str(uuid.uuid4())
    for token in (None, "", "x" * 43):
        response, refused = web.post(
            "console action",
            web.staff,
            "/console/c1/action",
            {"action": "call_next", "event_id": event},
            csrf=token,
        )
        assert response.status_code == 403 and refused
    assert json.dumps(web.flash(web.staff)) == "null"
