"""The citizen's ticket page `/t/{ticket_id}` through the web app on the real sequencer: the status while
waiting, when called, when served; the satisfaction form once done; one rating per ticket whichever
channel came first; CSRF; no script; Thai and English; kind pages for a wrong link or an expired ticket."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from common.contract import SurveyAccepted, SurveyRejected
from common.vocabulary import CounterAction, Outcome
from server.office import Office
from server.store.models import SurveyAnswerRow, SurveyResponseRow
from server.survey.texts import TEXTS
from server.web import WebSettings
from server.web.app import TEMPLATE_DIR
from tests.survey.helpers import Clock, act, rate, serve, start_office, stop_office, take_ticket
from tests.survey.phone import csrf_of, event_id_of, phone_app

ROUTE_SOURCE = Path(__file__).resolve().parents[2] / "server" / "web" / "routes" / "ticket.py"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def office(tmp_path: Path, clock: Clock) -> Iterator[Office]:
    office = start_office(tmp_path, clock=clock)
    yield office
    stop_office(office)


@pytest.fixture
def client(office: Office, tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    settings = WebSettings(web_dir=tmp_path / "web", secret_key="p" * 48, clock=clock)
    with TestClient(phone_app(office, settings)) as client:
        yield client


def responses(office: Office) -> list[SurveyResponseRow]:
    office.call(lambda _c: None).result(30)
    with office.store.read_engine.connect() as connection:
        return list(connection.execute(select(SurveyResponseRow.__table__)).all())  # type: ignore[arg-type]


def answers_of(office: Office, response_id: str) -> dict[str, int]:
    t = SurveyAnswerRow.__table__
    with office.store.read_engine.connect() as connection:
        rows = connection.execute(select(t.c.item, t.c.score).where(t.c.response_id == response_id))
        return {row.item: row.score for row in rows}


def visible(html: str) -> str:
    """The page's text, tags removed and spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_ticket_ids_are_random_uuids(office: Office) -> None:
    ids = [take_ticket(office).ticket_id for _ in range(3)]
    parsed = [uuid.UUID(i) for i in ids]
    assert all(p.version == 4 for p in parsed), "random (version 4), so a link cannot be guessed"
    assert len(set(ids)) == 3


def test_waiting_then_called_then_served(office: Office, client: TestClient) -> None:
    first = take_ticket(office)
    mine = take_ticket(office)
    page = client.get(f"/t/{mine.ticket_id}")
    assert page.status_code == 200
    text = visible(page.text)
    service = office.config.service_by_code("elderly-allowance")
    assert service is not None
    assert mine.number in text and service.name_th in text
    assert "รอเรียกคิว" in text and "มีผู้รอก่อนหน้า 1 คิว" in text and "รอประมาณ" in text
    assert '<meta http-equiv="refresh" content="30">' in page.text
    assert '<form method="post" action="/t/' not in page.text, "no survey before the service"
    assert "ท่านจะประเมินความพึงพอใจได้ที่หน้านี้" in text

    act(office, "c1", CounterAction.open, staff="staff")
    act(office, "c1", CounterAction.call_next)  # the first ticket
    act(office, "c1", CounterAction.start)
    act(office, "c1", CounterAction.complete, outcome=Outcome.advice, number=first.number)
    act(office, "c1", CounterAction.call_next)
    text = visible(client.get(f"/t/{mine.ticket_id}").text)
    assert "ถึงคิวของท่านแล้ว" in text and "เชิญที่ช่องบริการ 1" in text

    act(office, "c1", CounterAction.start)
    text = visible(client.get(f"/t/{mine.ticket_id}").text)
    assert "กำลังให้บริการ" in text and "ที่ช่องบริการ 1" in text


