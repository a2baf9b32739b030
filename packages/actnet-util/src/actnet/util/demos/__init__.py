"""Small end-to-end demos, run by the `actnet demo ...` command.

- `digits`: an MLP 64→256→256→10 on scikit-learn's bundled digits (needs the
  `demo` extra: `pip install "actnet-util[demo]"`).
"""

from actnet.util.demos.digits import DigitsResult, EpochBatches, run_digits

__all__ = ["DigitsResult", "EpochBatches", "run_digits"]
