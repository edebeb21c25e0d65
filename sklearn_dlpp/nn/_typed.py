"""Node encoder for typed nodes: one input MLP per kind of object, plus a kind embedding."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from sklearn_dlpp.nn._checks import check_widths
from sklearn_dlpp.nn._mlp import MLP


class KindEncoder(nn.Module):
    r"""Encode nodes of several kinds, each with its own features, to one common width.

    A node :math:`i` of kind :math:`k_i` with features :math:`x_i` (its kind's
    block of columns) becomes

    .. math::

        h_i^{(0)} = \phi_{k_i}(x_i) + w_{k_i},

    with :math:`\phi_k` an MLP ``[n_features_k, hidden, hidden]`` per kind and
    :math:`w_k` a learned embedding of the kind. A jet's b-tag score and a
    lepton's charge and isolation thus enter through their own weights, and the
    blocks that follow see every object in the same ``hidden``-wide space.

    Parameters
    ----------
    n_kind_features : sequence of int
        Features of each kind, in the column order of ``x`` (kind ``k`` owns the
        ``k``-th block of columns). A kind may have 0 features: its nodes are
        then encoded by the embedding alone.
    hidden : int, default=64
        Output width.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout after the hidden layers.

    Attributes
    ----------
    encoders : nn.ModuleList of MLP
        One per kind (an ``nn.Identity`` placeholder for a kind without features).
    embedding : nn.Embedding
        ``(n_kinds, hidden)``.
    n_kinds : int
        Number of kinds.

    Notes
    -----
    ``forward(x, node_kind)`` takes ``x`` of shape ``(n_nodes, sum(n_kind_features))``
    and ``node_kind`` of shape ``(n_nodes,)`` with values in ``0 .. n_kinds - 1``,
    and returns ``(n_nodes, hidden)``. The result does not depend on the order of
    the nodes nor on how the kinds are interleaved.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import KindEncoder
    >>> encoder = KindEncoder([2, 3], hidden=8)  # e.g. 2 photon and 3 jet features
    >>> x = torch.zeros(4, 5)
    >>> tuple(encoder(x, torch.tensor([0, 1, 1, 0])).shape)
    (4, 8)
    """

    def __init__(
        self,
        n_kind_features: Sequence[int],
        hidden: int = 64,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        widths = check_widths("n_kind_features", n_kind_features, smallest=0)
        self.n_kind_features = widths
        self.hidden = hidden
        self.encoders = nn.ModuleList(
            MLP([width, hidden, hidden], activation, dropout) if width else nn.Identity()
            for width in widths
        )
        self.embedding = nn.Embedding(len(widths), hidden)
        self._starts = [sum(widths[:k]) for k in range(len(widths) + 1)]

    @property
    def n_kinds(self) -> int:
        """Number of kinds."""
        return len(self.n_kind_features)

    def reset_parameters(self) -> None:
        """Re-draw every weight."""
        for encoder in self.encoders:
            if isinstance(encoder, MLP):
                encoder.reset_parameters()
        self.embedding.reset_parameters()

    def forward(self, x: Tensor, node_kind: Tensor | None) -> Tensor:
        if node_kind is None:
            msg = (
                "This network encodes typed nodes: the batch needs node_kind (pack events "
                "or graphs with node_kind=...)."
            )
            raise ValueError(msg)
        if x.dim() != 2 or x.shape[1] != self._starts[-1]:
            msg = f"expected x of shape (n_nodes, {self._starts[-1]}), got {tuple(x.shape)}."
            raise ValueError(msg)
        # Nodes sorted by kind, so that each encoder runs once on a contiguous slice;
        # the stable sort and the inverse gather keep the result independent of how
        # the kinds are interleaved.
        order = torch.argsort(node_kind, stable=True)
        counts = torch.bincount(node_kind, minlength=self.n_kinds).tolist()
        grouped = x.index_select(0, order)
        parts, first = [], 0
        for kind, (encoder, n) in enumerate(zip(self.encoders, counts, strict=True)):
            rows = grouped[first : first + n, self._starts[kind] : self._starts[kind + 1]]
            if isinstance(encoder, MLP):
                parts.append(encoder(rows))
            else:
                parts.append(x.new_zeros(n, self.hidden))
            first += n
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order), device=order.device)
        encoded = torch.cat(parts).index_select(0, inverse)
        return encoded + self.embedding(node_kind)
