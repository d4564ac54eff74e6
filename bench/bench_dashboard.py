"""The manager dashboard on a busy office's history: one year (200,000 tickets, about 60,000 survey
responses) and five years (1,000,000 tickets), on SQLite and on PostgreSQL when it is reachable.

Measured through the web app over the real sequencer (FastAPI's test client: routing, the session
check, the queue asked of the sequencer, the page rendered), with the report cache emptied before each
timed request so every figure is the cold path a manager meets when the data has just changed:

- the today page on the history's last (busy) day: its report plus the office's live state;
- the quarterly OSS report page of the last full fiscal quarter;
- an XLSX export of that quarter, from the click to the file ready (report included).

The history comes from `khiu admin generate-history` (server/history.py) and is kept between runs,
keyed by its parameters: SQLite files in build/bench-data/, PostgreSQL schemas `bench_hist_<key>` in
the test database. Generating it is timed too (the first run only). On PostgreSQL its tables are
vacuumed and analysed before measuring, as autovacuum keeps an office's database (the test server
runs with autovacuum off: without it the planner has no statistics and no index-only scan can skip
the table)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.harness import POSTGRES_URL, postgres_available
from bench.registry import BenchContext, Benchmark
from bench.report import BenchResult, Figure
from common.config import OfficeConfig, load_config
from common.paths import EXAMPLE_CONFIG
from common.thaidate import BANGKOK, fiscal_quarter
from server.history import HistorySettings, existing_tickets, generate_history
from server.reports.model import Period
from server.store import Store

log = logging.getLogger("bench.dashboard")

NAME = "dashboard"
ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench-data"
END = dt.date(2026, 11, 25)
"""The last day of the history, a Wednesday: the today page shows it."""
TODAY_TARGET_MS = 100.0
QUARTER_TARGET_S = 1.0
XLSX_TARGET_S = 3.0
PASSWORD = "bench horse battery staple"


@dataclass(frozen=True, slots=True)
class Size:
    label: str
    years: float
    tickets_per_year: int

    @property
    def tickets(self) -> int:
        return round(self.years * self.tickets_per_year)


SIZES = {
    "1y": Size("1 year, 200,000 tickets", 1, 200_000),
    "5y": Size("5 years, 1,000,000 tickets", 5, 200_000),
    "quick": Size("5 weeks, 20,000 tickets (quick)", 0.1, 200_000),
}


def _key(size: Size, config_text: str) -> str:
    """Names a history: its parameters, the office file and the generator's code (a change to either
    makes another history)."""
    from server import history

    generator = Path(history.__file__).read_bytes()
    seed = f"{size.years}:{size.tickets_per_year}:{END}:{config_text}:".encode() + generator
    return hashlib.sha256(seed).hexdigest()[:10]


def _settings(size: Size) -> HistorySettings:
    return HistorySettings(years=size.years, tickets_per_year=size.tickets_per_year, seed=2569, end=END)


# ----------------------------------------------------------------------------------------------- data


@contextmanager
def history_database(
    kind: str, size: Size, config: OfficeConfig, key: str
) -> Iterator[tuple[str, float | None]]:
    """The URL of a database holding the history (made now, or kept from an earlier run) and the
    seconds generating it took when it was made (None if that was not recorded)."""
    settings = _settings(size)
    first, last = settings.first_day(END), settings.last_day(END)
    if kind == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"history-{size.years}y-{size.tickets_per_year}-{key}.db"
        url = f"sqlite:///{path}"
    else:
        import psycopg

        schema = f"bench_hist_{key}"
        plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        sep = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    CACHE.mkdir(parents=True, exist_ok=True)
    made_file = CACHE / f"generated-{kind}-{size.years}y-{key}.json"
    store = Store(url)
    try:
        store.migrate()
        if existing_tickets(store.engine, first, last) < size.tickets * 0.9:
            log.info("generating %s on %s (kept for later runs)", size.label, kind)
            _empty(store)
            started = time.monotonic()
            generate_history(store.engine, config, settings, today=END + dt.timedelta(days=1))
            made_file.write_text(json.dumps({"seconds": time.monotonic() - started}), "utf-8")
    finally:
        store.close()
    if kind == "postgres":
        _vacuum(schema)
    made = json.loads(made_file.read_text("utf-8"))["seconds"] if made_file.exists() else None
    yield url, made


def _vacuum(schema: str) -> None:
    """What autovacuum does on an office's server: the visibility map (index-only scans) and the
    planner's statistics. Quick once done (a vacuumed table is skipped)."""
    import psycopg

    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", (schema,)
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'VACUUM (ANALYZE) "{schema}"."{table}"')


def _empty(store: Store) -> None:
    """A half-made history (an interrupted run) is thrown away before generating again."""
    from server.store.records import answers_t, cases_t, numbers_t, responses_t, tickets_t, transitions_t

    with store.engine.begin() as connection:
        for table in (answers_t, responses_t, cases_t, transitions_t, tickets_t, numbers_t):
            connection.execute(table.delete())


