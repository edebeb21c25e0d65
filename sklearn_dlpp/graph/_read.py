"""The one reader pipeline: detect the input form once, read it into packed arrays.

Every form (networkx graphs, typed graphs, padded or masked arrays, ragged lists,
awkward arrays, events, a batch packed before) goes through :func:`read_samples`, which
returns a :class:`Reading`: the packed batch, the flat arrays behind it and what
the targets reader needs to align per-node or per-edge targets with it. Typed
nodes are an optional column (``kind_index`` with its ``layout``) that later steps
treat uniformly.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import torch

from sklearn_dlpp.graph._arrays import PackedArrays
from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._columns import knn_columns
from sklearn_dlpp.graph._inputs import GRAPHS, PADDED, Samples, classify
from sklearn_dlpp.graph._networkx import read_graphs
from sklearn_dlpp.graph._set_edges import set_edges
from sklearn_dlpp.graph._sets import read_sets, real_particles
from sklearn_dlpp.graph._typed_nodes import check_layout, is_events, read_events, read_typed_graphs

SET_EDGES = ("none", "full", "knn")
EVENTS = "events"
TYPED_GRAPHS = "typed graphs"
BATCH = "batch"


@dataclass(frozen=True)
class PackOptions:
    """How to read samples: the options of :func:`pack_graphs`, checked once.

    Parameters
    ----------
    node_features, edge_features, set_edges, k, knn_features, mask, node_kind, \
n_node_features, n_edge_features, kinds
        As in :func:`pack_graphs`.
    typed : bool, default=None
        What a fitted model expects of X: True for typed nodes (``kinds`` then
        holds its layout), False for untyped samples, None for either. X of
        the other sort raises a ValueError saying what the model was fitted on.

    Raises
    ------
    ValueError
        For an unknown ``set_edges``, a ``k`` that is not a positive integer, or
        negative feature counts.

    Examples
    --------
    >>> from sklearn_dlpp.graph import PackOptions
    >>> PackOptions(set_edges="knn", k=4).k
    4
    """

    node_features: Any = None
    edge_features: Any = None
    set_edges: str = "none"
    k: int = 8
    knn_features: Any = None
    mask: Any = None
    node_kind: Any = None
    n_node_features: int | None = None
    n_edge_features: int | None = None
    kinds: Any = None
    typed: bool | None = None

    @classmethod
    def of(cls, source: Any, **given: Any) -> PackOptions:
        """The options named like fields among ``source``'s attributes (or keys), then ``given``.

        Parameters
        ----------
        source : object or dict
            An estimator (its parameters) or a function's ``locals()`` (its
            arguments): they carry the options under the same names.
        **given : dict
            Options that override those of ``source``.

        Returns
        -------
        options : PackOptions
            The options, checked.
        """
        names = [field.name for field in fields(cls)]
        if isinstance(source, dict):
            taken = {name: source[name] for name in names if name in source}
        else:
            taken = {name: getattr(source, name) for name in names if hasattr(source, name)}
        return cls(**{**taken, **given})

    def __post_init__(self) -> None:
        if self.set_edges not in SET_EDGES:
            msg = f"set_edges must be one of {SET_EDGES}, got {self.set_edges!r}."
            raise ValueError(msg)
        k = self.k
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            msg = f"k must be a positive integer, got {k!r}."
            raise ValueError(msg)
        for name in ("n_node_features", "n_edge_features"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, numbers.Integral) or value < 0):
                msg = f"{name} must be None or a non-negative integer, got {value!r}."
                raise ValueError(msg)


@dataclass(frozen=True)
class Reading:
    """X read once: its form, the samples, the packed batch and the arrays behind it.

    What :func:`read_samples` returns and :func:`level_targets` reads targets
    from, so that X is read once for features and targets alike.

    Attributes
    ----------
    form : str
        The input form: "graphs", "typed graphs", "padded", "ragged",
        "awkward", "events" or "batch".
    data : object
        The samples as given (a list for sequences).
    batch : GraphBatch
        The packed batch.
    arrays : PackedArrays or None
        The flat float64 arrays behind the batch (None for a packed batch).
    real : ndarray of bool or None
        For a padded array: True for the real particles.
    kind_counts : dict or None
        For events: the objects per event of each kind.
    """

    form: str
    data: Any
    batch: GraphBatch
    arrays: PackedArrays | None = None
    real: np.ndarray | None = None
    kind_counts: dict | None = None

    def __len__(self) -> int:
        return self.batch.n_graphs


def detect(X: Any, node_kind: Any = None, kinds: Any = None) -> Samples:
    """The input form of X, detected once; typed graphs when the options give nodes kinds."""
    if isinstance(X, GraphBatch):
        return Samples(BATCH, X)
    if is_events(X):
        return Samples(EVENTS, X)
    samples = classify(X)
    if node_kind is not None or kinds is not None:
        return Samples(TYPED_GRAPHS, samples)
    return samples


def read_samples(X: Any, options: PackOptions, dtype: torch.dtype = torch.float32) -> Reading:
    """Read X, in whatever form it comes, into a :class:`Reading`: the one reader pipeline.

    The input form is detected once; each reader (networkx graphs, typed
    graphs, padded or masked arrays, ragged lists, awkward arrays, events, a
    packed batch) produces the same flat arrays, typed nodes carrying their
    kind as an optional column. :func:`pack_graphs` is this function's batch.

    Parameters
    ----------
    X : sequence of networkx.Graph, 3-D array, sequence of 2-D arrays, awkward array, \
