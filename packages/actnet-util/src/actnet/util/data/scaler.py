"""`StandardScaler`: standardize features by removing the mean and scaling to
unit variance, with scikit-learn's numerics.

Fitting accumulates in float64 whatever the input's dtype: the mean, and the
population variance by the corrected two-pass formula (sum((x - m)**2) -
sum(x - m)**2 / n) / n, merged with earlier batches by Chan et al.'s update, as
sklearn's ``partial_fit`` does. A feature whose variance is indistinguishable
from 0 (var <= n eps var + (n mean eps)**2) is scaled by 1. NaNs are missing
values: left out of the statistics, kept by `transform`. Transforming casts the
statistics to the data's float dtype first (integers become float64).

>>> scaler = StandardScaler().fit(np.array([[0.0, 1.0], [2.0, 1.0]]))
>>> scaler.mean_, scaler.scale_
(array([1., 1.]), array([1., 1.]))
>>> scaler.transform(np.array([[4.0, 3.0]]))
array([[3., 2.]])
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

import actnet.tensor as at

__all__ = ["NotFittedError", "StandardScaler"]

Array = np.ndarray[Any, Any]
_EPS = float(np.finfo(np.float64).eps)


class NotFittedError(ValueError, AttributeError):
    """The scaler was used before `fit` (scikit-learn's exception of this name)."""


def _as_2d_float(x: object, name: str) -> tuple[Array, at.Tensor | None]:
    """`x` as a 2-D float NumPy array (float16/32/64 kept, others to float64),
    and the Tensor it came from, if any."""
    tensor = x if isinstance(x, at.Tensor) else None
    if tensor is not None:
        arr = np.asarray(tensor.detach())
    elif isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} must be a 2-D array or Tensor, got {type(x).__name__}"
            ) from exc
    if arr.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {arr.ndim}D array instead for {name} "
            f"(shape {arr.shape}); reshape to (n_samples, n_features)"
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinity")
    return arr, tensor


