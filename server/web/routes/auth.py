"""Log in, log out, the first-start setup and the language switch."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from server.web.accounts import AccountError, LoginStatus, Role
from server.web.context import WebContext, client_ip
from server.web.security import (
    SESSION_COOKIE,
    Access,
    forget_session,
    guarded_router,
    safe_next,
    set_cookie,
    visitor,
)
from server.web.texts import LANG_COOKIE, lang_of

logger = logging.getLogger(__name__)

public = guarded_router(Access.anonymous)
staff = guarded_router(Access.staff)

SETUP_ACCOUNT = "(setup)"
"""Failed setup codes are throttled like passwords, under a name no user can have."""

NOTICES = frozenset({"logged_out", "setup_ok", "login_required"})
"""Messages the login page shows from `?m=` (a fixed list: the query cannot inject text)."""

FormText = Annotated[str, Form(max_length=200)]


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@staff.get("/")
def home(request: Request) -> Response:
    """Back to the counter this browser works at, else the counter choice."""
    session = visitor(request).session
    counter = session.counter if session else None
    if counter and _web(request).office.config.counter_by_id(counter) is not None:
        return _see_other(f"/console/{counter}")
    return _see_other("/console")


@public.get("/login")
def login_page(request: Request, next: str = "/", m: str = "") -> Response:
    web = _web(request)
    if visitor(request).session is not None:
        return _see_other(safe_next(next))
    return web.render(
        request,
        "login.html",
        next=safe_next(next),
        notice=m if m in NOTICES else None,
        error=None,
        setup_pending=web.firstrun.pending,
        username="",
    )


@public.post("/login")
def login(
    request: Request,
    username: FormText,
    password: Annotated[str, Form(max_length=1000)],
    next: FormText = "/",
) -> Response:
    web = _web(request)
    ip = client_ip(request)
    result = web.accounts.login(username, password, ip=ip)
    if result.status is LoginStatus.ok and result.user is not None:
        token, _session = web.accounts.start_session(result.user, ip=ip)
        response = _see_other(safe_next(next))
        max_age = int(web.settings.session_max_age.total_seconds())
        set_cookie(web, request, response, SESSION_COOKIE, token, max_age=max_age)
        return response
    if result.status is LoginStatus.locked:
        error = ("login_locked", {"minutes": result.wait_minutes})
        status = 429
    else:
        error = ("login_failed", {})
        status = 401
    return web.render(
        request,
        "login.html",
        status_code=status,
        next=safe_next(next),
        notice=None,
        error=error,
        setup_pending=web.firstrun.pending,
        username=username,
    )


@staff.post("/logout")
def logout(request: Request) -> Response:
    web = _web(request)
    session = visitor(request).session
    if session is not None:
        web.accounts.end_session(session.key)
        web.accounts.audit(session.user.username, "logout", "", client_ip(request))
    response = _see_other("/login?m=logged_out")
    forget_session(web, request, response)
    return response


@public.get("/setup")
def setup_page(request: Request) -> Response:
    web = _web(request)
    if not web.firstrun.pending:
        return _see_other("/login")
    return web.render(request, "setup.html", error=None, code_path=str(web.firstrun.path), values={})


@public.post("/setup")
def setup(
    request: Request,
    code: FormText,
    username: FormText,
    password: Annotated[str, Form(max_length=1000)],
    password_again: Annotated[str, Form(max_length=1000)],
    display_name: FormText = "",
) -> Response:
    web = _web(request)
    if not web.firstrun.pending:
        return _see_other("/login")
    ip = client_ip(request)
    accounts = web.accounts
    values = {"username": username, "display_name": display_name}

    def again(key: str, status: int, **fill: object) -> Response:
        return web.render(
            request,
            "setup.html",
            status_code=status,
            error=(key, fill),
            code_path=str(web.firstrun.path),
            values=values,
        )

    wait = accounts.lockout(SETUP_ACCOUNT, ip, web.now())
    if wait is not None:
        return again("login_locked", 429, minutes=max(1, -(-int(wait.total_seconds()) // 60)))
    if not web.firstrun.check(code):
        accounts.record_attempt(SETUP_ACCOUNT, ip, success=False)
        accounts.audit(None, "setup.failed", "wrong setup code", ip)
        return again("setup_bad_token", 403)
    try:
        user = accounts.create_user(
            username, password, Role.admin, display_name=display_name, again=password_again, only_if_none=True
        )
    except AccountError as exc:
        if exc.code == "setup_done_already":
            web.firstrun.disarm()
            return _see_other("/login")
        return again(exc.code, 400, **exc.values)
    web.firstrun.disarm()
    accounts.record_attempt(SETUP_ACCOUNT, ip, success=True)
    accounts.audit(user.username, "setup", "first administrator created", ip)
    logger.info("first administrator %r created from %s", user.username, ip)
    return _see_other("/login?m=setup_ok")


@public.post("/lang")
def switch_language(request: Request, lang: FormText, next: FormText = "/") -> Response:
    web = _web(request)
    response = _see_other(safe_next(next))
    set_cookie(web, request, response, LANG_COOKIE, lang_of(lang).value, max_age=400 * 24 * 3600)
    return response
