"""Typed nodes: events of several kinds of objects, and graphs whose nodes carry a kind.

Every typed sample becomes a block of nodes whose features sit in one wide
matrix with one block of columns per kind (the *layout*, ``((kind, n_features),
...)``); a node fills its kind's block and leaves the others zero. The matrix is
an ordinary ``GraphBatch.x``, so slicing, moving and standardising batches work
unchanged, and each kind's encoder reads only its own columns.
"""

from __future__ import annotations

import numbers
import reprlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from sklearn_dlpp.graph._arrays import PackedArrays, owner, ptr
from sklearn_dlpp.graph._event_arrays import Layout, check_events, pack_event_arrays
from sklearn_dlpp.graph._event_set import EventSet, check_kind, sort_kinds
from sklearn_dlpp.graph._inputs import sample_error
from sklearn_dlpp.graph._networkx import node_values, read_graphs, stack_rows


def is_events(X: Any) -> bool:
    """True for an EventSet or a sequence of per-event mappings (kind -> objects)."""
    if isinstance(X, EventSet):
        return True
    return isinstance(X, (list, tuple)) and len(X) > 0 and isinstance(X[0], Mapping)


def check_layout(kinds: Any) -> Layout:
    """A layout from a mapping kind -> n_features or from (kind, n_features) pairs."""
    pairs = kinds.items() if isinstance(kinds, Mapping) else kinds
    try:
        layout = tuple((kind, width) for kind, width in pairs)
    except (TypeError, ValueError):
        msg = f"kinds must map each kind to its number of features, got {kinds!r}."
        raise ValueError(msg) from None
    for kind, width in layout:
        check_kind(kind)
        if not isinstance(width, numbers.Integral) or isinstance(width, bool) or width < 0:
            msg = f"kinds: kind {kind!r} needs a non-negative feature count, got {width!r}."
            raise ValueError(msg)
    if not layout or len({kind for kind, _ in layout}) != len(layout):
        msg = f"kinds must list each kind once and at least one, got {kinds!r}."
        raise ValueError(msg)
    return tuple((kind, int(width)) for kind, width in layout)


def _unknown(index: int, kind: Any, layout: Layout, what: str = "") -> ValueError:
    known = [name for name, _ in layout]
    return sample_error(index, f"{what}unknown kind {kind!r}; the known kinds are {known}.")


# ---------------------------------------------------------------------- events
def _event_columns(events: list, layout: Layout | None) -> tuple[tuple, dict, dict, dict]:
    """Per-kind flat values and counts from a sequence of per-event mappings."""
    widths = dict(layout) if layout is not None else {}
    first_seen: dict = {}
    blocks: dict = {}
    # Kinds an event lists without objects still belong to the data (CV folds of an
    # EventSet carry every kind, even where a fold has none of it): an empty
    # (0, n_features) array gives the width, ``[]`` none.
    declared: dict = {}
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            msg = (
                "expected an event (a mapping from kind to its objects) like sample 0, got "
                f"{type(event).__name__}."
            )
            raise sample_error(i, msg)
        for kind, objects in event.items():
            check_kind(kind)
            if layout is not None and kind not in widths:
                raise _unknown(i, kind, layout)
            try:
                part = np.asarray(objects, dtype=np.float64)
            except (TypeError, ValueError):
                msg = f"the objects of kind {kind!r} are not numeric: {reprlib.repr(objects)}."
                raise sample_error(i, msg) from None
            if part.size == 0:
                if part.ndim == 2 or kind not in declared:
                    declared[kind] = part.shape[1] if part.ndim == 2 else 0
                continue
            if part.ndim != 2:
                msg = (
                    f"the objects of kind {kind!r} must form a 2-D array (n_objects, "
                    f"n_features), got shape {part.shape}."
                )
                raise sample_error(i, msg)
            width = part.shape[1]
            if kind not in widths:
                widths[kind], first_seen[kind] = width, i
            elif width != widths[kind]:
                source = "in fit" if kind not in first_seen else f"in sample {first_seen[kind]}"
                msg = (
                    f"{width} features for objects of kind {kind!r}, but kind {kind!r} has "
                    f"{widths[kind]} ({source})."
                )
                raise sample_error(i, msg)
            blocks.setdefault(kind, []).append((i, part))
    for kind, width in declared.items():
        widths.setdefault(kind, width)
    n_events = len(events)
    kinds = tuple(kind for kind, _ in layout) if layout is not None else sort_kinds(widths)
    values, counts = {}, {}
    for kind in kinds:
        parts = blocks.get(kind, [])
        counts[kind] = np.zeros(n_events, dtype=np.int64)
        for i, part in parts:
            counts[kind][i] = len(part)
        width = widths[kind]
        stacked = [part for _, part in parts]
        values[kind] = np.concatenate(stacked) if stacked else np.zeros((0, width))
    return kinds, values, counts, dict.fromkeys(kinds)


def event_columns(X: Any, layout: Layout | None) -> tuple[tuple, dict, dict, dict]:
    """Validated columns (kinds, values, counts, names) of an EventSet or a list of events."""
    if isinstance(X, EventSet):
        kinds, values, counts, names = X.columns()
        if layout is not None:
            widths = dict(layout)
            for kind in kinds:
                if kind not in widths:
                    i = int(np.argmax(counts[kind] > 0)) if counts[kind].any() else 0
                    raise _unknown(i, kind, layout)
                if values[kind].shape[1] != widths[kind]:
                    msg = (
                        f"{values[kind].shape[1]} features for objects of kind {kind!r}, "
                        f"but kind {kind!r} has {widths[kind]} (in fit)."
                    )
                    raise sample_error(0, msg)
        return kinds, values, counts, names
    events = list(X)
    kinds, values, counts, names = _event_columns(events, layout)
    check_events(kinds, values, counts, len(events))
    return kinds, values, counts, names


