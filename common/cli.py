"""The `khiu` command. Each part registers its own subcommands; heavy imports (Kivy, the web app)
happen only when a subcommand runs, so `khiu --help` is instant."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

# Modules that define `register(subparsers, admin_subparsers)`. A module that is not there yet is
# skipped, so a part can be added without touching this list's users.
COMMAND_MODULES: tuple[str, ...] = (
    "server.cli",
    "server.web.cli",
    "server.simulate",
    "server.history",
    "kiosk.cli",
    "counter_display.cli",
    "broker_config.cli",
    "server.demo",
    "server.backup",
    "server.retention",
    "server.chaos",
)

DEVICE_COMMANDS: dict[str, str] = {"kiosk": "kiosk.cli", "display": "counter_display.cli"}
"""Commands that run on a device's small computer: `khiu kiosk …` registers only its own module, so a
kiosk does not import (and keep in memory for its whole life) the server's database and web layers
just to parse its command line."""

Handler = Callable[[argparse.Namespace], int]


def _device_module(argv: Sequence[str]) -> str | None:
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    return DEVICE_COMMANDS.get(command) if command is not None else None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The whole `khiu` parser; for a device command in `argv`, only that command's module."""
    parser = argparse.ArgumentParser(
        prog="khiu",
        description="Khiu (คิว): queue and satisfaction survey for One Stop Service centres.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    admin = sub.add_parser("admin", help="administration: devices, credentials, TLS, backups, data")
    admin_sub = admin.add_subparsers(dest="admin_command", metavar="ADMIN_COMMAND")
    admin.set_defaults(handler=lambda _args: _print_help(admin))
    device_module = _device_module(argv)
    for name in (device_module,) if device_module is not None else COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        module.register(sub, admin_sub)
    return parser


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
