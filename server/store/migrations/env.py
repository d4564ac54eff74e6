"""Alembic environment: runs on the connection `server.store.database.migrate` hands over, or opens
`sqlalchemy.url` itself (the `alembic` command line, with `-x url=...`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from server.store.database import create_database_engine, schema_metadata


def run_migrations() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:
        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
            "sqlalchemy.url"
        )
        if not url:
            raise SystemExit("no database: pass -x url=... (or use `khiu admin migrate`)")
        engine = create_database_engine(url)
        with engine.begin() as own_connection:
            _configure_and_run(own_connection)
        engine.dispose()
        return
    _configure_and_run(connection)


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=schema_metadata(),
        render_as_batch=True,  # SQLite alters tables by copying them (Alembic "batch" mode)
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
