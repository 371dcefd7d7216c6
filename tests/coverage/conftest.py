"""Fixtures of the coverage tests: `figures` (tests.coverage.support), the world with its figures computed."""

from tests.coverage.support import figures  # noqa: F401  (registered here for every coverage test module)
