"""The office database as one object: the writer engine the sequencer owns, a reader engine for reports
and the web app, and the schema upgrade every start runs."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from server.store.database import create_database_engine, describe_url, is_sqlite, migrate

log = logging.getLogger(__name__)


class Store:
    """The database at `url` (SQLite file or PostgreSQL). `engine` is for the sequencer's writes (on
    SQLite every transaction begins IMMEDIATE); `read_engine` for readers, which under WAL never wait
    for the writer. On PostgreSQL both are the same engine."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine: Engine = create_database_engine(url, **engine_kwargs)
        self.read_engine: Engine = (
            create_database_engine(url, writer=False, **engine_kwargs) if is_sqlite(url) else self.engine
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        migrate(self.engine)

    def describe(self) -> str:
        return describe_url(self.url)

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
