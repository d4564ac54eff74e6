"""CSRF, login throttling, sessions, first-start setup and the security headers, as a browser meets them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.office import Office
from server.web import WebSettings, create_app
from server.web.accounts import Accounts, Role
from server.web.settings import WebSettingsError
from tests.web.conftest import PASSWORD, Clock, form_token, log_in


def _event_id(page: str, action: str) -> str:
    found = re.search(
        rf'name="event_id" value="([^"]+)">\s*<input type="hidden" name="action" value="{action}"', page
    )
    assert found, f"no {action} form on the page"
    return found.group(1)


# ---------------------------------------------------------------------------------------------- CSRF


def test_action_without_csrf_token_is_refused_and_never_reaches_the_office(
    staff: TestClient, office: Office
) -> None:
    page = staff.get("/console/c1").text
    event = _event_id(page, "open")
    response = staff.post("/console/c1/action", data={"action": "open", "event_id": event})
    assert response.status_code == 403
    assert "แบบฟอร์มหมดอายุ" in response.text
    response = staff.post(
        "/console/c1/action", data={"action": "open", "event_id": event, "csrf_token": "x" * 43}
    )
    assert response.status_code == 403
    assert office.counter_panel("c1").result().open is False, "nothing reached the office"


def test_token_of_another_session_is_refused(app: FastAPI, users: dict[Role, str], office: Office) -> None:
    with TestClient(app) as first, TestClient(app) as second:
        log_in(first, users[Role.staff])
        log_in(second, users[Role.staff])
        token_of_first = form_token(first, "/console/c1")
        event = _event_id(second.get("/console/c1").text, "open")
        response = second.post(
            "/console/c1/action", data={"action": "open", "event_id": event, "csrf_token": token_of_first}
        )
        assert response.status_code == 403
    assert office.counter_panel("c1").result().open is False


def test_csrf_header_works_for_scripts(staff: TestClient, office: Office) -> None:
    token = form_token(staff, "/console/c1")
    event = _event_id(staff.get("/console/c1").text, "open")
    response = staff.post(
        "/console/c1/action",
        data={"action": "open", "event_id": event},
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert office.counter_panel("c1").result().open is True


def test_login_form_needs_its_token(anonymous: TestClient, users: dict[Role, str]) -> None:
    response = anonymous.post("/login", data={"username": users[Role.staff], "password": PASSWORD})
    assert response.status_code == 403
    fresh = TestClient(anonymous.app)  # a forged form from another site: no form cookie at all
    response = fresh.post(
        "/login",
        data={"username": users[Role.staff], "password": PASSWORD, "csrf_token": form_token(anonymous)},
    )
    assert response.status_code == 403


# ---------------------------------------------------------------------------------------------- throttling


def _try(client: TestClient, username: str, password: str) -> tuple[int, str]:
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": form_token(client)},
        follow_redirects=False,
    )
    return response.status_code, response.text


def test_five_wrong_passwords_make_the_account_wait(
    anonymous: TestClient, users: dict[Role, str], clock: Clock
) -> None:
    name = users[Role.staff]
    for _ in range(4):
        status, page = _try(anonymous, name, "wrong password")
        assert status == 401
        assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in page
    status, page = _try(anonymous, name, "wrong password")
    assert status == 429
    assert "กรุณารอ 5 นาที" in page
    # Even the right password waits: the throttle is checked before the password.
    status, page = _try(anonymous, name, PASSWORD)
    assert status == 429
    clock.advance(minutes=4)
    assert _try(anonymous, name, PASSWORD)[0] == 429
    assert "กรุณารอ 1 นาที" in _try(anonymous, name, PASSWORD)[1]
    clock.advance(minutes=1, seconds=1)
    assert _try(anonymous, name, PASSWORD)[0] == 303


def test_other_accounts_are_not_locked_by_one_account(anonymous: TestClient, users: dict[Role, str]) -> None:
    for _ in range(5):
        _try(anonymous, users[Role.staff], "wrong password")
    assert _try(anonymous, users[Role.manager], PASSWORD)[0] == 303


def test_one_address_trying_many_names_must_wait(anonymous: TestClient, users: dict[Role, str]) -> None:
    for i in range(20):
        _try(anonymous, f"guess{i}", "wrong password")
    status, page = _try(anonymous, users[Role.admin], PASSWORD)
    assert status == 429
    assert "ใส่รหัสผ่านผิดหลายครั้งเกินไป" in page


def test_a_success_clears_the_account_count(anonymous: TestClient, users: dict[Role, str]) -> None:
    name = users[Role.staff]
    for _ in range(4):
        _try(anonymous, name, "wrong password")
    assert _try(anonymous, name, PASSWORD)[0] == 303
    with TestClient(anonymous.app) as other:
        for _ in range(4):
            assert _try(other, name, "wrong password")[0] == 401


def test_unknown_and_disabled_users_read_like_a_wrong_password(
    anonymous: TestClient, accounts: Accounts, users: dict[Role, str]
) -> None:
    accounts.set_active(users[Role.manager], False)
    for name in ("nobody", users[Role.manager]):
        status, page = _try(anonymous, name, PASSWORD)
        assert status == 401
        assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in page


# ---------------------------------------------------------------------------------------------- sessions


def test_cookie_flags(app: FastAPI, users: dict[Role, str]) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        client.get("/login")
        token = form_token(client)
        response = client.post(
            "/login",
            data={"username": users[Role.staff], "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        cookie = response.headers["set-cookie"].lower()
        assert "khiu_session=" in cookie
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "secure" in cookie
    with TestClient(app, base_url="http://testserver") as client:
        log_in(client, users[Role.staff])
        # Plain HTTP on the office LAN: a Secure cookie would never come back.
        assert client.cookies.get("khiu_session")


def test_logout_ends_the_session_on_the_server(staff: TestClient) -> None:
    stolen = staff.cookies.get("khiu_session")
    token = form_token(staff, "/console")
    staff.post("/logout", data={"csrf_token": token})
    with TestClient(staff.app, cookies={"khiu_session": stolen}) as thief:
        assert thief.get("/console", follow_redirects=False).status_code == 303


def test_disabling_a_user_ends_their_sessions(
    staff: TestClient, accounts: Accounts, users: dict[Role, str]
) -> None:
    assert staff.get("/console").status_code == 200
    accounts.set_active(users[Role.staff], False, acting=users[Role.admin])
    assert staff.get("/console", follow_redirects=False).status_code == 303


def test_idle_session_expires(staff: TestClient, clock: Clock) -> None:
    clock.advance(hours=7)
    assert staff.get("/console").status_code == 200
    clock.advance(hours=7)  # seen 7 h ago: still alive
    assert staff.get("/console").status_code == 200
    clock.advance(hours=1)  # 15 h since login: past the day's maximum
    assert staff.get("/console", follow_redirects=False).status_code == 303


# ---------------------------------------------------------------------------------------------- setup


@pytest.fixture
def fresh_app(office: Office, settings: WebSettings) -> FastAPI:
    from tests.web.conftest import cheap_hasher

    return create_app(office, settings, accounts=Accounts(office.engine, settings, hasher=cheap_hasher()))


def _setup(
    client: TestClient, code: str, username: str = "boss", password: str = "a long enough pass"
) -> tuple[int, str]:
    response = client.post(
        "/setup",
        data={
            "code": code,
            "username": username,
            "display_name": "หัวหน้าศูนย์",
            "password": password,
            "password_again": password,
            "csrf_token": form_token(client, "/setup"),
        },
        follow_redirects=False,
    )
    return response.status_code, response.text


def test_first_start_asks_for_the_first_admin_with_the_one_time_code(
    fresh_app: FastAPI, settings: WebSettings, accounts: Accounts
) -> None:
    code_file = settings.web_dir / "setup-code"
    code = code_file.read_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert code_file.stat().st_mode & 0o077 == 0, "the code file is readable by the owner only"
    with TestClient(fresh_app) as client:
        assert client.get("/console", follow_redirects=False).headers["location"] == "/setup"
        assert "ตั้งค่าผู้ดูแลระบบคนแรก" in client.get("/login").text
        status, page = _setup(client, "AAAA-BBBB-CCCC")
        assert status == 403
        assert "รหัสตั้งค่าไม่ถูกต้อง" in page
        status, page = _setup(client, code, password="short")
        assert status == 400
        assert "อย่างน้อย 10 ตัวอักษร" in page
        status, _ = _setup(client, code.lower().replace("-", " "))
        assert status == 303
        assert not code_file.exists(), "the spent code is removed"
        assert client.get("/setup", follow_redirects=False).headers["location"] == "/login"
        assert _setup(client, code, username="intruder")[0] == 303
        log_in(client, "boss", "a long enough pass")
        assert "หัวหน้าศูนย์" in client.get("/admin/users").text
    assert [u.username for u in accounts.users()] == ["boss"]
    assert accounts.users()[0].role is Role.admin


def test_a_restart_before_setup_keeps_the_printed_code(
    office: Office, settings: WebSettings, fresh_app: FastAPI
) -> None:
    first = (settings.web_dir / "setup-code").read_text()
    create_app(office, settings, accounts=Accounts(office.engine, settings))
    assert (settings.web_dir / "setup-code").read_text() == first


def test_guessing_setup_codes_is_throttled(fresh_app: FastAPI, settings: WebSettings) -> None:
    code = (settings.web_dir / "setup-code").read_text().strip()
    with TestClient(fresh_app) as client:
        for _ in range(20):
            _setup(client, "AAAA-BBBB-CCCC")
        status, page = _setup(client, code)
        assert status == 429
        assert "กรุณารอ" in page


# ---------------------------------------------------------------------------------------------- headers


@pytest.mark.parametrize("path", ["/login", "/static/app.css", "/no-such-page", "/fonts/regular.ttf"])
def test_security_headers_on_every_response(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_pages_are_not_cached_and_have_no_inline_script(staff: TestClient) -> None:
    response = staff.get("/console/c1")
    assert response.headers["cache-control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), (
        "inline script would be blocked by the CSP"
    )
    assert " style=" not in response.text and "<style" not in response.text
    assert not re.search(r'(src|href)="(https?:)?//', response.text), "every asset comes from this server"


def test_hsts_only_over_https(app: FastAPI) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        assert "strict-transport-security" in client.get("/login").headers
    with TestClient(app) as client:
        assert "strict-transport-security" not in client.get("/login").headers


def test_settings_refuse_a_placeholder_secret(tmp_path: Path) -> None:
    with pytest.raises(WebSettingsError, match="at least 32"):
        WebSettings(web_dir=tmp_path, secret_key="changeme")


def test_secret_key_is_made_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KHIU_WEB_SECRET", raising=False)
    first = WebSettings.from_data_dir(tmp_path)
    second = WebSettings.from_data_dir(tmp_path)
    assert first.secret_key == second.secret_key
    assert (tmp_path / "web" / "secret.key").stat().st_mode & 0o077 == 0
