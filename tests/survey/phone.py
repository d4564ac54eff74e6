"""The web app with the citizen's ticket page, on the real sequencer, for the phone page tests (TestClient
and Chromium)."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute

from server.office import Office
from server.web import WebSettings, create_app
from server.web.accounts import Accounts
from server.web.routes import ticket
from server.web.security import flat_routes


def phone_app(office: Office, settings: WebSettings, accounts: Accounts | None = None) -> FastAPI:
    """`create_app`, with the ticket page's router added when the app does not include it yet."""
    app = create_app(office, settings, accounts=accounts)
    paths = {r.path for r in flat_routes(app.routes) if isinstance(r, APIRoute)}
    if "/t/{ticket_id}" not in paths:
        app.include_router(ticket.public)
    return app


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def event_id_of(html: str) -> str:
    found = re.search(r'name="event_id" value="([^"]+)"', html)
    assert found, "the form carries no event id"
    return found.group(1)