# ---------------------------------------------------------------------- graphs
class _TypedNodes:
    """A ``read_nodes`` for :func:`read_graphs`: features per kind into the block layout.

    After the call, ``layout`` and ``kind_index`` (each node's kind) describe the result.
    """

    def __init__(self, graphs: list, node_kind: Any, feature: str, layout: Layout | None):
        self.graphs = graphs
        self.node_kind = node_kind
        self.feature = feature
        self.layout = layout
        self.kind_index: np.ndarray | None = None

    def _label(self, position: int, node_ptr: np.ndarray) -> tuple[int, Any]:
        """Sample index and node id of global node ``position``."""
        i, pos = owner(node_ptr, position)
        return i, list(self.graphs[i])[pos]

    def _kinds(self, node_ptr: np.ndarray) -> tuple[list, list]:
        """Every node's kind, and the distinct kinds; raise for a missing or unhashable kind."""
        name = self.node_kind
        kinds = [kind for i, g in enumerate(self.graphs) for kind in node_values(g, i, name)]
        missing = next((j for j, kind in enumerate(kinds) if kind is None), None)
        if missing is not None:
            i, node = self._label(missing, node_ptr)
            raise sample_error(i, f"node {node!r} has no node attribute {name!r} (its kind).")
        try:
            return kinds, list(dict.fromkeys(kinds))
        except TypeError:
            j = next(j for j, kind in enumerate(kinds) if not _hashable(kind))
            i, node = self._label(j, node_ptr)
            raise sample_error(i, f"node {node!r} has kind {kinds[j]!r}, not hashable.") from None

    def __call__(self, nodes: list, n_nodes: np.ndarray) -> np.ndarray:
        node_ptr = ptr(n_nodes)
        kinds, distinct = self._kinds(node_ptr)
        if self.layout is None:
            for kind in distinct:
                check_kind(kind)
            order, widths = sort_kinds(distinct), {}
        else:
            order, widths = tuple(kind for kind, _ in self.layout), dict(self.layout)
            for kind in distinct:
                if kind not in widths:
                    i, node = self._label(kinds.index(kind), node_ptr)
                    raise _unknown(i, kind, self.layout, f"node {node!r} has ")
        slot = {kind: index for index, kind in enumerate(order)}
        kind_index = np.fromiter(map(slot.__getitem__, kinds), dtype=np.int64, count=len(kinds))
        matrices = []
        for index, kind in enumerate(order):
            where = np.flatnonzero(kind_index == index)
            values = [nodes[j] for j in where]
            matrix = _kind_matrix(values, kind, widths.get(kind), self.feature)
            if isinstance(matrix, tuple):  # (position in ``where``, problem)
                i, node = self._label(int(where[matrix[0]]), node_ptr)
                raise sample_error(i, f"node {node!r} {matrix[1]}")
            widths[kind] = matrix.shape[1]
            matrices.append((where, matrix))
        self.layout = tuple((kind, widths[kind]) for kind in order)
        self.kind_index = kind_index
        column_ptr = ptr(np.array([widths[kind] for kind in order], dtype=np.int64))
        x = np.zeros((len(kinds), int(column_ptr[-1])))
        for index, (where, matrix) in enumerate(matrices):
            x[where, column_ptr[index] : column_ptr[index + 1]] = matrix
        return x


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _kind_matrix(
    values: list, kind: Any, width: int | None, feature: str
) -> np.ndarray | tuple[int, str]:
    """The nodes of one kind as a matrix, or (position, problem) for the first bad node."""
    out = stack_rows(values, width)
    if out is not None:
        return out
    if not values:
        return np.zeros((0, width or 0))
    rows = []
    for j, value in enumerate(values):
        if value is None:
            return j, f"has no node attribute {feature!r} (its features)."
        try:
            row = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return j, f"has features that are not numeric: {reprlib.repr(value)}."
        if row.ndim > 1:
            return j, f"has features of shape {row.shape}; they must be a number or 1-D."
        row = row.reshape(-1)
        if width is None:
            width = row.size
        elif row.size != width:
            return j, (f"of kind {kind!r} has {row.size} features, but kind {kind!r} has {width}.")
        rows.append(row)
    return np.stack(rows)


# ---------------------------------------------------------------------- entry
def read_events(
    X: Any, layout: Layout | None, how: str, k: int, knn_features: Any
) -> tuple[PackedArrays, dict]:
    """Typed nodes of events (an EventSet or per-event mappings) and their objects per kind."""
    columns = event_columns(X, layout)
    if layout is None:
        layout = tuple((kind, columns[1][kind].shape[1]) for kind in columns[0])
    return pack_event_arrays(columns, layout, how, k, knn_features), columns[2]


def read_typed_graphs(
    graphs: list,
    node_kind: Any,
    feature: str,
    edge_features: Any,
    layout: Layout | None,
    n_edge_features: int | None,
) -> PackedArrays:
    """Typed nodes of networkx graphs whose nodes hold their kind in ``node_kind``."""
    reader = _TypedNodes(graphs, node_kind, feature, layout)
    arrays = read_graphs(graphs, feature, edge_features, None, n_edge_features, reader)
    return replace(arrays, kind_index=reader.kind_index, layout=reader.layout)
