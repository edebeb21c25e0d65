"""The complete graph network: node encoder, stacked blocks, graph / node / edge head."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from sklearn_dlpp.graph import GraphBatch
from sklearn_dlpp.nn._attention import DeepSetBlock, pad_nodes
from sklearn_dlpp.nn._checks import check_choice
from sklearn_dlpp.nn._docs import fill_doc
from sklearn_dlpp.nn._edgeconv import EDGECONV_AGGREGATIONS, EdgeConvBlock
from sklearn_dlpp.nn._gn import AGGREGATIONS, GNBlock
from sklearn_dlpp.nn._mlp import MLP
from sklearn_dlpp.nn._model import GraphModel, reset_every_part
from sklearn_dlpp.nn._particle_attention import (
    INTERACTIONS,
    PairEmbedding,
    ParticleAttentionBlock,
    as_four_momentum_columns,
)
from sklearn_dlpp.nn._readout import POOLINGS, Readout
from sklearn_dlpp.nn._scatter import segment_mean
from sklearn_dlpp.nn._typed import KindEncoder

#: What a :class:`GraphNetwork` predicts for: each graph, node or labelled edge.
LEVELS = ("graph", "node", "edge")
#: The message-passing blocks a :class:`GraphNetwork` stacks.
BLOCKS = ("gn", "deepset", "edgeconv", "transformer")


class GraphNetwork(GraphModel):
    r"""Encoder, ``n_blocks`` message-passing blocks and an output head.

    .. math::

        h^{(0)} = \phi_\mathrm{enc}(x), \qquad
        (h^{(t)}, e^{(t)}) = \mathrm{block}_t(h^{(t-1)}, e), \quad t = 1..T,

    with :math:`e` the edge features, given to every block (as in message-passing
    networks; feeding :math:`e^{(t-1)}` instead would add a product with one row
    per edge to every block for little gain). After :math:`T` GN blocks a node
    depends exactly on the nodes at most :math:`T` hops upstream (its receptive
    field). The head gives

    - ``level="graph"``: :math:`y_g = \phi_\mathrm{out}(\rho_{i \in g}\, h_i^{(T)})`,
      shape ``(n_graphs, n_outputs)``;
    - ``level="node"``: :math:`y_i = \phi_\mathrm{out}(h_i^{(T)})`,
      shape ``(n_nodes, n_outputs)``;
    - ``level="edge"``: for labelled edge :math:`l`, the mean over the message edges
      :math:`j \to i` that carry it (``batch.edge_target``; both directions of an
      undirected edge) of :math:`\phi_\mathrm{out}([h_j^{(T)}, h_i^{(T)}, e_{ji}^{(T)}])`,
      with :math:`e^{(T)}` the last GN block's messages (the edge features after
      deep-set blocks or without blocks),
      shape ``(n_labelled_edges, n_outputs)``.

    Node outputs are permutation equivariant, graph outputs invariant, and a graph
    gives the same outputs alone or inside any batch. Outputs are raw scores
    (logits for classification).

    Parameters
    ----------
    n_node_features : int
        Width of the input node features (``batch.x``).
    n_edge_features : int
        0 when the edges carry no features (``batch.edge_attr`` may then be None).
    n_outputs : int
        Outputs per graph, node or labelled edge (one logit per class, or 1).
    level : {"graph", "node", "edge"}, default="graph"
        What the head predicts for: each graph, each node or each labelled edge.
    hidden : int, default=64
        Width of every representation and hidden layer.
    n_blocks : int, default=3
        Number of blocks; 0 gives a model that sees each node alone (plus its
        edges' features at edge level).
    aggregation : {"sum", "mean", "max", "attention", "keyquery"}, default="sum"
        How a GN block aggregates the messages into the receiver (ignored by the
        deep-set block).
    block : {"gn", "deepset", "edgeconv", "transformer"}, default="gn"
        :class:`GNBlock` (messages along the edges), :class:`DeepSetBlock`
        (self-attention among all nodes of a graph, edges unused),
        :class:`EdgeConvBlock` (edge MLP on ``[h_i, h_j - h_i]`` over the
        ``k`` nearest neighbours, channels ``(hidden,) * 3``; aggregation
        "sum", "mean" or "max") or :class:`ParticleAttentionBlock` (multi-head
        self-attention among the nodes of a graph with ``n_heads`` heads, its
        logits biased by the :func:`pair_interactions` of the four-momenta in
        ``four_momentum_columns`` through a :class:`PairEmbedding` of widths
        ``(hidden,) * 3``; edges unused).
    readout : {"sum", "mean", "max", "attention"}, default="sum"
        Pooling for ``level="graph"`` (ignored otherwise): the ``pooling`` of
        the :class:`Readout` module, one of :data:`POOLINGS`.
    dropout : float, default=0.0
        Dropout after the hidden layers of every MLP.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers of the MLPs (scikit-learn's names).
    residual : bool, default=True
        Residual node updates in the blocks (keeps deep stacks trainable).
    n_kind_features : sequence of int, default=None
        For typed nodes (``batch.node_kind``): the features of each kind, in the
        column order of ``batch.x`` (summing to ``n_node_features``). The encoder
        is then a :class:`KindEncoder`, one MLP per kind plus a kind embedding.
    k : int, default=16
        Neighbours per node of the dynamic EdgeConv graph.
    dynamic : bool, default=True
        EdgeConv blocks rebuild the kNN graph from their input (the first one
        from ``knn_columns`` when given); False uses ``batch.edge_index``.
    knn_columns : sequence of int, default=None
        Input columns (raw, see ``input_mean``) in which the first dynamic
        EdgeConv block finds neighbours; None: its input representation.
    four_momentum_columns : sequence of 4 int, default=None
        Input columns holding ``(px, py, pz, E)`` for the transformer's pair
        bias; None: attention without bias.
    n_heads : int, default=8
        Attention heads of the transformer block.

    Attributes
    ----------
    node_encoder : MLP or KindEncoder
        ``[n_node_features, hidden, hidden]``, or one such MLP per kind.
    blocks : nn.ModuleList of GNBlock or DeepSetBlock
    readout : Readout
        Only for ``level="graph"``; ``readout.pooling`` is the ``readout`` given.
    head : MLP
        ``[hidden, hidden, n_outputs]`` (graph and node level) or
        ``[2 * hidden + edge width, hidden, n_outputs]`` (edge level).
    pair_embedding : PairEmbedding or None
        Only for ``block="transformer"`` with ``four_momentum_columns``.
    input_mean, input_scale : Tensor buffers of shape (n_node_features,)
        How the input was standardised (``x = (raw - mean) / scale``), so that
        kNN coordinates and four-momenta are read raw; 0 and 1 by default.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.graph import GraphBatch
    >>> from sklearn_dlpp.nn import GraphNetwork
    >>> # a path 0 - 1 - 2 (both directions) and an isolated node
    >>> batch = GraphBatch(
    ...     x=torch.randn(4, 2),
    ...     edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]),
    ...     edge_attr=None,
    ...     node_graph=torch.tensor([0, 0, 0, 1]),
    ...     node_ptr=torch.tensor([0, 3, 4]),
    ...     edge_ptr=torch.tensor([0, 4, 4]),
    ...     edge_target=torch.tensor([0, 0, 1, 1]),
    ...     target_ptr=torch.tensor([0, 2, 2]),
    ... )
    >>> tuple(GraphNetwork(2, 0, 3, hidden=8)(batch).shape)
    (2, 3)
    >>> tuple(GraphNetwork(2, 0, 1, level="edge", hidden=8)(batch).shape)
    (2, 1)
    """

    def __init__(
        self,
        n_node_features: int,
        n_edge_features: int,
        n_outputs: int,
        *,
        level: str = "graph",
        hidden: int = 64,
        n_blocks: int = 3,
        aggregation: str = "sum",
        block: str = "gn",
        readout: str = "sum",
        dropout: float = 0.0,
        activation: str = "relu",
        residual: bool = True,
        n_kind_features: Sequence[int] | None = None,
        k: int = 16,
        dynamic: bool = True,
        knn_columns: Sequence[int] | None = None,
        four_momentum_columns: Sequence[int] | None = None,
        n_heads: int = 8,
    ) -> None:
        super().__init__()
        check_choice("level", level, LEVELS)
        check_choice("block", block, BLOCKS)
        # checked whatever the level and block, so that a typo never goes unnoticed
        check_choice("aggregation", aggregation, AGGREGATIONS)
        if block == "edgeconv" and aggregation not in EDGECONV_AGGREGATIONS:
            msg = (
                f"block='edgeconv' aggregates with one of {EDGECONV_AGGREGATIONS}, "
                f"got aggregation={aggregation!r}."
            )
            raise ValueError(msg)
        four_momenta = as_four_momentum_columns(four_momentum_columns)
        check_choice("readout", readout, POOLINGS)
        if n_blocks < 0:
            msg = f"n_blocks must be >= 0, got {n_blocks}."
            raise ValueError(msg)
        self.n_node_features = n_node_features
        self.n_edge_features = n_edge_features
        self.n_outputs = n_outputs
        self.level = level
        self.block = block
        options = {"residual": residual, "activation": activation, "dropout": dropout}
        self.n_kind_features = None if n_kind_features is None else tuple(n_kind_features)
        if self.n_kind_features is None:
            self.node_encoder = MLP([n_node_features, hidden, hidden], activation, dropout)
        else:
            if sum(self.n_kind_features) != n_node_features:
                msg = (
                    f"n_kind_features {self.n_kind_features} must sum to n_node_features "
                    f"{n_node_features}."
                )
                raise ValueError(msg)
            self.node_encoder = KindEncoder(self.n_kind_features, hidden, activation, dropout)
        self.knn_columns = None if knn_columns is None else [int(c) for c in knn_columns]
        self.four_momentum_columns = four_momenta
        self._keep_input_scaling()
        self.pair_embedding = None
        if block == "transformer" and self.four_momentum_columns is not None:
            self.pair_embedding = PairEmbedding(len(INTERACTIONS), (hidden,) * 3, n_heads)
        self.blocks = nn.ModuleList()
        for _ in range(n_blocks):
            if block == "gn":
                self.blocks.append(
                    GNBlock(hidden, n_edge_features, hidden, aggregation=aggregation, **options)
                )
            elif block == "edgeconv":
                self.blocks.append(
                    EdgeConvBlock(
                        hidden,
                        (hidden,) * 3,
                        k=k,
                        aggregation=aggregation,
                        dynamic=dynamic,
                        activation=activation,
                    )
                )
            elif block == "transformer":
                self.blocks.append(ParticleAttentionBlock(hidden, n_heads, dropout=dropout))
            else:
                self.blocks.append(DeepSetBlock(hidden, hidden, **options))
        if level == "graph":
            self.readout = Readout(hidden, readout)
        edge_width = hidden if block == "gn" and n_blocks > 0 else n_edge_features
        head_in = 2 * hidden + edge_width if level == "edge" else hidden
        self.head = MLP([head_in, hidden, n_outputs], activation, dropout)

    def reset_parameters(self) -> None:
        """Re-draw every weight."""
        parts = [self.node_encoder, *self.blocks, self.head]
        if self.level == "graph":
            parts.append(self.readout)
        for part in parts:
            part.reset_parameters()
        if self.pair_embedding is not None:
            # the embedding itself has no reset_parameters: every layer of it is reset
            reset_every_part(self.pair_embedding)

    def _check(self, batch: GraphBatch) -> Tensor | None:
        """Validate feature widths; return the edge features (None when there are none)."""
        self._check_x(batch.x)
        edge_attr = batch.edge_attr
        width = 0 if edge_attr is None else edge_attr.shape[1]
        if width != self.n_edge_features:
            msg = f"expected {self.n_edge_features} edge features, got {width}."
            raise ValueError(msg)
        return edge_attr if width > 0 else None

    def _propagate(self, batch: GraphBatch) -> tuple[Tensor, Tensor | None, list[Tensor | None]]:
        """Encoder and blocks: final nodes, final edges, and each block's attention."""
        edge_attr = self._check(batch)
        edges = edge_attr
        if self.n_kind_features is None:
            nodes = self.node_encoder(batch.x)
        else:
            nodes = self.node_encoder(batch.x, batch.node_kind)
        if self.block == "transformer":
            nodes, attentions = self._attend(batch, nodes)
            return nodes, edges, attentions
        attentions: list[Tensor | None] = []
        points = None
        if self.block == "edgeconv" and self.knn_columns is not None:
            points = self._raw_columns(batch.x, self.knn_columns)
        for t, block in enumerate(self.blocks):
            if isinstance(block, EdgeConvBlock):
                nodes = block(
                    nodes, batch.node_graph, batch.node_ptr, batch.edge_index, points
                ).nodes
                points = None  # later blocks: neighbours in the learned features
                attentions.append(None)
                continue
            if isinstance(block, GNBlock):
                # Only the edge head reads messages, and only the last block's.
                keep = self.level == "edge" and t == len(self.blocks) - 1
                nodes, edges, attention = block(
                    nodes, batch.edge_index, edge_attr, return_edges=keep
                )
            else:
                nodes, attention = block(nodes, batch.node_graph, batch.node_ptr)
            attentions.append(attention)
        return nodes, edges, attentions

    def _attend(self, batch: GraphBatch, nodes: Tensor) -> tuple[Tensor, list[Tensor | None]]:
        """Transformer blocks on the padded graphs; keeps each block's mean attention."""
        dense, slot, mask = pad_nodes(nodes, batch.node_graph, batch.node_ptr)
        pairs = mask.unsqueeze(2) & mask.unsqueeze(1)
        bias = None
        if self.pair_embedding is not None:
            raw = self._raw_columns(batch.x, self.four_momentum_columns)
            bias = self.pair_embedding.pair_bias(raw, batch.node_graph, batch.node_ptr, mask)
        attentions: list[Tensor | None] = []
        for block in self.blocks:
            dense, attention = block(dense, mask, bias)
            attentions.append(attention.mean(1) * pairs)
        return dense[batch.node_graph, slot], attentions

    @fill_doc
    def attention_weights(self, batch: GraphBatch) -> list[Tensor | None]:
        """Attention weights of every block, for plotting.

        Parameters
        ----------
        %(packed_batch)s

        Returns
        -------
        list of length n_blocks
            Per GN block, a (n_edges,) tensor (``None`` for sum, mean and max
            aggregation); per deep-set block, a (n_graphs, max_nodes, max_nodes)
            tensor (see :class:`DeepSetOutput`); per transformer block the
            same, averaged over the heads; ``None`` per EdgeConv block.
        """
        return self._propagate(batch)[2]

    def forward(self, batch: GraphBatch) -> Tensor:
        """Outputs per graph, node or labelled edge; see the class docstring."""
        nodes, edges, _ = self._propagate(batch)
        if self.level == "graph":
            return self.head(self.readout(nodes, batch.node_graph, batch.n_graphs))
        if self.level == "node":
            return self.head(nodes)
        per_message = self.head.forward_on_edges(nodes, batch.edge_index, edges)
        n_labelled = int(batch.target_ptr[-1])
        return segment_mean(per_message, batch.edge_target, n_labelled)
