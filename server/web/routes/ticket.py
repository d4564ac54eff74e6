"""The citizen's ticket page, `/t/{ticket_id}`: the QR code on the ticket opens it on a phone.

Anonymous by design (the `/t/` prefix is reserved for it): the ticket id is a random UUID printed only on
the ticket, so holding the paper is the key. It shows where the ticket is now (people ahead and the
estimated wait, the counter that calls it, done), and once the service is done, the satisfaction form:
the same questions as the survey terminal, five faces per question, the optional demographics, and an
optional comment (free text is fine on a phone's own keyboard).

The answer goes to the sequencer exactly as a terminal's `survey.response` does (channel `phone`), so the
same rules hold: a served ticket, once, within `survey.days_valid`. The form carries a CSRF token (the
pre-login double-submit token of server/web/security.py) and its own event id, so sending it twice (a
double tap, a reload) is answered once. No script on the page; the waiting page refreshes itself with
a meta refresh, which the CSP allows."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from common.contract import SurveyAccepted, SurveyRejected, SurveyResponse
from common.vocabulary import Lang, TicketState
from server.office import Office, OfficeStopped
from server.survey.texts import LEVEL_WORDS, text, translator
from server.survey.ticket_status import TicketStatus, is_ticket_id, ticket_status
from server.web.context import WebContext
from server.web.security import Access, guarded_router, visitor

logger = logging.getLogger(__name__)

public = guarded_router(Access.anonymous)

PHONE_SENDER = "phone"
"""The sender the sequencer records for answers from the phone page (event ids are per sender)."""
REFRESH_S = 30
"""A waiting ticket's page reloads itself this often: fresh enough to walk back in time, light on the
sequencer when a hall full of phones has it open."""
COMMENT_MAX = 1000
LIVE_STATES = (TicketState.waiting, TicketState.called, TicketState.serving, TicketState.parked)


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def _office(web: WebContext) -> Office:
    office = web.office
    if not isinstance(office, Office):
        raise OfficeStopped("the ticket page needs the office's sequencer")
    return office


def _status(web: WebContext, ticket_id: str) -> TicketStatus | None:
    """The ticket's status; None for an id that is not a ticket's (without asking the sequencer when
    it is not even a UUID)."""
    if not is_ticket_id(ticket_id):
        return None
    return web.wait(ticket_status(_office(web), ticket_id))


def _missing(request: Request, web: WebContext) -> Response:
    return web.render(request, "ticket_missing.html", status_code=404, tx=translator(visitor(request).lang))


@public.get("/t/{ticket_id}")
def ticket_page(request: Request, ticket_id: str, m: str = "") -> Response:
    web = _web(request)
    status = _status(web, ticket_id)
    if status is None:
        return _missing(request, web)
    return _render(request, web, status, thanks=m == "thanks" and status.rated)


@public.post("/t/{ticket_id}")
async def rate_ticket(request: Request, ticket_id: str) -> Response:
    web = _web(request)
    status = await run_in_threadpool(_status, web, ticket_id)
    if status is None:
        return _missing(request, web)
    form = await request.form()
    if status.state is not TicketState.done:
        return _render(request, web, status)
    survey = web.office.config.survey
    answers, demographics, comment = _answers(form, web)
    if survey.overall_item not in answers:
        item = survey.item_by_id(survey.overall_item)
        lang = visitor(request).lang
        name = (item.text_th if lang is Lang.th else item.text_en) if item else survey.overall_item
        missing = text("need_overall", lang, item=name)
        return _render(request, web, status, problem=missing, given=form, status_code=400)
    response = SurveyResponse(
        id=_event_id(form.get("event_id")),
        ticket=status.number,
        ticket_id=status.ticket_id,
        answers=answers,
        demographics=demographics,
        comment=comment,
        channel="phone",
    )
    office = _office(web)
    reply = await run_in_threadpool(web.wait, office.submit(response, sender=PHONE_SENDER))
    if isinstance(reply, SurveyAccepted):
        logger.info("phone rating of %s accepted", status.number)
        return RedirectResponse(f"/t/{status.ticket_id}?m=thanks", status_code=303)
    code = reply.code if isinstance(reply, SurveyRejected) else "internal_error"
    logger.info("phone rating of %s refused: %s", status.number, code)
    fresh = await run_in_threadpool(_status, web, ticket_id) or status
    problem: str | None = None
    if isinstance(reply, SurveyRejected):
        problem = reply.message_th if visitor(request).lang is Lang.th else reply.message_en
    return _render(request, web, fresh, problem=problem, given=form, status_code=409)


def _answers(form: FormData, web: WebContext) -> tuple[dict[str, int], dict[str, str], str | None]:
    """The form's answers, keeping only what the office's survey asks (the sequencer checks again)."""
    survey = web.office.config.survey
    answers: dict[str, int] = {}
    for item in survey.items():
        value = form.get(f"q_{item.id}")
        if isinstance(value, str) and value in ("1", "2", "3", "4", "5"):
            answers[item.id] = int(value)
    demographics: dict[str, str] = {}
    for qid, question in survey.demographics.questions():
        value = form.get(f"d_{qid}")
        if isinstance(value, str) and value in {o.id for o in question.options}:
            demographics[qid] = value
    raw = form.get("comment")
    comment = raw.strip()[:COMMENT_MAX] if isinstance(raw, str) and raw.strip() else None
    return answers, demographics, comment


def _event_id(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return uuid.uuid4()


def _render(
    request: Request,
    web: WebContext,
    status: TicketStatus,
    *,
    thanks: bool = False,
    problem: str | None = None,
    given: FormData | None = None,
    status_code: int = 200,
) -> Response:
    lang = visitor(request).lang
    config = web.office.config
    service = config.service_by_code(status.service)
    counter = config.counter_by_id(status.counter) if status.counter else None
    live = status.state in LIVE_STATES
    chosen: dict[str, Any] = {}
    if given is not None:
        chosen = {key: value for key, value in given.items() if isinstance(value, str)}
    return web.render(
        request,
        "ticket.html",
        status_code=status_code,
        tx=translator(lang),
        status=status,
        state=status.state.value,
        service_name=(service.name_th if lang is Lang.th else service.name_en) if service else status.service,
        counter_name=(counter.name_th if lang is Lang.th else counter.name_en) if counter else "",
        survey=config.survey,
        levels=[(level, _face_word(level, lang)) for level in (5, 4, 3, 2, 1)],
        refresh_s=REFRESH_S if live else None,
        now=web.now(),
        thanks=thanks,
        problem=problem,
        chosen=chosen,
        event_id=str(uuid.uuid4()),
        comment_max=COMMENT_MAX,
    )


def _face_word(level: int, lang: Lang) -> str:
    """The level's word under its face. A face is a fifth of a phone's width: "Dissatisfied" gets a soft
    hyphen, so it breaks as "Dis-satisfied" and not mid-syllable (Chromium on Debian has no hyphenation
    dictionary for `hyphens: auto`)."""
    word = LEVEL_WORDS[level][0 if lang is Lang.th else 1]
    return word.replace("issatisfied", "is\u00adsatisfied")
