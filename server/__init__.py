"""Khiu: server."""
