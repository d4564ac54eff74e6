"""The office server's web app: staff console and administration (FastAPI + Jinja2, no CDN).

`create_app(office, settings)` builds it for an office that satisfies `server.web.port.ConsoleOffice`.
Both names load on first use, so `khiu admin user ...` and `khiu --help` do not import FastAPI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.web.app import create_app
    from server.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from server.web.app import create_app

        return create_app
    if name == "WebSettings":
        from server.web.settings import WebSettings

        return WebSettings
    raise AttributeError(name)
