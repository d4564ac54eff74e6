"""`khiu display` (the hall board or a counter terminal) and `khiu admin clips generate`.

Kivy is imported only when a display starts, after its settings are set in the environment (Kivy
reads `KCFG_*` when first imported), so `khiu --help` stays instant."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeAlias, cast

from common import paths
from common.config import ConfigError, OfficeConfig, load_config
from common.device_settings import DeviceSettings, DeviceSettingsError, load_device_settings, settings_path
from common.kivy_env import set_device_kivy_env

from .announce import AnnouncementSettings
from .clips import VOICES, ClipGenerationError, default_clip_dir, generate_clips
from .options import DisplayOptions

if TYPE_CHECKING:
    SubParsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


class CliError(Exception):
    """A problem to report in one message (no traceback)."""


def _run(handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CliError, ConfigError, DeviceSettingsError, ClipGenerationError) as exc:
            sys.stderr.write(f"khiu: {exc}\n")
            return 1

    return run


def _help(parser: argparse.ArgumentParser) -> Handler:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


# ----------------------------------------------------------------------------------------------- display


def _counter_for(args: argparse.Namespace, mqtt: DeviceSettings, config: OfficeConfig | None) -> str:
    """The counter a terminal serves: --counter, else the device's counter in the office file or the
    settings; they must agree, because the broker lets the device command only its own counter."""
    bound = {c for c in (mqtt.counter, _config_counter(config, mqtt.device_id)) if c}
    if args.counter:
        if bound and args.counter not in bound:
            raise CliError(
                f"เครื่อง {mqtt.device_id} ผูกกับช่องบริการ {', '.join(sorted(bound))} ไม่ใช่ {args.counter} / "
                f"device {mqtt.device_id} is bound to counter {', '.join(sorted(bound))}, not {args.counter}"
            )
        return str(args.counter)
    if len(bound) == 1:
        return bound.pop()
    if not bound:
        raise CliError(
            "ไม่ทราบว่าเป็นเครื่องของช่องบริการใด / which counter? pass --counter ID "
            "(or bind the device: khiu admin device add ID --role counter --counter C)"
        )
    raise CliError(f"the settings and the office file bind {mqtt.device_id} to different counters: {bound}")


def _config_counter(config: OfficeConfig | None, device_id: str) -> str | None:
    if config is None:
        return None
    device = config.device_by_id(device_id)
    return device.counter if device is not None else None


def display_options(args: argparse.Namespace) -> DisplayOptions:
    """Check every argument and file before a window opens (and before Kivy is imported)."""
    mqtt = load_device_settings(settings_path(args.settings))
    if args.device and args.device != mqtt.device_id:
        raise CliError(
            f"ไฟล์ค่าการเชื่อมต่อเป็นของเครื่อง {mqtt.device_id} / the settings file is for device "
            f"{mqtt.device_id}, not {args.device}"
        )
    # The office file only gives names before the retained catalog arrives: the shipped example is
    # another office, so it is used only when asked for.
    config_file = args.config or paths.default_config_path()
    own = args.config is not None or Path(config_file).resolve() != paths.EXAMPLE_CONFIG.resolve()
    config = load_config(config_file) if own else None
    if config is not None and config.office.id != mqtt.site:
        raise CliError(
            f"{config_file}: office.id is {config.office.id!r} but the device settings say site {mqtt.site!r}"
        )
    mode = cast(Literal["board", "counter"], args.mode)
    data_dir = (args.data_dir or paths.data_dir()).resolve()
    options = DisplayOptions(
        mode=mode,
        mqtt=mqtt,
        data_dir=data_dir,
        clips=args.clips or default_clip_dir(data_dir),
        announcement=AnnouncementSettings(style=args.call_style, polite=args.polite, english=args.english),
        muted=args.mute,
        staff=args.staff,
    )
    if config is not None:
        options.office_th, options.office_en = config.office.name_th, config.office.name_en
        options.service_names = {s.code: (s.name_th, s.name_en) for s in config.services}
    if mode == "counter":
        options.counter = _counter_for(args, mqtt, config)
        counter = config.counter_by_id(options.counter) if config is not None else None
        if config is not None and counter is None:
            raise CliError(f"{config_file}: no counter has id {options.counter!r}")
        if counter is not None:
            options.counter_th, options.counter_en = counter.name_th, counter.name_en
    return options


def _display(args: argparse.Namespace) -> int:
    options = display_options(args)
    # Kivy reads these when first imported (REFERENCE.md, "Kivy"): set them before.
    set_device_kivy_env()
    if args.windowed:
        os.environ.setdefault("KCFG_GRAPHICS_FULLSCREEN", "0")
        width, _, height = args.size.partition("x")
        os.environ.setdefault("KCFG_GRAPHICS_WIDTH", width)
        os.environ.setdefault("KCFG_GRAPHICS_HEIGHT", height)
    else:
        os.environ.setdefault("KCFG_GRAPHICS_FULLSCREEN", "auto")
        if options.mode == "board":
            os.environ.setdefault("KCFG_GRAPHICS_SHOW_CURSOR", "0")
    from .app import DisplayApp

    log.info(
        "khiu display: %s as %s on %s:%s%s",
        options.mode,
        options.mqtt.device_id,
        options.mqtt.host,
        options.mqtt.broker_port,
        f", counter {options.counter}" if options.counter else "",
    )
    DisplayApp(options).run()
    return 0


# ------------------------------------------------------------------------------------------------- clips


def _clips_generate(args: argparse.Namespace) -> int:
    folder: Path = args.into or default_clip_dir(args.data_dir)
    report = generate_clips(folder, voice=args.voice, overwrite=args.overwrite, english=not args.no_english)
    n = len(report.written)
    _out(f"สร้างเสียงชั่วคราว {n} ไฟล์ใน {folder} / {n} placeholder clip(s) in {folder}")
    if report.kept:
        _out(
            f"คงไฟล์เดิมไว้ {len(report.kept)} ไฟล์ (ใช้ --overwrite เพื่อเขียนทับ) / "
            f"kept {len(report.kept)} existing clip(s) (--overwrite replaces them)"
        )
    _out("บันทึกเสียงจริงของสำนักงานทับได้ / record the office's own voice: see counter_display/clips/README.md")
    return 0


# ------------------------------------------------------------------------------------------ registration


def register(sub: SubParsers, admin_sub: SubParsers) -> None:
    """Add `khiu display` and `khiu admin clips` (called by common/cli.py)."""
    display = sub.add_parser(
        "display",
        help="the hall board or a counter terminal (Kivy, fullscreen)",
        description="จอรวมในห้องโถง หรือ เครื่องประจำช่องบริการ / the hall board or a counter terminal.",
    )
    display.add_argument("--mode", required=True, choices=["board", "counter"], help="board or counter")
    display.add_argument("--device", help="this device's id (checked against the settings file)")
    display.add_argument("--counter", help="counter id (counter mode; default: the device's bound counter)")
    display.add_argument("--config", type=Path, help="office TOML (default $KHIU_CONFIG or ./office.toml)")
    display.add_argument(
        "--settings",
        help="connection settings saved from `khiu admin device add` (default $KHIU_DEVICE_SETTINGS)",
    )
    display.add_argument(
        "--data-dir", type=Path, default=None, help="data directory (default $KHIU_DATA_DIR or ./var)"
    )
    display.add_argument("--windowed", action="store_true", help="a window instead of fullscreen")
    display.add_argument("--size", default="1280x720", help="window size with --windowed (default 1280x720)")
    display.add_argument("--clips", type=Path, help="clip set folder (default {data dir}/clips)")
    display.add_argument(
        "--call-style", choices=["digits", "number"], default="digits", help="A012: digit by digit or สิบสอง"
    )
    display.add_argument("--polite", choices=["ka", "krap"], default="ka", help="closing particle: ค่ะ or ครับ")
    display.add_argument("--english", action="store_true", help="announce in English after Thai")
    display.add_argument("--mute", action="store_true", help="no sound (the board still flashes each call)")
    display.add_argument("--staff", help="staff id sent with counter commands")
    display.set_defaults(handler=_run(_display))

    clips = admin_sub.add_parser("clips", help="announcement clip sets: generate placeholders")
    clips_sub = clips.add_subparsers(dest="clips_command", metavar="CLIPS_COMMAND")
    clips.set_defaults(handler=_help(clips))
    generate = clips_sub.add_parser(
        "generate", help="make a placeholder clip for every phrase with espeak-ng (keeps recorded clips)"
    )
    generate.add_argument(
        "--voice",
        choices=list(VOICES),
        default="espeak",
        help="espeak: Thai words read by espeak-ng's English voice (clearer); espeak-th: its Thai voice",
    )
    generate.add_argument("--into", type=Path, help="folder (default {data dir}/clips)")
    generate.add_argument("--overwrite", action="store_true", help="replace clips already in the folder")
    generate.add_argument("--no-english", action="store_true", help="Thai clips only")
    generate.add_argument(
        "--data-dir", type=Path, default=None, help="data directory (default $KHIU_DATA_DIR or ./var)"
    )
    generate.set_defaults(handler=_run(_clips_generate))
