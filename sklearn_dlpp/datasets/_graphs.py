"""Shared helpers of the generators: counts per sample, k-nearest-neighbour pairs, networkx."""

from __future__ import annotations

from numbers import Integral

import networkx as nx
import numpy as np

_KNN_CHUNK = 1024  # samples per block of pairwise distances; bounds the memory


def draw_counts(value, size: int, rng: np.random.RandomState, name: str) -> np.ndarray:
    """Per-sample counts from an int (fixed) or an inclusive ``(low, high)`` range."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        low = high = int(value)
    elif (
        isinstance(value, tuple)
        and len(value) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in value)
    ):
        low, high = int(value[0]), int(value[1])
    else:
        low, high = 0, -1
    if not 1 <= low <= high:
        msg = f"{name} must be a positive int or a (low, high) tuple of them; got {value!r}."
        raise ValueError(msg)
    if low == high:
        return np.full(size, low, dtype=np.int64)
    return rng.randint(low, high + 1, size=size).astype(np.int64)


def undirected_knn_pairs(coords: np.ndarray, counts: np.ndarray, k: int) -> list[np.ndarray]:
    """The node pairs of undirected k-nearest-neighbour graphs of zero-padded point sets.

    ``coords`` has shape (n_sets, n_max, n_dims) with the first ``counts[i]`` rows
    of set ``i`` real. Returns one (n_edges, 2) int64 array per set, each edge
    once as ``(a, b)`` with ``a < b``, sorted: the union of every point's ``k``
    nearest neighbours (all other points when the set is smaller than ``k + 1``).

    Unlike ``knn_edges`` of the graph subpackage, which gives the directed edges
    (sender, receiver) of packed sets for message passing, these pairs make
    networkx graphs: each pair once, per set, in local indices.
    """
    n_sets, n_max, _ = coords.shape
    kk = min(k, n_max - 1)
    out: list[np.ndarray] = []
    if kk < 1:
        return [np.zeros((0, 2), dtype=np.int64) for _ in range(n_sets)]
    slot = np.arange(n_max)
    for start in range(0, n_sets, _KNN_CHUNK):
        c = coords[start : start + _KNN_CHUNK].astype(np.float64)
        n = counts[start : start + _KNN_CHUNK]
        dist = np.zeros((len(c), n_max, n_max))
        for dim in range(c.shape[2]):
            dist += (c[:, :, None, dim] - c[:, None, :, dim]) ** 2
        real = slot[None, :] < n[:, None]
        dist = np.where(real[:, None, :], dist, np.inf)
        dist[:, slot, slot] = np.inf
        nbr = np.argpartition(dist, kk - 1, axis=2)[:, :, :kk]
        # A neighbour at infinite distance is padding (or the set is too small).
        valid = np.take_along_axis(dist, nbr, axis=2) < np.inf
        valid &= real[:, :, None]
        s, i, j = np.nonzero(valid)
        a = np.minimum(i, nbr[s, i, j])
        b = np.maximum(i, nbr[s, i, j])
        key = np.unique((s * n_max + a) * n_max + b)
        s, rest = np.divmod(key, n_max * n_max)
        pairs = np.column_stack(np.divmod(rest, n_max))
        out.extend(np.split(pairs, np.searchsorted(s, np.arange(1, len(c)))))
    return out


def to_graph(
    x: np.ndarray,
    edges: np.ndarray,
    *,
    node_attrs: dict[str, list] | None = None,
    edge_attrs: dict[str, list] | None = None,
    graph_attrs: dict | None = None,
) -> nx.Graph:
    """A networkx graph with nodes ``0 .. len(x) - 1`` carrying ``x`` rows and attributes."""
    graph = nx.Graph(**(graph_attrs or {}))
    node_data = [{"x": row} for row in x]
    for name, values in (node_attrs or {}).items():
        for data, value in zip(node_data, values, strict=True):
            data[name] = value
    graph.add_nodes_from(enumerate(node_data))
    pairs = edges.tolist()
    if edge_attrs:
        edge_data = [{} for _ in pairs]
        for name, values in edge_attrs.items():
            for data, value in zip(edge_data, values, strict=True):
                data[name] = value
        graph.add_edges_from((u, v, data) for (u, v), data in zip(pairs, edge_data, strict=True))
    else:
        graph.add_edges_from(pairs)
    return graph


def edge_labels(graph: nx.Graph, name: str = "y") -> np.ndarray:
    """The edge attribute ``name`` as an int64 array in ``graph.edges()`` order."""
    return np.fromiter(
        (value for _, _, value in graph.edges(data=name)),
        dtype=np.int64,
        count=graph.number_of_edges(),
    )


def node_labels(graph: nx.Graph, name: str = "y") -> np.ndarray:
    """The node attribute ``name`` as an int64 array in ``graph.nodes()`` order."""
    return np.fromiter(
        (value for _, value in graph.nodes(data=name)),
        dtype=np.int64,
        count=graph.number_of_nodes(),
    )
