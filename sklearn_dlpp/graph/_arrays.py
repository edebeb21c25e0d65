"""Flat numpy arrays of many samples, the stage between the readers and a GraphBatch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from sklearn_dlpp.graph._batch import GraphBatch, concat_ranges


def first_bad_row(values: np.ndarray) -> int | None:
    """Index of the first row of a 2-D array holding a NaN or an infinity, or None."""
    bad = ~np.isfinite(values).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def owner(ptr: np.ndarray, row: int) -> tuple[int, int]:
    """Sample index and position within it of global ``row``, given cumulative counts."""
    sample = int(np.searchsorted(ptr, row, side="right")) - 1
    return sample, row - int(ptr[sample])


def ptr(counts: np.ndarray) -> np.ndarray:
    """Cumulative counts with a leading zero: sample ``i`` owns ``ptr[i]:ptr[i+1]``."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s + c)`` for every pair: :func:`concat_ranges` on numpy arrays."""
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    return concat_ranges(torch.from_numpy(starts), torch.from_numpy(counts)).numpy()


@dataclass(frozen=True)
class PackedArrays:
    """Nodes and labelled edges of many samples; node indices in the edges are global.

    Typed nodes (objects of several kinds) add ``kind_index``, each node's kind as
    a position in ``layout`` (the ``((kind, n_features), ...)`` column blocks of
    ``x``); untyped samples leave both None.
    """

    x: np.ndarray  # (n_nodes, n_node_features), float64
    n_nodes: np.ndarray  # (n_samples,)
    senders: np.ndarray  # (n_labelled,)
    receivers: np.ndarray  # (n_labelled,)
    edge_attr: np.ndarray | None  # (n_labelled, n_edge_features)
    n_labelled: np.ndarray  # (n_samples,)
    both_ways: np.ndarray  # (n_labelled,) bool: carries a message each way
    kind_index: np.ndarray | None = None  # (n_nodes,) int64
    layout: tuple | None = None  # ((kind, n_features), ...)

    @classmethod
    def of_sets(
        cls,
        x: np.ndarray,
        n_nodes: np.ndarray,
        edges: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        **kinds: Any,
    ) -> PackedArrays:
        """Particle sets: nodes and the edges built for them (senders, receivers, per set).

        Built edges are directed and unlabelled: each is its own labelled edge.
        """
        if edges is None:
            empty = np.zeros(0, dtype=np.int64)
            edges = (empty, empty, np.zeros(len(n_nodes), dtype=np.int64))
        senders, receivers, n_edges = edges
        return cls(
            x=x,
            n_nodes=n_nodes.astype(np.int64),
            senders=senders,
            receivers=receivers,
            edge_attr=None,
            n_labelled=n_edges,
            both_ways=np.zeros(len(senders), dtype=bool),
            **kinds,
        )

    def to_batch(self, dtype: torch.dtype = torch.float32) -> GraphBatch:
        """Expand labelled edges into message edges and move everything to torch."""
        both = self.both_ways
        per_label = 1 + both
        # Message edges of one labelled edge sit side by side (forward, then backward),
        # which keeps each sample's edges contiguous without a per-sample loop.
        first = np.arange(len(both)) + np.cumsum(both) - both
        n_messages = len(both) + int(both.sum())
        edge_index = np.empty((2, n_messages), dtype=np.int64)
        edge_index[0, first] = self.senders
        edge_index[1, first] = self.receivers
        edge_index[0, first[both] + 1] = self.receivers[both]
        edge_index[1, first[both] + 1] = self.senders[both]
        label_ptr = ptr(self.n_labelled)
        n_edges = np.diff(np.concatenate([[0], np.cumsum(per_label)])[label_ptr])
        edge_attr = None
        if self.edge_attr is not None:
            edge_attr = torch.from_numpy(np.repeat(self.edge_attr, per_label, axis=0)).to(dtype)
        n_nodes = torch.from_numpy(self.n_nodes)
        kinds = {}
        if self.layout is not None:
            kinds = {"node_kind": torch.from_numpy(self.kind_index), "kinds": self.layout}
        return GraphBatch(
            x=torch.from_numpy(self.x).to(dtype),
            edge_index=torch.from_numpy(edge_index),
            edge_attr=edge_attr,
            node_graph=torch.repeat_interleave(torch.arange(len(n_nodes)), n_nodes),
            node_ptr=torch.from_numpy(ptr(self.n_nodes)),
            edge_ptr=torch.from_numpy(ptr(n_edges)),
            edge_target=torch.from_numpy(np.repeat(np.arange(len(both)), per_label)),
            target_ptr=torch.from_numpy(label_ptr),
            **kinds,
        )
