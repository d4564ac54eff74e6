"""What every route of the web app reaches through `request.app.state.web`, and the page renderer."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from common.thaidate import (
    MONTHS_TH_SHORT,
    business_date,
    format_en_date,
    format_en_datetime,
    format_thai_date,
    to_be_year,
    to_local,
)
from common.vocabulary import Lang
from server.web.accounts import Accounts
from server.web.firstrun import FirstRun
from server.web.port import ConsoleOffice
from server.web.security import remember_form_token, visitor
from server.web.settings import WebSettings
from server.web.texts import pick, text, translator

logger = logging.getLogger(__name__)

T = TypeVar("T")


class OfficeTimeout(Exception):
    """The sequencer did not answer in time (settings.command_timeout_s)."""


@dataclass(slots=True)
class WebContext:
    office: ConsoleOffice
    settings: WebSettings
    accounts: Accounts
    firstrun: FirstRun
    templates: Jinja2Templates
    asset_version: str
    """Appended to static URLs so a browser never runs yesterday's script against today's page."""

    def now(self) -> dt.datetime:
        return self.settings.clock()

    def today(self) -> dt.date:
        return business_date(self.now())

    def wait(self, future: Future[T]) -> T:
        """The sequencer's answer. Routes that wait are plain `def`: they run in the thread pool, never
        on the event loop."""
        try:
            return future.result(timeout=self.settings.command_timeout_s)
        except TimeoutError as exc:
            future.cancel()
            raise OfficeTimeout from exc

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A page in the visitor's language, with everything the frame needs."""
        who = visitor(request)
        lang = who.lang
        config = self.office.config
        base: dict[str, Any] = {
            "lang": lang.value,
            "t": translator(lang),
            "pick": lambda pair: pick(pair, lang),
            "name_of": lambda obj: getattr(obj, "name_th" if lang is Lang.th else "name_en"),
            "date": lambda day: format_thai_date(day) if lang is Lang.th else format_en_date(day),
            "short_date": lambda day: (
                format_thai_date(day, short=True) if lang is Lang.th else format_en_date(day)
            ),
            "datetime": lambda moment: datetime_text(moment, lang),
            "clock": lambda moment: to_local(moment).strftime("%H:%M"),
            "office_name": config.office.name_th if lang is Lang.th else config.office.name_en,
            "session": who.session,
            "user": who.session.user if who.session else None,
            "csrf_token": who.csrf_token,
            "asset_version": self.asset_version,
            "path": request.url.path,
            "flash": None,
        }
        if who.session is not None:
            flash = self.accounts.pop_flash(who.session.key)
            if flash is not None:
                base["flash"] = {"kind": flash.get("kind", "ok"), "text": flash.get(lang.value, "")}
        base.update(context)
        response = self.templates.TemplateResponse(request, name, base, status_code=status_code)
        remember_form_token(self, request, response)
        return response

    def flash(self, request: Request, kind: str, key: str, **values: object) -> None:
        """A message from the catalog for the next page."""
        self.flash_text(request, kind, text(key, Lang.th, **values), text(key, Lang.en, **values))

    def flash_text(self, request: Request, kind: str, message_th: str, message_en: str) -> None:
        session = visitor(request).session
        if session is not None:
            self.accounts.set_flash(session.key, kind, message_th, message_en)


def seen_text(moment: dt.datetime, today: dt.date, lang: Lang) -> str:
    """A moment of `today` as `10:09`; one of an earlier day with its date (`datetime_text`)."""
    local = to_local(moment)
    return f"{local:%H:%M}" if local.date() == today else datetime_text(moment, lang)


def datetime_text(moment: dt.datetime, lang: Lang, *, full_year: bool = False) -> str:
    """A moment in the office's local time: `26 พ.ย. 69 14:05`, `26 Nov 2026 14:05`; with `full_year`,
    `26 พ.ย. 2569 14:05` (where two digits could be any century)."""
    if lang is Lang.th:
        local = to_local(moment)
        if full_year:
            day = f"{local.day} {MONTHS_TH_SHORT[local.month - 1]} {to_be_year(local.year)}"
        else:
            day = format_thai_date(local.date(), short=True)
        return f"{day} {local:%H:%M}"
    return format_en_datetime(moment)


def client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""
