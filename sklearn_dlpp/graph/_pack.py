"""The public entry point: any supported input in, one packed :class:`GraphBatch` out."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from sklearn_dlpp.graph._arrays import PackedArrays
from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._inputs import GRAPHS, Samples, classify
from sklearn_dlpp.graph._networkx import read_graphs
from sklearn_dlpp.graph._set_edges import full_edges, knn_edges
from sklearn_dlpp.graph._sets import read_sets
from sklearn_dlpp.graph._typed import check_layout, is_typed, pack_typed

SET_EDGES = ("none", "full", "knn")


def _knn_columns(knn_features: Any, names: list[str] | None, n_features: int) -> list[int]:
    """Column indices of the k-nearest-neighbour coordinates."""
    if knn_features is None:
        return list(range(n_features))
    if isinstance(knn_features, (str, numbers.Integral)):
        knn_features = [knn_features]
    columns = []
    for feature in knn_features:
        if isinstance(feature, str) and names is not None and feature in names:
            columns.append(names.index(feature))
        elif isinstance(feature, numbers.Integral) and -n_features <= feature < n_features:
            columns.append(int(feature) % n_features)
        else:
            known = f"names {names} or " if names is not None else ""
            msg = (
                f"knn_features entry {feature!r} is not one of the {known}column indices "
                f"0..{n_features - 1} of the node features."
            )
            raise ValueError(msg)
    if not columns:
        msg = "knn_features is empty; give at least one coordinate column."
        raise ValueError(msg)
    return columns


def _check_options(set_edges: str, k: Any, n_node_features: Any, n_edge_features: Any) -> None:
    if set_edges not in SET_EDGES:
        msg = f"set_edges must be one of {SET_EDGES}, got {set_edges!r}."
        raise ValueError(msg)
    if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
        msg = f"k must be a positive integer, got {k!r}."
        raise ValueError(msg)
    for name, value in (("n_node_features", n_node_features), ("n_edge_features", n_edge_features)):
        if value is not None and (not isinstance(value, numbers.Integral) or value < 0):
            msg = f"{name} must be None or a non-negative integer, got {value!r}."
            raise ValueError(msg)


def read_samples(
    X: Any,
    *,
    node_features: str | Sequence[str] | None = None,
    edge_features: str | None = None,
    set_edges: str = "none",
    k: int = 8,
    knn_features: Any = None,
    n_node_features: int | None = None,
    n_edge_features: int | None = None,
    mask: Any = None,
) -> tuple[Samples, PackedArrays]:
    """Validate and read X once; the arrays behind :func:`pack_graphs` and the scaler."""
    _check_options(set_edges, k, n_node_features, n_edge_features)
    samples = classify(X)
    if samples.kind == GRAPHS:
        if set_edges != "none":
            msg = "set_edges builds edges for particle sets; networkx graphs bring their own."
            raise ValueError(msg)
        if mask is not None:
            msg = "mask applies to a 3-D padded array X, not to networkx graphs."
            raise ValueError(msg)
        if node_features is not None and not isinstance(node_features, str):
            node_features = list(node_features)
            if not node_features:
                msg = "node_features is an empty list; name at least one node attribute."
                raise ValueError(msg)
            if n_node_features is not None and len(node_features) != n_node_features:
                msg = (
                    f"Sample 0: {len(node_features)} node features, but {n_node_features} "
                    "were expected."
                )
                raise ValueError(msg)
        features = "x" if node_features is None else node_features
        arrays = read_graphs(
            samples.data, features, edge_features, n_node_features, n_edge_features
        )
        return samples, arrays
    if edge_features is not None:
        msg = "edge_features reads an edge attribute of networkx graphs; sets have no edges."
        raise ValueError(msg)
    x, n_nodes, names = read_sets(samples, node_features, n_node_features, mask)
    if set_edges == "full":
        senders, receivers, n_edges = full_edges(n_nodes)
    elif set_edges == "knn":
        columns = _knn_columns(knn_features, names, x.shape[1])
        senders, receivers, n_edges = knn_edges(x[:, columns], n_nodes, int(k))
    else:
        senders = receivers = np.zeros(0, dtype=np.int64)
        n_edges = np.zeros(len(n_nodes), dtype=np.int64)
    arrays = PackedArrays(
        x=x,
        n_nodes=n_nodes,
        senders=senders,
        receivers=receivers,
        edge_attr=None,
        n_labelled=n_edges,
        both_ways=np.zeros(len(senders), dtype=bool),
    )
    return samples, arrays


def pack_graphs(
    X: Any,
    *,
    node_features: str | Sequence[str] | None = None,
    edge_features: str | None = None,
    set_edges: str = "none",
    k: int = 8,
    knn_features: Any = None,
    n_node_features: int | None = None,
    n_edge_features: int | None = None,
    mask: Any = None,
    dtype: torch.dtype = torch.float32,
    node_kind: Any = None,
    kinds: Any = None,
) -> GraphBatch:
    """Pack graphs or particle sets into one block-diagonal :class:`GraphBatch`.

    Each sample (one graph or one particle set) becomes a block of nodes in the
    batch, in the order of X; within a sample, nodes keep the user's order
    (``G.nodes()`` for a graph, row order for a set). The input is read once, with
    bulk numpy/torch operations, and is never modified.

    Parameters
    ----------
    X : sequence of networkx.Graph, 3-D array, sequence of 2-D arrays, awkward array or GraphBatch
        The samples, in one of these forms:

        - a sequence of ``networkx.Graph`` / ``DiGraph`` (multigraphs too). Node
          ids may be any hashable. An undirected edge passes messages both ways
          (a self-loop once), a directed edge from its source to its target;
        - a zero-padded array of shape (n_samples, n_particles, n_features): rows
          that are all zero are padding. A ``numpy.ma.MaskedArray`` marks padding
          explicitly instead (a particle whose features are all masked is
          padding); unlike ``mask``, it is split along with X by scikit-learn's
          cross-validation, so it is the way to give a mask to an estimator;
        - a sequence of arrays of shape (n_particles_i, n_features);
        - an awkward array of variable-length particle lists, of records (fields
          are features) or of numbers; needs the ``awkward`` extra;
        - typed nodes: an :class:`EventSet` or a sequence of events (mappings from
          kind to a (n_objects, n_features_of_kind) array), or networkx graphs
          whose nodes hold their kind in attribute ``node_kind``. The batch then
          has ``node_kind`` and ``kinds`` set, and ``x`` one block of columns per
          kind (see :class:`GraphBatch`). Events are particle sets: ``set_edges``
          chooses their edges;
        - a :class:`GraphBatch` packed before: returned as it is (moved to the
          CPU and cast to ``dtype``), after checking it against
          ``n_node_features``, ``n_edge_features`` and ``kinds``. The options
          that shape a packing (``node_features``, ``edge_features``,
          ``set_edges``, ``knn_features``, ``mask``, ``node_kind``) must then be
          left at None / "none": they applied when X was packed.
    node_features : str or sequence of str, default=None
        For graphs: the node attribute holding each node's feature vector (a
        number or 1-D array), or a list of node attributes holding one number
        each; None means ``"x"``. For awkward records: the field(s) to use; None
        means all fields in order. Must be None for plain arrays.
    edge_features : str, default=None
        For graphs: the edge attribute holding each edge's feature vector; both
        message edges of an undirected edge get the same features. None means no
        edge features (``edge_attr`` is None).
    set_edges : {"none", "full", "knn"}, default="none"
        Edges built for particle sets: none (a deep set), every ordered pair of
        distinct particles, or from each particle's ``k`` nearest neighbours to
        it. Must be "none" for graphs.
    k : int, default=8
        Neighbours per particle when ``set_edges="knn"``; a set with ``k`` or
        fewer particles is fully connected.
    knn_features : int, str or sequence of them, default=None
        Columns of the node features in which neighbours are nearest (Euclidean),
        e.g. the indices of eta and phi; names work for awkward record fields.
        None means all columns.
    n_node_features : int, default=None
        The number of node features an estimator was fitted with; a different
        count raises a ValueError. None accepts any count.
    n_edge_features : int, default=None
        As ``n_node_features``, for edge features; it also sets the width of
        ``edge_attr`` when no graph has an edge.
    mask : array-like of bool of shape (n_samples, n_particles), default=None
        For a padded array: True marks a real particle, False padding (the
        convention of jet data sets). Replaces the all-zero rule.
    dtype : torch.dtype, default=torch.float32
        Floating type of ``x`` and ``edge_attr``.
    node_kind : hashable, default=None
        For networkx graphs with typed nodes: the node attribute holding each
        node's kind (e.g. ``"kind"``); the node's feature vector (attribute
        ``node_features``, default ``"x"``) may then have a length per kind.
        Not needed for events.
    kinds : mapping from kind to int, default=None
        The kinds and their feature counts a model was fitted with, in column
        order; a kind not in it, or a different feature count, raises a
        ValueError. None takes the kinds found in X, sorted.

    Returns
    -------
    batch : GraphBatch
        The packed batch (X itself when X is already a :class:`GraphBatch` on
        the CPU in ``dtype``). Labelled edges are ``G.edges()`` of each graph, in that
        order; for sets, every built edge is its own labelled edge.

    Raises
    ------
    ValueError
        Naming the sample and the problem: a graph without nodes, a set without
        real particles, missing, ragged or non-numeric features, a feature count
        that differs between samples or from ``n_node_features``, NaN or
        infinite features, an object of another kind in the sequence, or a
        mask that does not match X.

    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp.graph import pack_graphs
    >>> G = nx.Graph()
    >>> G.add_node("a", x=[1.0, 0.0])
    >>> G.add_node("b", x=[0.0, 1.0])
    >>> G.add_edge("a", "b")
    >>> batch = pack_graphs([G, G])
    >>> batch.x.shape, batch.edge_index.tolist()
    (torch.Size([4, 2]), [[0, 1, 2, 3], [1, 0, 3, 2]])
    >>> batch.edge_target.tolist()
    [0, 0, 1, 1]
    >>> import numpy as np
    >>> jets = np.array([[[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]]])
    >>> pack_graphs(jets, set_edges="full").edge_index.tolist()
    [[1, 0], [0, 1]]

    A batch packed once is taken as it is, so that many fits share one packing:

    >>> batch = pack_graphs(jets, set_edges="full")
    >>> pack_graphs(batch) is batch
    True
    """
    if isinstance(X, GraphBatch):
        _check_options(set_edges, k, n_node_features, n_edge_features)
        return _packed(
            X,
            {
                "node_features": node_features,
                "edge_features": edge_features,
                "set_edges": None if set_edges == "none" else set_edges,
                "knn_features": knn_features,
                "mask": mask,
                "node_kind": node_kind,
            },
            n_node_features=n_node_features,
            n_edge_features=n_edge_features,
            kinds=kinds,
            dtype=dtype,
        )
    if is_typed(X, node_kind, kinds):
        _check_options(set_edges, k, n_node_features, n_edge_features)
        return pack_typed(
            X,
            node_kind=node_kind,
            kinds=kinds,
            node_features=node_features,
            edge_features=edge_features,
            set_edges=set_edges,
            k=k,
            knn_features=knn_features,
            n_node_features=n_node_features,
            n_edge_features=n_edge_features,
            mask=mask,
            dtype=dtype,
        )
    _, arrays = read_samples(
        X,
        node_features=node_features,
        edge_features=edge_features,
        set_edges=set_edges,
        k=k,
        knn_features=knn_features,
        n_node_features=n_node_features,
        n_edge_features=n_edge_features,
        mask=mask,
    )
    return arrays.to_batch(dtype)


def _packed(
    batch: GraphBatch,
    options: dict[str, Any],
    *,
    n_node_features: int | None,
    n_edge_features: int | None,
    kinds: Any,
    dtype: torch.dtype,
) -> GraphBatch:
    """A batch packed before, checked against what the caller expects."""
    given = {name: value for name, value in options.items() if value is not None}
    if given:
        name, value = next(iter(given.items()))
        msg = (
            f"X is a packed GraphBatch, so {name}={value!r} cannot apply: the graphs were "
            f"built when X was packed. Pass {name} to pack_graphs when packing, and leave "
            "it at its default here."
        )
        raise ValueError(msg)
    n_node = batch.x.shape[1]
    if n_node_features is not None and n_node != n_node_features:
        msg = f"X has {n_node} node features, but {n_node_features} were expected."
        raise ValueError(msg)
    n_edge = 0 if batch.edge_attr is None else batch.edge_attr.shape[1]
    if n_edge_features is not None and n_edge != n_edge_features:
        msg = f"X has {n_edge} edge features, but {n_edge_features} were expected."
        raise ValueError(msg)
    if kinds is not None:
        expected = check_layout(kinds)
        if batch.kinds != expected:
            msg = f"X holds the kinds {batch.kinds}, but {expected} were expected."
            raise ValueError(msg)
    if batch.x.device.type != "cpu":
        batch = batch.to("cpu")
    if batch.x.dtype != dtype:
        edge_attr = None if batch.edge_attr is None else batch.edge_attr.to(dtype)
        batch = replace(batch, x=batch.x.to(dtype), edge_attr=edge_attr)
    return batch
