"""`khiu chaos` (`make chaos`): a simulated office day through the real MQTT contract while the broker
and the server are killed with SIGKILL and one kiosk is cut off the network; then every device's outbox
is reconciled with the database and the boards with the database, and the figures go to
docs/reliability.md.

- `lan.py`: the office LAN as a loopback relay that can unplug one device;
- `office.py`: the broker and the real server as processes that can be killed and started again;
- `kiosks.py`: the simulated day with kiosks that issue offline tickets as the real kiosk does;
- `reconcile.py`: outboxes against the database, boards against the database;
- `run.py`: the schedule of faults and the run; `report.py`: the figures in docs/reliability.md."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(sub: Any, admin_sub: Any) -> None:
    """Add `khiu chaos`."""
    p = sub.add_parser(
        "chaos",
        help="a simulated day under broker and server kills and a kiosk off the network (ทดสอบความทนทาน)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--minutes", type=float, default=6.0, help="wall-clock length of the day (default 6)")
    p.add_argument("--tickets", type=int, default=150, help="citizens in the day (default 150)")
    p.add_argument("--kiosks", type=int, default=5)
    p.add_argument("--counters", type=int, default=3)
    p.add_argument("--surveys", type=int, default=2)
    p.add_argument("--broker-kills", type=int, default=3)
    p.add_argument("--server-kills", type=int, default=3)
    p.add_argument("--cut-s", type=float, default=120.0, help="seconds one kiosk is off the network (120)")
    p.add_argument("--down-s", type=float, default=3.0, help="seconds a killed process stays down (3)")
    p.add_argument("--seed", type=int, default=None, help="seed of the simulated day")
    p.add_argument("--database-url", help="run on this database (default: a fresh SQLite file)")
    p.add_argument(
        "--work-dir", type=Path, default=Path("build/chaos"), help="files of the run (build/chaos)"
    )
    p.add_argument(
        "--report",
        type=Path,
        default=None,
        help="where to write the figures (default: docs/reliability.md of the source tree)",
    )
    p.add_argument("--no-report", action="store_true", help="print the figures only")
    p.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    import shutil

    from common.paths import REPO_ROOT
    from server.chaos.report import render, write_section
    from server.chaos.run import ChaosPlan, run_chaos

    plan = ChaosPlan(
        minutes=args.minutes,
        tickets=args.tickets,
        kiosks=args.kiosks,
        counters=args.counters,
        surveys=args.surveys,
        broker_kills=args.broker_kills,
        server_kills=args.server_kills,
        cut_s=args.cut_s,
        down_s=args.down_s,
        seed=args.seed,
        database_url=args.database_url,
    )
    if plan.cut_s >= plan.minutes * 60 * 0.7:
        sys.stderr.write("khiu: --cut-s must be well inside the day (--minutes)\n")
        return 2
    work = args.work_dir.resolve()
    if work.exists():
        shutil.rmtree(work)
    result = run_chaos(plan, work, progress=print_line)
    text = render(result, command=_command_line(args))
    sys.stdout.write(text + "\n")
    if not args.no_report:
        target = args.report or REPO_ROOT / "docs" / "reliability.md"
        write_section(target, text)
        sys.stdout.write(f"ผลบันทึกใน / figures written to {target}\n")
    sys.stdout.write(f"ไฟล์ของการทดสอบ / files of the run: {work} (result.json, server.log, devices/)\n")
    return 0 if result.ok else 1


def print_line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _command_line(args: argparse.Namespace) -> str:
    parts = ["khiu chaos"]
    defaults = {"minutes": 6.0, "tickets": 150, "broker_kills": 3, "server_kills": 3, "cut_s": 120.0}
    for name, default in defaults.items():
        value = getattr(args, name)
        if value != default:
            parts.append(f"--{name.replace('_', '-')} {value:g}")
    if args.seed is not None:
        parts.append(f"--seed {args.seed}")
    return " ".join(parts)
