"""The packed (block-diagonal) graph batch that every graph model consumes."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor


def concat_ranges(starts: Tensor, counts: Tensor) -> Tensor:
    """Concatenate ``arange(s, s + c)`` for every pair, without a Python loop.

    The one range arithmetic of the package: the rows (nodes, edges) of chosen
    graphs from their start offsets and counts.

    Parameters
    ----------
    starts, counts : LongTensor of shape (n,)
        First row and number of rows of each range.

    Returns
    -------
    rows : LongTensor of shape (counts.sum(),)
        The ranges, one after the other.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.graph import concat_ranges
    >>> concat_ranges(torch.tensor([5, 0]), torch.tensor([2, 3])).tolist()
    [5, 6, 0, 1, 2]
    """
    total = int(counts.sum())
    if total == 0:
        return torch.zeros(0, dtype=torch.long, device=starts.device)
    ends = torch.cumsum(counts, 0)
    offsets = torch.repeat_interleave(starts - (ends - counts), counts)
    return torch.arange(total, device=starts.device) + offsets


def _ptr(counts: Tensor) -> Tensor:
    return torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])


@dataclass(frozen=True)
class GraphBatch:
    """Many small graphs packed into one block-diagonal graph.

    Graph ``g`` owns nodes ``node_ptr[g]:node_ptr[g+1]``, message edges
    ``edge_ptr[g]:edge_ptr[g+1]`` and labelled edges ``target_ptr[g]:target_ptr[g+1]``.
    Node indices in ``edge_index`` are global (offsets applied).

    Attributes
    ----------
    x : Tensor of shape (n_nodes, n_node_features)
        Node features.
    edge_index : LongTensor of shape (2, n_edges)
        Message edges: row 0 is the sender, row 1 the receiver. An undirected
        graph carries each of its edges in both directions.
    edge_attr : Tensor of shape (n_edges, n_edge_features) or None
        Edge features, one row per message edge.
    node_graph : LongTensor of shape (n_nodes,)
        Graph id of every node, in ``0 .. n_graphs - 1``.
    node_ptr, edge_ptr, target_ptr : LongTensor of shape (n_graphs + 1,)
        Cumulative counts of nodes, message edges and labelled edges.
    edge_target : LongTensor of shape (n_edges,)
        For each message edge, the global index of the labelled edge it carries
        (both directions of an undirected edge share one labelled edge).
    node_kind : LongTensor of shape (n_nodes,) or None
        For typed nodes (objects of several kinds, see
        :class:`~sklearn_dlpp.graph.EventSet`): the index of each node's kind in
        ``kinds``. None for untyped graphs.
    kinds : tuple of (kind, n_features) pairs or None
        The column layout of typed nodes: ``x`` holds one block of columns per
        kind, in this order, and a node fills only its kind's block (zeros
        elsewhere). Static metadata, not a tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp.graph import pack_graphs
    >>> batch = pack_graphs([np.ones((2, 3)), np.ones((1, 3))], set_edges="full")
    >>> batch.n_nodes.tolist(), batch.n_edges.tolist()
    ([2, 1], [2, 0])
    >>> batch.select([1, 0]).node_ptr.tolist()
    [0, 1, 3]
    """

    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor | None
    node_graph: Tensor
    node_ptr: Tensor
    edge_ptr: Tensor
    edge_target: Tensor
    target_ptr: Tensor
    node_kind: Tensor | None = None
    kinds: tuple | None = None

    @property
    def n_graphs(self) -> int:
        return self.node_ptr.numel() - 1

    @property
    def n_nodes(self) -> Tensor:
        """Nodes per graph, shape (n_graphs,)."""
        return self.node_ptr[1:] - self.node_ptr[:-1]

    @property
    def n_edges(self) -> Tensor:
        """Message edges per graph, shape (n_graphs,)."""
        return self.edge_ptr[1:] - self.edge_ptr[:-1]

    @property
    def n_targets(self) -> Tensor:
        """Labelled edges per graph, shape (n_graphs,)."""
        return self.target_ptr[1:] - self.target_ptr[:-1]

    def __len__(self) -> int:
        return self.n_graphs

    @property
    def shape(self) -> tuple[int]:
        """``(n_graphs,)``: to scikit-learn, a batch is a sequence of graphs.

        With ``shape`` and ``batch[index]``, ``cross_val_score`` and ``GridSearchCV``
        split a packed batch by graph (``select``) instead of unpacking it.
        """
        return (self.n_graphs,)

    def __getitem__(self, index: Any) -> GraphBatch:
        """The graphs ``index`` as a new batch: an int, a slice, integer positions or a mask.

        Parameters
        ----------
        index : int, slice, array-like of int or array-like of bool
            Which graphs, as for a numpy array of length ``n_graphs``; a trailing
            ``...`` (as scikit-learn's indexing passes it) is allowed.

        Returns
        -------
        batch : GraphBatch
            The selected graphs, packed anew (one graph for an int).
        """
        if isinstance(index, tuple):
            if len(index) != 2 or index[1] is not Ellipsis:
                msg = "A GraphBatch is indexed by graph only: batch[index] or batch[index, ...]."
                raise IndexError(msg)
            index = index[0]
        positions = torch.arange(self.n_graphs)
        if isinstance(index, numbers.Integral):
            if not -self.n_graphs <= index < self.n_graphs:
                msg = f"Graph {index} is out of range for a batch of {self.n_graphs} graphs."
                raise IndexError(msg)
            return self.select(positions[[index]])
        if isinstance(index, slice):
            return self.select(positions[index])
        key = torch.as_tensor(np.asarray(index))
        if key.dtype == torch.bool:
            if key.shape != (self.n_graphs,):
                msg = (
                    f"A boolean index needs {self.n_graphs} entries, got shape {tuple(key.shape)}."
                )
                raise IndexError(msg)
            return self.select(positions[key])
        if key.numel() and (key.dtype.is_floating_point or key.dtype.is_complex):
            msg = f"Graph positions must be integers, got dtype {key.dtype}."
            raise IndexError(msg)
        return self.select(positions[key.long()])

    def to(self, device: torch.device | str) -> GraphBatch:
        """Move every tensor to ``device``.

        Parameters
        ----------
        device : torch.device or str
            The target device, e.g. ``"cuda"``.

        Returns
        -------
        batch : GraphBatch
            A new batch on ``device``.
        """
        moved = {
            f.name: (
                getattr(self, f.name).to(device)
                if isinstance(getattr(self, f.name), Tensor)
                else getattr(self, f.name)
            )
            for f in fields(self)
        }
        return GraphBatch(**moved)

    def select(self, index: Tensor) -> GraphBatch:
        """Return the graphs ``index`` (in that order) as a new packed batch.

        Vectorised: the cost is a few gathers, whatever the number of graphs.

        Parameters
        ----------
        index : LongTensor or array-like of int
            Positions of the graphs to keep, in the order wanted.

        Returns
        -------
        batch : GraphBatch
            The selected graphs, packed anew.
        """
        index = torch.as_tensor(index, dtype=torch.long, device=self.node_ptr.device)
        n_nodes = self.n_nodes[index]
        n_edges = self.n_edges[index]
        n_targets = self.n_targets[index]
        new_node_ptr = _ptr(n_nodes)
        new_target_ptr = _ptr(n_targets)
        nodes = concat_ranges(self.node_ptr[index], n_nodes)
        edges = concat_ranges(self.edge_ptr[index], n_edges)
        node_shift = torch.repeat_interleave(new_node_ptr[:-1] - self.node_ptr[index], n_edges)
        target_shift = torch.repeat_interleave(
            new_target_ptr[:-1] - self.target_ptr[index], n_edges
        )
        return replace(
            self,
            x=self.x[nodes],
            edge_index=self.edge_index[:, edges] + node_shift,
            edge_attr=None if self.edge_attr is None else self.edge_attr[edges],
            node_graph=torch.repeat_interleave(
                torch.arange(index.numel(), device=index.device), n_nodes
            ),
            node_ptr=new_node_ptr,
            edge_ptr=_ptr(n_edges),
            edge_target=self.edge_target[edges] + target_shift,
            target_ptr=new_target_ptr,
            node_kind=None if self.node_kind is None else self.node_kind[nodes],
        )
