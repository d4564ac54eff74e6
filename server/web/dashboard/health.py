"""`GET /health`: whether this office's server is well, for whoever watches many offices' servers (a
district's IT with Uptime Kuma, Zabbix or a script): the same conditions the today page shows in red or
yellow, as codes, without a login and without anything personal or any message text.

503 while the office cannot serve (the sequencer stopped, the broker unreachable); 200 otherwise, with
`status` `warning` and the problems listed when something needs attention before it stops the office."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from starlette.responses import JSONResponse, Response

from server.web.context import WebContext
from server.web.dashboard.state import dashboard_of
from server.web.port import wrong_year
from server.web.security import Access, guarded_router

health = guarded_router(Access.anonymous)

FAILING = frozenset({"sequencer_stopped", "broker_lost"})
"""Problems that stop the office: the answer is 503."""


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


@health.get("/health")
def health_check(request: Request) -> Response:
    web: WebContext = request.app.state.web
    dashboard = dashboard_of(request)
    office = web.office
    now = web.now()
    problems: list[dict[str, Any]] = []
    if not office.running:
        problems.append({"code": "sequencer_stopped"})
    if office.broker_lost_at is not None:
        problems.append({"code": "broker_lost", "since": _iso(office.broker_lost_at)})
    for space in dashboard.disks_low(web):
        problems.append({"code": "disk_low", "free_bytes": space.free, "total_bytes": space.total})
    backup = dashboard.backup_alert(now=now)
    if backup is not None:  # backup_failed, backup_overdue, backup_none
        problems.append({"code": backup.kind.value, "at": _iso(backup.at)})
    year = wrong_year(now)
    if year is not None:
        problems.append({"code": "clock_wrong", "year": year})
    steps = dashboard.clock_steps_today(web)
    if steps:
        step = steps[-1]
        problems.append(
            {"code": "clock_set", "at": _iso(step.at), "seconds": round(step.step.total_seconds())}
        )
    for other in dashboard.other_servers(web):
        problems.append(
            {
                "code": "server_duplicate",
                "instance": other.instance,
                "version": other.version,
                "since": _iso(other.since),
            }
        )
    for shared in dashboard.shared_devices(web):
        problems.append({"code": "device_shared", "device": shared.device, "since": _iso(shared.since)})
    failing = any(p["code"] in FAILING for p in problems)
    body = {
        "status": "failing" if failing else "warning" if problems else "ok",
        "problems": problems,
        "time": _iso(now),
    }
    return JSONResponse(body, status_code=503 if failing else 200, headers={"Cache-Control": "no-store"})
