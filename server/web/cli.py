"""`khiu admin user ...`: web users from the command line, for the first administrator on a server without
a browser, or to let someone in again who forgot their password. Passwords are prompted (twice) or read
from standard input (`--password-stdin`), never taken as an argument: arguments end up in shell history
and in `ps`."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from typing import Any

from common.vocabulary import Lang
from server.web.accounts import AccountError, Accounts, Role
from server.web.texts import text

logger = logging.getLogger(__name__)


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu admin user add|list|passwd|disable|enable`."""
    user = admin_sub.add_parser("user", help="web users: add, list, set a password, disable, enable")
    user_sub = user.add_subparsers(dest="user_command", metavar="USER_COMMAND")
    user.set_defaults(handler=lambda _args: _help(user))

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--database-url",
        metavar="URL",
        help="database URL (default: $KHIU_DATABASE_URL, else khiu.db in the data directory)",
    )
    add = user_sub.add_parser("add", parents=[common], help="add a user (password prompted, or from stdin)")
    add.add_argument("name", help="username: a-z 0-9 . _ -, 2 to 40 characters")
    add.add_argument(
        "--role", choices=[r.value for r in Role], default=Role.staff.value, help="default: staff"
    )
    add.add_argument("--display-name", default="", help="name shown in the console, e.g. in Thai")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=_add)

    listing = user_sub.add_parser("list", parents=[common], help="list users and their roles")
    listing.set_defaults(handler=_list)

    passwd = user_sub.add_parser(
        "passwd", parents=[common], help="set a new password (ends the user's sessions)"
    )
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=_passwd)

    for name, active in (("disable", False), ("enable", True)):
        ends = "" if active else " (ends their sessions)"
        change = user_sub.add_parser(name, parents=[common], help=f"{name} a user{ends}")
        change.add_argument("name")
        change.set_defaults(handler=_set_active, active=active)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _accounts(args: argparse.Namespace) -> Accounts:
    from server.cli import DATABASE_ENV
    from server.store.database import create_database_engine, default_database_url, migrate
    from server.web.settings import WebSettings

    url = args.database_url or os.environ.get(DATABASE_ENV) or default_database_url()
    engine = create_database_engine(url)
    migrate(engine)
    return Accounts(engine, WebSettings.from_data_dir())


def _password(args: argparse.Namespace, name: str) -> tuple[str, str]:
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        return line, line
    first = getpass.getpass(f"Password for {name} / รหัสผ่านของ {name}: ")
    again = getpass.getpass("Again / ยืนยันอีกครั้ง: ")
    return first, again


def _refused(exc: AccountError) -> int:
    sys.stderr.write(f"{text(exc.code, Lang.th, **exc.values)} / {text(exc.code, Lang.en, **exc.values)}\n")
    return 1


def _add(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    password, again = _password(args, args.name)
    try:
        user = accounts.create_user(
            args.name, password, Role(args.role), display_name=args.display_name, again=again
        )
    except AccountError as exc:
        return _refused(exc)
    accounts.audit(None, "user.add", f"{user.username} role={user.role.value} (command line)")
    sys.stdout.write(f"added {user.username} ({user.role.value})\n")
    return 0


def _list(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    for user in accounts.users():
        state = "active" if user.active else "disabled"
        last = user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "never"
        sys.stdout.write(
            f"{user.username:<20} {user.role.value:<8} {state:<9} last login {last}  {user.display_name}\n"
        )
    return 0


def _passwd(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    password, again = _password(args, args.name)
    try:
        user = accounts.set_password(args.name, password, again=again)
    except AccountError as exc:
        return _refused(exc)
    accounts.audit(None, "user.password", f"{user.username} (command line)")
    sys.stdout.write(f"new password set for {user.username}\n")
    return 0


def _set_active(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        user = accounts.set_active(args.name, args.active)
    except AccountError as exc:
        return _refused(exc)
    change = "enable" if args.active else "disable"
    accounts.audit(None, f"user.{change}", f"{user.username} (command line)")
    sys.stdout.write(f"{user.username} {change}d\n")
    return 0
