"""Permutation-invariant pooling of node representations into one vector per graph."""

from __future__ import annotations

from torch import Tensor, nn

from sklearn_dlpp.nn._checks import check_choice, renamed_keywords
from sklearn_dlpp.nn._scatter import SEGMENT_REDUCTIONS, segment_softmax, segment_sum

#: How a :class:`Readout` pools the nodes of a graph.
POOLINGS = ("sum", "mean", "max", "attention")


class Readout(nn.Module):
    r"""Pool the nodes of every graph: ``(n_nodes, F) -> (n_graphs, F)``.

    .. math::

        y_g = \rho_{i \in g}\, h_i,

    with :math:`\rho` the sum, the mean, the element-wise max, or gated attention
    pooling (Ilse et al., 2018):

    .. math::

        \alpha_i = \mathrm{softmax}_{i \in g}\big(w^\top
            [\tanh(V h_i) \odot \mathrm{sigmoid}(U h_i)]\big),
        \qquad y_g = \sum_{i \in g} \alpha_i h_i.

    A graph without nodes gives 0.

    Parameters
    ----------
    n_features : int
        Width ``F`` of the node representations (formerly ``features``, still
        accepted with a FutureWarning until the next release).
    pooling : {"sum", "mean", "max", "attention"}, default="sum"
        The pooling :math:`\rho` (see above).

    Attributes
    ----------
    attention_v, attention_u : nn.Linear
        ``F -> F``, only for ``pooling="attention"``.
    attention_w : nn.Linear
        ``F -> 1`` without bias, only for ``pooling="attention"``.

    Notes
    -----
    Shapes: x ``(n_nodes, F)``, node_graph ``(n_nodes,)`` -> ``(n_graphs, F)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import Readout
    >>> x = torch.tensor([[1.0], [2.0], [4.0]])
    >>> Readout(1, "mean")(x, torch.tensor([0, 0, 2]), n_graphs=3)
    tensor([[1.5000],
            [0.0000],
            [4.0000]])
    """

    @renamed_keywords(features="n_features")
    def __init__(self, n_features: int, pooling: str = "sum") -> None:
        super().__init__()
        check_choice("pooling", pooling, POOLINGS)
        self.n_features = n_features
        self.pooling = pooling
        if pooling == "attention":
            self.attention_v = nn.Linear(n_features, n_features)
            self.attention_u = nn.Linear(n_features, n_features)
            # no bias: a softmax ignores a shift shared by all scores
            self.attention_w = nn.Linear(n_features, 1, bias=False)

    def reset_parameters(self) -> None:
        """Re-draw every weight (none unless ``pooling="attention"``)."""
        for module in self.children():
            module.reset_parameters()

    def attention(self, x: Tensor, node_graph: Tensor, n_graphs: int) -> Tensor:
        """Weight of every node in its graph's pooled vector (``pooling="attention"`` only).

        Parameters
        ----------
        x : Tensor of shape (n_nodes, F)
            Node representations.
        node_graph : LongTensor of shape (n_nodes,)
            Graph of every node.
        n_graphs : int
            Number of graphs.

        Returns
        -------
        Tensor of shape (n_nodes,)
            The weights :math:`\alpha_i`, summing to 1 over the nodes of each graph.
        """
        if self.pooling != "attention":
            msg = f"attention weights exist only for pooling='attention', not {self.pooling!r}."
            raise ValueError(msg)
        gate = self.attention_v(x).tanh() * self.attention_u(x).sigmoid()
        return segment_softmax(self.attention_w(gate).squeeze(-1), node_graph, n_graphs)

    def forward(self, x: Tensor, node_graph: Tensor, n_graphs: int) -> Tensor:
        """Pool the nodes of every graph; see the class docstring."""
        if self.pooling in SEGMENT_REDUCTIONS:
            return SEGMENT_REDUCTIONS[self.pooling](x, node_graph, n_graphs)
        weights = self.attention(x, node_graph, n_graphs)
        return segment_sum(weights.unsqueeze(-1) * x, node_graph, n_graphs)

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}, pooling={self.pooling!r}"
