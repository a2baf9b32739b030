"""SciPy reads SCIPY_ARRAY_API once, when it is first imported, and scikit-learn's
array_api_dispatch refuses to start without it: so it is set here, before pytest
imports any test module of this folder (test_array_api_clients.py checks that it
took effect)."""

from __future__ import annotations

import os

os.environ["SCIPY_ARRAY_API"] = "1"
