"""The deep-set block: nodes of one set talk only through key-query self-attention."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

from sklearn_dlpp.nn._checks import check_residual, renamed_keywords
from sklearn_dlpp.nn._docs import fill_doc
from sklearn_dlpp.nn._mlp import MLP


class DeepSetOutput(NamedTuple):
    """What a :class:`DeepSetBlock` returns.

    Attributes
    ----------
    nodes : Tensor of shape (n_nodes, hidden)
        Updated node representations.
    attention : Tensor of shape (n_graphs, max_nodes, max_nodes)
        ``attention[g, i, j]``: weight node ``i`` of graph ``g`` gives node ``j``
        (local indices); rows sum to 1 and every padded row or column is 0.
    """

    nodes: Tensor
    attention: Tensor


def pad_nodes(x: Tensor, node_graph: Tensor, node_ptr: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Scatter packed rows into ``(n_graphs, max_nodes, F)``; also the slot and the mask."""
    n_graphs = node_ptr.numel() - 1
    counts = node_ptr[1:] - node_ptr[:-1]
    max_nodes = int(counts.max()) if n_graphs > 0 else 0
    slot = torch.arange(x.shape[0], device=x.device) - node_ptr[node_graph]
    dense = x.new_zeros((n_graphs, max_nodes, x.shape[1]))
    dense[node_graph, slot] = x
    mask = torch.arange(max_nodes, device=x.device) < counts.unsqueeze(1)
    return dense, slot, mask


@fill_doc
class DeepSetBlock(nn.Module):
    r"""Set self-attention: every node attends to all nodes of its own graph.

    The edges are not used. With keys :math:`k_j = \phi_k(h_j)`, queries
    :math:`q_i = \phi_q(h_i)` and values :math:`v_j = \phi_v(h_j)` of width :math:`d`,
    for the nodes :math:`i, j` of one graph (including :math:`j = i`):

    .. math::

        \alpha_{ij} = \mathrm{softmax}_j\!\left(\frac{\langle q_i, k_j\rangle}{\sqrt d}\right),
        \qquad a_i = \sum_j \alpha_{ij} v_j, \qquad
        h_i' = \phi_h([h_i, a_i]) \;(+\, h_i \text{ if residual}).

    The graphs are padded to the largest one so that the attention matrices
    :math:`Q K^\top` of all graphs come from one batched product; a mask keeps padded
    slots from giving or receiving any weight, so a graph's output does not depend
    on the other graphs of the batch.

    Parameters
    ----------
    %(n_node_features)s
    hidden : int, default=64
        Width of keys, queries, values and output nodes.
    %(block_options)s

    Attributes
    ----------
    key_mlp, query_mlp, value_mlp : MLP
        ``[n_node_features, hidden, hidden]`` (no bias in the keys' last layer).
    node_mlp : MLP
        ``[n_node_features + hidden, hidden, hidden]``.

    Notes
    -----
    Shapes: x ``(n_nodes, n_node_features)``, node_graph ``(n_nodes,)``, node_ptr
    ``(n_graphs + 1,)`` -> :class:`DeepSetOutput`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import DeepSetBlock
    >>> block = DeepSetBlock(3, hidden=8)
    >>> x = torch.randn(5, 3)  # a set of 2 and a set of 3
    >>> node_graph, node_ptr = torch.tensor([0, 0, 1, 1, 1]), torch.tensor([0, 2, 5])
    >>> nodes, attention = block(x, node_graph, node_ptr)
    >>> tuple(nodes.shape), tuple(attention.shape)
    ((5, 8), (2, 3, 3))
    >>> attention[0, :, 2].tolist()  # the padded slot of the first set
    [0.0, 0.0, 0.0]
    """

    @renamed_keywords(node_features="n_node_features")
    def __init__(
        self,
        n_node_features: int,
        hidden: int = 64,
        *,
        residual: bool = False,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        check_residual(residual, n_node_features, hidden)
        self.n_node_features = n_node_features
        self.hidden = hidden
        self.residual = residual
        sizes = [n_node_features, hidden, hidden]
        self.key_mlp = MLP(sizes, activation, dropout, final_bias=False)
        self.query_mlp = MLP(sizes, activation, dropout)
        self.value_mlp = MLP(sizes, activation, dropout)
        self.node_mlp = MLP([n_node_features + hidden, hidden, hidden], activation, dropout)

    def reset_parameters(self) -> None:
        """Re-draw every weight."""
        for module in self.children():
            module.reset_parameters()

    def forward(self, x: Tensor, node_graph: Tensor, node_ptr: Tensor) -> DeepSetOutput:
        """Update the nodes; see the class docstring for the rule and shapes."""
        # Keys, queries and values on the packed rows (one product each), padded after.
        kqv = torch.cat([self.key_mlp(x), self.query_mlp(x), self.value_mlp(x)], dim=1)
        dense, slot, mask = pad_nodes(kqv, node_graph, node_ptr)
        keys, queries, values = dense.split(self.hidden, dim=2)
        scores = queries @ keys.transpose(1, 2) / math.sqrt(self.hidden)
        # A finite fill rather than -inf: a graph without nodes then gives uniform
        # (and afterwards zeroed) rows instead of NaN that would poison the gradient.
        scores = scores.masked_fill(~mask.unsqueeze(1), torch.finfo(scores.dtype).min)
        pair_mask = mask.unsqueeze(2) & mask.unsqueeze(1)
        attention = torch.softmax(scores, dim=2) * pair_mask
        aggregate = (attention @ values)[node_graph, slot]
        nodes = self.node_mlp(torch.cat([x, aggregate], dim=1))
        if self.residual:
            nodes = nodes + x
        return DeepSetOutput(nodes, attention)

    def extra_repr(self) -> str:
        return f"residual={self.residual}"
