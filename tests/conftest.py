"""Shared fixtures. Real servers live in tests/fixtures/*: each starts a real binary on a free loopback port
in its own process group and always stops it."""

pytest_plugins = [
    "tests.fixtures.servers",
]
