"""Node and edge targets aligned with a packed batch, and predictions split back per sample."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sklearn_dlpp.graph._arrays import owner, ptr
from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._inputs import AWKWARD, GRAPHS, PADDED, classify, sample_error
from sklearn_dlpp.graph._networkx import edge_values, node_values
from sklearn_dlpp.graph._read import BATCH, EVENTS, TYPED_GRAPHS, Reading
from sklearn_dlpp.graph._sets import real_particles


@dataclass(frozen=True)
class _Source:
    """What aligning targets with packed samples needs: the form, the samples, the counts."""

    form: str
    data: Any
    n_nodes: Any  # callable () -> ndarray, so that only the level asked for is counted
    n_edges: Any
    real: np.ndarray | None = None
    kind_counts: dict | None = None
    layout: tuple | None = None


def _source(reading: Reading) -> _Source:
    batch = reading.batch
    return _Source(
        reading.form,
        reading.data,
        lambda: batch.n_nodes.numpy(),
        lambda: batch.n_targets.numpy(),
        reading.real,
        reading.kind_counts,
        batch.kinds,
    )


def _light_source(X: Any, mask: Any) -> _Source:
    """Counts without reading any feature (the public node_targets and edge_targets)."""
    if isinstance(X, GraphBatch):
        return _Source(BATCH, X, lambda: X.n_nodes.numpy(), lambda: X.n_targets.numpy())
    samples = classify(X)
    real = None
    if samples.kind == PADDED:
        real = real_particles(samples.data, mask)
        n_nodes = real.sum(axis=1)
    elif samples.kind == AWKWARD:
        import awkward as ak

        n_nodes = np.asarray(ak.to_numpy(ak.num(samples.data, axis=1)))
    else:
        n_nodes = np.array([len(sample) for sample in samples.data], dtype=np.int64)

    def n_edges() -> np.ndarray:
        graphs = samples.data
        return np.array([graph.number_of_edges() for graph in graphs], dtype=np.int64)

    return _Source(samples.kind, samples.data, lambda: n_nodes, n_edges, real)


def level_targets(reading: Reading, y: Any, level: str, what: str = "targets") -> np.ndarray:
    """Targets (or weights) of X's graphs, nodes or labelled edges, as one array of rows.

    Parameters
    ----------
    reading : Reading
        X as :func:`read_samples` gave it, so X is not read again.
    y : array-like, sequence of array-like, str or None
        At graph level, one row per sample. At node and edge level, one array
        per sample (in ``G.nodes()`` / ``G.edges()`` or particle order; for
        events, a mapping kind -> values or an array in packed order), or the
        name of the node (edge) attribute holding them; None means ``"y"``.
    level : {"graph", "node", "edge"}
        What a row is.
    what : str, default="targets"
        What y holds, for error messages ("targets", "weights").

    Returns
    -------
    rows : ndarray
        One row per graph, node or labelled edge of ``reading.batch``.

    Raises
    ------
    ValueError
        When y does not match X (counts per sample, missing attributes, kinds).

    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp.graph import PackOptions, level_targets, read_samples
    >>> G = nx.path_graph(3)
    >>> nx.set_node_attributes(G, 1.0, "x")
    >>> nx.set_node_attributes(G, {0: 1, 1: 0, 2: 1}, "y")
    >>> level_targets(read_samples([G], PackOptions()), None, "node").tolist()
    [1, 0, 1]
    """
    if level == "graph":
        return _graph_targets(reading.batch.n_graphs, y)
    if y is not None and not isinstance(y, str) and not hasattr(y, "__iter__"):
        msg = (
            f"y must be one array of {level} {what} per graph or the name of the {level} "
            f"attribute holding them, got {type(y).__name__}."
        )
        raise TypeError(msg)
    source = _source(reading)
    if source.form == EVENTS:
        if level == "edge" or y is None or isinstance(y, str):
            msg = (
                f"For events, y holds the {level} {what} of each event (one mapping kind -> {what} "
                "per event); edge targets need networkx graphs (EventSet.to_graphs)."
            )
            raise ValueError(msg)
        return _event_targets(source, y)
    y = "y" if y is None else y
    return _node_targets(source, y) if level == "node" else _edge_targets(source, y)


def _graph_targets(n_graphs: int, y: Any) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 0:
        msg = f"y must hold one target per graph, got a scalar {type(y.item()).__name__}."
        raise ValueError(msg)
    if len(y) != n_graphs:
        msg = f"Found {len(y)} targets for {n_graphs} graphs (samples) in X."
        raise ValueError(msg)
    return y


def _event_targets(source: _Source, y: Any) -> np.ndarray:
    """Per-object targets of events, in packed node order.

    ``y`` holds one entry per event: a mapping kind -> one target per object of
    the kind, or an array with one target per object in the packed order.
    """
    counts = source.kind_counts
    n_events = len(next(iter(counts.values())))
    if len(y) != n_events:
        msg = f"y has {len(y)} events but X has {n_events}."
        raise ValueError(msg)
    parts = []
    for i, target in enumerate(y):
        if isinstance(target, Mapping):
            unknown = [kind for kind in target if kind not in counts]
            if unknown:
                raise sample_error(i, f"y names kind {unknown[0]!r}, which X lacks.")
            blocks = []
            for kind, _ in source.layout:
                n = int(counts[kind][i]) if kind in counts else 0
                block = np.asarray(target.get(kind, np.zeros(0)))
                if block.ndim == 0 or len(block) != n:
                    size = "a scalar" if block.ndim == 0 else len(block)
                    raise sample_error(i, f"{size} targets for {n} objects of kind {kind!r}.")
                if n:
                    blocks.append(block)
            parts.append(np.concatenate(blocks) if blocks else np.zeros(0))
        else:
            block = np.asarray(target)
            n = sum(int(count[i]) for count in counts.values())
            if block.ndim == 0 or len(block) != n:
                size = "a scalar" if block.ndim == 0 else len(block)
                raise sample_error(i, f"{size} node targets for {n} objects.")
            parts.append(block)
    return np.concatenate(parts)


def _concatenate(parts: list, counts: np.ndarray, what: str, unit: str) -> np.ndarray:
    """Concatenate per-sample targets after checking each length against ``counts``."""
    if len(parts) != len(counts):
        msg = f"y has {len(parts)} samples but X has {len(counts)}."
        raise ValueError(msg)
    arrays = [np.asarray(part) for part in parts]
    for i, (part, count) in enumerate(zip(arrays, counts, strict=True)):
        if part.ndim == 0 or len(part) != count:
            size = "a scalar" if part.ndim == 0 else len(part)
            raise sample_error(i, f"{size} {what} targets for {count} {unit}.")
    return np.concatenate(arrays)


def _packed_targets(counts: Tensor, y: Any, what: str, unit: str) -> np.ndarray:
    """Targets of a packed batch: it keeps no attributes, so y holds one array per graph."""
    if isinstance(y, str):
        msg = (
            f"X is a packed GraphBatch, which keeps no {what} attributes: give y as one "
            f"array of {what} targets per graph (not the attribute name {y!r})."
        )
        raise ValueError(msg)
    if type(y).__module__.partition(".")[0] == "awkward":
        y = list(y)
    return _concatenate(list(y), counts.numpy(), what, unit)


def _check_found(values: list, counts: np.ndarray, label: Any, what: str, name: str) -> None:
    """Raise naming the first node or edge whose attribute ``name`` is missing."""
    missing = next((j for j, value in enumerate(values) if value is None), None)
    if missing is not None:
        i, pos = owner(ptr(counts), missing)
        raise sample_error(i, f"{what} {label(i, pos)!r} has no {what} attribute {name!r}.")


def node_targets(X: Any, y: Any, *, mask: Any = None) -> np.ndarray:
    """Per-node targets of all samples as one array, in packed node order.

    Parameters
    ----------
    X : sequence of networkx.Graph, 3-D array, sequence of 2-D arrays, awkward array or GraphBatch
        The samples, as given to :func:`pack_graphs`; for a packed
        :class:`GraphBatch`, y must hold one array per graph.
    y : str, sequence of array-like, array-like or awkward array
        A node attribute name (graphs) or record field name (awkward records);
        or one array per sample with one entry (or row) per node, in
        ``G.nodes()`` order or particle order; for a padded X, also an array of
        shape (n_samples, n_particles, ...) whose padding entries are dropped.
    mask : array-like of bool of shape (n_samples, n_particles), default=None
        The ``mask`` given to :func:`pack_graphs` for a padded X.

    Returns
    -------
    targets : ndarray of shape (n_nodes, ...)
        Row ``i`` belongs to node ``i`` of the packed batch.

    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp.graph import node_targets
    >>> G = nx.path_graph(3)
    >>> nx.set_node_attributes(G, {0: 1, 1: 0, 2: 1}, "label")
    >>> node_targets([G, G], "label").tolist()
    [1, 0, 1, 1, 0, 1]
    >>> node_targets([G, G], [[0, 0, 1], [1, 1, 0]]).tolist()
    [0, 0, 1, 1, 1, 0]
    """
    return _node_targets(_light_source(X, mask), y)


def _node_targets(source: _Source, y: Any) -> np.ndarray:
    if source.form == BATCH:
        return _packed_targets(source.data.n_nodes, y, "node", "nodes")
    counts = source.n_nodes()
    graphs = source.data
    if isinstance(y, str):
        if source.form in (GRAPHS, TYPED_GRAPHS):
            values = [v for i, graph in enumerate(graphs) for v in node_values(graph, i, y)]
            _check_found(values, counts, lambda i, pos: list(graphs[i])[pos], "node", y)
            return np.asarray(values)
        if source.form == AWKWARD:
            import awkward as ak

            return np.asarray(ak.to_numpy(ak.flatten(source.data[y], axis=1)))
        msg = "y as a name reads a node attribute of graphs or a field of awkward records."
        raise ValueError(msg)
    if source.form == PADDED and not isinstance(y, list):
        y_array = np.asarray(y)
        if y_array.ndim >= 2 and y_array.shape[:2] == source.data.shape[:2]:
            return y_array[source.real]
    if type(y).__module__.partition(".")[0] == "awkward":
        y = list(y)
    return _concatenate(list(y), counts, "node", "nodes")


def edge_targets(X: Any, y: Any) -> np.ndarray:
    """Per-labelled-edge targets of all graphs as one array, in packed labelled-edge order.

    Labelled edges are the edges the user sees, ``G.edges()`` of each graph in
    that order: an undirected edge is one labelled edge even though it passes
    messages both ways (``GraphBatch.edge_target`` maps messages to it).

    Parameters
    ----------
    X : sequence of networkx.Graph or GraphBatch
        The graphs, as given to :func:`pack_graphs`; for a packed
        :class:`GraphBatch`, y must hold one array per graph.
    y : str or sequence of array-like
        An edge attribute name, or one array per graph with one entry (or row)
        per edge in ``G.edges()`` order.

    Returns
    -------
    targets : ndarray of shape (n_labelled_edges, ...)
        Row ``j`` belongs to labelled edge ``j`` of the packed batch.

    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp.graph import edge_targets
    >>> G = nx.Graph([("a", "b", {"true": 1}), ("b", "c", {"true": 0})])
    >>> edge_targets([G, G], "true").tolist()
    [1, 0, 1, 0]
    """
    return _edge_targets(_light_source(X, None), y)


def _edge_targets(source: _Source, y: Any) -> np.ndarray:
    if source.form == BATCH:
        return _packed_targets(source.data.n_targets, y, "edge", "edges")
    if source.form not in (GRAPHS, TYPED_GRAPHS):
        msg = (
            "Edge targets need networkx graphs: edges built for particle sets carry no "
            "labels of their own."
        )
        raise ValueError(msg)
    graphs = source.data
    counts = source.n_edges()
    if isinstance(y, str):
        values = [v for graph in graphs for v in edge_values(graph, y)]
        _check_found(values, counts, lambda i, pos: list(graphs[i].edges())[pos], "edge", y)
        return np.asarray(values)
    return _concatenate(list(y), counts, "edge", "edges")


def _split(values: Any, bounds: Tensor, what: str) -> list[np.ndarray]:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    values = np.asarray(values)
    bounds = bounds.cpu().numpy()
    if len(values) != bounds[-1]:
        msg = f"Got {len(values)} values for {bounds[-1]} {what} in the batch."
        raise ValueError(msg)
    return np.split(values, bounds[1:-1])


def split_nodes(values: Any, batch: GraphBatch) -> list[np.ndarray]:
    """Split per-node values of a packed batch into one array per sample.

    Parameters
    ----------
    values : array-like or Tensor of shape (n_nodes, ...)
        One entry per node of ``batch``, e.g. node predictions.
    batch : GraphBatch
        The batch the values belong to.

    Returns
    -------
    parts : list of ndarray
        Entry ``g`` holds the values of sample ``g``, in its node order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp.graph import pack_graphs, split_nodes
    >>> batch = pack_graphs([np.ones((2, 3)), np.ones((1, 3))])
    >>> split_nodes(np.array([5, 6, 7]), batch)
    [array([5, 6]), array([7])]
    """
    return _split(values, batch.node_ptr, "nodes")


def split_edges(values: Any, batch: GraphBatch) -> list[np.ndarray]:
    """Split per-labelled-edge values of a packed batch into one array per sample.

    Parameters
    ----------
    values : array-like or Tensor of shape (n_labelled_edges, ...)
        One entry per labelled edge of ``batch`` (``G.edges()`` order per graph).
    batch : GraphBatch
        The batch the values belong to.

    Returns
    -------
    parts : list of ndarray
        Entry ``g`` holds the values of graph ``g``, in ``G.edges()`` order.

    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp.graph import pack_graphs, split_edges
    >>> graphs = [nx.path_graph(3), nx.path_graph(2)]
    >>> nx.set_node_attributes(graphs[0], 1.0, "x")
    >>> nx.set_node_attributes(graphs[1], 1.0, "x")
    >>> split_edges([0.1, 0.2, 0.3], pack_graphs(graphs))
    [array([0.1, 0.2]), array([0.3])]
    """
    return _split(values, batch.target_ptr, "labelled edges")
