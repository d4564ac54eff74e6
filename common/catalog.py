"""The office's catalog message built from its config: the server's retained `catalog`, and what a
kiosk or survey terminal shows before it ever reached the server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

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
    utcnow,
)


def catalog_from_config(
    config: OfficeConfig,
    business_date: dt.date,
    *,
    now: dt.datetime | None = None,
    closed: Mapping[str, tuple[str, str]] | None = None,
) -> Catalog:
    """The office, its enabled services, the counters (with the enabled services they serve) and the
    survey form. `closed`: services that take no ticket now, with the reason in Thai and English (the
    server knows; a device without the server shows every service open)."""
    closed = closed or {}
    office = config.office
    survey = config.survey
    services = [
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
            accepting=s.code not in closed,
            closed_reason_th=closed[s.code][0] if s.code in closed else None,
            closed_reason_en=closed[s.code][1] if s.code in closed else None,
        )
        for s in config.enabled_services()
    ]
    offered = {s.code for s in services}
    return Catalog(
        ts=now or utcnow(),
        business_date=business_date,
        office=CatalogOffice(
            id=office.id,
            name_th=office.name_th,
            name_en=office.name_en,
            lao_type=office.lao_type.value,
            public_url=office.public_url,
        ),
        services=services,
        counters=[
            CatalogCounter(
                id=c.id,
                number=c.number,
                name_th=c.name_th,
                name_en=c.name_en,
                services=[code for code in c.services if code in offered],
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