class StandardScaler:
    """z = (x - mean_) / scale_, per feature (column), as
    ``sklearn.preprocessing.StandardScaler``.

    Fit on the training data only, then transform every split with the same
    statistics. Accepts NumPy arrays and actnet Tensors of shape
    (n_samples, n_features); a Tensor in gives a Tensor out (same dtype and
    device). `state_dict` holds the statistics as NumPy arrays (safetensors
    can store them).

    Attributes (after fit): mean_, var_ (population variance), scale_ (its
    square root, 1 for constant features), n_samples_seen_, n_features_in_.
    """

    mean_: Array | None
    var_: Array | None
    scale_: Array | None
    n_samples_seen_: Array | int
    n_features_in_: int

    def __init__(
        self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True
    ) -> None:
        for name, value in (
            ("copy", copy),
            ("with_mean", with_mean),
            ("with_std", with_std),
        ):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, got {value!r}")
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    # ------------------------------------------------------------ fitting
    def _reset(self) -> None:
        for name in (
            "mean_",
            "var_",
            "scale_",
            "n_samples_seen_",
            "n_features_in_",
        ):
            if name in self.__dict__:
                delattr(self, name)

    def fit(self, X: Any, y: object = None) -> Self:
        """Compute the mean and standard deviation of each feature of X."""
        self._reset()
        return self.partial_fit(X)

    def partial_fit(self, X: Any, y: object = None) -> Self:
        """Update the statistics with one more batch of samples."""
        x, _ = _as_2d_float(X, "X")
        n_features = x.shape[1]
        first = "n_features_in_" not in self.__dict__
        if not first:
            self._check_features(x)
        if first:
            self.n_features_in_ = n_features
            last_count = np.zeros(n_features, np.float64)
            last_mean: Array = np.zeros(n_features, np.float64)
            last_var: Array | None = np.zeros(n_features, np.float64)
        else:
            last_count = np.broadcast_to(
                np.asarray(self.n_samples_seen_, np.float64), (n_features,)
            ).copy()
            last_mean = np.zeros(n_features) if self.mean_ is None else self.mean_
            last_var = self.var_
        if not self.with_mean and not self.with_std:
            counts = last_count + (x.shape[0] - np.isnan(x).sum(axis=0))
            self.mean_ = None
            self.var_ = None
        else:
            mean, var, counts = _incremental_mean_and_var(
                x, last_mean, last_var if self.with_std else None, last_count
            )
            self.mean_ = mean
            self.var_ = var
        self.n_samples_seen_ = (
            int(counts[0])
            if counts.size and counts.max() == counts.min()
            else counts.astype(np.int64)
        )
        if self.with_std:
            assert self.var_ is not None and self.mean_ is not None
            n = np.asarray(self.n_samples_seen_, np.float64)
            constant = self.var_ <= n * _EPS * self.var_ + (n * self.mean_ * _EPS) ** 2
            scale = np.sqrt(self.var_)
            scale[constant] = 1.0
            self.scale_ = scale
        else:
            self.scale_ = None
        return self

    # ------------------------------------------------------------ transforming
    def _check_fitted(self) -> None:
        if "n_features_in_" not in self.__dict__:
            raise NotFittedError(
                "This StandardScaler instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    def _check_features(self, x: Array) -> None:
        if x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but StandardScaler is expecting "
                f"{self.n_features_in_} features as input."
            )

    def _prepare(self, X: Any, copy: bool | None) -> tuple[Array, at.Tensor | None]:
        self._check_fitted()
        x, tensor = _as_2d_float(X, "X")
        self._check_features(x)
        copy = self.copy if copy is None else copy
        # A Tensor's array may be a view of its memory: never write into it.
        if tensor is not None or (x is X and (copy or not x.flags.writeable)):
            x = x.copy()
        return x, tensor

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """(X - mean_) / scale_, in X's float dtype."""
        x, tensor = self._prepare(X, copy)
        if self.with_mean:
            assert self.mean_ is not None
            x -= self.mean_.astype(x.dtype)
        if self.with_std:
            assert self.scale_ is not None
            x /= self.scale_.astype(x.dtype)
        return _like(x, tensor)

    def inverse_transform(self, X: Any, copy: bool | None = None) -> Any:
        """X * scale_ + mean_: the data back in its original units."""
        x, tensor = self._prepare(X, copy)
        if self.with_std:
            assert self.scale_ is not None
            x *= self.scale_.astype(x.dtype)
        if self.with_mean:
            assert self.mean_ is not None
            x += self.mean_.astype(x.dtype)
        return _like(x, tensor)

    def fit_transform(self, X: Any, y: object = None) -> Any:
        """fit(X), then transform(X)."""
        return self.fit(X).transform(X)

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Array]:
        """The fitted statistics as NumPy arrays: "n_samples_seen" (int64),
        "mean" (unless both with_mean and with_std are off), "var" and "scale"
        (with with_std)."""
        self._check_fitted()
        state = {"n_samples_seen": np.asarray(self.n_samples_seen_, np.int64)}
        for key in ("mean", "var", "scale"):
            value = getattr(self, key + "_")
            if value is not None:
                state[key] = value.copy()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore statistics saved by `state_dict` (for the same with_mean and
        with_std)."""
        expected = {"n_samples_seen"}
        if self.with_mean or self.with_std:
            expected.add("mean")
        if self.with_std:
            expected |= {"var", "scale"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            got = sorted(state_dict) if isinstance(state_dict, dict) else state_dict
            raise ValueError(
                f"state_dict must have the keys {sorted(expected)} (with_mean="
                f"{self.with_mean}, with_std={self.with_std}), got {got!r}"
            )
        arrays = {k: np.asarray(v, np.float64) for k, v in state_dict.items()}
        sizes = {a.shape[0] for k, a in arrays.items() if k != "n_samples_seen"}
        for key, a in arrays.items():
            if key != "n_samples_seen" and a.ndim != 1:
                raise ValueError(f"state_dict[{key!r}] must be 1-D, got {a.shape}")
        if len(sizes) > 1:
            raise ValueError(f"state_dict arrays disagree on n_features: {sizes}")
        seen = np.asarray(state_dict["n_samples_seen"], np.int64)
        if sizes:
            n_features = sizes.pop()
        elif seen.ndim == 1:
            n_features = seen.shape[0]
        else:
            raise ValueError(
                "state_dict must give n_features: a 'mean' or a 1-D 'n_samples_seen'"
            )
        self._reset()
        self.n_features_in_ = n_features
        self.n_samples_seen_ = int(seen) if seen.ndim == 0 else seen
        self.mean_ = arrays.get("mean")
        self.var_ = arrays.get("var")
        self.scale_ = arrays.get("scale")

    def __repr__(self) -> str:
        args = [
            f"{name}=False"
            for name in ("copy", "with_mean", "with_std")
            if not getattr(self, name)
        ]
        return f"StandardScaler({', '.join(args)})"


def _incremental_mean_and_var(
    x: Array, last_mean: Array, last_var: Array | None, last_count: Array
) -> tuple[Array, Array | None, Array]:
    """sklearn's ``_incremental_mean_and_var`` (no sample weights): float64
    accumulators, NaNs left out."""
    nan = np.isnan(x)
    total = np.nansum if nan.any() else np.sum
    last_sum = last_mean * last_count
    new_sum = total(x, axis=0, dtype=np.float64)
    new_count = x.shape[0] - total(nan.astype(x.dtype), axis=0, dtype=np.float64)
    count = last_count + new_count
    mean = (last_sum + new_sum) / count
    if last_var is None:
        return mean, None, count
    with np.errstate(divide="ignore", invalid="ignore"):
        temp = x - new_sum / new_count
        correction = total(temp, axis=0, dtype=np.float64)
        temp **= 2
        new_unnormalized = total(temp, axis=0, dtype=np.float64)
        new_unnormalized -= correction**2 / new_count
        last_unnormalized = last_var * last_count
        last_over_new = last_count / new_count
        unnormalized = (
            last_unnormalized
            + new_unnormalized
            + last_over_new / count * (last_sum / last_over_new - new_sum) ** 2
        )
    fresh = last_count == 0
    unnormalized[fresh] = new_unnormalized[fresh]
    with np.errstate(divide="ignore", invalid="ignore"):
        return mean, unnormalized / count, count


def _like(x: Array, tensor: at.Tensor | None) -> Any:
    """`x` as a Tensor like `tensor` (its dtype and device), or as it is."""
    if tensor is None:
        return x
    return at.tensor(x, dtype=tensor.dtype, device=tensor.device)
