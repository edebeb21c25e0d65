"""Events as flat arrays: checks of the per-kind columns and their packing into typed nodes.

Shared by :class:`~sklearn_dlpp.graph.EventSet` (``to_graphs``) and the event
reader; it knows columns, not containers, so neither imports the other.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sklearn_dlpp.graph._arrays import PackedArrays, first_bad_row, owner, ptr, ranges
from sklearn_dlpp.graph._columns import feature_columns
from sklearn_dlpp.graph._inputs import sample_error
from sklearn_dlpp.graph._set_edges import set_edges

Layout = tuple  # ((kind, n_features), ...)


def check_events(kinds: Sequence, values: Mapping, counts: Mapping, n_events: int) -> None:
    """Raise for NaN or infinite features and for events without any object."""
    for kind in kinds:
        bad = first_bad_row(values[kind])
        if bad is not None:
            i, pos = owner(ptr(counts[kind]), bad)
            raise sample_error(i, f"object {pos} of kind {kind!r} has NaN or infinite features.")
    total = sum((counts[kind] for kind in kinds), np.zeros(n_events, dtype=np.int64))
    if n_events and not total.all():
        i = int(np.argmin(total))
        msg = (
            f"the event has no objects of any kind ({list(kinds)}); an event needs at least "
            "one object (an event without objects of one kind is fine)."
        )
        raise sample_error(i, msg)


def _kind_columns(knn_features: Any, layout: Layout, names: Mapping) -> dict:
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
            try:
                if isinstance(feature, numbers.Integral) and feature < 0:
                    raise ValueError  # a negative index would name a different column per kind
                columns[kind] += feature_columns(feature, known, width, "knn_features")
            except ValueError:
                msg = (
                    f"knn_features entry {feature!r} is not a column of kind {kind!r} "
                    f"({width} features, names {known}); it must be a column of every kind."
                )
                raise ValueError(msg) from None
    if not knn_features:
        msg = "knn_features is empty; give at least one coordinate column."
        raise ValueError(msg)
    return columns


def pack_event_arrays(
    columns: tuple, layout: Layout, how: str, k: int, knn_features: Any
) -> PackedArrays:
    """Nodes (kinds in layout order, then object order) and built edges of every event.

    ``columns`` is ``(kinds, values, counts, names)`` as :meth:`EventSet.columns`
    gives it; ``how`` is a ``set_edges`` value. The arrays carry ``kind_index``
    and ``layout``.
    """
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
            position = ranges(before, count)
            x[position, column_ptr[index] : column_ptr[index + 1]] = values[kind]
            kind_index[position] = index
            positions[kind] = position
        before = before + count

    def coordinates() -> np.ndarray:
        chosen = _kind_columns(knn_features, layout, names)
        coords = np.zeros((len(x), len(next(iter(chosen.values())))))
        for kind, position in positions.items():
            coords[position] = values[kind][:, chosen[kind]]
        return coords

    edges = set_edges(how, n_nodes, k, coordinates)
    return PackedArrays.of_sets(x, n_nodes, edges, kind_index=kind_index, layout=layout)
