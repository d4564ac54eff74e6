"""What every fuzz test shares: how many examples to generate, a count of the cases run (printed at the
end of the session), and a fingerprint of the office's business tables to prove rejected input changed
nothing.

`KHIU_FUZZ_EXAMPLES` sets the examples per fuzz test (default `DEFAULT_EXAMPLES`); the session prints
the total so the figure in docs/reliability.md can be checked."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable

from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, Table, select

from server.store.models import (
    CaseRow,
    CounterStateRow,
    NumberCounterRow,
    SurveyAnswerRow,
    SurveyResponseRow,
    TicketRow,
    TransitionRow,
)

DEFAULT_EXAMPLES = 300
"""Per fuzz test, in `make test`: 20 fuzz tests (7 MQTT on SQLite, 5 of them again on PostgreSQL, 8 web)
x 300 = 6,000 cases in about a minute and a half on two idle cores. The recorded run of 10,000+ cases is
`KHIU_FUZZ_EXAMPLES=500 bash scripts/test.sh tests/fuzz` (docs/reliability.md)."""


def examples() -> int:
    return int(os.environ.get("KHIU_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))


FUZZ = settings(
    max_examples=examples(),
    deadline=None,
    derandomize=os.environ.get("CI") == "true",  # reproducible in CI (tests/conftest.py); random elsewhere
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
"""Hypothesis settings of every fuzz test: many examples, no deadline (a commit takes what it takes)."""


class CaseCounter:
    """Cases run per kind, across the session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.rejected: dict[str, int] = {}
        self.notes: dict[str, int] = {}
        """Things seen among the cases (known gaps, rare successes): not cases of their own."""

    def note(self, what: str) -> None:
        with self._lock:
            self.notes[what] = self.notes.get(what, 0) + 1

    def add(self, kind: str, *, rejected: bool) -> None:
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if rejected:
                self.rejected[kind] = self.rejected.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


CASES = CaseCounter()

BUSINESS_TABLES: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[misc]
    for model in (
        TicketRow,
        TransitionRow,
        NumberCounterRow,
        CounterStateRow,
        CaseRow,
        SurveyResponseRow,
        SurveyAnswerRow,
    )
)
"""What the office knows about citizens and counters. A refused request may leave only its stored
rejection (`processed_events`, so a resend gets the same answer), a rejection count and, on the web, an
audit entry or a session's flash message: never a change here."""


def fingerprint(engine: Engine, tables: Iterable[Table] = BUSINESS_TABLES) -> str:
    """A SHA-256 over every row of `tables`, in primary-key order."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in tables:
            digest.update(table.name.encode())
            order = list(table.primary_key.columns) or list(table.columns)
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
