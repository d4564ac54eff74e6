"""Administration: users and their roles, and the audit log. Administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from server.web.accounts import AccountError, Role
from server.web.context import WebContext, client_ip
from server.web.security import Access, guarded_router, visitor
from server.web.texts import text

admin = guarded_router(Access.admin)

FormText = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=1000)]

AUDIT_PAGE = 100


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


@admin.get("/admin/users")
def users_page(request: Request) -> Response:
    web = _web(request)
    return web.render(
        request,
        "users.html",
        users=web.accounts.users(),
        roles=[r.value for r in Role],
        error=None,
        values={},
    )


@admin.post("/admin/users")
def add_user(
    request: Request,
    username: FormText,
    role: FormText,
    password: Password,
    password_again: Password,
    display_name: FormText = "",
) -> Response:
    web = _web(request)
    acting = visitor(request).session
    assert acting is not None
    try:
        user = web.accounts.create_user(
            username,
            password,
            Role(role) if role in Role.__members__ else Role.staff,
            display_name=display_name,
            again=password_again,
        )
    except AccountError as exc:
        lang = visitor(request).lang
        return web.render(
            request,
            "users.html",
            status_code=400,
            users=web.accounts.users(),
            roles=[r.value for r in Role],
            error=text(exc.code, lang, **exc.values),
            values={"username": username, "display_name": display_name, "role": role},
        )
    web.accounts.audit(
        acting.user.username, "user.add", f"{user.username} role={user.role.value}", client_ip(request)
    )
    web.flash(request, "ok", "user_added", name=user.username)
    return RedirectResponse("/admin/users", status_code=303)


@admin.post("/admin/users/{username}")
def change_user(
    request: Request,
    username: str,
    change: FormText,
    role: FormText = "",
    password: Password = "",
    password_again: Password = "",
) -> Response:
    """One change per form: `role`, `disable`, `enable` or `password`."""
    web = _web(request)
    acting = visitor(request).session
    assert acting is not None
    accounts = web.accounts
    try:
        if change == "role" and role in Role.__members__:
            user = accounts.set_role(username, Role(role))
            detail = f"role={user.role.value}"
        elif change in ("disable", "enable"):
            user = accounts.set_active(username, change == "enable", acting=acting.user.username)
            detail = change
        elif change == "password":
            user = accounts.set_password(username, password, again=password_again)
            detail = "password"
        else:
            raise AccountError("user_unknown")
    except AccountError as exc:
        web.flash(request, "error", exc.code, **exc.values)
        return RedirectResponse("/admin/users", status_code=303)
    accounts.audit(acting.user.username, f"user.{change}", f"{user.username} {detail}", client_ip(request))
    web.flash(request, "ok", "user_updated", name=user.username)
    return RedirectResponse("/admin/users", status_code=303)


@admin.get("/admin/audit")
def audit_page(request: Request, before: int | None = None) -> Response:
    web = _web(request)
    entries = web.accounts.audit_entries(before=before, limit=AUDIT_PAGE)
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return web.render(request, "audit.html", entries=entries, older=older)
