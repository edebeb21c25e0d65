"""Edges for particle sets: fully connected or k nearest neighbours, built in bulk."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from sklearn_dlpp.graph._arrays import ptr

# Distances are computed on padded blocks of sets; this bounds a block to 32 MiB of float64.
_BLOCK_ENTRIES = 2**22


def set_edges(
    how: str, n_nodes: np.ndarray, k: int, coordinates: Callable[[], np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The edges ``set_edges`` asks for: None for "none", else senders, receivers, per set.

    ``coordinates()`` gives the (n_nodes, n_coordinates) neighbour coordinates; it
    is called for "knn" only.
    """
    if how == "full":
        return full_edges(n_nodes)
    if how == "knn":
        return knn_edges(coordinates(), n_nodes, int(k))
    return None


def full_edges(n_nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ordered pair of distinct nodes in each set: senders, receivers, edges per set.

    Within a set, edges are ordered by receiver, then sender.
    """
    n_nodes = n_nodes.astype(np.int64)
    per_set = n_nodes * (n_nodes - 1)
    owner = np.repeat(np.arange(len(n_nodes)), per_set)
    local = np.arange(per_set.sum()) - np.repeat(ptr(per_set)[:-1], per_set)
    others = (n_nodes - 1)[owner]
    receivers = local // others
    senders = local % others
    senders += senders >= receivers  # skip the self loop
    offset = ptr(n_nodes)[:-1][owner]
    return senders + offset, receivers + offset, per_set


def knn_edges(
    coords: np.ndarray, n_nodes: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges from each node's ``k`` nearest neighbours (Euclidean in ``coords``) to it.

    Returns senders, receivers and edges per set. Within a set, edges are ordered by
    receiver, then by increasing distance. A set with ``n <= k`` nodes is fully connected.
    """
    n_nodes = n_nodes.astype(np.int64)
    node_ptr = ptr(n_nodes)
    n_sets, n_coords = len(n_nodes), coords.shape[1]
    widest = int(n_nodes.max())
    per_block = max(1, _BLOCK_ENTRIES // (widest * widest))
    points = torch.from_numpy(np.ascontiguousarray(coords, dtype=np.float64))
    senders, receivers = [], []
    per_set = np.zeros(n_sets, dtype=np.int64)
    for start in range(0, n_sets, per_block):
        stop = min(start + per_block, n_sets)
        sizes = torch.from_numpy(n_nodes[start:stop])
        width = int(sizes.max())
        n_neighbours = min(k, width - 1)
        if n_neighbours <= 0:
            continue
        block_set = torch.repeat_interleave(torch.arange(stop - start), sizes)
        slot = torch.arange(int(node_ptr[start]), int(node_ptr[stop])) - torch.from_numpy(
            np.repeat(node_ptr[start:stop], n_nodes[start:stop])
        )
        padded = points.new_zeros(stop - start, width, n_coords)
        padded[block_set, slot] = points[node_ptr[start] : node_ptr[stop]]
        # The direct formula (no matrix-product trick) gives exact, reproducible distances.
        dist = torch.cdist(padded, padded, compute_mode="donot_use_mm_for_euclid_dist")
        real = torch.arange(width) < sizes[:, None]
        dist.masked_fill_(~real[:, None, :], torch.inf)
        dist.diagonal(dim1=1, dim2=2).fill_(torch.inf)
        nearest, neighbour = dist.topk(n_neighbours, dim=2, largest=False)
        keep = torch.isfinite(nearest) & real[:, :, None]
        block, node, _ = keep.nonzero(as_tuple=True)
        base = torch.from_numpy(node_ptr[start:stop])[block]
        receivers.append((base + node).numpy())
        senders.append((base + neighbour[keep]).numpy())
        per_set[start:stop] = keep.sum(dim=(1, 2)).numpy()
    if not senders:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, per_set
    return np.concatenate(senders), np.concatenate(receivers), per_set
