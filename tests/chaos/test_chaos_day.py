"""A short chaos run (`khiu chaos` in about a minute): the broker SIGKILLed once, the server SIGKILLed once,
one kiosk off the network for twenty seconds, during a simulated day through the real broker and server.
Afterwards nothing a device was told is missing from the database, nothing is applied twice, every
request was answered with the stored reply, numbers are gapless, and the boards show the database's
truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.chaos.report import render
from server.chaos.run import ChaosPlan, run_chaos

pytestmark = pytest.mark.broker


def test_a_short_day_under_kills_and_a_cut_loses_and_doubles_nothing(tmp_path: Path) -> None:
    plan = ChaosPlan(minutes=1.0, tickets=30, broker_kills=1, server_kills=1, cut_s=20.0, down_s=2.0, seed=7)
    result = run_chaos(plan, tmp_path)
    rec = result.reconciliation
    report = render(result, command="test")
    print(report)

    assert result.injected("kill broker") == 1 and result.injected("kill server") == 1
    assert result.injected("unplug kiosk") == 1 and result.injected("plug kiosk") == 1
    assert rec.tickets_acknowledged > 0 and rec.ratings_acknowledged > 0
    assert rec.lost == 0, report
    assert rec.duplicated == 0, report  # applied twice, or one citizen holding two places
    assert rec.unanswered == 0 and rec.reply_mismatch == 0, report
    assert rec.unexplained == 0, report
    assert rec.numbering == [], report
    assert rec.board == [], report
    assert result.ok, report
