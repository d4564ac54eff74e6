"""Who may open which route, CSRF, cookies and security headers.

One declarative mechanism: every route of the app belongs to a router made by `guarded_router(access)`,
whose single dependency (`Guard`) loads the session, refuses the visitor who lacks the role, and checks the
CSRF token of every state-changing request. `create_app` refuses to start when a route carries no guard,
so a route cannot be forgotten; tests/web/test_access.py walks every route as every role.

Sessions live in the database (server.web.accounts); the cookie is `HttpOnly`, `SameSite=Strict`, and
`Secure` when served over HTTPS. Forms shown before login (login, first-start setup, language) carry a
token that must match a signed cookie (double submit); after login, the session's own token."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.vocabulary import Lang
from server.web.accounts import Role, SessionInfo
from server.web.texts import LANG_COOKIE, lang_of

if TYPE_CHECKING:
    from server.web.context import WebContext

SESSION_COOKIE = "khiu_session"
FORM_COOKIE = "khiu_form"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""No inline script or style anywhere, no third-party origin: every asset is served by this server."""

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


class Access(IntEnum):
    """Who may open a route: anyone, or a logged-in user of at least this role."""

    anonymous = 0
    staff = 1
    manager = 2
    admin = 3

    @classmethod
    def of(cls, role: Role) -> Access:
        return cls(role.level)


# ---------------------------------------------------------------------------------------------- refusals


class AccessRefused(Exception):
    """Base of the refusals the app turns into a page (or JSON for the live endpoints)."""


class SetupRequired(AccessRefused):
    """No user exists yet: the first administrator must be created on /setup."""


class LoginRequired(AccessRefused):
    """The route needs a user and this browser has no live session."""


class RoleRefused(AccessRefused):
    """The user is logged in but their role is below the route's."""


class CsrfRefused(AccessRefused):
    """A state-changing request without the right token: from another site, or a stale page."""


# ---------------------------------------------------------------------------------------------- visitor


@dataclass(slots=True)
class Visitor:
    """What the guard learnt about this request; `request.state.visitor`."""

    session: SessionInfo | None
    lang: Lang
    form_token: str
    """The pre-login CSRF token (from the signed cookie, or new)."""
    form_token_new: bool

    @property
    def csrf_token(self) -> str:
        """The token forms on this page must carry."""
        return self.session.csrf_token if self.session is not None else self.form_token

    @property
    def role(self) -> Role | None:
        return self.session.user.role if self.session is not None else None


def visitor(request: Request) -> Visitor:
    found = getattr(request.state, "visitor", None)
    if not isinstance(found, Visitor):
        raise RuntimeError(f"route {request.url.path} ran without a Guard")
    return found


class Guard:
    """The single access decision of a router: load the session, check the role, check CSRF."""

    def __init__(self, access: Access) -> None:
        self.access = access

    def __repr__(self) -> str:
        return f"Guard({self.access.name})"

    async def __call__(self, request: Request) -> None:
        web: WebContext = request.app.state.web
        token = request.cookies.get(SESSION_COOKIE, "")
        session = await run_in_threadpool(web.accounts.session, token) if token else None
        form_token, new = form_token_of(web, request)
        request.state.visitor = Visitor(
            session=session,
            lang=lang_of(request.cookies.get(LANG_COOKIE)),
            form_token=form_token,
            form_token_new=new,
        )
        if self.access > Access.anonymous:
            if web.firstrun.pending:
                raise SetupRequired
            if session is None:
                raise LoginRequired
            if Access.of(session.user.role) < self.access:
                raise RoleRefused
        if request.method not in SAFE_METHODS:
            await _check_csrf(request, session, None if new else form_token)


def guarded_router(access: Access) -> APIRouter:
    """A router every route of which needs `access`. The only way routes are added to the app."""
    return APIRouter(dependencies=[Depends(Guard(access))])


def route_access(route: APIRoute) -> Access | None:
    """The access a route declares through its guard, or None when it has none (or several)."""
    guards = [d.dependency for d in route.dependencies if isinstance(d.dependency, Guard)]
    return guards[0].access if len(guards) == 1 else None


def flat_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The app's routes one by one. FastAPI 0.16x keeps an included router as one entry of `app.routes`
    (`iter_route_contexts` opens it); older releases copied the routes themselves into the app."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before included routers
        return list(routes)
    return [context.original_route for context in iter_route_contexts(routes)]


def check_every_route_guarded(routes: Sequence[BaseRoute], allowed_unguarded: frozenset[str]) -> None:
    """Refuse to start when a route has no access decision."""
    missing = []
    for route in flat_routes(routes):
        if isinstance(route, APIRoute):
            if route_access(route) is None:
                missing.append(route.path)
        elif getattr(route, "path", None) not in allowed_unguarded:
            missing.append(str(getattr(route, "path", route)))
    if missing:
        raise RuntimeError(f"routes without an access decision (use guarded_router): {', '.join(missing)}")


# ---------------------------------------------------------------------------------------------- CSRF


def _serializer(web: WebContext) -> URLSafeSerializer:
    return URLSafeSerializer(web.settings.secret_key, salt="khiu.form-token")


def form_token_of(web: WebContext, request: Request) -> tuple[str, bool]:
    """The pre-login CSRF token from the signed cookie, or a new one (True: send the cookie)."""
    raw = request.cookies.get(FORM_COOKIE)
    if raw:
        try:
            value = _serializer(web).loads(raw)
        except BadSignature:
            value = None
        if isinstance(value, str) and len(value) >= 32:
            return value, False
    return secrets.token_urlsafe(32), True


async def _check_csrf(request: Request, session: SessionInfo | None, form_token: str | None) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            field = form.get(CSRF_FIELD)
            sent = field if isinstance(field, str) else None
    expected = [session.csrf_token] if session is not None else []
    if form_token is not None:
        expected.append(form_token)
    if not sent or not any(hmac.compare_digest(sent.encode(), e.encode()) for e in expected):
        raise CsrfRefused


# ---------------------------------------------------------------------------------------------- cookies


def secure_cookies(web: WebContext, request: Request) -> bool:
    setting = web.settings.secure_cookies
    return setting if setting is not None else request.url.scheme == "https"


def set_cookie(
    web: WebContext,
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(web, request),
    )


def remember_form_token(web: WebContext, request: Request, response: Response) -> None:
    """Send the pre-login token's cookie when this page made a new one."""
    found = getattr(request.state, "visitor", None)
    if isinstance(found, Visitor) and found.form_token_new:
        set_cookie(web, request, response, FORM_COOKIE, _serializer(web).dumps(found.form_token))


def forget_session(web: WebContext, request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookies(web, request)
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after login; anything else (another host, `//evil`) is ignored."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# ---------------------------------------------------------------------------------------------- headers


class SecurityHeaders:
    """Adds the security headers to every response, `no-store` to every page that is not a static asset,
    and HSTS over HTTPS."""

    def __init__(self, app: ASGIApp, *, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = str(scope.get("path", "")).startswith(self.static_prefix)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if not is_static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
