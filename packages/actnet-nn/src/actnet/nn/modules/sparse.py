"""Embedding: a lookup table of vectors (torch.nn.Embedding); EmbeddingBag: the
sum, mean or maximum of bags of its rows (torch.nn.EmbeddingBag)."""

from __future__ import annotations

from typing import Any, Self

import actnet.neuron as F
from actnet.nn import init
from actnet.nn._module import Module
from actnet.nn._parameter import Parameter
from actnet.nn.modules._utils import check_bool, check_int, check_number, new_parameter
from actnet.tensor import Tensor, no_grad


class Embedding(Module):
    """weight[input]: a (num_embeddings, embedding_dim) table read at integer
    indices of any shape; the result is (*input.shape, embedding_dim).

    weight starts as N(0, 1), its padding_idx row zeros (that row then gets no
    gradient). With max_norm, every row that a forward looks up and whose
    norm_type-norm exceeds max_norm is first scaled, in place, to norm max_norm
    (PyTorch's embedding_renorm_: factor max_norm / (norm + 1e-7)).
    sparse=True (sparse gradients) is not supported.

    >>> Embedding(10, 3)(at.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
    (2, 4, 3)
    """

    num_embeddings: int
    embedding_dim: int
    padding_idx: int | None
    max_norm: float | None
    norm_type: float
    scale_grad_by_freq: bool
    sparse: bool
    weight: Parameter

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
        _weight: Tensor | None = None,
        _freeze: bool = False,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_embeddings = check_int(num_embeddings, name, "num_embeddings")
        self.embedding_dim = check_int(embedding_dim, name, "embedding_dim")
        if padding_idx is not None:
            check_int(padding_idx, name, "padding_idx", minimum=None)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"{name}: padding_idx must be within num_embeddings "
                    f"[{-num_embeddings}, {num_embeddings}), got {padding_idx}"
                )
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if max_norm is not None:
            check_number(max_norm, name, "max_norm")
        self.max_norm = max_norm
        self.norm_type = check_number(norm_type, name, "norm_type")
        self.scale_grad_by_freq = check_bool(
            scale_grad_by_freq, name, "scale_grad_by_freq"
        )
        if check_bool(sparse, name, "sparse"):
            raise NotImplementedError(
                f"{name}: sparse=True is not supported (actnet has no sparse "
                "gradients); use sparse=False"
            )
        self.sparse = sparse
        if _weight is None:
            self.weight = new_parameter((num_embeddings, embedding_dim), device, dtype)
            self.weight.requires_grad_(not _freeze)
            self.reset_parameters()
        else:
            if not isinstance(_weight, Tensor):
                raise TypeError(
                    f"{name}: _weight must be a Tensor, got {type(_weight).__name__}"
                )
            if _weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"{name}: Shape of weight {_weight.shape} does not match "
                    f"num_embeddings and embedding_dim ({num_embeddings}, "
                    f"{embedding_dim})"
                )
            self.weight = Parameter(_weight.detach(), requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(
            input,
            self.weight,
            self.padding_idx,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.sparse,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        padding_idx: int | None = None,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        sparse: bool = False,
    ) -> Self:
        """An Embedding whose weight is (a copy-on-write alias of) `embeddings`
        (2-d); frozen (no gradient) unless freeze=False.

        >>> Embedding.from_pretrained(at.tensor([[1.0, 2.0], [3.0, 4.0]]))
        Embedding(2, 2)
        """
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError(
                "Embeddings parameter is expected to be a 2-dimensional Tensor"
            )
        rows, cols = embeddings.shape
        return cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            _freeze=freeze,
            padding_idx=padding_idx,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            sparse=sparse,
        )


