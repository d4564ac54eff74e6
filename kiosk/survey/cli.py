"""`khiu kiosk --mode survey`: the survey terminal of one office.

    khiu kiosk --mode survey --device survey-1 --settings survey-1.toml
    khiu kiosk --mode survey --device survey-2 --windowed     # a tablet bound to a counter in the file

The device may be a `survey` device (a stand at the exit, or a tablet at a counter when the office file
gives it `counter = "c1"`) or a kiosk running the survey for a while (its ACL allows both). Kivy is
imported only when the command runs."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from typing import Any

from common.config import OfficeConfig
from common.vocabulary import DeviceRole

log = logging.getLogger(__name__)

SURVEY_ROLES = (DeviceRole.survey, DeviceRole.kiosk)


def run_survey(args: argparse.Namespace, config: OfficeConfig, config_path: Any) -> int:
    """Start the survey terminal for `args.device` (raises `kiosk.cli.UsageError` on bad input)."""
    from common.paths import data_dir
    from kiosk.cli import UsageError, _configure_kivy, _link_settings, _version

    device = config.device_by_id(args.device)
    if device is None:
        known = ", ".join(d.id for d in config.devices if d.role in SURVEY_ROLES) or "none"
        raise UsageError(f"{config_path}: no device {args.device!r} (survey terminals and kiosks: {known})")
    if device.role not in SURVEY_ROLES:
        raise UsageError(
            f"device {device.id} is a {device.role.value}: the survey runs on a survey device or a kiosk"
        )
    link = _link_settings(args, site=config.office.id)
    _configure_kivy(windowed=args.windowed)

    from common.catalog import catalog_from_config
    from common.thaidate import business_date
    from common.ui.clock import kivy_handoff
    from kiosk.survey.app import KivyScheduler, SurveyApp
    from kiosk.survey.model import SurveySettings
    from kiosk.survey.runtime import SurveyRuntime

    counter = config.counter_by_id(device.counter) if device.counter else None
    settings = SurveySettings(
        device_id=device.id,
        counter=counter.id if counter else None,
        counter_name_th=counter.name_th if counter else "",
        counter_name_en=counter.name_en if counter else "",
        offline_series=tuple(d.offline_series for d in config.devices if d.offline_series),
        days_valid=config.survey.days_valid,
    )
    benchmark = None
    if args.benchmark is not None:
        from kiosk.bench import Benchmark

        benchmark = Benchmark(args.benchmark)
    runtime = SurveyRuntime(
        settings=settings,
        link_settings=link,
        data_dir=(args.data_dir or data_dir()) / "survey" / device.id,
        handoff=kivy_handoff,
        scheduler=KivyScheduler(),
        role=device.role,
        fallback_catalog=lambda: catalog_from_config(config, business_date(dt.datetime.now(dt.UTC))),
        version=_version(),
    )
    app = SurveyApp(runtime.model, on_first_frame=benchmark.first_frame if benchmark else None)
    where = f" at counter {counter.id}" if counter else " (ticket number or QR)"
    log.info("survey terminal %s%s", device.id, where)
    runtime.start()
    try:
        app.run()
    finally:
        runtime.stop()
    return 0
