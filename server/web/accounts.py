"""Users, passwords, sessions, login throttling and the audit log: the data side of the web app's
security. Plain functions over a SQLAlchemy engine; callers get frozen snapshots, never ORM objects.

Passwords are hashed with argon2id (argon2-cffi's defaults, about 0.2 s a check on an office PC). The
session cookie carries a random token; the database keeps only its SHA-256. Wrong passwords are counted
per account and per address: past the limit, the next try waits (settings.login_lockout), and the
form says how long."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from server.web.models import AuditEntry, LoginAttempt, User, UserSession
from server.web.settings import WebSettings

logger = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD_CHARS = 10
"""Long enough that guessing through the throttled form is hopeless; short enough to type at a counter."""

SEEN_EVERY = dt.timedelta(minutes=1)
"""A session's `seen_at` is written at most this often: the console polls every few seconds and the
database belongs to the sequencer first."""


class Role(StrEnum):
    """What a user may do. Each role may do everything the roles before it may."""

    staff = "staff"
    manager = "manager"
    admin = "admin"

    @property
    def level(self) -> int:
        return _ROLE_ORDER.index(self) + 1


_ROLE_ORDER: tuple[Role, ...] = (Role.staff, Role.manager, Role.admin)


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A logged-in browser: whose, its CSRF token, the counter it works at."""

    key: str
    """SHA-256 of the cookie token (the row id)."""
    user: UserInfo
    csrf_token: str
    counter: str | None


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at: dt.datetime
    username: str | None
    action: str
    detail: str
    ip: str


class LoginStatus(StrEnum):
    ok = "ok"
    failed = "failed"
    locked = "locked"


