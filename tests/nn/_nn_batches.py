"""Hand-packed GraphBatch objects and random graphs for the tests of sklearn_dlpp.nn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import strategies as st

from sklearn_dlpp.graph import GraphBatch


@dataclass
class Graph:
    """One graph in local indices: x (n, F), edge_index (2, E), edge_attr (E, Fe) or None,
    edge_target (E,) local labelled-edge ids (default: every message edge its own)."""

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray | None = None
    edge_target: np.ndarray | None = None

    @property
    def n_targets(self) -> int:
        if self.edge_target is None:
            return self.edge_index.shape[1]
        return int(self.edge_target.max()) + 1 if self.edge_target.size else 0

    def targets(self) -> np.ndarray:
        if self.edge_target is None:
            return np.arange(self.edge_index.shape[1])
        return self.edge_target


def _ptr(counts: Sequence[int]) -> torch.Tensor:
    return torch.tensor(np.concatenate([[0], np.cumsum(counts)]), dtype=torch.long)


def pack(graphs: Sequence[Graph | tuple], dtype: torch.dtype = torch.float64) -> GraphBatch:
    """Pack graphs (Graph objects or (x, edge_index) pairs) into one block-diagonal batch."""
    graphs = [g if isinstance(g, Graph) else Graph(*g) for g in graphs]
    n_nodes = [g.x.shape[0] for g in graphs]
    n_edges = [g.edge_index.shape[1] for g in graphs]
    n_targets = [g.n_targets for g in graphs]
    node_off = np.concatenate([[0], np.cumsum(n_nodes)])[:-1]
    target_off = np.concatenate([[0], np.cumsum(n_targets)])[:-1]
    n_features = graphs[0].x.shape[1] if graphs else 1
    x = np.concatenate([g.x for g in graphs]) if graphs else np.zeros((0, n_features))
    edge_index = np.concatenate(
        [np.zeros((2, 0), dtype=np.int64)]
        + [g.edge_index + off for g, off in zip(graphs, node_off, strict=True)],
        axis=1,
    )
    edge_target = np.concatenate(
        [np.zeros(0, dtype=np.int64)]
        + [g.targets() + off for g, off in zip(graphs, target_off, strict=True)]
    )
    edge_attr = None
    if graphs and graphs[0].edge_attr is not None:
        edge_attr = torch.tensor(np.concatenate([g.edge_attr for g in graphs]), dtype=dtype)
    return GraphBatch(
        x=torch.tensor(x, dtype=dtype),
        edge_index=torch.tensor(edge_index, dtype=torch.long),
        edge_attr=edge_attr,
        node_graph=torch.repeat_interleave(torch.arange(len(graphs)), torch.tensor(n_nodes)),
        node_ptr=_ptr(n_nodes),
        edge_ptr=_ptr(n_edges),
        edge_target=torch.tensor(edge_target, dtype=torch.long),
        target_ptr=_ptr(n_targets),
    )


def undirected(
    x: np.ndarray, pairs: Sequence[tuple[int, int]], edge_attr: np.ndarray | None = None
) -> Graph:
    """Graph whose every pair is two message edges (both directions) sharing a labelled edge."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    edge_index = np.concatenate([pairs.T, pairs.T[::-1]], axis=1)
    target = np.tile(np.arange(len(pairs)), 2)
    attr = None if edge_attr is None else np.concatenate([edge_attr, edge_attr])
    return Graph(x, edge_index, attr, target)


def path(n: int, n_features: int, rng: np.random.Generator) -> Graph:
    """Undirected path 0 - 1 - ... - (n-1)."""
    return undirected(rng.normal(size=(n, n_features)), [(i, i + 1) for i in range(n - 1)])


@st.composite
def graphs(
    draw: st.DrawFn,
    n_features: int = 2,
    n_edge_features: int = 0,
    min_nodes: int = 1,
    max_nodes: int = 6,
) -> Graph:
    """A random undirected graph (no self loops) with random features."""
    n = draw(st.integers(min_nodes, max_nodes))
    all_pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    chosen = draw(st.lists(st.sampled_from(all_pairs), unique=True)) if all_pairs else []
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    attr = rng.normal(size=(len(chosen), n_edge_features)) if n_edge_features else None
    return undirected(rng.normal(size=(n, n_features)), chosen, attr)


def graph_lists(n_features: int = 2, n_edge_features: int = 0, max_graphs: int = 4):
    """Strategy for a non-empty list of random graphs."""
    return st.lists(graphs(n_features, n_edge_features), min_size=1, max_size=max_graphs)
