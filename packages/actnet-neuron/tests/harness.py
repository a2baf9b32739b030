"""The one harness every function's test uses (Chainer's FunctionTestCase idea).

A `Case` says how to make the inputs (NumPy arrays; which ones are
differentiable), how to call the function under test, and how to compute the
expected forward in plain NumPy. `check(case)` then:
- compares the forward with the NumPy oracle in float64,
- gradchecks every differentiable input in float64 against finite differences,
- optionally gradgradchecks (double backward).
`check_float32(case, F)` repeats the forward in float32 (the oracle runs in
float64 on the float32 values).
The PyTorch comparison lives in ../crosscheck (its session installs torch) and
reuses the same cases through `crosscheck_case`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import actnet.tensor as at


@dataclass
class Case:
    name: str
    # inputs(rng) -> list of NumPy arrays (or Python values passed through as is)
    inputs: Callable[[np.random.Generator], list[Any]]
    # call(F, *tensors) -> output Tensor (F is actnet.neuron or torch.nn.functional)
    call: Callable[..., Any]
    # expected(*arrays) -> NumPy array (None: no NumPy oracle, e.g. only torch)
    expected: Callable[..., Any] | None = None
    differentiable: Sequence[int] = (0,)
    double_backward: bool = False
    rtol: float = 1e-10
    atol: float = 1e-12
    gradcheck_atol: float = 1e-5
    gradcheck_rtol: float = 1e-3
    seed: int = 0
    tags: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return self.name


def make_tensors(case: Case, dtype: str = "float64") -> list[Any]:
    rng = np.random.default_rng(case.seed)
    values = case.inputs(rng)
    out = []
    for i, v in enumerate(values):
        if isinstance(v, np.ndarray):
            if v.dtype.kind == "f":
                v = v.astype(dtype)
            out.append(
                at.tensor(
                    v, requires_grad=i in case.differentiable and v.dtype.kind == "f"
                )
            )
        else:
            out.append(v)
    return out


def check(case: Case, F: Any) -> None:
    """Forward against NumPy and gradients against finite differences (float64)."""
    tensors = make_tensors(case)
    result = case.call(F, *tensors)
    if case.expected is not None:
        arrays = [
            np.asarray(t.detach()) if isinstance(t, at.Tensor) else t for t in tensors
        ]
        np.testing.assert_allclose(
            np.asarray(result.detach()),
            case.expected(*arrays),
            rtol=case.rtol,
            atol=case.atol,
        )
    diff = [i for i in case.differentiable if isinstance(tensors[i], at.Tensor)
            and tensors[i].requires_grad]  # fmt: skip
    if not diff:
        return

    def fn(*inputs: Any) -> Any:
        full = list(tensors)
        for i, value in zip(diff, inputs, strict=True):
            full[i] = value
        return case.call(F, *full)

    diff_inputs = [tensors[i] for i in diff]
    assert at.gradcheck(
        fn, diff_inputs, atol=case.gradcheck_atol, rtol=case.gradcheck_rtol
    )
    if case.double_backward:
        assert at.gradgradcheck(fn, diff_inputs, atol=case.gradcheck_atol,
                                rtol=case.gradcheck_rtol)  # fmt: skip


def check_float32(case: Case, F: Any, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    assert case.expected is not None, f"{case}: no NumPy oracle"
    tensors = make_tensors(case, "float32")
    result = case.call(F, *tensors)
    assert result.dtype == at.float32, f"{case}: {result.dtype}, not float32"
    arrays = []
    for t in tensors:
        if isinstance(t, at.Tensor):
            a = np.asarray(t.detach())
            arrays.append(a.astype("float64") if a.dtype.kind == "f" else a)
        else:
            arrays.append(t)
    np.testing.assert_allclose(
        np.asarray(result.detach()), case.expected(*arrays), rtol=rtol, atol=atol
    )
