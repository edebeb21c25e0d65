"""EdgeConv on a dynamic k-nearest-neighbour graph, and the ParticleNet network built from it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from sklearn_dlpp.nn._activations import make_activation
from sklearn_dlpp.nn._attention import pad_nodes
from sklearn_dlpp.nn._checks import check_choice, check_widths, renamed_keywords
from sklearn_dlpp.nn._docs import fill_doc
from sklearn_dlpp.nn._model import GraphModel, reset_every_part
from sklearn_dlpp.nn._scatter import SEGMENT_REDUCTIONS, segment_mean

#: How an :class:`EdgeConvBlock` aggregates over the neighbours.
EDGECONV_AGGREGATIONS = ("mean", "max", "sum")

# ParticleNet (Qu & Gouskos, 2020, table 1): (k, channels) of the three EdgeConv
# blocks, then one fully connected layer of 256 units with dropout 0.1.
PARTICLENET_BLOCKS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (16, (64, 64, 64)),
    (16, (128, 128, 128)),
    (16, (256, 256, 256)),
)
PARTICLENET_FC: tuple[tuple[int, float], ...] = ((256, 0.1),)


def knn_graph(points: Tensor, node_graph: Tensor, node_ptr: Tensor, k: int) -> Tensor:
    r"""Edges from each node's ``k`` nearest neighbours within its own graph.

    The neighbours of node :math:`i` are the :math:`k` other nodes :math:`j` of its
    graph with the smallest Euclidean distance :math:`\lVert p_j - p_i \rVert`
    (all other nodes when the graph has at most :math:`k + 1`); the node itself is
    never its own neighbour. Distances come from one batched ``cdist`` on the
    graphs padded to the largest one, the padded slots excluded.

    Parameters
    ----------
    points : Tensor of shape (n_nodes, n_dims)
        Coordinates in which the neighbours are nearest.
    node_graph : LongTensor of shape (n_nodes,)
        Graph of every node.
    node_ptr : LongTensor of shape (n_graphs + 1,)
        Cumulative node counts.
    k : int
        Neighbours per node.

    Returns
    -------
    edge_index : LongTensor of shape (2, n_edges)
        Row 0 the neighbour (sender) ``j``, row 1 the node (receiver) ``i``,
        global indices; grouped by receiver, nearest neighbour first.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import knn_graph
    >>> points = torch.tensor([[0.0], [1.0], [5.0], [0.0], [3.0]])  # graphs of 3 and 2
    >>> knn_graph(points, torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0, 3, 5]), k=1)
    tensor([[1, 0, 1, 4, 3],
            [0, 1, 2, 3, 4]])
    """
    n_graphs = node_ptr.numel() - 1
    with torch.no_grad():
        dense, _, mask = pad_nodes(points.detach(), node_graph, node_ptr)
        max_nodes = mask.shape[1] if n_graphs > 0 else 0
        n_neighbours = min(int(k), max_nodes - 1)
        if n_neighbours <= 0:
            return torch.zeros((2, 0), dtype=torch.long, device=points.device)
        distance = torch.cdist(dense, dense)
        same = torch.eye(max_nodes, dtype=torch.bool, device=points.device)
        invalid = same | ~(mask.unsqueeze(1) & mask.unsqueeze(2))
        distance = distance.masked_fill(invalid, torch.inf)
        nearest, neighbour = distance.topk(n_neighbours, dim=2, largest=False)
        valid = torch.isfinite(nearest)
        start = node_ptr[:-1].view(-1, 1, 1)
        receiver = (start + torch.arange(max_nodes, device=points.device).view(1, -1, 1)).expand_as(
            neighbour
        )
        return torch.stack([(start + neighbour)[valid], receiver[valid]])


class EdgeConvOutput(NamedTuple):
    """What an :class:`EdgeConvBlock` returns.

    Attributes
    ----------
    nodes : Tensor of shape (n_nodes, channels[-1])
        Updated node representations.
    edge_index : LongTensor of shape (2, n_edges)
        The graph the block used (the kNN graph it built when dynamic).
    """

    nodes: Tensor
    edge_index: Tensor


@fill_doc
class EdgeConvBlock(nn.Module):
    r"""EdgeConv (Wang et al., 2019) as in ParticleNet: edge MLP on ``[h_i, h_j - h_i]``.

    For node :math:`i` and its neighbours :math:`j \in N(i)`:

    .. math::

        e_{ij} = \phi([h_i, h_j - h_i]), \qquad
        h_i' = \sigma\Big(\rho_{j \in N(i)}\, e_{ij} + \mathrm{BN}(W_s h_i)\Big),

    with :math:`\phi` a stack of ``Linear -> BatchNorm -> activation`` layers of
    widths ``channels`` (no biases: the batch norms have them), :math:`\rho` the
    mean (ParticleNet), max or sum over the neighbours (0 for a node without any),
    and the shortcut :math:`W_s` a linear map (the identity when the input is
    already ``channels[-1]`` wide). The center term :math:`h_i` carries the
    node's own features, the difference :math:`h_j - h_i` its local
    neighbourhood.

    With ``dynamic=True`` the neighbourhood :math:`N(i)` is the ``k`` nearest
    nodes of the same graph in the space of ``points`` (by default the block's
    input :math:`h`): stacked blocks rebuild the graph in each block's learned
    feature space. Otherwise the given ``edge_index`` is used.

    Parameters
    ----------
    %(n_node_features)s
    channels : sequence of int, default=(64, 64, 64)
        Widths of the layers of the edge MLP :math:`\phi`.
    k : int, default=16
        Neighbours per node when dynamic.
    aggregation : {"mean", "max", "sum"}, default="mean"
        The aggregation :math:`\rho`.
    dynamic : bool, default=True
        Build the kNN graph in the forward pass (else use ``edge_index``).
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        The activation :math:`\sigma` (scikit-learn's names).

    Attributes
    ----------
    edge_layers : nn.ModuleList of nn.Linear
        The layers of :math:`\phi`; the first is ``2 * n_node_features -> channels[0]``.
    edge_norms : nn.ModuleList of nn.BatchNorm1d
        One per layer.
    shortcut : nn.Linear or None
        :math:`W_s` (``None`` for the identity).
    shortcut_norm : nn.BatchNorm1d or None

    Notes
    -----
    The first layer is linear in ``[h_i, h_j - h_i]``: with
    :math:`W = [A, B]` it equals :math:`(A - B) h_i + B h_j`, so both products are
    taken once per node and gathered per edge. Batch norm makes a node's output
    depend on the batch in training mode only; in eval mode the block is
    permutation equivariant and a graph gives the same output alone or in a batch.

    Shapes: x ``(n_nodes, n_node_features)``, node_graph ``(n_nodes,)``, node_ptr
    ``(n_graphs + 1,)``, edge_index ``(2, n_edges)``, points ``(n_nodes, n_dims)``
    -> :class:`EdgeConvOutput`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import EdgeConvBlock
    >>> block = EdgeConvBlock(3, channels=(8, 8), k=2).eval()
    >>> x = torch.randn(5, 3)  # a particle set of 2 and one of 3
    >>> node_graph, node_ptr = torch.tensor([0, 0, 1, 1, 1]), torch.tensor([0, 2, 5])
    >>> nodes, edge_index = block(x, node_graph, node_ptr)
    >>> tuple(nodes.shape), tuple(edge_index.shape)  # 1 + 1 + 2 + 2 + 2 neighbours
    ((5, 8), (2, 8))
    """

    @renamed_keywords(node_features="n_node_features")
    def __init__(
        self,
        n_node_features: int,
        channels: Sequence[int] = (64, 64, 64),
        *,
        k: int = 16,
        aggregation: str = "mean",
        dynamic: bool = True,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        channels = check_widths("channels", channels, smallest=1)
        check_choice("aggregation", aggregation, EDGECONV_AGGREGATIONS)
        if int(k) < 1:
            msg = f"k must be >= 1, got {k}."
            raise ValueError(msg)
        self.n_node_features = n_node_features
        self.channels = channels
        self.k = int(k)
        self.aggregation = aggregation
        self.dynamic = dynamic
        widths = (2 * n_node_features, *channels)
        self.edge_layers = nn.ModuleList(
            nn.Linear(a, b, bias=False) for a, b in itertools.pairwise(widths)
        )
        self.edge_norms = nn.ModuleList(nn.BatchNorm1d(c) for c in channels)
        self.activation = make_activation(activation)
        if n_node_features == channels[-1]:
            self.shortcut = self.shortcut_norm = None
        else:
            self.shortcut = nn.Linear(n_node_features, channels[-1], bias=False)
            self.shortcut_norm = nn.BatchNorm1d(channels[-1])

    def reset_parameters(self) -> None:
        """Re-draw every weight and reset the batch-norm statistics."""
        reset_every_part(self)

    def forward(
        self,
        x: Tensor,
        node_graph: Tensor,
        node_ptr: Tensor,
        edge_index: Tensor | None = None,
        points: Tensor | None = None,
    ) -> EdgeConvOutput:
        """Update the nodes; see the class docstring for the rule and shapes."""
        if self.dynamic:
            edge_index = knn_graph(x if points is None else points, node_graph, node_ptr, self.k)
        elif edge_index is None:
            msg = "a block with dynamic=False needs edge_index."
            raise ValueError(msg)
        n_nodes = x.shape[0]
        sender, receiver = edge_index[0], edge_index[1]
        weight = self.edge_layers[0].weight
        width = self.n_node_features
        center, difference = weight[:, :width], weight[:, width:]
        per_receiver = x @ (center - difference).T
        per_sender = x @ difference.T
        h = per_receiver.index_select(0, receiver) + per_sender.index_select(0, sender)
        h = self.activation(self.edge_norms[0](h))
        for layer, norm in zip(self.edge_layers[1:], self.edge_norms[1:], strict=True):
            h = self.activation(norm(layer(h)))
        aggregate = SEGMENT_REDUCTIONS[self.aggregation](h, receiver, n_nodes)
        shortcut = x if self.shortcut is None else self.shortcut_norm(self.shortcut(x))
        return EdgeConvOutput(self.activation(aggregate + shortcut), edge_index)

    def extra_repr(self) -> str:
        return f"k={self.k}, aggregation={self.aggregation!r}, dynamic={self.dynamic}"


class ParticleNet(GraphModel):
    r"""ParticleNet (Qu & Gouskos, 2020): EdgeConv blocks on dynamic kNN graphs, mean pooling.

    .. math::

        h^{(0)} = \mathrm{BN}(x), \qquad
        h^{(t)} = \mathrm{EdgeConv}_t\big(h^{(t-1)};\ N_t\big), \qquad
        y_g = \mathrm{FC}\Big(\frac{1}{n_g} \sum_{i \in g} h_i^{(T)}\Big),

    where the neighbourhoods :math:`N_1` are the ``k`` nearest particles in the
    coordinates ``points`` (the columns ``point_columns`` of the raw input, e.g.
    :math:`\Delta\eta, \Delta\phi`) and :math:`N_t`, :math:`t > 1`, the nearest in
    the features :math:`h^{(t-1)}` the previous block learned. ``FC`` is
    ``Linear -> ReLU -> Dropout`` per entry of ``fc`` and a final linear layer.

    The defaults are the paper's network (3 blocks with ``k = 16`` and channels
    (64, 64, 64), (128, 128, 128), (256, 256, 256), one layer of 256 units with
    dropout 0.1): 366,160 weights for its 7 input features and 2 classes (370,156
    for JetClass's 17 features and 10 classes); the paper states 366k.

    Parameters
    ----------
    n_node_features : int
        Width of the input particle features (``batch.x``).
    n_outputs : int
        Outputs per graph.
    blocks : sequence of (k, channels), default=PARTICLENET_BLOCKS
        Neighbours and edge-MLP widths of every EdgeConv block.
    fc : sequence of (width, dropout), default=((256, 0.1),)
        Hidden layers of the classifier head.
    point_columns : sequence of int, default=None
        Input columns in which the first block looks for neighbours; None uses
        the first block's (batch-normed) input features.
    aggregation : {"mean", "max", "sum"}, default="mean"
        Aggregation of every EdgeConv block.

    Attributes
    ----------
    input_norm : nn.BatchNorm1d
    blocks : nn.ModuleList of EdgeConvBlock
    head : nn.Sequential
    input_mean, input_scale : Tensor buffers of shape (n_node_features,)
        Undo the estimator's standardisation for the ``point_columns``
        (``raw = x * scale + mean``); 0 and 1 by default.

    Notes
    -----
    Shapes: :class:`~sklearn_dlpp.graph.GraphBatch` with ``x`` of shape
    ``(n_nodes, n_node_features)`` -> ``(n_graphs, n_outputs)``.

    Examples
    --------
    >>> from sklearn_dlpp.nn import ParticleNet
    >>> n_weights = sum(p.numel() for p in ParticleNet(7, 2).parameters())
    >>> n_weights
    366160
    """

    def __init__(
        self,
        n_node_features: int,
        n_outputs: int,
        *,
        blocks: Sequence[tuple[int, Sequence[int]]] = PARTICLENET_BLOCKS,
        fc: Sequence[tuple[int, float]] = PARTICLENET_FC,
        point_columns: Sequence[int] | None = None,
        aggregation: str = "mean",
    ) -> None:
        super().__init__()
        if not blocks:
            msg = "ParticleNet needs at least one EdgeConv block."
            raise ValueError(msg)
        self.n_node_features = n_node_features
        self.n_outputs = n_outputs
        self.point_columns = None if point_columns is None else [int(c) for c in point_columns]
        self.input_norm = nn.BatchNorm1d(n_node_features)
        self.blocks = nn.ModuleList()
        width = n_node_features
        for k, channels in blocks:
            self.blocks.append(EdgeConvBlock(width, channels, k=k, aggregation=aggregation))
            width = self.blocks[-1].channels[-1]
        layers: list[nn.Module] = []
        for units, dropout in fc:
            layers += [nn.Linear(width, units), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, n_outputs))
        self.head = nn.Sequential(*layers)
        self._keep_input_scaling()

    def reset_parameters(self) -> None:
        """Re-draw every weight and reset the batch-norm statistics."""
        reset_every_part(self)

    def attention_weights(self, batch) -> list[None]:
        """No attention: one ``None`` per block (as for GN blocks with mean aggregation).

        Parameters
        ----------
        batch : GraphBatch
            The jets (unused).

        Returns
        -------
        list of None
            One entry per EdgeConv block.
        """
        return [None] * len(self.blocks)

    def forward(self, batch) -> Tensor:
        """Outputs per graph; see the class docstring."""
        x = batch.x
        self._check_x(x)
        points = None if self.point_columns is None else self._raw_columns(x, self.point_columns)
        h = self.input_norm(x)
        for block in self.blocks:
            h = block(h, batch.node_graph, batch.node_ptr, points=points).nodes
            points = None  # later blocks: neighbours in the learned features
        pooled = segment_mean(h, batch.node_graph, batch.n_graphs)
        return self.head(pooled)
