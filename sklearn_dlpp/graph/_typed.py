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
import torch

from sklearn_dlpp.graph._arrays import PackedArrays, owner, ptr
from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._events import EventSet, check_events, check_kind, sort_kinds
from sklearn_dlpp.graph._inputs import GRAPHS, classify, sample_error
from sklearn_dlpp.graph._networkx import node_values, read_graphs
from sklearn_dlpp.graph._set_edges import full_edges, knn_edges

Layout = tuple  # ((kind, n_features), ...)


def is_events(X: Any) -> bool:
    """True for an EventSet or a sequence of per-event mappings (kind -> objects)."""
    if isinstance(X, EventSet):
        return True
    return isinstance(X, (list, tuple)) and len(X) > 0 and isinstance(X[0], Mapping)


def is_typed(X: Any, node_kind: Any = None, kinds: Any = None) -> bool:
    """Whether :func:`pack_graphs` reads X as typed nodes."""
    return node_kind is not None or kinds is not None or is_events(X)


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


def _knn_columns(knn_features: Any, layout: Layout, names: Mapping) -> dict:
    """Per kind, the columns of the neighbour coordinates (shared indices or names)."""
    widths = dict(layout)
    if knn_features is None:
        narrowest = min(widths.values())
        return {kind: list(range(narrowest)) for kind in widths}
    if isinstance(knn_features, (str, numbers.Integral)):
        knn_features = [knn_features]
    columns: dict = {kind: [] for kind in widths}
    for feature in knn_features:
        for kind, width in widths.items():
            known = names.get(kind)
            if isinstance(feature, str) and known is not None and feature in known:
                columns[kind].append(list(known).index(feature))
            elif isinstance(feature, numbers.Integral) and 0 <= feature < width:
                columns[kind].append(int(feature))
            else:
                msg = (
                    f"knn_features entry {feature!r} is not a column of kind {kind!r} "
                    f"({width} features, names {known}); it must be a column of every kind."
                )
                raise ValueError(msg)
    if not knn_features:
        msg = "knn_features is empty; give at least one coordinate column."
        raise ValueError(msg)
    return columns


