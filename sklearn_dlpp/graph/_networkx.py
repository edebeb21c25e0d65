"""Read networkx graphs into flat arrays: the one place that walks nodes and edges in Python."""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Sequence
from itertools import chain, compress, repeat
from operator import itemgetter, methodcaller
from typing import TYPE_CHECKING, Any

import numpy as np

from sklearn_dlpp.graph._arrays import PackedArrays, first_bad_row, owner, ptr
from sklearn_dlpp.graph._inputs import is_graph, sample_error

if TYPE_CHECKING:
    import networkx as nx


def node_values(graph: nx.Graph, index: int, features: str | Sequence[str]) -> list:
    """One entry per node in ``graph.nodes()`` order; None where the attribute is missing."""
    data = map(itemgetter(1), graph.nodes(data=True))
    if isinstance(features, str):
        return list(map(methodcaller("get", features), data))
    try:
        return list(map(itemgetter(*features), data))
    except KeyError:
        for node, data in graph.nodes(data=True):
            missing = [name for name in features if name not in data]
            if missing:
                raise sample_error(
                    index, f"node {node!r} has no node attribute {missing[0]!r}."
                ) from None
        raise


def edge_values(graph: nx.Graph, name: str) -> list:
    """One entry per labelled edge in ``graph.edges()`` order; None where missing."""
    return [value for *_, value in graph.edges(data=name)]


def _explain(values: list, label: Callable[[int], Any], what: str, name: Any) -> str | None:
    """Why one sample's values do not form a numeric matrix, or None when they do."""
    width = None
    for j, value in enumerate(values):
        if value is None:
            return f"{what} {label(j)!r} has no {what} attribute {name!r}."
        try:
            row = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return f"{what} {label(j)!r} has {name!r} that is not numeric: {reprlib.repr(value)}."
        if row.ndim > 1:
            return f"{what} {label(j)!r}: {name!r} must be a number or 1-D, got shape {row.shape}."
        if width is None:
            width = row.size
        elif row.size != width:
            return (
                f"ragged {what} features: {what} {label(0)!r} has {width}, "
                f"{what} {label(j)!r} has {row.size}."
            )
    return None


def stack_rows(values: list, width: int | None) -> np.ndarray | None:
    """Feature values (numbers or 1-D vectors, one per node or edge) as one float64 matrix.

    The fast path of every reader: None when the values do not stack into
    ``width`` columns (then the caller looks for the culprit). A missing
    attribute reads as None, which numpy would turn into NaN silently: refused.
    """
    if any(value is None for value in values):
        return None
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if out.ndim == 1 and len(values):
        out = out.reshape(-1, 1)
    if out.ndim == 2 and (width is None or out.shape[1] == width):
        return out
    return None


def _as_matrix(
    values: list,
    counts: np.ndarray,
    explain: Callable[[int, list], str | None],
    what: str,
    width: int | None,
) -> np.ndarray:
    """Convert all samples' values at once; on failure, find the sample and say why."""
    out = stack_rows(values, width)
    if out is not None:
        return out
    # Slow path, only for unusual input: sample by sample, to name the culprit, or
    # to accept a mix numpy will not stack at once (scalars with length-1 vectors).
    bounds = ptr(counts)
    parts, first_width, first_sample = [], width, 0
    for i in range(len(counts)):
        part = values[bounds[i] : bounds[i + 1]]
        problem = explain(i, part)
        if problem is not None:
            raise sample_error(i, problem)
        if not part:
            continue
        rows = np.stack([np.asarray(value, dtype=np.float64).reshape(-1) for value in part])
        if first_width is None:
            first_width, first_sample = rows.shape[1], i
        elif rows.shape[1] != first_width:
            if width is None:
                expected = f"sample {first_sample} has {first_width}"
            else:
                expected = f"{width} were expected"
            raise sample_error(i, f"{rows.shape[1]} {what} features, but {expected}.")
        parts.append(rows)
    return np.concatenate(parts)


def _adjacency(graph: nx.Graph) -> tuple[list[int], Any, Any]:
    """Entries per node, neighbour ids and edge data dicts, one entry per (node, neighbour, key).

    Simple graphs are read with C-level iterators over the adjacency dicts (no Python
    frame per edge); a multigraph repeats a neighbour once per parallel edge, as
    ``graph.edges()`` does.
    """
    neighbours = list(map(itemgetter(1), graph.adjacency()))
    if not graph.is_multigraph():
        ids = chain.from_iterable(neighbours)
        data = chain.from_iterable(map(methodcaller("values"), neighbours))
        return list(map(len, neighbours)), ids, data
    keyed = [item for nbrs in neighbours for item in nbrs.items()]
    counts = [sum(map(len, nbrs.values())) for nbrs in neighbours]
    ids = chain.from_iterable(repeat(nbr, len(keys)) for nbr, keys in keyed)
    data = chain.from_iterable(keys.values() for _, keys in keyed)
    return counts, ids, data


