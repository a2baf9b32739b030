"""Shared test settings: hypothesis profiles, and the count of state-machine steps.

The issue asks for at least 10^5 random operations against the reference models
per CI run; `operations` counts them and the session fails when CI ran fewer.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", parent=settings.get_profile("default"), max_examples=20
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

MIN_OPERATIONS = 100_000


class OperationCounter:
    def __init__(self) -> None:
        self.count = 0


_operations = OperationCounter()


@pytest.fixture(scope="session")
def operations() -> OperationCounter:
    """Add to `.count` once per random operation a state machine runs."""
    return _operations


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("ACTNET_COUNT_OPERATIONS") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"state-machine operations run: {_operations.count}")
    if _operations.count < MIN_OPERATIONS:
        if reporter is not None:
            reporter.write_line(f"FAILED: fewer than {MIN_OPERATIONS} operations")
        session.exitstatus = 1
