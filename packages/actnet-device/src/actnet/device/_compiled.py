"""The `cpu` device's backend: NumPy, with numba-compiled fused kernels.

`CompiledBackend` is the reference NumPy backend with the compiled forms of the
fused kernels mixed in before it: each compiled method takes the layouts and
dtypes it was written for and hands everything else to the reference kernel it
overrides (`super()`), so the `cpu` device holds every dtype the reference does.
The conformance kit checks it against `reference`, operator by operator.
"""

from __future__ import annotations

from actnet.device._compiled_activations import ActivationCompiled
from actnet.device._compiled_attention import AttentionCompiled
from actnet.device._compiled_conv import ConvCompiled
from actnet.device._compiled_dropout import DropoutCompiled
from actnet.device._compiled_matmul import MatmulCompiled
from actnet.device._compiled_norms import NormCompiled
from actnet.device._compiled_optim import OptimCompiled
from actnet.device._compiled_recurrent import RecurrentCompiled
from actnet.device._compiled_reductions import ReductionCompiled
from actnet.device._compiled_scatter import ScatterCompiled
from actnet.device._compiled_softmax import SoftmaxCompiled
from actnet.device._numpy import NumPyBackend


class CompiledBackend(
    ActivationCompiled,
    OptimCompiled,
    NormCompiled,
    SoftmaxCompiled,
    AttentionCompiled,
    MatmulCompiled,
    DropoutCompiled,
    ConvCompiled,
    RecurrentCompiled,
    ReductionCompiled,
    ScatterCompiled,
    NumPyBackend,
):
    """NumPy arenas and kernels; compiled kernels where they exist."""
