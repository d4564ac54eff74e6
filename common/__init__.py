"""Khiu: common."""
