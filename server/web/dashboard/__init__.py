"""The manager dashboard (today live, a day or dates, the quarterly OSS report and its exports) and
the administration of the office file and the devices.

`install(app)` adds its routes to the web app (`server.web.create_app` calls it, before the check that
every route has an access decision). Everything lives in this package: its templates extend the app's
`base.html`, its stylesheet and script are served by its own guarded route."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from common.paths import default_config_path
from server.web.dashboard.admin import admin
from server.web.dashboard.health import health
from server.web.dashboard.manager import manager
from server.web.dashboard.state import Dashboard, DashboardSettings, dashboard_of

__all__ = ["Dashboard", "DashboardSettings", "dashboard_of", "install"]


def default_settings(web_dir: Path) -> DashboardSettings:
    """The office file from `$KHIU_CONFIG` (else ./office.toml, else the shipped example, which is
    never edited), the broker files beside the web folder in the data directory."""
    config = default_config_path() if os.environ.get("KHIU_CONFIG") or Path("office.toml").exists() else None
    return DashboardSettings(config_path=config, broker_dir=web_dir.parent / "broker")


def install(app: FastAPI, settings: DashboardSettings | None = None) -> None:
    """Add the dashboard's and the administration's routes to `app` (whose `state.web` is set)."""
    app.state.dashboard_settings = settings or default_settings(app.state.web.settings.web_dir)
    app.state.dashboard = None
    app.include_router(manager)
    app.include_router(admin)
    app.include_router(health)
