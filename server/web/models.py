"""The web app's tables: users, their sessions, login attempts (for throttling) and the audit log of staff
and admin actions (who, what, when, from where). They live in the store's database and metadata, so one
Alembic chain creates them (server/store/migrations)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.store.models import Base, UtcDateTime

__all__ = ["AuditEntry", "Base", "LoginAttempt", "User", "UserSession"]


class User(Base):
    """Someone who logs in to the web app: staff at a counter, a manager, an administrator."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(16))
    """`staff`, `manager` or `admin` (server.web.security.Role)."""
    password_hash: Mapped[str] = mapped_column(String(255))
    """argon2id, with its parameters in the string."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class UserSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored, so a copy of the
    database does not let anyone in."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of the cookie's token."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    counter: Mapped[str | None] = mapped_column(String(64), default=None)
    """The counter this browser works at, once chosen."""
    flash: Mapped[str | None] = mapped_column(Text, default=None)
    """A message to show on the next page (JSON), after a form posts and redirects."""


class LoginAttempt(Base):
    """One try at the login form, kept for throttling (per account and per address) and for the audit."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    username: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """Who did what, when, from where: logins, user changes, every staff action in the console."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)  # the last backup, its last failure

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, index=True)
    username: Mapped[str | None] = mapped_column(String(40), default=None)
    action: Mapped[str] = mapped_column(String(60))
    """`login`, `login.failed`, `logout`, `setup`, `user.add`, `counter.call_next`, `case.update` ..."""
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
