"""The kiosk's copy of the catalog, so it starts and issues (offline) tickets without the server.

The server keeps the catalog retained on `khiu/{site}/catalog`; each one the kiosk receives replaces a
JSON file in its data directory. At start the kiosk shows that file; without one (a new kiosk that has
never met the server) it builds the service list from the office TOML, every service open.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from common.config import OfficeConfig
from common.contract import (
    Catalog,
    CatalogChoice,
    CatalogCounter,
    CatalogDemographic,
    CatalogOffice,
    CatalogService,
    CatalogSurvey,
    CatalogSurveyItem,
    CatalogSurveySection,
    DecodeFailure,
    decode,
)

log = logging.getLogger(__name__)


class CatalogCache:
    """One JSON file holding the last catalog received, byte for byte as the server sent it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, site: str | None = None) -> Catalog | None:
        """The cached catalog, or None when there is none (or it is unreadable, or of another office)."""
        try:
            payload = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the cached catalog %s: %s", self.path, exc)
            return None
        message = decode(payload, expect=(Catalog,))
        if isinstance(message, DecodeFailure):
            log.warning("ignoring the cached catalog %s: %s", self.path, message.reason)
            return None
        assert isinstance(message, Catalog)
        if site is not None and message.office.id != site:
            log.warning(
                "ignoring the cached catalog of office %s (this kiosk is in %s)", message.office.id, site
            )
            return None
        return message

    def save(self, payload: bytes) -> None:
        """Replace the cache atomically (a power cut leaves the old file or the new one, never half)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(tmp, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)


def catalog_from_config(config: OfficeConfig, business_date: dt.date) -> Catalog:
    """A catalog built from the office file: what the kiosk shows before it ever reached the server.
    Every enabled service is shown open; the server's catalog says otherwise once it arrives."""
    office = config.office
    survey = config.survey
    return Catalog(
        business_date=business_date,
        office=CatalogOffice(
            id=office.id,
            name_th=office.name_th,
            name_en=office.name_en,
            lao_type=office.lao_type.value,
            public_url=office.public_url,
        ),
        services=[
            CatalogService(
                code=s.code,
                prefix=s.prefix,
                name_th=s.name_th,
                name_en=s.name_en,
                group=s.group,
                kind=s.kind,
                agency_th=s.agency_th,
                agency_en=s.agency_en,
                standard_minutes=s.standard_minutes,
                documents_th=list(s.documents_th),
                documents_en=list(s.documents_en),
            )
            for s in config.enabled_services()
        ],
        counters=[
            CatalogCounter(
                id=c.id, number=c.number, name_th=c.name_th, name_en=c.name_en, services=list(c.services)
            )
            for c in config.counters
        ],
        survey=CatalogSurvey(
            sections=[
                CatalogSurveySection(
                    id=section.id,
                    title_th=section.title_th,
                    title_en=section.title_en,
                    items=[
                        CatalogSurveyItem(id=i.id, text_th=i.text_th, text_en=i.text_en)
                        for i in section.items
                    ],
                )
                for section in survey.sections
            ],
            overall_item=survey.overall_item,
            demographics=[
                CatalogDemographic(
                    id=name,
                    label_th=question.label_th,
                    label_en=question.label_en,
                    options=[
                        CatalogChoice(id=o.id, label_th=o.label_th, label_en=o.label_en)
                        for o in question.options
                    ],
                )
                for name, question in survey.demographics.questions()
            ],
        ),
    )
