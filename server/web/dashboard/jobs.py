"""Exports that take a while run in a background thread; the browser polls their progress and then
downloads the file. A job belongs to the user who asked for it; finished files are kept for an hour
in memory (a quarterly workbook is tens of kilobytes, a PDF a few hundred)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from server.reports.progress import Progress

logger = logging.getLogger(__name__)

KEEP_FOR = dt.timedelta(hours=1)
MAX_RUNNING = 2
"""Exports at once: each holds a core for a second or two; a third waits for a free one."""
MAX_WAITING = 8
"""Beyond this, a new export is refused with "try again" rather than piling up threads."""


class JobState(StrEnum):
    running = "running"
    done = "done"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class ExportFile:
    """What an export produced."""

    data: bytes
    filename: str
    media_type: str


@dataclass(slots=True)
class ExportJob:
    id: str
    owner: str
    title: str
    started_at: dt.datetime
    state: JobState = JobState.running
    progress: float = 0.0
    file: ExportFile | None = None
    finished_at: dt.datetime | None = None
    back: str = "/dashboard"
    """The page the export was asked from."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    ended: threading.Event = field(default_factory=threading.Event, repr=False)


class TooManyExports(Exception):
    """Refused: too many exports are already waiting."""


Work = Callable[[Progress], ExportFile]


class ExportJobs:
    """The running and recent exports of this server."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self._clock = clock
        self._jobs: dict[str, ExportJob] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_RUNNING)

    def start(self, owner: str, title: str, work: Work, *, back: str = "/dashboard") -> ExportJob:
        """Run `work` in a thread; returns the job at once."""
        with self._lock:
            self._forget_old()
            if sum(1 for j in self._jobs.values() if j.state is JobState.running) >= MAX_WAITING:
                raise TooManyExports
            job = ExportJob(
                id=secrets.token_urlsafe(12), owner=owner, title=title, started_at=self._clock(), back=back
            )
            self._jobs[job.id] = job
        thread = threading.Thread(target=self._run, args=(job, work), name=f"export-{job.id}", daemon=True)
        thread.start()
        return job

    def get(self, job_id: str, owner: str) -> ExportJob | None:
        """The job, if it exists and is this user's."""
        with self._lock:
            self._forget_old()
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def wait(self, job_id: str, timeout: float) -> bool:
        """Block until the job ends (benchmarks, tests); False on timeout or an unknown job."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job is not None and job.ended.wait(timeout)

    def _run(self, job: ExportJob, work: Work) -> None:
        def progress(fraction: float) -> None:
            with job.lock:
                job.progress = max(job.progress, min(1.0, fraction))

        with self._slots:
            try:
                produced = work(progress)
            except Exception:
                logger.exception("export %s (%s) failed", job.id, job.title)
                with job.lock:
                    job.state = JobState.failed
                    job.finished_at = self._clock()
                job.ended.set()
                return
        with job.lock:
            job.file = produced
            job.progress = 1.0
            job.state = JobState.done
            job.finished_at = self._clock()
        job.ended.set()
        logger.info("export %s ready: %s, %d bytes", job.id, produced.filename, len(produced.data))

    def _forget_old(self) -> None:
        cutoff = self._clock() - KEEP_FOR
        for job_id in [
            j.id for j in self._jobs.values() if j.finished_at is not None and j.finished_at < cutoff
        ]:
            del self._jobs[job_id]