def read_graphs(
    graphs: list,
    node_features: str | Sequence[str],
    edge_features: str | None,
    n_node_features: int | None,
    n_edge_features: int | None,
    read_nodes: Callable[[list, np.ndarray], np.ndarray] | None = None,
) -> PackedArrays:
    """Read node features and labelled edges of every graph, mapping node ids to positions.

    ``read_nodes(values, n_nodes)``, when given, turns the raw feature values of all
    nodes (packed order) into the feature matrix instead of the same-width rule
    (typed nodes, whose feature length depends on their kind).
    """
    n_samples = len(graphs)
    n_nodes = np.empty(n_samples, dtype=np.int64)
    directed = np.empty(n_samples, dtype=bool)
    nodes: list = []
    degrees: list[int] = []
    neighbours = []
    edges: list = []
    for i, graph in enumerate(graphs):
        if not is_graph(graph):
            msg = f"expected a networkx graph like sample 0, got {type(graph).__name__}."
            raise sample_error(i, msg)
        size = len(graph)
        if size == 0:
            msg = "the graph has no nodes (a graph with nodes but no edges is fine)."
            raise sample_error(i, msg)
        n_nodes[i] = size
        directed[i] = graph.is_directed()
        nodes.extend(node_values(graph, i, node_features))
        counts, ids, data = _adjacency(graph)
        degrees.extend(counts)
        position = dict(zip(graph, range(size), strict=True)).__getitem__
        neighbours.append(np.fromiter(map(position, ids), dtype=np.int64))
        if edge_features is not None:
            edges.extend(map(methodcaller("get", edge_features), data))

    node_ptr = ptr(n_nodes)
    # Adjacency lists hold an undirected edge at both ends; networkx reports it once,
    # at whichever end comes first in node order, and so do we.
    entries = np.array([len(part) for part in neighbours], dtype=np.int64)
    senders = np.repeat(np.arange(node_ptr[-1]), np.array(degrees, dtype=np.int64))
    receivers = np.concatenate(neighbours) + np.repeat(node_ptr[:-1], entries)
    keep = np.repeat(directed, entries) | (receivers >= senders)
    senders, receivers = senders[keep], receivers[keep]
    n_labelled = np.bincount(np.repeat(np.arange(n_samples), entries)[keep], minlength=n_samples)

    def explain_nodes(i: int, part: list) -> str | None:
        name = node_features if isinstance(node_features, str) else list(node_features)
        return _explain(part, list(graphs[i]).__getitem__, "node", name)

    if read_nodes is not None:
        x = read_nodes(nodes, n_nodes)
    else:
        x = _as_matrix(nodes, n_nodes, explain_nodes, "node", n_node_features)
    bad = first_bad_row(x)
    if bad is not None:
        i, pos = owner(node_ptr, bad)
        node = list(graphs[i])[pos]
        raise sample_error(i, f"node {node!r} has NaN or infinite features.")

    edge_attr = None
    if edge_features is not None:

        def explain_edges(i: int, part: list) -> str | None:
            labels = [tuple(edge[:2]) for edge in graphs[i].edges()]
            return _explain(part, labels.__getitem__, "edge", edge_features)

        edges = list(compress(edges, keep))
        if edges:
            edge_attr = _as_matrix(edges, n_labelled, explain_edges, "edge", n_edge_features)
        else:
            edge_attr = np.zeros((0, n_edge_features or 0))
        bad = first_bad_row(edge_attr)
        if bad is not None:
            i, pos = owner(ptr(n_labelled), bad)
            edge = list(graphs[i].edges())[pos]
            raise sample_error(i, f"edge {edge!r} has NaN or infinite features.")

    # An undirected self-loop is one message to itself, not two.
    both_ways = np.repeat(~directed, n_labelled) & (senders != receivers)
    return PackedArrays(
        x=x,
        n_nodes=n_nodes,
        senders=senders,
        receivers=receivers,
        edge_attr=edge_attr,
        n_labelled=n_labelled,
        both_ways=both_ways,
    )
