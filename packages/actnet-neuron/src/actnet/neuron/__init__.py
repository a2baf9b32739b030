"""actnet-neuron: stateless differentiable functions with torch.nn.functional's
signatures, built on actnet-tensor.

    import actnet.neuron as F
    y = F.relu(x @ w.T + b)
    loss = F.cross_entropy(logits, targets, label_smoothing=0.1)

One function per file, in category folders; each is gradchecked in float64 and
compared with PyTorch (the crosscheck session).
"""

from actnet.neuron import _tensor_names
from actnet.neuron._version import __version__
from actnet.neuron.activation.elu import elu, elu_
from actnet.neuron.activation.gelu import gelu
from actnet.neuron.activation.leaky_relu import leaky_relu, leaky_relu_
from actnet.neuron.activation.log_softmax import log_softmax
from actnet.neuron.activation.relu import relu, relu_
from actnet.neuron.activation.sigmoid import sigmoid
from actnet.neuron.activation.silu import silu
from actnet.neuron.activation.softmax import softmax
from actnet.neuron.activation.softplus import softplus
from actnet.neuron.activation.tanh import tanh
from actnet.neuron.array.affine_grid import affine_grid
from actnet.neuron.array.cat import cat, concat
from actnet.neuron.array.chunk import chunk
from actnet.neuron.array.flatten import flatten
from actnet.neuron.array.gather import gather
from actnet.neuron.array.grid_sample import grid_sample
from actnet.neuron.array.index_select import index_select
from actnet.neuron.array.interpolate import interpolate
from actnet.neuron.array.narrow import narrow
from actnet.neuron.array.one_hot import one_hot
from actnet.neuron.array.pad import pad
from actnet.neuron.array.permute import permute
from actnet.neuron.array.pixel_shuffle import pixel_shuffle
from actnet.neuron.array.pixel_unshuffle import pixel_unshuffle
from actnet.neuron.array.reshape import reshape
from actnet.neuron.array.split import split
from actnet.neuron.array.squeeze import squeeze
from actnet.neuron.array.stack import stack
from actnet.neuron.array.transpose import transpose
from actnet.neuron.array.unsqueeze import unsqueeze
from actnet.neuron.array.where import where
from actnet.neuron.attention.scaled_dot_product_attention import (
    scaled_dot_product_attention,
)
from actnet.neuron.connection.bilinear import bilinear
from actnet.neuron.connection.embedding import embedding
from actnet.neuron.connection.embedding_bag import embedding_bag
from actnet.neuron.connection.linear import linear
from actnet.neuron.conv.conv1d import conv1d
from actnet.neuron.conv.conv2d import conv2d
from actnet.neuron.conv.conv_transpose1d import conv_transpose1d
from actnet.neuron.conv.conv_transpose2d import conv_transpose2d
from actnet.neuron.loss._common import legacy_reduction
from actnet.neuron.loss.binary_cross_entropy import binary_cross_entropy
from actnet.neuron.loss.binary_cross_entropy_with_logits import (
    binary_cross_entropy_with_logits,
)
from actnet.neuron.loss.cross_entropy import cross_entropy
from actnet.neuron.loss.huber_loss import huber_loss
from actnet.neuron.loss.kl_div import kl_div
from actnet.neuron.loss.l1_loss import l1_loss
from actnet.neuron.loss.mse_loss import mse_loss
from actnet.neuron.loss.nll_loss import nll_loss
from actnet.neuron.loss.smooth_l1_loss import smooth_l1_loss
from actnet.neuron.math.add import add
from actnet.neuron.math.amax import amax
from actnet.neuron.math.amin import amin
from actnet.neuron.math.div import div
from actnet.neuron.math.einsum import einsum
from actnet.neuron.math.matmul import matmul
from actnet.neuron.math.mean import mean
from actnet.neuron.math.mul import mul
from actnet.neuron.math.sub import sub
from actnet.neuron.math.sum import sum
from actnet.neuron.noise.dropout import dropout
from actnet.neuron.noise.dropout2d import dropout2d
from actnet.neuron.normalization.batch_norm import batch_norm
from actnet.neuron.normalization.group_norm import group_norm
from actnet.neuron.normalization.instance_norm import instance_norm
from actnet.neuron.normalization.layer_norm import layer_norm
from actnet.neuron.normalization.normalize import normalize
from actnet.neuron.normalization.rms_norm import rms_norm
from actnet.neuron.pooling.avg_pool2d import avg_pool2d
from actnet.neuron.pooling.max_pool2d import max_pool2d
from actnet.neuron.recurrent.gru import gru
from actnet.neuron.recurrent.gru_cell import gru_cell
from actnet.neuron.recurrent.lstm import lstm
from actnet.neuron.recurrent.lstm_cell import lstm_cell
from actnet.neuron.recurrent.rnn_relu import rnn_relu
from actnet.neuron.recurrent.rnn_relu_cell import rnn_relu_cell
from actnet.neuron.recurrent.rnn_tanh import rnn_tanh
from actnet.neuron.recurrent.rnn_tanh_cell import rnn_tanh_cell

__all__ = [
    "__version__",
    "add",
    "affine_grid",
    "amax",
    "amin",
    "avg_pool2d",
    "batch_norm",
    "bilinear",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cat",
    "chunk",
    "concat",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cross_entropy",
    "div",
    "dropout",
    "dropout2d",
    "einsum",
    "elu",
    "elu_",
    "embedding",
    "embedding_bag",
    "flatten",
    "gather",
    "gelu",
    "grid_sample",
    "group_norm",
    "gru",
    "gru_cell",
    "huber_loss",
    "index_select",
    "instance_norm",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "leaky_relu_",
    "legacy_reduction",
    "linear",
    "log_softmax",
    "lstm",
    "lstm_cell",
    "matmul",
    "max_pool2d",
    "mean",
    "mse_loss",
    "mul",
    "narrow",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "permute",
    "pixel_shuffle",
    "pixel_unshuffle",
    "relu",
    "relu_",
    "reshape",
    "rms_norm",
    "rnn_relu",
    "rnn_relu_cell",
    "rnn_tanh",
    "rnn_tanh_cell",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "split",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "tanh",
    "transpose",
    "unsqueeze",
    "where",
]

_tensor_names.register()  # torch.softmax, Tensor.relu, ...: see _tensor_names
