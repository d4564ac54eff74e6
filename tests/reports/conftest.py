"""Fixtures of the report tests: the hand-made office and quarter of quarter_facts.py."""

from __future__ import annotations

import pytest

from common.config import OfficeConfig, config_from_dict
from server.reports.model import Report, build_report
from tests.reports.quarter_facts import CASES, GENERATED, OFFICE, QUARTER, RESPONSES, TICKETS


@pytest.fixture(scope="session")
def office() -> OfficeConfig:
    return config_from_dict(OFFICE)


@pytest.fixture(scope="session")
def report(office: OfficeConfig) -> Report:
    return build_report(QUARTER, TICKETS, RESPONSES, CASES, office, generated_at=GENERATED)
