"""`khiu admin user ...` as an administrator uses it on the server."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from server.store.database import create_database_engine
from server.web import cli
from server.web.accounts import Accounts, Role
from server.web.settings import WebSettings


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="khiu")
    sub = parser.add_subparsers()
    admin = sub.add_parser("admin")
    cli.register(sub, admin.add_subparsers())
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        patch.setattr("sys.stdout", out)
        patch.setattr("sys.stderr", err)
        code = args.handler(args)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("KHIU_DATA_DIR", str(tmp_path))
    return f"sqlite:///{tmp_path / 'khiu.db'}"


def test_add_list_passwd_disable(database: str, tmp_path: Path) -> None:
    def user(*words: str, stdin: str = "") -> tuple[int, str, str]:
        return run(["admin", "user", *words, "--database-url", database], stdin)

    code, out, _ = user(
        "add",
        "Boss",
        "--role",
        "admin",
        "--display-name",
        "หัวหน้า",
        "--password-stdin",
        stdin="a long enough pass\n",
    )
    assert (code, out) == (0, "added boss (admin)\n")
    code, out, _ = user("add", "staff1", "--password-stdin", stdin="another long one\n")
    assert code == 0
    code, out, _ = user("list")
    assert out.splitlines()[0].split()[:3] == ["boss", "admin", "active"]
    assert "หัวหน้า" in out
    assert out.splitlines()[1].split()[:2] == ["staff1", "staff"]
    code, _, err = user("add", "staff1", "--password-stdin", stdin="another long one\n")
    assert code == 1 and "มีชื่อผู้ใช้นี้แล้ว / This username is taken." in err
    code, _, err = user("passwd", "staff1", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 10" in err
    assert user("passwd", "staff1", "--password-stdin", stdin="a brand new password\n")[0] == 0
    code, _, err = user("disable", "boss")
    assert code == 1 and "At least one active administrator" in err
    assert user("disable", "staff1")[0] == 0

    accounts = Accounts(create_database_engine(database), WebSettings.from_data_dir(tmp_path))
    assert accounts.login("staff1", "a brand new password", ip="127.0.0.1").user is None, "disabled"
    boss = accounts.login("boss", "a long enough pass", ip="127.0.0.1").user
    assert boss is not None and boss.role is Role.admin
    actions = [e.action for e in accounts.audit_entries()]
    assert {"user.add", "user.password", "user.disable"} <= set(actions)
