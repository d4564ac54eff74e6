"""The web app of the office server: staff console, administration, and (later) the manager dashboard
and the public ticket pages under `/t/`.

`create_app(office, settings)` builds it; `server/runtime.py` mounts it in the same process as the
sequencer and the MQTT adapter."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from server.office import OfficeBusy, OfficeStopped
from server.web import dashboard
from server.web.accounts import Accounts
from server.web.context import OfficeTimeout, WebContext
from server.web.firstrun import FirstRun
from server.web.port import ConsoleOffice
from server.web.routes import admin, assets, auth, console, ticket
from server.web.security import (
    CsrfRefused,
    LoginRequired,
    RoleRefused,
    SecurityHeaders,
    SetupRequired,
    Visitor,
    check_every_route_guarded,
    form_token_of,
)
from server.web.settings import WebSettings
from server.web.texts import LANG_COOKIE, lang_of

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
TEMPLATE_DIR = HERE / "templates"
STATIC_PREFIX = "/static"
PUBLIC_TICKET_PREFIX = "/t/"
"""Reserved for the citizen's ticket page (status, then the phone survey): anonymous by design."""


def create_app(office: ConsoleOffice, settings: WebSettings, *, accounts: Accounts | None = None) -> FastAPI:
    """The FastAPI app for one office. `accounts` may be given (tests pass a cheaper password hasher)."""
    app = FastAPI(
        title="Khiu",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    accounts = accounts or Accounts(office.engine, settings)
    firstrun = FirstRun(settings.web_dir / "setup-code")
    if not accounts.has_users():
        firstrun.arm()
    else:
        firstrun.disarm()
    accounts.purge()
    templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
    app.state.web = WebContext(
        office=office,
        settings=settings,
        accounts=accounts,
        firstrun=firstrun,
        templates=templates,
        asset_version=_asset_version(),
    )
    for router in (auth.public, auth.staff, console.staff, admin.admin, assets.assets, ticket.public):
        app.include_router(router)
    dashboard.install(app)
    app.mount(STATIC_PREFIX, StaticFiles(directory=str(STATIC_DIR)), name="static")
    check_every_route_guarded(app.router.routes, allowed_unguarded=frozenset({STATIC_PREFIX}))
    _add_error_pages(app)
    app.add_middleware(SecurityHeaders, static_prefix=STATIC_PREFIX + "/")
    return app


def _asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.endswith(".json") or ("application/json" in accept and "text/html" not in accept)


def _bare_visitor(request: Request) -> None:
    """Error pages of requests the guard never saw (404 on an unknown path) still need a language."""
    if not isinstance(getattr(request.state, "visitor", None), Visitor):
        token, new = form_token_of(request.app.state.web, request)
        request.state.visitor = Visitor(
            session=None, lang=lang_of(request.cookies.get(LANG_COOKIE)), form_token=token, form_token_new=new
        )


def _add_error_pages(app: FastAPI) -> None:
    def web(request: Request) -> WebContext:
        context: WebContext = request.app.state.web
        return context

    def page(request: Request, status: int, title: str, body: str) -> Response:
        _bare_visitor(request)
        if _wants_json(request):
            return JSONResponse({"error": title}, status_code=status)
        return web(request).render(request, "error.html", status_code=status, title_key=title, text_key=body)

    @app.exception_handler(SetupRequired)
    async def setup_required(request: Request, exc: SetupRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"error": "setup_required"}, status_code=409)
        return RedirectResponse("/setup", status_code=303)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request) or request.method != "GET":
            return JSONResponse({"error": "login_required"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    @app.exception_handler(RoleRefused)
    async def role_refused(request: Request, exc: RoleRefused) -> Response:
        return page(request, 403, "forbidden_title", "forbidden_text")

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        logger.warning("CSRF token missing or wrong: %s %s", request.method, request.url.path)
        return page(request, 403, "csrf_title", "csrf_text")

    @app.exception_handler(OfficeTimeout)
    @app.exception_handler(OfficeBusy)
    @app.exception_handler(OfficeStopped)
    async def office_unavailable(request: Request, exc: Exception) -> Response:
        logger.error("the sequencer could not serve %s %s: %r", request.method, request.url.path, exc)
        return page(request, 503, "server_busy", "server_busy")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception) -> Response:
        logger.exception("error in %s %s", request.method, request.url.path, exc_info=exc)
        return page(request, 500, "internal_error", "internal_error")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return page(request, 404, "not_found_title", "back_home")
        if exc.status_code == 405:
            return JSONResponse({"error": "method_not_allowed"}, status_code=405)
        return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)
