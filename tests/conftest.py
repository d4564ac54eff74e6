"""Plugins every test may use, and Hypothesis's settings for CI."""

import os

from hypothesis import settings

pytest_plugins = ["tests.fixtures.broker", "tests.fixtures.database"]

# In CI the property and fuzz tests draw the same examples on every run: a landing is never refused
# because a random draw met an old bug nobody touched, and a failure there is one anybody can rerun.
# Exploring new inputs is `make fuzz` (and any run on a developer's machine).
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")