class EmbeddingBag(Module):
    """The sum, mean or maximum (`mode`) of each bag of rows of a
    (num_embeddings, embedding_dim) table, without the lookups in between:
    forward(input, offsets=None, per_sample_weights=None) is
    F.embedding_bag's, a 2-d input one bag a row, a 1-d input cut into bags at
    `offsets`; the result is (num_bags, embedding_dim).

    weight starts as N(0, 1), its padding_idx row zeros (that index is left out
    of its bag and its row gets no gradient). max_norm renormalises the rows
    that a forward looks up in place, as Embedding's. sparse=True (sparse
    gradients) is not supported.

    >>> bag = EmbeddingBag(10, 3, mode="sum")
    >>> bag(at.tensor([1, 2, 4, 5, 4]), at.tensor([0, 2])).shape
    (2, 3)
    """

    num_embeddings: int
    embedding_dim: int
    max_norm: float | None
    norm_type: float
    scale_grad_by_freq: bool
    mode: str
    sparse: bool
    include_last_offset: bool
    padding_idx: int | None
    weight: Parameter

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_embeddings = check_int(num_embeddings, name, "num_embeddings")
        self.embedding_dim = check_int(embedding_dim, name, "embedding_dim")
        if max_norm is not None:
            check_number(max_norm, name, "max_norm")
        self.max_norm = max_norm
        self.norm_type = check_number(norm_type, name, "norm_type")
        self.scale_grad_by_freq = check_bool(
            scale_grad_by_freq, name, "scale_grad_by_freq"
        )
        if mode not in ("sum", "mean", "max"):
            raise ValueError(
                f"{name}: mode has to be one of sum, mean or max, got {mode!r}"
            )
        self.mode = mode
        if check_bool(sparse, name, "sparse"):
            raise NotImplementedError(
                f"{name}: sparse=True is not supported (actnet has no sparse "
                "gradients); use sparse=False"
            )
        self.sparse = sparse
        self.include_last_offset = check_bool(
            include_last_offset, name, "include_last_offset"
        )
        if padding_idx is not None:
            check_int(padding_idx, name, "padding_idx", minimum=None)
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"{name}: padding_idx must be within num_embeddings "
                    f"[{-num_embeddings}, {num_embeddings}), got {padding_idx}"
                )
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = new_parameter((num_embeddings, embedding_dim), device, dtype)
            self.reset_parameters()
        else:
            if not isinstance(_weight, Tensor):
                raise TypeError(
                    f"{name}: _weight must be a Tensor, got {type(_weight).__name__}"
                )
            if _weight.shape != (num_embeddings, embedding_dim):
                raise ValueError(
                    f"{name}: Shape of weight {_weight.shape} does not match "
                    f"num_embeddings and embedding_dim ({num_embeddings}, "
                    f"{embedding_dim})"
                )
            self.weight = Parameter(_weight.detach())

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(
        self,
        input: Tensor,
        offsets: Tensor | None = None,
        per_sample_weights: Tensor | None = None,
    ) -> Tensor:
        return F.embedding_bag(
            input,
            self.weight,
            offsets,
            self.max_norm,
            self.norm_type,
            self.scale_grad_by_freq,
            self.mode,
            self.sparse,
            per_sample_weights,
            self.include_last_offset,
            self.padding_idx,
        )

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> Self:
        """An EmbeddingBag whose weight is (a copy-on-write alias of) `embeddings`
        (2-d, its padding_idx row as it is); frozen (no gradient) unless
        freeze=False.

        >>> EmbeddingBag.from_pretrained(at.tensor([[1.0, 2.0], [3.0, 4.0]]))
        EmbeddingBag(2, 2, mode='mean')
        """
        if not isinstance(embeddings, Tensor) or embeddings.ndim != 2:
            raise ValueError(
                "Embeddings parameter is expected to be a 2-dimensional Tensor"
            )
        rows, cols = embeddings.shape
        bag = cls(
            num_embeddings=rows,
            embedding_dim=cols,
            _weight=embeddings,
            max_norm=max_norm,
            norm_type=norm_type,
            scale_grad_by_freq=scale_grad_by_freq,
            mode=mode,
            sparse=sparse,
            include_last_offset=include_last_offset,
            padding_idx=padding_idx,
        )
        bag.weight.requires_grad_(not freeze)
        return bag
