"""Plugins every test may use."""

pytest_plugins = ["tests.fixtures.broker", "tests.fixtures.database"]
