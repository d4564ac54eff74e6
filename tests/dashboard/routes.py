"""Who may open each route of the dashboard and the administration pages: the decision for every
route this package adds. tests/web/test_access.py holds the table of the app's other routes; a route
added to the app without a line in one of the two fails a test."""

from __future__ import annotations

from server.web.security import Access

A, M, ADMIN = Access.anonymous, Access.manager, Access.admin

DASHBOARD_ROUTES: dict[tuple[str, str], Access] = {
    ("GET", "/health"): A,
    ("GET", "/dashboard"): M,
    ("GET", "/dashboard/today.json"): M,
    ("GET", "/dashboard/period"): M,
    ("GET", "/dashboard/quarter"): M,
    ("POST", "/dashboard/export"): M,
    ("GET", "/dashboard/export/{job_id}"): M,
    ("GET", "/dashboard/export/{job_id}/progress.json"): M,
    ("GET", "/dashboard/export/{job_id}/file"): M,
    ("GET", "/dashboard/assets/{name}"): M,
    ("GET", "/admin/office"): ADMIN,
    ("GET", "/admin/office/file"): ADMIN,
    ("POST", "/admin/office/file"): ADMIN,
    ("GET", "/admin/office/services/{code}"): ADMIN,
    ("POST", "/admin/office/services/{code}"): ADMIN,
    ("POST", "/admin/office/services/{code}/remove"): ADMIN,
    ("GET", "/admin/office/counters/{counter_id}"): ADMIN,
    ("POST", "/admin/office/counters/{counter_id}"): ADMIN,
    ("POST", "/admin/office/counters/{counter_id}/remove"): ADMIN,
    ("GET", "/admin/office/survey/{item_id}"): ADMIN,
    ("POST", "/admin/office/survey/{item_id}"): ADMIN,
    ("POST", "/admin/office/survey/{item_id}/remove"): ADMIN,
    ("GET", "/admin/devices"): ADMIN,
    ("POST", "/admin/devices"): ADMIN,
    ("POST", "/admin/devices/{device_id}/rotate"): ADMIN,
    ("POST", "/admin/devices/{device_id}/remove"): ADMIN,
}
"""Managers see the figures and make the exports; only administrators change the office or its devices.
tests/web/test_access.py walks the app's other routes; together the two tables cover every route."""
