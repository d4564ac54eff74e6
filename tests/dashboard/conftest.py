"""Fixtures of the dashboard tests: the real sequencer on a temporary SQLite file with a copy of the
example office file (the administration pages edit the copy), a broker folder of its own, the web app
with the dashboard, and logged-in clients. The clock is the test's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.config import OfficeConfig, load_config
from common.paths import EXAMPLE_CONFIG
from server.office import Office
from server.store import Store
from server.web import WebSettings, create_app
from server.web.accounts import Accounts, Role
from server.web.dashboard import DashboardSettings
from tests.web.conftest import Clock, cheap_hasher, log_in

PASSWORD = "correct horse battery"


@pytest.fixture
def office_file(tmp_path: Path) -> Path:
    """The office's own copy of the example file: what the server was started with."""
    path = tmp_path / "office.toml"
    shutil.copyfile(EXAMPLE_CONFIG, path)
    return path


@pytest.fixture
def office_config(office_file: Path) -> OfficeConfig:
    return load_config(office_file)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def office(tmp_path: Path, office_config: OfficeConfig, clock: Clock) -> Iterator[Office]:
    store = Store(f"sqlite:///{tmp_path / 'office.db'}")
    store.migrate()
    office = Office(office_config, store, clock=clock, elapsed=clock.elapsed)
    office.start()
    yield office
    office.stop()
    store.close()


@pytest.fixture
def settings(tmp_path: Path, clock: Clock) -> WebSettings:
    return WebSettings(web_dir=tmp_path / "web", secret_key="d" * 48, clock=clock)


@pytest.fixture
def accounts(office: Office, settings: WebSettings) -> Accounts:
    return Accounts(office.engine, settings, hasher=cheap_hasher())


@pytest.fixture
def users(accounts: Accounts) -> dict[Role, str]:
    names = {Role.staff: "staff1", Role.manager: "manager1", Role.admin: "admin"}
    shown = {Role.staff: "เจ้าหน้าที่ช่องหนึ่ง", Role.manager: "หัวหน้าศูนย์", Role.admin: "ผู้ดูแลระบบ"}
    for role, name in names.items():
        accounts.create_user(name, PASSWORD, role, display_name=shown[role])
    return names


@pytest.fixture
def app(
    office: Office,
    settings: WebSettings,
    accounts: Accounts,
    users: dict[Role, str],
    office_file: Path,
    tmp_path: Path,
) -> Iterator[FastAPI]:
    app = create_app(office, settings, accounts=accounts)
    app.state.dashboard_settings = DashboardSettings(config_path=office_file, broker_dir=tmp_path / "broker")
    yield app
    if app.state.dashboard is not None:
        app.state.dashboard.close()


@pytest.fixture
def manager(app: FastAPI, users: dict[Role, str]) -> Iterator[TestClient]:
    with TestClient(app) as client:
        log_in(client, users[Role.manager])
        yield client


@pytest.fixture
def admin(app: FastAPI, users: dict[Role, str]) -> Iterator[TestClient]:
    with TestClient(app) as client:
        log_in(client, users[Role.admin])
        yield client
