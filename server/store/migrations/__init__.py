"""Alembic migrations of the office database (one chain for the store and the web app's tables)."""