# ------------------------------------------------------------------------------------------- the app


def _client(url: str, config: OfficeConfig, work: Path) -> tuple[Any, Any, Any]:
    """The web app over the real sequencer on the history (its clock stopped at 11:00 on the last
    day, so nothing rolls over), logged in as a manager."""
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from server.office import Office
    from server.web import WebSettings, create_app
    from server.web.accounts import AccountError, Accounts, Role
    from server.web.dashboard import DashboardSettings

    store = Store(url)
    noon = dt.datetime.combine(END, dt.time(11, 0), BANGKOK).astimezone(dt.UTC)
    office = Office(config, store, clock=lambda: noon)
    office.start()
    settings = WebSettings(web_dir=work / "web", secret_key="b" * 48, clock=lambda: noon)
    accounts = Accounts(
        store.engine, settings, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    try:
        accounts.create_user("bench-manager", PASSWORD, Role.manager)
    except AccountError:
        accounts.set_password("bench-manager", PASSWORD, again=PASSWORD)
    app = create_app(office, settings, accounts=accounts)
    app.state.dashboard_settings = DashboardSettings(config_path=None, broker_dir=work / "broker")
    client = TestClient(app)
    page = client.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = client.post(
        "/login",
        data={"username": "bench-manager", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return app, client, office


def _timed(runs: int, before: Callable[[], None], action: Callable[[], None]) -> list[float]:
    times = []
    for _ in range(runs):
        before()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


@dataclass(slots=True)
class Measured:
    today_ms: float
    quarter_s: float
    phases_s: dict[str, float]
    """The quarter's report taken apart, one step after the other: tickets from the database (with
    the requeued tickets' first calls), cases, survey counts, build_report. The page counts the survey
    (and finds the first calls) beside the tickets."""
    quarter_cached_ms: float
    xlsx_s: float
    quarter: str
    issued_in_quarter: int
    generated_s: float | None


def measure(
    url: str, config: OfficeConfig, work: Path, *, runs: int, generated_s: float | None, full_quarter: bool
) -> Measured:
    from server.web.dashboard.state import ReportCache

    app, client, office = _client(url, config, work)
    try:
        with client:
            first = client.get("/dashboard")
            assert first.status_code == 200, first.text[:500]
            dashboard = app.state.dashboard

            def cold() -> None:
                dashboard.reports = ReportCache()

            def ok(path: str) -> Callable[[], None]:
                def get() -> None:
                    response = client.get(path)
                    assert response.status_code == 200, f"{path}: {response.status_code}"

                return get

            today = _timed(runs, cold, ok("/dashboard"))
            # The last full quarter (a short quick run has only the current one).
            fy, q = fiscal_quarter(
                Period.quarter_of(END).first - dt.timedelta(days=1) if full_quarter else END
            )
            quarter_path = f"/dashboard/quarter?fy={fy}&q={q}"
            quarter = _timed(max(3, runs // 4), cold, ok(quarter_path))
            cached = _timed(max(3, runs // 4), lambda: None, ok(quarter_path))
            token_page = client.get(quarter_path).text
            import re

            token = re.search(r'name="csrf_token" value="([^"]+)"', token_page)
            assert token is not None

            def export() -> None:
                response = client.post(
                    "/dashboard/export",
                    data={
                        "csrf_token": token.group(1),
                        "format": "xlsx",
                        "scope": "quarter",
                        "fy": fy,
                        "q": q,
                    },
                    follow_redirects=False,
                )
                assert response.status_code == 303, f"export: {response.status_code} {response.text[:300]}"
                job_id = response.headers["location"].rsplit("/", 1)[1]
                assert dashboard.exports.wait(job_id, 120)
                assert client.get(f"/dashboard/export/{job_id}/file").status_code == 200

            xlsx = _timed(max(3, runs // 4), cold, export)
            report = dashboard.report(
                config, Period.fiscal_quarter(fy, q), today=END, now=dt.datetime.now(dt.UTC)
            )
            phases = _phases(dashboard.read_engine, config, Period.fiscal_quarter(fy, q))
        return Measured(
            today_ms=statistics.median(today) * 1000,
            quarter_s=statistics.median(quarter),
            phases_s=phases,
            quarter_cached_ms=statistics.median(cached) * 1000,
            xlsx_s=statistics.median(xlsx),
            quarter=f"FY {fy} Q{q}",
            issued_in_quarter=report.total.counts.issued,
            generated_s=generated_s,
        )
    finally:
        if app.state.dashboard is not None:
            app.state.dashboard.close()
        office.stop()
        office.store.close()


def _phases(engine: Any, config: OfficeConfig, period: Period) -> dict[str, float]:
    """Medians of three runs of each step of the quarter's report, on one read transaction each."""
    from server.reports import queries
    from server.reports.model import build_report

    found: dict[str, list[float]] = {}
    for _ in range(3):
        with engine.connect() as connection, connection.begin():
            started = time.perf_counter()
            tickets = queries.ticket_columns(connection, period)
            found.setdefault("tickets", []).append(time.perf_counter() - started)
            started = time.perf_counter()
            cases = queries.case_facts(connection, period)
            found.setdefault("cases", []).append(time.perf_counter() - started)
            started = time.perf_counter()
            queries.survey_counts(connection, period, config)
            found.setdefault("survey", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        build_report(period, tickets, [], cases, config)
        found.setdefault("build_report", []).append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in found.items()}


# ------------------------------------------------------------------------------------------------- run


def run(ctx: BenchContext) -> BenchResult:
    config_path = Path(ctx.options.get("config", str(EXAMPLE_CONFIG)))
    config = load_config(config_path)
    config_text = config_path.read_text("utf-8")
    sizes = ["quick"] if ctx.quick else ctx.options.get("sizes", "1y,5y").split(",")
    kinds = ctx.options.get("databases", "sqlite,postgres").split(",")
    runs = 5 if ctx.quick else int(ctx.options.get("runs", 20))
    notes: list[str] = []
    if "postgres" in kinds and not postgres_available():
        kinds.remove("postgres")
        notes.append("PostgreSQL was not reachable: its rows are missing from this run.")
    figures: list[Figure] = []
    data: dict[str, Any] = {}
    for size_name in sizes:
        size = SIZES[size_name]
        key = _key(size, config_text)
        for kind in kinds:
            label = f"{size.label}, {'SQLite' if kind == 'sqlite' else 'PostgreSQL'}"
            with history_database(kind, size, config, key) as (url, made):
                measured = measure(
                    url,
                    config,
                    ctx.work_dir / f"{size_name}-{kind}",
                    runs=runs,
                    generated_s=made,
                    full_quarter=size.years >= 0.5,
                )
            data[f"{size_name}-{kind}"] = asdict(measured)
            figures += [
                Figure(
                    f"{label}: today page",
                    measured.today_ms,
                    "ms",
                    f"≤ {TODAY_TARGET_MS:.0f} ms",
                    measured.today_ms <= TODAY_TARGET_MS,
                ),
                Figure(
                    f"{label}: quarterly report page, {measured.quarter} "
                    f"({measured.issued_in_quarter:,} tickets)",
                    measured.quarter_s,
                    "s",
                    f"≤ {QUARTER_TARGET_S:.0f} s",
                    measured.quarter_s <= QUARTER_TARGET_S,
                ),
                Figure(
                    f"{label}: the same page, report unchanged since (cached)",
                    measured.quarter_cached_ms,
                    "ms",
                ),
                Figure(
                    f"{label}: XLSX export of the quarter, click to file",
                    measured.xlsx_s,
                    "s",
                    f"≤ {XLSX_TARGET_S:.0f} s",
                    measured.xlsx_s <= XLSX_TARGET_S,
                ),
            ]
            phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in measured.phases_s.items())
            notes.append(f"{label}: the quarter's report taken apart: {phases}.")
            if measured.generated_s is not None:
                figures.append(
                    Figure(f"{label}: generating the history (when it was made)", measured.generated_s, "s")
                )
    load = os.getloadavg()
    notes += [
        f"Medians of {runs} requests for the today page and {max(3, runs // 4)} for the others, each after "
        "emptying the report cache (the cached row shows a repeat view when nothing changed).",
        "The history is `khiu admin generate-history --years N --tickets-per-year 200000` ending "
        f"{END.isoformat()}; kept in build/bench-data/ (SQLite) and schemas bench_hist_* (PostgreSQL), "
        "so only the first run pays for generating it. On PostgreSQL its tables are vacuumed and "
        "analysed before measuring, as autovacuum keeps an office's server (the test server runs "
        "without autovacuum: no planner statistics, no index-only scans).",
        f"Load average when the run ended: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(other work on the machine slows every figure).",
    ]
    bound = (
        "Python on two cores: the quarter's tickets come back column by column from an index holding "
        "every column the report reads (their durations computed in the database), and `build_report` "
        "groups them in one pass per breakdown with each group's times sorted once; meanwhile other "
        "read connections count the survey and find the requeued tickets' first calls in the "
        "database. The today page is one busy day, so the database does little."
    )
    return BenchResult(
        name=NAME,
        title="Manager dashboard on a busy office's history",
        figures=figures,
        bound=bound,
        command=ctx.command(NAME),
        notes=notes,
        data=data,
    )


BENCHMARK = Benchmark(
    name=NAME, title="Dashboard pages and exports on 1 and 5 years of history", run=run, order=60
)
