"""Collision events holding several kinds of objects (jets, leptons, photons), one per sample."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sklearn_dlpp.graph._arrays import ptr, ranges
from sklearn_dlpp.graph._event_arrays import check_events, pack_event_arrays
from sklearn_dlpp.graph._inputs import is_awkward, sample_error
from sklearn_dlpp.graph._sets import _awkward_columns, real_particles


def sort_kinds(kinds: Any) -> tuple:
    """Kinds in a fixed order whatever order they came in (mixed types by type name, repr)."""
    kinds = list(dict.fromkeys(kinds))
    try:
        return tuple(sorted(kinds))
    except TypeError:
        return tuple(sorted(kinds, key=lambda kind: (type(kind).__name__, repr(kind))))


def check_kind(kind: Any) -> None:
    if kind is None or not isinstance(kind, Hashable) or isinstance(kind, float):
        msg = f"An object kind must be a hashable label such as 'jet', got {kind!r}."
        raise ValueError(msg)


def _read_padded(kind: Any, data: Any, mask: Any) -> tuple[np.ndarray, np.ndarray]:
    if data.ndim != 3:
        msg = (
            f"Objects of kind {kind!r}: a padded array must be 3-D (n_events, n_objects, "
            f"n_features), got shape {data.shape}."
        )
        raise ValueError(msg)
    try:
        real = real_particles(data, mask)
        values = np.array(np.ma.getdata(data)[real], dtype=np.float64)
    except ValueError as error:
        msg = f"Objects of kind {kind!r}: {error}"
        raise ValueError(msg) from None
    return values, real.sum(axis=1).astype(np.int64)


def _read_awkward(kind: Any, data: Any, names: Any) -> tuple[np.ndarray, np.ndarray, list | None]:
    import awkward as ak

    if data.ndim < 2:
        msg = f"Objects of kind {kind!r}: an awkward array needs a list of objects per event."
        raise ValueError(msg)
    counts = np.asarray(ak.to_numpy(ak.num(data, axis=1)), dtype=np.int64)
    flat = ak.flatten(data, axis=1)
    if len(flat) == 0:
        fields = list(names) if names is not None else list(ak.fields(flat))
        return np.zeros((0, max(len(fields), 1))), counts, fields or None
    try:
        values, fields = _awkward_columns(flat, names)
    except ValueError as error:
        msg = f"Objects of kind {kind!r}: {error}"
        raise ValueError(msg) from None
    return values, counts, fields


def _read_list(kind: Any, data: Sequence) -> tuple[np.ndarray, np.ndarray]:
    parts, width, declared = [], None, 0
    for i, event in enumerate(data):
        try:
            part = np.asarray(event, dtype=np.float64)
        except (TypeError, ValueError):
            raise sample_error(i, f"the objects of kind {kind!r} are not numeric.") from None
        if part.size == 0:
            # an empty (0, n_features) array gives the width when no event has objects
            declared = part.shape[1] if part.ndim == 2 else declared
            parts.append(None)
            continue
        if part.ndim != 2:
            msg = f"the objects of kind {kind!r} must form a 2-D array, got shape {part.shape}."
            raise sample_error(i, msg)
        if width is None:
            width = part.shape[1]
        elif part.shape[1] != width:
            msg = f"{part.shape[1]} features for kind {kind!r}, but earlier events have {width}."
            raise sample_error(i, msg)
        parts.append(part)
    width = declared if width is None else width
    blocks = [np.zeros((0, width)) if part is None else part for part in parts]
    counts = np.array([len(block) for block in blocks], dtype=np.int64)
    values = np.concatenate(blocks) if blocks else np.zeros((0, width))
    return values, counts


class EventSet:
    """Collision events whose objects come in several kinds, with a feature list per kind.

    One event is one sample: ``events[i]`` is a dict mapping each kind to the
    (n_objects, n_features_of_kind) array of that event's objects of the kind
    (zero rows when it has none). Indexing with a slice, integer array or boolean
    mask gives an ``EventSet``; scikit-learn's cross-validation, which indexes one
    event at a time, gets a list of such dicts, which the graph estimators and
    :func:`~sklearn_dlpp.graph.pack_graphs` accept as well.

    Every event becomes one graph whose nodes are its objects, typed by kind; the
    graph estimators encode each kind with its own MLP (see
    :class:`~sklearn_dlpp.nn.KindEncoder`). Edges are chosen like those of any
    particle set, by ``set_edges``: "full" connects every pair of objects within
    the event, "knn" each object to its ``k`` nearest ones in ``knn_features``
    (e.g. ``["eta", "phi"]``); the default "none" gives a deep set.

    Parameters
    ----------
    objects : mapping from kind to array-like or awkward array
        For each kind (a hashable label such as ``"jet"``), its objects in every
        event, in one of these forms:

        - a zero-padded array (n_events, n_objects, n_features): all-zero rows
          are padding, or a ``numpy.ma.MaskedArray`` marks padding explicitly;
        - a sequence of n_events arrays of shape (n_objects_i, n_features)
          (empty for an event without objects of the kind);
        - an awkward array with a variable-length list of records per event (as
          read with uproot; the fields are the features) or of numbers or
          fixed-size vectors; needs the ``awkward`` extra.

        Every kind must hold the same number of events; the feature count may
        differ between kinds.
    mask : mapping from kind to array-like of bool, default=None
        For padded arrays: True marks a real object, False padding, as in
        :func:`~sklearn_dlpp.graph.pack_graphs`. Kinds left out use the
        all-zero rule.
    feature_names : mapping from kind to sequence of str, default=None
        Names of the feature columns of each kind. For awkward records, the
        fields to read, in order (default: all fields). Names are what
        ``knn_features`` may refer to.

    Attributes
    ----------
    kinds : tuple
        The kinds, sorted: the order of the column blocks and of the nodes
        within each event graph.
    n_features : dict
        Features per kind.
    feature_names : dict
        Column names per kind (None where unknown).
    n_objects : dict
        Objects per event for each kind, arrays of shape (n_events,).

    Raises
    ------
    ValueError
        For kinds with different numbers of events, non-numeric or ragged
        features, NaN or infinite features, and an event without any object
        (naming the event).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp.graph import EventSet
    >>> jets = np.array([[[50.0, 0.1, 0.9], [30.0, 1.2, 0.1]],
    ...                  [[40.0, -0.5, 0.3], [0.0, 0.0, 0.0]]])  # pt, eta, btag
    >>> muons = [np.array([[25.0, 0.4, -1.0, 0.02]]), np.zeros((0, 4))]  # + charge, isolation
    >>> events = EventSet({"jet": jets, "muon": muons})
    >>> events
    EventSet(n_events=2, n_features={'jet': 3, 'muon': 4})
    >>> {kind: objects.shape for kind, objects in events[1].items()}
    {'jet': (1, 3), 'muon': (0, 4)}
    >>> events.n_objects["jet"].tolist()
    [2, 1]
    """

    def __init__(
        self,
        objects: Mapping,
        *,
        mask: Mapping | None = None,
        feature_names: Mapping | None = None,
    ) -> None:
        if not isinstance(objects, Mapping) or not objects:
            msg = (
                "objects must be a non-empty mapping from kind (e.g. 'jet') to that kind's "
                f"objects per event, got {type(objects).__name__}."
            )
            raise ValueError(msg)
        mask = dict(mask or {})
        names_given = dict(feature_names or {})
        for kind in [*objects, *mask, *names_given]:
            check_kind(kind)
        unknown = [kind for kind in [*mask, *names_given] if kind not in objects]
        if unknown:
            msg = f"mask or feature_names name kind {unknown[0]!r}, which objects lacks."
            raise ValueError(msg)
        values, counts, names = {}, {}, {}
        for kind, data in objects.items():
            fields = names_given.get(kind)
            if is_awkward(data):
                if kind in mask:
                    msg = f"mask applies to padded arrays; kind {kind!r} is an awkward array."
                    raise ValueError(msg)
                values[kind], counts[kind], fields = _read_awkward(kind, data, fields)
            else:
                if hasattr(data, "detach"):  # a torch tensor
                    data = data.detach().cpu().numpy()
                if isinstance(data, np.ndarray) and data.dtype != object:
                    values[kind], counts[kind] = _read_padded(kind, data, mask.get(kind))
                else:
                    if kind in mask:
                        msg = f"mask applies to padded arrays; kind {kind!r} is a sequence."
                        raise ValueError(msg)
                    values[kind], counts[kind] = _read_list(kind, list(data))
            if fields is not None:
                fields = [str(name) for name in fields]
                if len(fields) != values[kind].shape[1]:
                    msg = (
                        f"feature_names of kind {kind!r} has {len(fields)} names for "
                        f"{values[kind].shape[1]} features."
                    )
                    raise ValueError(msg)
            names[kind] = None if fields is None else tuple(fields)
        sizes = {kind: len(count) for kind, count in counts.items()}
        if len(set(sizes.values())) > 1:
            msg = f"Every kind must hold the same number of events, got {sizes}."
            raise ValueError(msg)
        kinds = sort_kinds(objects)
        n_events = sizes[kinds[0]]
        check_events(kinds, values, counts, n_events)
        self._set(kinds, values, counts, names, n_events)

    def _set(self, kinds: tuple, values: dict, counts: dict, names: dict, n_events: int) -> None:
        for array in values.values():
            array.flags.writeable = False  # events[i] hands out views: keep them intact
        self._kinds = kinds
        self._values = values
        self._counts = counts
        self._ptr = {kind: ptr(counts[kind]) for kind in kinds}
        self._names = names
        self._n_events = n_events

    def _with_values(self, values: dict) -> EventSet:
        """The same events with new feature values per kind (same objects, same order)."""
        out = type(self).__new__(type(self))
        values = {kind: np.array(values[kind], dtype=np.float64) for kind in self._kinds}
        out._set(self._kinds, values, dict(self._counts), dict(self._names), self._n_events)
        return out

    @classmethod
    def _subset(cls, events: EventSet, index: np.ndarray) -> EventSet:
        out = cls.__new__(cls)
        values, counts = {}, {}
        for kind in events.kinds:
            counts[kind] = events._counts[kind][index]
            rows = ranges(events._ptr[kind][:-1][index], counts[kind])
            values[kind] = events._values[kind][rows]
        out._set(events.kinds, values, counts, dict(events._names), len(index))
        return out

    # ------------------------------------------------------------------ sequence
    def __len__(self) -> int:
        return self._n_events

    def __getitem__(self, index: Any) -> dict | EventSet:
        if isinstance(index, numbers.Integral) and not isinstance(index, bool):
            i = int(index) + (self._n_events if index < 0 else 0)
            if not 0 <= i < self._n_events:
                msg = f"event index {index} is out of range for {self._n_events} events."
                raise IndexError(msg)
            return {
                kind: self._values[kind][self._ptr[kind][i] : self._ptr[kind][i + 1]]
                for kind in self._kinds
            }
        if isinstance(index, slice):
            return self._subset(self, np.arange(self._n_events)[index])
        index = np.asarray(index)
        if index.dtype == bool:
            if index.shape != (self._n_events,):
                msg = f"a boolean index needs shape ({self._n_events},), got {index.shape}."
                raise IndexError(msg)
            index = np.flatnonzero(index)
        if index.ndim != 1 or (index.size and not np.issubdtype(index.dtype, np.integer)):
            msg = "index events with an integer, a slice, or a 1-D integer or boolean array."
            raise IndexError(msg)
        index = index.astype(np.int64)
        if index.size and (index.max() >= self._n_events or index.min() < -self._n_events):
            msg = f"event index out of range for {self._n_events} events."
            raise IndexError(msg)
        return self._subset(self, index % max(self._n_events, 1))

    def __iter__(self) -> Iterator[dict]:
        for i in range(self._n_events):
            yield self[i]

    def __repr__(self) -> str:
        return f"EventSet(n_events={self._n_events}, n_features={self.n_features})"

    # ---------------------------------------------------------------- attributes
    @property
    def kinds(self) -> tuple:
        """The kinds, sorted."""
        return self._kinds

    @property
    def n_features(self) -> dict:
        """Features per kind."""
        return {kind: int(self._values[kind].shape[1]) for kind in self._kinds}

    @property
    def feature_names(self) -> dict:
        """Column names per kind (None where unknown)."""
        return {
            kind: None if self._names[kind] is None else list(self._names[kind])
            for kind in self._kinds
        }

    @property
    def n_objects(self) -> dict:
        """Objects per event for each kind."""
        return {kind: self._counts[kind].copy() for kind in self._kinds}

    def columns(self) -> tuple[tuple, dict, dict, dict]:
        """The objects of all events, kind by kind, as flat arrays (no copies).

        Returns
        -------
        kinds : tuple
            The kinds, sorted.
        values : dict
            Per kind, the read-only (n_objects_total, n_features) array of the
            objects of all events, event after event.
        counts : dict
            Per kind, the objects of each event, shape (n_events,).
        names : dict
            Per kind, the column names as a tuple, or None.
        """
        return self._kinds, self._values, self._counts, self._names

    # ---------------------------------------------------------------- conversion
    def as_sets(self, n_features: int | None = None) -> list[np.ndarray]:
        """The events as untyped particle sets: the first columns of every object.

        With the first columns of every kind holding the same quantities (e.g. a
        four-vector), this is the input of a model that sees no kinds and no
        kind-specific features.

        Parameters
        ----------
        n_features : int, default=None
            Columns kept from every kind; None keeps as many as the narrowest kind has.

        Returns
        -------
        sets : list of ndarray of shape (n_objects_i, n_features)
            One array per event; objects in the order of the event graphs (kinds
            in ``kinds`` order, then object order).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dlpp.graph import EventSet
        >>> events = EventSet({"jet": [np.array([[1.0, 2.0, 0.9]])],
        ...                    "muon": [np.array([[3.0, 4.0]])]})
        >>> events.as_sets()[0].tolist()
        [[1.0, 2.0], [3.0, 4.0]]
        """
        widths = self.n_features
        narrowest = min(widths.values())
        if n_features is None:
            n_features = narrowest
        if not isinstance(n_features, numbers.Integral) or not 1 <= n_features <= narrowest:
            msg = (
                f"n_features must be an integer in 1..{narrowest} (kinds: {widths}), got "
                f"{n_features!r}."
            )
            raise ValueError(msg)
        parts = [
            np.split(self._values[kind][:, :n_features], self._ptr[kind][1:-1])
            for kind in self._kinds
        ]
        return [np.concatenate(blocks) for blocks in zip(*parts, strict=True)]

    def to_graphs(
        self,
        set_edges: str = "full",
        *,
        k: int = 8,
        knn_features: Any = None,
        node_kind: str = "kind",
        node_features: str = "x",
        edges: str | None = None,
    ) -> list:
        """The events as networkx graphs with typed nodes.

        Nodes are ``0 .. n - 1`` in the order of the packed event (kinds in
        ``kinds`` order, then object order), with the kind in node attribute
        ``node_kind`` and the feature vector (length per kind) in
        ``node_features``. Pack them with ``pack_graphs(graphs, node_kind="kind")``
        or fit an estimator with ``node_kind="kind"``.

        Parameters
        ----------
        set_edges : {"full", "knn", "none"}, default="full"
            Every pair of objects joined (an undirected graph), each object's
            ``k`` nearest neighbours pointing to it (a directed graph), or no
            edges; the values of the estimators' ``set_edges``.
        k : int, default=8
            Neighbours per object for ``set_edges="knn"``.
        knn_features : int, str or sequence of them, default=None
            Columns in which neighbours are nearest (indices shared by all kinds,
            or names from ``feature_names``); None means the columns every kind has.
        node_kind, node_features : str, default="kind" and "x"
            Node attribute names of the kind and of the features.
        edges : {"full", "knn", "none"}, default=None
            Deprecated name of ``set_edges`` (it warns); removed in a later release.

        Returns
        -------
        graphs : list of networkx.Graph or networkx.DiGraph
            One graph per event, directed for ``set_edges="knn"``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_dlpp.graph import EventSet
        >>> jets = [np.array([[40.0, 0.5, 0.9], [25.0, -1.0, 0.1]])]  # pt, eta, b-tag
        >>> G = EventSet({"jet": jets, "muon": [np.array([[3.0, 4.0]])]}).to_graphs()[0]
        >>> G.nodes[2]["kind"], G.nodes[2]["x"].tolist(), list(G.edges())
        ('muon', [3.0, 4.0], [(0, 1), (0, 2), (1, 2)])
        """
        import networkx as nx

        if edges is not None:
            msg = "to_graphs(edges=...) is renamed to_graphs(set_edges=...), as in the estimators."
            warnings.warn(msg, FutureWarning, stacklevel=2)
            set_edges = edges
        if set_edges not in ("full", "knn", "none"):
            msg = f"set_edges must be 'full', 'knn' or 'none', got {set_edges!r}."
            raise ValueError(msg)
        layout = tuple(self.n_features.items())
        arrays = pack_event_arrays(self.columns(), layout, set_edges, k, knn_features)
        kind_index = arrays.kind_index
        column_ptr = ptr(np.array([width for _, width in layout], dtype=np.int64))
        node_ptr = ptr(arrays.n_nodes)
        edge_ptr = ptr(arrays.n_labelled)
        graphs = []
        for i in range(self._n_events):
            graph = nx.DiGraph() if set_edges == "knn" else nx.Graph()
            for node in range(node_ptr[i], node_ptr[i + 1]):
                kind = int(kind_index[node])
                row = arrays.x[node, column_ptr[kind] : column_ptr[kind + 1]].copy()
                graph.add_node(
                    int(node - node_ptr[i]), **{node_kind: layout[kind][0], node_features: row}
                )
            senders = arrays.senders[edge_ptr[i] : edge_ptr[i + 1]] - node_ptr[i]
            receivers = arrays.receivers[edge_ptr[i] : edge_ptr[i + 1]] - node_ptr[i]
            if set_edges == "full":
                keep = senders < receivers  # one undirected edge per pair
                senders, receivers = senders[keep], receivers[keep]
            graph.add_edges_from(zip(senders.tolist(), receivers.tolist(), strict=True))
            graphs.append(graph)
        return graphs