EventSet or GraphBatch
        The samples, as :func:`pack_graphs` takes them.
    options : PackOptions
        How to read them.
    dtype : torch.dtype, default=torch.float32
        Floating type of the batch's features.

    Returns
    -------
    reading : Reading
        The batch and what aligns targets with it.

    Raises
    ------
    ValueError
        Naming the sample and the problem, as :func:`pack_graphs`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp.graph import PackOptions, read_samples
    >>> reading = read_samples([np.ones((2, 3)), np.ones((1, 3))], PackOptions(set_edges="full"))
    >>> reading.form, reading.batch.n_nodes.tolist()
    ('ragged', [2, 1])
    """
    # A fitted model's kinds are an expectation of X, not a statement about it.
    samples = detect(X, options.node_kind, options.kinds if options.typed is None else None)
    form = samples.kind
    typed = form in (EVENTS, TYPED_GRAPHS) or (form == BATCH and X.kinds is not None)
    if options.typed is not None and typed != options.typed:
        given, fitted = ("typed nodes (kinds)", "untyped samples")[:: 1 if typed else -1]
        msg = f"X holds {given}, but the model was fitted on {fitted}; X must be alike."
        raise ValueError(msg)
    if form == BATCH:
        return Reading(BATCH, X, _packed(X, options, dtype))
    if form in (EVENTS, TYPED_GRAPHS):
        reading = _read_typed(samples, options)
    else:
        reading = _read_untyped(samples, options)
    return replace(reading, batch=reading.arrays.to_batch(dtype))


def _read_untyped(samples: Samples, options: PackOptions) -> Reading:
    if samples.kind == GRAPHS:
        node_features = _graph_options(options)
        features = "x" if node_features is None else node_features
        arrays = read_graphs(
            samples.data,
            features,
            options.edge_features,
            options.n_node_features,
            options.n_edge_features,
        )
        return Reading(GRAPHS, samples.data, None, arrays)
    if options.edge_features is not None:
        msg = "edge_features reads an edge attribute of networkx graphs; sets have no edges."
        raise ValueError(msg)
    x, n_nodes, names = read_sets(
        samples, options.node_features, options.n_node_features, options.mask
    )
    edges = set_edges(
        options.set_edges,
        n_nodes,
        options.k,
        lambda: x[:, knn_columns(options.knn_features, names, x.shape[1])],
    )
    real = real_particles(samples.data, options.mask) if samples.kind == PADDED else None
    return Reading(samples.kind, samples.data, None, PackedArrays.of_sets(x, n_nodes, edges), real)


def _graph_options(options: PackOptions) -> Any:
    """Refuse set options for networkx graphs; the node features as a name or list."""
    if options.set_edges != "none":
        msg = "set_edges builds edges for particle sets; networkx graphs bring their own."
        raise ValueError(msg)
    if options.mask is not None:
        msg = "mask applies to a 3-D padded array X, not to networkx graphs."
        raise ValueError(msg)
    node_features = options.node_features
    if node_features is not None and not isinstance(node_features, str):
        node_features = list(node_features)
        if not node_features:
            msg = "node_features is an empty list; name at least one node attribute."
            raise ValueError(msg)
        n_expected = options.n_node_features
        if n_expected is not None and len(node_features) != n_expected:
            msg = f"Sample 0: {len(node_features)} node features, but {n_expected} were expected."
            raise ValueError(msg)
    return node_features


def _read_typed(samples: Samples, options: PackOptions) -> Reading:
    """Events, or networkx graphs with a kind per node."""
    form, X = samples.kind, samples.data
    layout = None if options.kinds is None else check_layout(options.kinds)
    if options.mask is not None:
        msg = "mask applies to a 3-D padded array X; give an EventSet its masks instead."
        raise ValueError(msg)
    kind_counts = None
    if form == EVENTS:
        if options.edge_features is not None or options.node_features is not None:
            msg = (
                "node_features and edge_features name graph attributes; events hold their "
                "features per kind (choose them when building the EventSet)."
            )
            raise ValueError(msg)
        arrays, kind_counts = read_events(
            X, layout, options.set_edges, options.k, options.knn_features
        )
    else:
        samples = X  # the samples as classified, typed by the options
        if samples.kind != GRAPHS:
            msg = (
                "node_kind and kinds describe typed nodes: X must be an EventSet, a list of "
                "events (mappings from kind to objects) or networkx graphs whose nodes hold "
                f"their kind, got {samples.kind} samples."
            )
            raise ValueError(msg)
        if options.node_kind is None:
            msg = "Typed networkx graphs need node_kind, the node attribute holding the kind."
            raise ValueError(msg)
        if options.set_edges != "none":
            msg = "set_edges builds edges for particle sets; networkx graphs bring their own."
            raise ValueError(msg)
        feature = options.node_features
        if feature is not None and not isinstance(feature, str):
            msg = (
                "With typed nodes, node_features names the one node attribute holding each "
                "node's feature vector (its length depends on the kind), not a list."
            )
            raise ValueError(msg)
        X = samples.data
        arrays = read_typed_graphs(
            X,
            options.node_kind,
            feature or "x",
            options.edge_features,
            layout,
            options.n_edge_features,
        )
    width = sum(width for _, width in arrays.layout)
    if options.n_node_features is not None and width != options.n_node_features:
        msg = (
            f"Sample 0: {width} node feature columns over all kinds {dict(arrays.layout)}, "
            f"but {options.n_node_features} were expected."
        )
        raise ValueError(msg)
    return Reading(form, X, None, arrays, kind_counts=kind_counts)


def _packed(batch: GraphBatch, options: PackOptions, dtype: torch.dtype) -> GraphBatch:
    """A batch packed before, checked against what the caller expects."""
    shaping = {
        "node_features": options.node_features,
        "edge_features": options.edge_features,
        "set_edges": None if options.set_edges == "none" else options.set_edges,
        "knn_features": options.knn_features,
        "mask": options.mask,
        "node_kind": options.node_kind,
    }
    given = {name: value for name, value in shaping.items() if value is not None}
    if given:
        name, value = next(iter(given.items()))
        msg = (
            f"X is a packed GraphBatch, so {name}={value!r} cannot apply: the graphs were "
            f"built when X was packed. Pass {name} to pack_graphs when packing, and leave "
            "it at its default here."
        )
        raise ValueError(msg)
    n_node = batch.x.shape[1]
    if options.n_node_features is not None and n_node != options.n_node_features:
        msg = f"X has {n_node} node features, but {options.n_node_features} were expected."
        raise ValueError(msg)
    n_edge = 0 if batch.edge_attr is None else batch.edge_attr.shape[1]
    if options.n_edge_features is not None and n_edge != options.n_edge_features:
        msg = f"X has {n_edge} edge features, but {options.n_edge_features} were expected."
        raise ValueError(msg)
    if options.kinds is not None:
        expected = check_layout(options.kinds)
        if batch.kinds != expected:
            msg = f"X holds the kinds {batch.kinds}, but {expected} were expected."
            raise ValueError(msg)
    if batch.x.device.type != "cpu":
        batch = batch.to("cpu")
    if batch.x.dtype != dtype:
        edge_attr = None if batch.edge_attr is None else batch.edge_attr.to(dtype)
        batch = replace(batch, x=batch.x.to(dtype), edge_attr=edge_attr)
    return batch
