"""Fixtures of the web tests: an office on a temporary SQLite database, the app, and logged-in clients
for each role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.config import OfficeConfig, load_config
from common.paths import EXAMPLE_CONFIG
from server.office import Office
from server.store import Store
from server.web import WebSettings, create_app
from server.web.accounts import Accounts, Role

PASSWORD = "correct horse battery"
T0 = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)  # 09:00 in Bangkok, a Thursday


class Clock:
    """The web app's clock, moved by hand: `advance` is time passing (its `elapsed` moves too), setting
    `now` is the clock being set (the office logs it and the today page shows it)."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start
        self._elapsed = 0.0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        step = dt.timedelta(**delta)
        self.now += step
        self._elapsed += step.total_seconds()

    def elapsed(self) -> float:
        """Seconds passed since the start (an `Office`'s `elapsed`)."""
        return self._elapsed


def cheap_hasher() -> PasswordHasher:
    """argon2id with small costs: the same code path, a fraction of the time."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def office_config() -> OfficeConfig:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def office(tmp_path: Path, office_config: OfficeConfig, clock: Clock) -> Iterator[Office]:
    """The real sequencer on a fresh SQLite file, its clock in the test's hands."""
    store = Store(f"sqlite:///{tmp_path / 'office.db'}")
    store.migrate()
    office = Office(office_config, store, clock=clock, elapsed=clock.elapsed)
    office.start()
    yield office
    office.stop()
    store.close()


@pytest.fixture
def settings(tmp_path: Path, clock: Clock) -> WebSettings:
    return WebSettings(web_dir=tmp_path / "web", secret_key="t" * 48, clock=clock)


@pytest.fixture
def accounts(office: Office, settings: WebSettings) -> Accounts:
    return Accounts(office.engine, settings, hasher=cheap_hasher())


@pytest.fixture
def users(accounts: Accounts) -> dict[Role, str]:
    """One user per role, created before the app starts (so no first-start setup)."""
    names = {Role.staff: "staff1", Role.manager: "manager1", Role.admin: "admin"}
    shown = {Role.staff: "เจ้าหน้าที่ช่องหนึ่ง", Role.manager: "หัวหน้าศูนย์", Role.admin: "ผู้ดูแลระบบ"}
    for role, name in names.items():
        accounts.create_user(name, PASSWORD, role, display_name=shown[role])
    return names


@pytest.fixture
def app(office: Office, settings: WebSettings, accounts: Accounts, users: dict[Role, str]) -> FastAPI:
    return create_app(office, settings, accounts=accounts)


def form_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the page at `path` (the hidden field every form carries)."""
    import re

    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, f"no csrf_token on {path}"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = form_token(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def staff(app: FastAPI, users: dict[Role, str]) -> Iterator[TestClient]:
    with TestClient(app) as client:
        log_in(client, users[Role.staff])
        yield client


@pytest.fixture
def admin(app: FastAPI, users: dict[Role, str]) -> Iterator[TestClient]:
    with TestClient(app) as client:
        log_in(client, users[Role.admin])
        yield client
