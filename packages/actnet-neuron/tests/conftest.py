"""Shared test settings of actnet-neuron."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", parent=settings.get_profile("default"), max_examples=20
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
