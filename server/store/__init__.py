"""The office database: typed models, the Alembic chain, and the reads and writes of the sequencer.

`Store(url)` opens it (SQLite or PostgreSQL); `Store.migrate()` upgrades the schema; `records` holds the
Core reads and writes; reports may query the models read-only through `Store.read_engine`."""

from server.store.database import create_database_engine, default_database_url, migrate
from server.store.store import Store

__all__ = ["Store", "create_database_engine", "default_database_url", "migrate"]
