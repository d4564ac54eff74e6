"""Who gets into which route. The table below is the decision for every route of the app; a route added
without a line here fails `test_every_route_has_a_decision`, and every line is walked as anonymous,
staff, manager and admin."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from server.web.accounts import Role
from server.web.security import Access, check_every_route_guarded, flat_routes, guarded_router, route_access
from tests.dashboard.routes import DASHBOARD_ROUTES
from tests.web.conftest import log_in

A, S, M, ADMIN = Access.anonymous, Access.staff, Access.manager, Access.admin

ROUTES: dict[tuple[str, str], Access] = {
    ("GET", "/"): S,
    ("GET", "/login"): A,
    ("POST", "/login"): A,
    ("POST", "/logout"): S,
    ("GET", "/setup"): A,
    ("POST", "/setup"): A,
    ("POST", "/lang"): A,
    ("GET", "/fonts/{face}.ttf"): A,
    ("MOUNT", "/static"): A,
    ("GET", "/console"): S,
    ("GET", "/console/{counter_id}"): S,
    ("GET", "/console/{counter_id}/state.json"): S,
    ("POST", "/console/{counter_id}/action"): S,
    ("POST", "/cases/{case_id}"): S,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{username}"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/t/{ticket_id}"): A,
    ("POST", "/t/{ticket_id}"): A,
}
"""Anonymous only: login, first-start setup, the language switch, fonts and static assets, and the
citizen's ticket page under /t/ (its id, a random UUID printed on the ticket, is the key)."""

PATH_VALUES = {
    "counter_id": "c1",
    "case_id": "case-1",
    "username": "staff1",
    "face": "regular",
    "ticket_id": "6f1c2b9e-0d4a-4f7e-9c3b-2a1d5e8f7a60",
}


def app_routes(app: FastAPI) -> dict[tuple[str, str], Access | None]:
    found: dict[tuple[str, str], Access | None] = {}
    for route in flat_routes(app.routes):
        if isinstance(route, APIRoute):
            for method in (route.methods or set()) - {"HEAD"}:
                found[(method, route.path)] = route_access(route)
        elif isinstance(route, Mount):
            found[("MOUNT", route.path)] = Access.anonymous
    return found


def test_every_route_has_a_decision(app: FastAPI) -> None:
    """This table and the dashboard's (tests/dashboard/routes.py, walked by tests/dashboard) together
    decide every route of the app."""
    declared = app_routes(app)
    decided = {**ROUTES, **DASHBOARD_ROUTES}
    assert set(declared) == set(decided), (
        f"routes without a decision: {sorted(set(declared) - set(decided))}; "
        f"decisions without a route: {sorted(set(decided) - set(declared))}"
    )
    for key, access in decided.items():
        assert declared[key] == access, f"{key} is guarded as {declared[key]}, the table says {access}"


def test_public_ticket_prefix_is_reserved_for_anonymous_pages(app: FastAPI) -> None:
    for (_method, path), access in app_routes(app).items():
        if path.startswith("/t/"):
            assert access is Access.anonymous, f"{path}: the citizen's ticket pages need no login"


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def _csrf(client: TestClient, logged_in: bool) -> str:
    page = client.get("/console" if logged_in else "/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


@pytest.mark.parametrize("who", [None, Role.staff, Role.manager, Role.admin], ids=lambda r: r or "anonymous")
def test_walk_every_route_as_every_role(app: FastAPI, users: dict[Role, str], who: Role | None) -> None:
    level = Access.anonymous if who is None else Access.of(who)
    for (method, path), needed in ROUTES.items():
        if method == "MOUNT":
            with TestClient(app) as client:
                response = client.get("/static/app.css")
                assert response.status_code == 200
            continue
        with TestClient(app) as client:
            if who is not None:
                log_in(client, users[who])
            url = _fill(path)
            if method == "GET":
                response = client.get(url, follow_redirects=False)
            else:
                token = _csrf(client, who is not None)
                response = client.post(url, data={"csrf_token": token}, follow_redirects=False)
            where = f"{method} {path} as {who or 'anonymous'}"
            if level >= needed:
                assert response.status_code not in (401, 403), f"{where}: refused ({response.status_code})"
                assert not response.headers.get("location", "").startswith("/login?next"), (
                    f"{where}: sent to login"
                )
            elif who is None:
                if method == "GET" and not path.endswith(".json"):
                    assert response.status_code == 303, where
                    assert response.headers["location"].startswith("/login?next="), where
                else:
                    assert response.status_code == 401, where
            else:
                assert response.status_code == 403, f"{where}: let in ({response.status_code})"


def test_a_route_without_a_guard_stops_the_start() -> None:
    app = FastAPI()

    @app.get("/forgotten")
    def forgotten() -> str:
        return "oops"

    guarded = guarded_router(Access.staff)

    @guarded.get("/fine")
    def fine() -> str:
        return "ok"

    app.include_router(guarded)
    with pytest.raises(RuntimeError, match="/forgotten"):
        check_every_route_guarded(app.routes, allowed_unguarded=frozenset())


def test_login_redirect_comes_back_to_the_page(anonymous: TestClient, users: dict[Role, str]) -> None:
    response = anonymous.get("/console/c2", follow_redirects=False)
    assert response.headers["location"] == "/login?next=/console/c2"
    token = _csrf(anonymous, False)
    response = anonymous.post(
        "/login",
        data={
            "username": users[Role.staff],
            "password": "correct horse battery",
            "csrf_token": token,
            "next": "/console/c2",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/console/c2"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_to_another_site(
    anonymous: TestClient, users: dict[Role, str], target: str
) -> None:
    token = _csrf(anonymous, False)
    response = anonymous.post(
        "/login",
        data={
            "username": users[Role.staff],
            "password": "correct horse battery",
            "csrf_token": token,
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