def pack_event_arrays(
    columns: tuple, layout: Layout, set_edges: str, k: int, knn_features: Any
) -> tuple[PackedArrays, np.ndarray]:
    """Nodes (kinds in layout order, then object order) and built edges of every event."""
    _, values, counts, names = columns
    n_events = len(next(iter(counts.values())))
    zeros = np.zeros(n_events, dtype=np.int64)
    per_kind = [counts.get(kind, zeros) for kind, _ in layout]
    n_nodes = np.sum(per_kind, axis=0) if per_kind else zeros
    node_ptr = ptr(n_nodes)
    column_ptr = ptr(np.array([width for _, width in layout], dtype=np.int64))
    x = np.zeros((int(node_ptr[-1]), int(column_ptr[-1])))
    kind_index = np.zeros(len(x), dtype=np.int64)
    positions = {}
    before = node_ptr[:-1].copy()  # where each event's block of the current kind starts
    for index, ((kind, _), count) in enumerate(zip(layout, per_kind, strict=True)):
        if kind in values:
            position = np.repeat(before - ptr(count)[:-1], count) + np.arange(int(count.sum()))
            x[position, column_ptr[index] : column_ptr[index + 1]] = values[kind]
            kind_index[position] = index
            positions[kind] = position
        before = before + count
    if set_edges == "full":
        senders, receivers, n_edges = full_edges(n_nodes)
    elif set_edges == "knn":
        chosen = _knn_columns(knn_features, layout, names)
        n_coords = len(next(iter(chosen.values())))
        coords = np.zeros((len(x), n_coords))
        for kind, position in positions.items():
            coords[position] = values[kind][:, chosen[kind]]
        senders, receivers, n_edges = knn_edges(coords, n_nodes, int(k))
    else:
        senders = receivers = np.zeros(0, dtype=np.int64)
        n_edges = np.zeros(n_events, dtype=np.int64)
    arrays = PackedArrays(
        x=x,
        n_nodes=n_nodes.astype(np.int64),
        senders=senders,
        receivers=receivers,
        edge_attr=None,
        n_labelled=n_edges,
        both_ways=np.zeros(len(senders), dtype=bool),
    )
    return arrays, kind_index


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
    out = None
    # numpy would read a missing attribute (None) among numbers as NaN
    if not any(value is None for value in values):
        try:
            out = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            out = None
    if out is not None and out.ndim == 1 and len(values):
        out = out.reshape(-1, 1)
    if out is not None and out.ndim == 2 and (width is None or out.shape[1] == width):
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
def pack_typed(
    X: Any,
    *,
    node_kind: Any,
    kinds: Any,
    node_features: Any,
    edge_features: Any,
    set_edges: str,
    k: int,
    knn_features: Any,
    n_node_features: int | None,
    n_edge_features: int | None,
    mask: Any,
    dtype: torch.dtype,
) -> GraphBatch:
    """:func:`pack_graphs` for typed input: events, or graphs with a kind per node."""
    layout = None if kinds is None else check_layout(kinds)
    if mask is not None:
        msg = "mask applies to a 3-D padded array X; give an EventSet its masks instead."
        raise ValueError(msg)
    if is_events(X):
        if edge_features is not None or node_features is not None:
            msg = (
                "node_features and edge_features name graph attributes; events hold their "
                "features per kind (choose them when building the EventSet)."
            )
            raise ValueError(msg)
        columns = event_columns(X, layout)
        if layout is None:
            layout = tuple((kind, columns[1][kind].shape[1]) for kind in columns[0])
        arrays, kind_index = pack_event_arrays(columns, layout, set_edges, k, knn_features)
    else:
        samples = classify(X)
        if samples.kind != GRAPHS:
            msg = (
                "node_kind and kinds describe typed nodes: X must be an EventSet, a list of "
                "events (mappings from kind to objects) or networkx graphs whose nodes hold "
                f"their kind, got {samples.kind} samples."
            )
            raise ValueError(msg)
        if node_kind is None:
            msg = "Typed networkx graphs need node_kind, the node attribute holding the kind."
            raise ValueError(msg)
        if set_edges != "none":
            msg = "set_edges builds edges for particle sets; networkx graphs bring their own."
            raise ValueError(msg)
        if node_features is not None and not isinstance(node_features, str):
            msg = (
                "With typed nodes, node_features names the one node attribute holding each "
                "node's feature vector (its length depends on the kind), not a list."
            )
            raise ValueError(msg)
        reader = _TypedNodes(samples.data, node_kind, node_features or "x", layout)
        arrays = read_graphs(
            samples.data, node_features or "x", edge_features, None, n_edge_features, reader
        )
        layout, kind_index = reader.layout, reader.kind_index
    width = sum(width for _, width in layout)
    if n_node_features is not None and width != n_node_features:
        msg = (
            f"Sample 0: {width} node feature columns over all kinds {dict(layout)}, but "
            f"{n_node_features} were expected."
        )
        raise ValueError(msg)
    batch = arrays.to_batch(dtype)
    return replace(batch, node_kind=torch.from_numpy(kind_index), kinds=layout)


def kind_moments(batch: GraphBatch) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each column over the nodes of the column's kind.

    A column is 1-scaled where constant and 0/1 where its kind has no node.
    """
    x = batch.x.double()
    mean = np.zeros(x.shape[1])
    scale = np.ones(x.shape[1])
    start = 0
    for index, (_, width) in enumerate(batch.kinds):
        rows = x[batch.node_kind == index, start : start + width]
        if len(rows):
            mean[start : start + width] = rows.mean(0).cpu().numpy()
            std = rows.std(0, unbiased=False).cpu().numpy()
            scale[start : start + width] = np.where(std > 0, std, 1.0)
        start += width
    return mean, scale


def event_node_targets(X: Any, y: Any, layout: Layout) -> np.ndarray:
    """Per-object targets of events, in packed node order.

    ``y`` holds one entry per event: a mapping kind -> one target per object of
    the kind, or an array with one target per object in the packed order.
    """
    columns = event_columns(X, layout)
    counts = columns[2]
    if len(y) != len(next(iter(counts.values()))):
        msg = f"y has {len(y)} events but X has {len(next(iter(counts.values())))}."
        raise ValueError(msg)
    parts = []
    for i, target in enumerate(y):
        if isinstance(target, Mapping):
            unknown = [kind for kind in target if kind not in counts]
            if unknown:
                raise sample_error(i, f"y names kind {unknown[0]!r}, which X lacks.")
            blocks = []
            for kind, _ in layout:
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
