"""The staff console: choose a counter, then act on it exactly as the counter terminal does.

Every action becomes a `CounterCommand` submitted to the sequencer (the MQTT path), with the staff
user's name and an event id made when the page was drawn: a double click or a resent form gets the
same answer instead of calling two citizens."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, HTTPException, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse, RedirectResponse, Response

from common.config import Counter, OfficeConfig, Service
from common.contract import CounterCommand, CounterRejected, TicketView, rejection_text
from common.thaidate import to_local
from common.vocabulary import CounterAction, Lang, Outcome, Priority, ServiceKind, TicketState
from server.web.context import WebContext, client_ip, seen_text
from server.web.port import CaseStatus, CaseView, CounterPanel
from server.web.security import Access, guarded_router, safe_next, visitor
from server.web.texts import OUTCOME_TEXTS, PRIORITY_TEXTS, STATE_TEXTS, pick, text

logger = logging.getLogger(__name__)

staff = guarded_router(Access.staff)

FormText = Annotated[str, Form(max_length=200)]

DEFAULT_OUTCOME: dict[ServiceKind, Outcome] = {
    ServiceKind.forward: Outcome.forwarded,
    ServiceKind.complete: Outcome.completed,
    ServiceKind.via_app: Outcome.via_app,
}
"""The outcome preselected for a service of each kind; staff change it when it ended otherwise."""


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def _counter(config: OfficeConfig, counter_id: str) -> Counter:
    counter = config.counter_by_id(counter_id)
    if counter is None:
        raise HTTPException(status_code=404)
    return counter


def _service_name(config: OfficeConfig, code: str, lang: Lang) -> str:
    service = config.service_by_code(code)
    if service is None:
        return code
    return service.name_th if lang is Lang.th else service.name_en


def _minutes(since: dt.datetime | None, now: dt.datetime) -> int:
    if since is None:
        return 0
    return max(0, int((now - since).total_seconds() // 60))


def _staff_name(web: WebContext, username: str | None) -> str | None:
    """The display name of the user working a counter (the counter state keeps the username)."""
    if not username:
        return None
    user = web.accounts.user(username)
    return user.shown_name if user is not None else username


def fingerprint(panel: CounterPanel, *, broker_lost: bool = False) -> str:
    """What decides the console's buttons and banner: when it changes (say, the counter terminal called a
    number, or the server lost its broker), the page must be drawn again; the waiting list alone updates
    in place."""
    current = panel.current
    parts = [
        str(broker_lost),
        str(panel.open),
        current.number if current else "",
        current.state.value if current else "",
        str(current.calls) if current else "",
        ",".join(t.number for t in panel.parked),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class WaitingRow:
    number: str
    service: str
    priority: str
    is_priority: bool
    waited_min: int
    issued: str


def waiting_rows(
    config: OfficeConfig, tickets: tuple[TicketView, ...], lang: Lang, now: dt.datetime
) -> list[WaitingRow]:
    return [
        WaitingRow(
            number=t.number,
            service=_service_name(config, t.service, lang),
            priority="" if t.priority is Priority.none else pick(PRIORITY_TEXTS[t.priority], lang),
            is_priority=t.priority is not Priority.none,
            waited_min=_minutes(t.issued_at, now),
            issued=to_local(t.issued_at).strftime("%H:%M") if t.issued_at else "",
        )
        for t in tickets
    ]


# ---------------------------------------------------------------------------------------------- pages


@staff.get("/console")
def choose_counter(request: Request) -> Response:
    web = _web(request)
    config = web.office.config
    lang = visitor(request).lang
    futures = [(c, web.office.counter_panel(c.id)) for c in config.counters]
    counters = []
    for counter, future in futures:
        panel = web.wait(future)
        counters.append(
            {
                "counter": counter,
                "panel": panel,
                "services": [_service_name(config, code, lang) for code in counter.services],
                "staff": _staff_name(web, panel.staff),
            }
        )
    chosen = visitor(request).session
    return web.render(request, "counters.html", counters=counters, chosen=chosen.counter if chosen else None)


@staff.get("/console/{counter_id}")
def console(request: Request, counter_id: str, done: bool = False) -> Response:
    web = _web(request)
    config = web.office.config
    counter = _counter(config, counter_id)
    session = visitor(request).session
    if session is not None and session.counter != counter.id:
        web.accounts.choose_counter(session.key, counter.id)
    lang = visitor(request).lang
    panel_future = web.office.counter_panel(counter.id)
    cases_future = web.office.cases(services=list(counter.services), include_done=done)
    panel = web.wait(panel_future)
    cases = web.wait(cases_future)
    now = web.now()
    current = panel.current
    current_service: Service | None = config.service_by_code(current.service) if current else None
    default_outcome = DEFAULT_OUTCOME.get(current_service.kind) if current_service else None
    transfer_targets = [s for s in config.enabled_services() if current is None or s.code != current.service]
    return web.render(
        request,
        "console.html",
        counter=counter,
        panel=panel,
        current=current,
        current_service=current_service,
        called_min=_minutes(current.called_at, now) if current else 0,
        max_calls=config.queue.max_calls_before_no_show,
        default_outcome=default_outcome,
        outcomes=[(o.value, pick(OUTCOME_TEXTS[o], lang)) for o in Outcome],
        transfer_targets=transfer_targets,
        parked=[(t, _service_name(config, t.service, lang)) for t in panel.parked],
        waiting=waiting_rows(config, panel.waiting, lang, now),
        cases=[_case_row(config, c, lang, web.today()) for c in cases],
        case_statuses=[(s.value, text(f"case_{s.value}", lang)) for s in CaseStatus],
        show_done=done,
        fingerprint=fingerprint(panel, broker_lost=web.office.broker_lost_at is not None),
        broker_lost_since=(
            seen_text(web.office.broker_lost_at, web.today(), lang) if web.office.broker_lost_at else None
        ),
        staff_name=_staff_name(web, panel.staff),
        poll_seconds=web.settings.poll_seconds,
        state_label=pick(STATE_TEXTS[current.state], lang) if current else "",
        priority_label=pick(PRIORITY_TEXTS[current.priority], lang) if current else "",
        event_ids={a.value: str(uuid.uuid4()) for a in CounterAction},
        parked_event_ids={t.number: str(uuid.uuid4()) for t in panel.parked},
        today=web.today(),
        service_name=lambda code: _service_name(config, code, lang),
        TicketState=TicketState,
    )


def _case_row(config: OfficeConfig, case: CaseView, lang: Lang, today: dt.date) -> dict[str, Any]:
    agency = case.agency_th if lang is Lang.th else case.agency_en
    if not agency:
        service = config.service_by_code(case.service)
        agency = (service.agency_th if lang is Lang.th else service.agency_en) if service else ""
    return {
        "case": case,
        "service": _service_name(config, case.service, lang),
        "agency": agency,
        "overdue": case.overdue(today),
        "status_label": text(f"case_{case.status.value}", lang),
    }


@staff.get("/console/{counter_id}/state.json")
def live_state(request: Request, counter_id: str) -> Response:
    """What the console's script polls: the waiting list (drawn in place) and the fingerprint of the rest."""
    web = _web(request)
    config = web.office.config
    counter = _counter(config, counter_id)
    lang = visitor(request).lang
    panel = web.wait(web.office.counter_panel(counter.id))
    now = web.now()
    rows = waiting_rows(config, panel.waiting, lang, now)
    return JSONResponse(
        {
            "counter": counter.id,
            "open": panel.open,
            "current": panel.current.number if panel.current else None,
            "fingerprint": fingerprint(panel, broker_lost=web.office.broker_lost_at is not None),
            "waiting_count": len(rows),
            "waiting_label": text("waiting_n", lang, n=len(rows)),
            "waiting": [
                {
                    "number": r.number,
                    "service": r.service,
                    "priority": r.priority,
                    "waited_min": r.waited_min,
                    "issued": r.issued,
                }
                for r in rows
            ],
            "updated": to_local(now).strftime("%H:%M:%S"),
        }
    )