def test_a_served_citizen_rates_once_from_the_phone(office: Office, client: TestClient) -> None:
    ticket = serve(office)
    page = client.get(f"/t/{ticket.ticket_id}")
    text = visible(page.text)
    assert "รับบริการเสร็จแล้ว" in text and "แบบประเมินความพึงพอใจ" in text
    assert "refresh" not in page.text.split("</head>")[0], "the form is not wiped by a refresh"
    assert text.count("มากที่สุด") >= 15 and "น้อยที่สุด" in text
    form = {
        "csrf_token": csrf_of(page.text),
        "event_id": event_id_of(page.text),
        "q_result.overall": "5",
        "q_staff.polite": "4",
        "q_process.speed": "9",  # not a level: dropped
        "d_gender": "female",
        "d_age_band": "",
        "d_occupation": "astronaut",  # not an option: dropped
        "comment": "  เจ้าหน้าที่ใจดีมากค่ะ  ",
    }
    sent = client.post(f"/t/{ticket.ticket_id}", data=form, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"/t/{ticket.ticket_id}?m=thanks"
    thanks = visible(client.get(sent.headers["location"]).text)
    assert "ขอบคุณสำหรับการประเมินค่ะ" in thanks

    (stored,) = responses(office)
    assert (stored.channel, stored.ticket_id, stored.number) == ("phone", ticket.ticket_id, ticket.number)
    assert stored.demographics == {"gender": "female"}
    assert stored.comment == "เจ้าหน้าที่ใจดีมากค่ะ"
    assert answers_of(office, stored.id) == {"result.overall": 5, "staff.polite": 4}

    again = client.post(f"/t/{ticket.ticket_id}", data=form, follow_redirects=False)
    assert again.status_code == 303, "the same form sent twice (a double tap) is answered once"
    form["event_id"] = str(uuid.uuid4())
    refused = client.post(f"/t/{ticket.ticket_id}", data=form)
    assert refused.status_code == 409
    assert "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ" in visible(refused.text)
    assert len(responses(office)) == 1
    page = visible(client.get(f"/t/{ticket.ticket_id}").text)
    assert "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ" in page and "ส่งแบบประเมิน" not in page


def test_the_overall_question_is_needed(office: Office, client: TestClient) -> None:
    ticket = serve(office)
    page = client.get(f"/t/{ticket.ticket_id}")
    form = {"csrf_token": csrf_of(page.text), "q_staff.polite": "2", "comment": "ช้า"}
    answer = client.post(f"/t/{ticket.ticket_id}", data=form)
    assert answer.status_code == 400
    text = visible(answer.text)
    assert "กรุณาตอบข้อ “ความพึงพอใจต่อการให้บริการในภาพรวม”" in text
    assert 'value="2" checked' in answer.text and "ช้า</textarea>" in answer.text, "what was given is kept"
    assert responses(office) == []


def test_a_form_without_its_token_is_refused(office: Office, client: TestClient) -> None:
    ticket = serve(office)
    client.get(f"/t/{ticket.ticket_id}")
    answer = client.post(f"/t/{ticket.ticket_id}", data={"q_result.overall": "5"})
    assert answer.status_code == 403
    assert responses(office) == []


def test_a_terminal_rating_closes_the_phone_form(office: Office, client: TestClient) -> None:
    ticket = serve(office)
    assert isinstance(rate(office, ticket.number, {"result.overall": 4}), SurveyAccepted)
    text = visible(client.get(f"/t/{ticket.ticket_id}").text)
    assert "บัตรคิวนี้ประเมินแล้ว ขอบคุณค่ะ" in text and "ส่งแบบประเมิน" not in text
    reply = rate(office, ticket.number, {"result.overall": 1}, ticket_id=ticket.ticket_id, channel="phone")
    assert isinstance(reply, SurveyRejected) and reply.code == "already_rated"


def test_after_the_days_to_rate_the_form_is_gone(office: Office, client: TestClient, clock: Clock) -> None:
    ticket = serve(office)
    days = office.config.survey.days_valid
    clock.advance(days=days + 1)
    text = visible(client.get(f"/t/{ticket.ticket_id}").text)
    assert f"หมดเวลาประเมินบัตรคิวนี้แล้ว (ประเมินได้ภายใน {days} วัน)" in text
    assert "ส่งแบบประเมิน" not in text


@pytest.mark.parametrize("ticket_id", [str(uuid.uuid4()), "1", "A012", "DROP TABLE tickets"])
def test_a_wrong_link_gets_a_kind_page(client: TestClient, ticket_id: str) -> None:
    page = client.get(f"/t/{ticket_id}")
    assert page.status_code == 404
    text = visible(page.text)
    assert "ไม่พบบัตรคิวนี้" in text and "/login" not in page.text and "/console" not in page.text


def test_english_and_the_security_headers(office: Office, client: TestClient) -> None:
    ticket = serve(office)
    client.cookies.set("khiu_lang", "en")
    page = client.get(f"/t/{ticket.ticket_id}")
    text = visible(page.text)
    service = office.config.service_by_code("elderly-allowance")
    assert service is not None
    assert "Satisfaction survey" in text and "Very satisfied" in text and service.name_en in text
    assert '<html lang="en">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text and " style=" not in page.text, "nothing the CSP would block"


def test_every_word_the_page_asks_for_exists() -> None:
    used: set[str] = set()
    for path in [*TEMPLATE_DIR.glob("ticket*.html"), ROUTE_SOURCE]:
        used |= set(re.findall(r"""\btx\(\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    used |= set(re.findall(r"""\btext\(\s*["']([a-z_]+)["']""", ROUTE_SOURCE.read_text(encoding="utf-8")))
    assert len(used) > 25
    assert not sorted(used - set(TEXTS))
    thai = re.compile(r"[\u0E00-\u0E7F]")
    for key, (th, en) in TEXTS.items():
        if key != "switch_lang":
            assert thai.search(th) and not thai.search(en), key