@dataclass(frozen=True, slots=True)
class LoginResult:
    status: LoginStatus
    user: UserInfo | None = None
    wait: dt.timedelta | None = None
    """How long until the next try is allowed (status `locked`)."""

    @property
    def wait_minutes(self) -> int:
        seconds = self.wait.total_seconds() if self.wait else 0
        return max(1, -(-int(seconds) // 60))


class AccountError(ValueError):
    """A refused change to users; `code` is a key of server.web.texts.TEXTS."""

    def __init__(self, code: str, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_new_password(username: str, password: str, again: str | None = None) -> None:
    """Refuse a password that is too short, equals the username, or differs from its confirmation."""
    if again is not None and password != again:
        raise AccountError("password_mismatch")
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError("password_too_short", n=MIN_PASSWORD_CHARS)
    if password.strip().casefold() == username.casefold():
        raise AccountError("password_is_username")


def normalise_username(username: str) -> str:
    return username.strip().lower()


class Accounts:
    """The web app's users, sessions, throttle and audit log, in the store's database."""

    def __init__(
        self,
        engine: Engine,
        settings: WebSettings,
        *,
        hasher: PasswordHasher | None = None,
        read_engine: Engine | None = None,
    ) -> None:
        self.engine = engine
        self.read_engine = read_engine or reader_for(engine)
        self.settings = settings
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A write transaction (on SQLite it takes the write lock at once: keep it short)."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A read transaction: under WAL it never waits for the sequencer's writes."""
        with Session(self.read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def _now(self) -> dt.datetime:
        return self.settings.clock()

    # ------------------------------------------------------------------------------------------ users

    def has_users(self) -> bool:
        with self._reading() as db:
            return db.scalar(select(func.count()).select_from(User)) != 0

    def create_user(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        display_name: str = "",
        again: str | None = None,
        only_if_none: bool = False,
    ) -> UserInfo:
        """Add a user. `only_if_none` makes it the first-start path: refused once any user exists, checked in
        the same transaction, so two setup forms cannot both create an admin."""
        username = normalise_username(username)
        if not USERNAME_RE.match(username):
            raise AccountError("username_invalid")
        check_new_password(username, password, again)
        now = self._now()
        password_hash = self.hasher.hash(password)
        with self._session() as db:
            if only_if_none and db.scalar(select(func.count()).select_from(User)):
                raise AccountError("setup_done_already")
            if db.scalar(select(User.id).where(User.username == username)) is not None:
                raise AccountError("username_taken")
            user = User(
                username=username,
                display_name=display_name.strip()[:100],
                role=role.value,
                password_hash=password_hash,
                active=True,
                created_at=now,
                password_changed_at=now,
            )
            db.add(user)
            db.flush()
            return _user_info(user)

    def users(self) -> list[UserInfo]:
        with self._reading() as db:
            return [_user_info(u) for u in db.scalars(select(User).order_by(User.username))]

    def user(self, username: str) -> UserInfo | None:
        with self._reading() as db:
            row = db.scalar(select(User).where(User.username == normalise_username(username)))
            return _user_info(row) if row else None

    def set_password(self, username: str, password: str, *, again: str | None = None) -> UserInfo:
        """A new password; every session of the user ends (a stolen session dies with the old password)."""
        username = normalise_username(username)
        check_new_password(username, password, again)
        password_hash = self.hasher.hash(password)
        with self._session() as db:
            user = self._require_user(db, username)
            user.password_hash = password_hash
            user.password_changed_at = self._now()
            db.execute(delete(UserSession).where(UserSession.user_id == user.id))
            return _user_info(user)

    def set_active(self, username: str, active: bool, *, acting: str | None = None) -> UserInfo:
        """Disable or enable a user; disabling ends their sessions. Nobody disables themselves or the last
        active administrator."""
        username = normalise_username(username)
        with self._session() as db:
            user = self._require_user(db, username)
            if not active:
                if acting is not None and normalise_username(acting) == username:
                    raise AccountError("cannot_disable_self")
                if user.role == Role.admin and self._active_admins(db) <= 1:
                    raise AccountError("last_admin")
                db.execute(delete(UserSession).where(UserSession.user_id == user.id))
            user.active = active
            return _user_info(user)

    def set_role(self, username: str, role: Role) -> UserInfo:
        username = normalise_username(username)
        with self._session() as db:
            user = self._require_user(db, username)
            if (
                user.role == Role.admin
                and role is not Role.admin
                and user.active
                and self._active_admins(db) <= 1
            ):
                raise AccountError("last_admin")
            user.role = role.value
            return _user_info(user)

    @staticmethod
    def _active_admins(db: Session) -> int:
        count = db.scalar(
            select(func.count()).select_from(User).where(User.role == Role.admin.value, User.active.is_(True))
        )
        return int(count or 0)

    @staticmethod
    def _require_user(db: Session, username: str) -> User:
        user = db.scalar(select(User).where(User.username == username))
        if user is None:
            raise AccountError("user_unknown")
        return user

    # ------------------------------------------------------------------------------------------ login

    def login(self, username: str, password: str, *, ip: str) -> LoginResult:
        """Check a password, unless this account or address must wait. Every try is recorded."""
        username = normalise_username(username)[:40]
        now = self._now()
        wait = self.lockout(username, ip, now)
        if wait is not None:
            self.audit(username, "login.locked", f"wait {int(wait.total_seconds())} s", ip)
            return LoginResult(LoginStatus.locked, wait=wait)
        info: UserInfo | None = None
        with self._session() as db:
            user = db.scalar(select(User).where(User.username == username))
            usable = user is not None and user.active
            # An unknown or disabled name still costs one hash check: timing does not tell names apart.
            ok = self._verify(
                user.password_hash if user is not None and usable else self._dummy_hash, password
            )
            ok = ok and usable
            db.add(LoginAttempt(at=now, username=username, ip=ip[:64], success=ok))
            if ok and user is not None:
                user.last_login_at = now
                if self.hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = self.hasher.hash(password)
                info = _user_info(user)
        if info is None:
            logger.info("login refused for %r from %s", username, ip)
            self.audit(username, "login.failed", "", ip)
            wait = self.lockout(username, ip, now)
            if wait is not None:
                return LoginResult(LoginStatus.locked, wait=wait)
            return LoginResult(LoginStatus.failed)
        self.audit(username, "login", "", ip)
        return LoginResult(LoginStatus.ok, user=info)

    def record_attempt(self, username: str, ip: str, *, success: bool) -> None:
        """Count a try of another secret (the setup code) in the same throttle as passwords."""
        with self._session() as db:
            db.add(LoginAttempt(at=self._now(), username=username[:40], ip=ip[:64], success=success))

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except VerifyMismatchError:
            return False
        except (VerificationError, InvalidHashError):
            logger.warning("a stored password hash could not be read; the login is refused")
            return False

    def lockout(self, username: str, ip: str, now: dt.datetime) -> dt.timedelta | None:
        """How long this account or address must still wait, or None when it may try now. Failures count
        within `login_window` and, for an account, only since its last successful login."""
        settings = self.settings
        since = now - settings.login_window
        with self._reading() as db:
            last_ok = db.scalar(
                select(func.max(LoginAttempt.at)).where(
                    LoginAttempt.username == username, LoginAttempt.success.is_(True)
                )
            )
            account_since = max(since, _aware(last_ok)) if last_ok is not None else since
            waits = [
                self._wait(
                    db,
                    LoginAttempt.username == username,
                    account_since,
                    settings.login_failures_per_account,
                    now,
                ),
                self._wait(db, LoginAttempt.ip == ip, since, settings.login_failures_per_ip, now),
            ]
        longest = max((w for w in waits if w is not None), default=None)
        return longest

    def _wait(
        self, db: Session, who: object, since: dt.datetime, limit: int, now: dt.datetime
    ) -> dt.timedelta | None:
        failures = db.scalars(
            select(LoginAttempt.at)
            .where(who, LoginAttempt.success.is_(False), LoginAttempt.at > since)  # type: ignore[arg-type]
            .order_by(LoginAttempt.at.desc())
            .limit(limit)
        ).all()
        if len(failures) < limit:
            return None
        until = _aware(failures[0]) + self.settings.login_lockout
        return until - now if until > now else None

    # ------------------------------------------------------------------------------------------ sessions

    def start_session(self, user: UserInfo, *, ip: str) -> tuple[str, SessionInfo]:
        """A new session for a user who just logged in: (cookie token, session)."""
        token = secrets.token_urlsafe(32)
        key = token_key(token)
        now = self._now()
        csrf = secrets.token_urlsafe(32)
        with self._session() as db:
            db.add(
                UserSession(id=key, user_id=user.id, csrf_token=csrf, created_at=now, seen_at=now, ip=ip[:64])
            )
        return token, SessionInfo(key=key, user=user, csrf_token=csrf, counter=None)

    def session(self, token: str) -> SessionInfo | None:
        """The live session of a cookie token; None when unknown, expired, or its user is disabled."""
        if not token or len(token) > 200:
            return None
        key = token_key(token)
        now = self._now()
        with self._reading() as db:
            row = db.get(UserSession, key)
            if row is None:
                return None
            user = db.get(User, row.user_id)
            created, seen = _aware(row.created_at), _aware(row.seen_at)
            csrf, counter = row.csrf_token, row.counter
            info = _user_info(user) if user is not None and user.active else None
        expired = now - seen > self.settings.session_idle or now - created > self.settings.session_max_age
        if info is None or expired:
            self.end_session(key)
            return None
        if now - seen > SEEN_EVERY:
            with self._session() as db:
                db.execute(update(UserSession).where(UserSession.id == key).values(seen_at=now))
        return SessionInfo(key=key, user=info, csrf_token=csrf, counter=counter)

    def end_session(self, key: str) -> None:
        with self._session() as db:
            db.execute(delete(UserSession).where(UserSession.id == key))

    def choose_counter(self, key: str, counter: str | None) -> None:
        with self._session() as db:
            db.execute(update(UserSession).where(UserSession.id == key).values(counter=counter))

    def set_flash(self, key: str, kind: str, message_th: str, message_en: str) -> None:
        """A message for the next page this browser shows (after a POST and its redirect)."""
        flash = json.dumps({"kind": kind, "th": message_th, "en": message_en}, ensure_ascii=False)
        with self._session() as db:
            db.execute(update(UserSession).where(UserSession.id == key).values(flash=flash))

    def pop_flash(self, key: str) -> dict[str, str] | None:
        with self._reading() as db:
            flash = db.scalar(select(UserSession.flash).where(UserSession.id == key))
        if flash is None:
            return None
        with self._session() as db:
            db.execute(
                update(UserSession)
                .where(UserSession.id == key, UserSession.flash == flash)
                .values(flash=None)
            )
        try:
            value = json.loads(flash)
        except json.JSONDecodeError:
            return None
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None

    def purge(self) -> None:
        """Forget expired sessions and login attempts older than a day (run now and then)."""
        now = self._now()
        with self._session() as db:
            db.execute(delete(UserSession).where(UserSession.seen_at < now - self.settings.session_idle))
            db.execute(delete(LoginAttempt).where(LoginAttempt.at < now - dt.timedelta(days=1)))

    # ------------------------------------------------------------------------------------------ audit

    def audit(self, username: str | None, action: str, detail: str = "", ip: str = "") -> None:
        """Record who did what, when, from where."""
        with self._session() as db:
            db.add(
                AuditEntry(at=self._now(), username=username, action=action[:60], detail=detail, ip=ip[:64])
            )

    def audit_entries(self, *, before: int | None = None, limit: int = 100) -> list[AuditView]:
        """The newest entries first; `before` pages back by id."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        with self._reading() as db:
            return [
                AuditView(e.id, _aware(e.at), e.username, e.action, e.detail, e.ip) for e in db.scalars(query)
            ]


def reader_for(engine: Engine) -> Engine:
    """A read engine beside a writer: on a SQLite file, one whose transactions begin DEFERRED (readers never
    wait for the sequencer under WAL); elsewhere the same engine."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return engine
    from server.store.database import create_database_engine

    return create_database_engine(url.render_as_string(hide_password=False), writer=False)


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        active=user.active,
        created_at=_aware(user.created_at),
        last_login_at=_aware(user.last_login_at) if user.last_login_at else None,
    )