# ---------------------------------------------------------------------------------------------- actions


@staff.post("/console/{counter_id}/action")
def act(
    request: Request,
    counter_id: str,
    action: FormText,
    event_id: FormText,
    ticket: FormText = "",
    outcome: FormText = "",
    to_service: FormText = "",
    reference: FormText = "",
) -> Response:
    web = _web(request)
    config = web.office.config
    counter = _counter(config, counter_id)
    session = visitor(request).session
    assert session is not None  # the guard let a staff user in
    back = RedirectResponse(f"/console/{counter.id}", status_code=303)
    try:
        command_id = uuid.UUID(event_id)
        command = CounterCommand(
            id=command_id,
            action=CounterAction(action),
            ticket=ticket or None,
            outcome=Outcome(outcome) if outcome else None,
            to_service=to_service or None,
            staff=session.user.username,
            reference=reference.strip() or None if outcome == Outcome.forwarded else None,
        )
    except (ValueError, ValidationError):
        key = "choose_outcome" if action == "complete" else "choose_service" if action == "transfer" else None
        if key:
            web.flash(request, "error", key)
        else:
            web.flash_text(request, "error", *rejection_text("invalid"))
        return back
    reply = web.wait(web.office.counter_command(counter.id, command))
    number = reply.ticket.number if not isinstance(reply, CounterRejected) and reply.ticket else ticket
    detail = f"{counter.id} {number or '-'}"
    if command.outcome:
        detail += f" outcome={command.outcome.value}"
    if command.to_service:
        detail += f" to={command.to_service}"
    if command.reference:
        detail += f" ref={command.reference}"
    if isinstance(reply, CounterRejected):
        web.flash_text(request, "error", reply.message_th, reply.message_en)
        detail += f" refused={reply.code}"
    else:
        key = f"did_{command.action.value}"
        to = command.to_service or ""
        fill_th = {"number": number or "", "service": _service_name(config, to, Lang.th)}
        fill_en = {"number": number or "", "service": _service_name(config, to, Lang.en)}
        message_th = reply.message_th or text(key, Lang.th, **fill_th)
        message_en = reply.message_en or text(key, Lang.en, **fill_en)
        web.flash_text(request, "ok", message_th, message_en)
    web.accounts.audit(session.user.username, f"counter.{command.action.value}", detail, client_ip(request))
    return back


@staff.post("/cases/{case_id}")
def update_case(
    request: Request,
    case_id: str,
    status: FormText,
    note: Annotated[str, Form(max_length=1000)] = "",
    next: FormText = "/console",
) -> Response:
    web = _web(request)
    session = visitor(request).session
    assert session is not None
    back = RedirectResponse(safe_next(next, "/console"), status_code=303)
    try:
        new_status = CaseStatus(status)
    except ValueError:
        web.flash_text(request, "error", *rejection_text("invalid"))
        return back
    updated = web.wait(
        web.office.update_case(case_id, status=new_status, note=note.strip(), staff=session.user.username)
    )
    if updated is None:
        web.flash(request, "error", "case_unknown")
        return back
    web.flash(request, "ok", "case_saved")
    web.accounts.audit(
        session.user.username,
        "case.update",
        f"{updated.ticket} {case_id} status={new_status.value}",
        client_ip(request),
    )
    return back
