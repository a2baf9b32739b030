"""PyTorch's CPU autocast op lists, by PyTorch's op names.

Taken from PyTorch's `aten/src/ATen/autocast_mode.cpp` (the `AutocastCPU`
registrations; the overloads of one op share its policy), as torch 2.13 runs
them: actnet's crosscheck compares the dtypes of every listed operation actnet
has with torch's under `torch.autocast("cpu")`. Operations decorate themselves
with `autocast_op(name)`; a name missing here is a KeyError at import.

Policies:
- "lower_precision_fp": eligible arguments (floating, not float64) to the
  autocast dtype;
- "fp32": eligible arguments to float32;
- "promote": eligible arguments to the widest of them (float32 over the
  autocast dtype);
- "unlisted" (actnet's): operations PyTorch runs as one kernel outside its lists
  that actnet composes of listed ones (dot is a matmul here): no cast, and
  autocast off inside, so they keep their inputs' dtype as in PyTorch.

`ACTNET` holds actnet's entries for operations whose PyTorch dtype under
autocast comes from how torch composes them, not from an entry of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

LOWER_PRECISION_FP: Final = (
    "conv1d",
    "conv2d",
    "conv3d",
    "bmm",
    "mm",
    "linalg_vecdot",
    "baddbmm",
    "addmm",
    "_addmm_activation",
    "addbmm",
    "linear",
    "_convolution",
    "matmul",
    "conv_tbc",
    "mkldnn_rnn_layer",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "prelu",
    "scaled_dot_product_attention",
    "_native_multi_head_attention",
)

FP32: Final = (
    "avg_pool3d",
    "binary_cross_entropy",
    "grid_sampler",
    "polar",
    "prod",
    "quantile",
    "nanquantile",
    "stft",
    "cdist",
    "grid_sampler_2d",
    "_grid_sampler_2d_cpu_fallback",
    "grid_sampler_3d",
    "trace",
    "view_as_complex",
    "cholesky",
    "cholesky_inverse",
    "cholesky_solve",
    "inverse",
    "lu_solve",
    "orgqr",
    "ormqr",
    "pinverse",
    "max_pool3d",
    "max_unpool2d",
    "max_unpool3d",
    "adaptive_avg_pool3d",
    "reflection_pad1d",
    "reflection_pad2d",
    "replication_pad1d",
    "replication_pad2d",
    "replication_pad3d",
    "mse_loss",
    "cosine_embedding_loss",
    "nll_loss",
    "nll_loss2d",
    "hinge_embedding_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "cross_entropy_loss",
    "l1_loss",
    "huber_loss",
    "margin_ranking_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "multi_margin_loss",
    "ctc_loss",
    "kl_div",
    "multilabel_margin_loss",
    "binary_cross_entropy_with_logits",
    "fft_fft",
    "fft_ifft",
    "fft_fft2",
    "fft_ifft2",
    "fft_fftn",
    "fft_ifftn",
    "fft_rfft",
    "fft_irfft",
    "fft_rfft2",
    "fft_irfft2",
    "fft_rfftn",
    "fft_irfftn",
    "fft_hfft",
    "fft_ihfft",
    "linalg_cond",
    "linalg_matrix_rank",
    "linalg_solve",
    "linalg_cholesky",
    "linalg_svdvals",
    "linalg_eigvals",
    "linalg_eigvalsh",
    "linalg_inv",
    "linalg_householder_product",
    "linalg_tensorinv",
    "linalg_tensorsolve",
    "fake_quantize_per_tensor_affine",
    "geqrf",
    "_lu_with_info",
    "qr",
    "svd",
    "triangular_solve",
    "fractional_max_pool2d",
    "fractional_max_pool3d",
    "adaptive_max_pool3d",
    "multilabel_margin_loss_forward",
    "linalg_qr",
    "linalg_cholesky_ex",
    "linalg_svd",
    "linalg_eig",
    "linalg_eigh",
    "linalg_lstsq",
    "linalg_inv_ex",
)

PROMOTE: Final = ("stack", "cat", "index_copy")

ACTNET: Final = {
    # one unlisted kernel each in PyTorch (float32 stays float32); actnet's are
    # compositions of matmul
    "dot": "unlisted",
    "mv": "unlisted",
    "bilinear": "unlisted",
    # torch.nn.RNN's composite runs every step's linear in the autocast dtype,
    # and LSTM runs as mkldnn_rnn_layer (listed): their outputs and states are
    # bfloat16. GRU's steps add the float32 state back (h' = n + z (h - n)), so
    # its outputs stay float32: actnet runs it in float32.
    "rnn_tanh": "lower_precision_fp",
    "rnn_relu": "lower_precision_fp",
    "lstm": "lower_precision_fp",
    "gru": "unlisted",
}

CPU_CAST_POLICIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(LOWER_PRECISION_FP, "lower_precision_fp"),
        **dict.fromkeys(FP32, "fp32"),
        **dict.fromkeys(PROMOTE, "promote"),
        **ACTNET,
    }
)
