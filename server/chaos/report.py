"""The figures of a chaos run as a section of docs/reliability.md, between `<!-- chaos:figures -->` and
`<!-- /chaos:figures -->`; the rest of the page (written by hand) is kept."""

from __future__ import annotations

import re
from pathlib import Path

from server.chaos.run import ChaosResult

START = "<!-- chaos:figures -->"
END = "<!-- /chaos:figures -->"


def render(result: ChaosResult, *, command: str = "khiu chaos") -> str:
    plan = result.plan
    rec = result.reconciliation
    summary = result.summary
    sent = rec.sent
    verdict = "ผ่าน / OK" if result.ok else "ไม่ผ่าน / NOT OK"
    numbering = "; ".join(rec.numbering[:3]) or "unique and gapless per prefix, offline numbers all stored"
    boards = "; ".join(rec.board[:3]) or "retained board and counter states equal the database"
    lines = [
        START,
        f"### Last run: {verdict}",
        "",
        f"`{command}` on {result.started_at} ({result.machine.get('system', '?')}, "
        f"{result.machine.get('cpus', '?')} CPUs, load {result.machine.get('load_before', '?')} before; "
        f"Python {result.machine.get('python', '?')}).",
        "",
        "| | |",
        "| --- | --- |",
        f"| simulated day | 08:00-17:00 in {plan.minutes:g} min (speed {plan.speed:.0f}), "
        f"{plan.kiosks} kiosks, {plan.counters} counters, {plan.surveys} survey tablets |",
        f"| faults injected | broker SIGKILL x{result.injected('kill broker')}, "
        f"server SIGKILL x{result.injected('kill server')}, "
        f"kiosk off the network x{result.injected('unplug kiosk')} ({plan.cut_s:g} s) |",
        f"| requests sent | {sum(sent.values())} ({', '.join(f'{k} {v}' for k, v in sorted(sent.items()))}); "
        f"{rec.publishes} publishes with resends |",
        f"| tickets | {rec.tickets_acknowledged} acknowledged ({rec.offline_acknowledged} issued offline "
        f"by kiosks), {rec.tickets_stored} stored; {result.withdrawn} requests given up by kiosks |",
        f"| ratings | {rec.ratings_acknowledged} accepted, {rec.ratings_stored} stored |",
        f"| served | {summary.get('served_total', 0)}, calls {summary.get('calls', 0)}, "
        f"transitions stored {rec.transitions_stored} |",
        f"| **lost** | **{rec.lost}** |",
        f"| **duplicated** | **{rec.duplicated}** (applied twice {rec.applied_twice}, "
        f"one citizen holding two places {rec.two_places}) |",
        f"| unanswered / reply differs from the stored one | {rec.unanswered} / {rec.reply_mismatch} |",
        f"| numbering | {numbering} |",
        f"| boards at the end | {boards} |",
        f"| duration | {result.wall_s:.0f} s wall clock |",
        "",
    ]
    if rec.problems:
        lines += ["Problems found:", ""]
        lines += [f"- {problem}" for problem in rec.problems]
        lines.append("")
    lines += ["Fault log (seconds into the day):", ""]
    lines += [f"- {at:.1f} s: {what} {detail}".rstrip() for at, what, detail in result.faults]
    lines.append(END)
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace the figures section of `path` (or append one)."""
    text = path.read_text("utf-8") if path.exists() else "# Reliability\n"
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, "utf-8")
