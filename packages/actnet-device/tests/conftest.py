"""Shared test settings of actnet-device.

Tests marked `gpu` need CuPy and a CUDA device, and are skipped cleanly without
them. `devices()` lists the devices a conformance-style test should run on: the
CPU reference's peers that exist on this machine.
"""

from __future__ import annotations

import importlib.util
import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", parent=settings.get_profile("default"), max_examples=20
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def cuda_available() -> bool:
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy  # optional, probed only here

        return bool(cupy.cuda.runtime.getDeviceCount() > 0)
    except Exception:  # noqa: BLE001  # any CUDA error means: no usable GPU
        return False


CUDA = cuda_available()


@pytest.fixture(scope="session")
def has_cuda() -> bool:
    return CUDA


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords and not CUDA:
            item.add_marker(skip)
