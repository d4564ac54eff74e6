"""Khiu: counter_display, the hall board and the counter terminal (`khiu display`), and announcements."""

READY = "khiu display ready"
"""Logged once a display's window has drawn (process supervisors and the smoke test wait for it)."""
