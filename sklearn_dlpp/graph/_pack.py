"""The public entry point: any supported input in, one packed :class:`GraphBatch` out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._read import PackOptions, read_samples


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
    options = PackOptions.of(locals())
    return read_samples(X, options, dtype).batch
