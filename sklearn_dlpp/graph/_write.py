"""Write new node (and edge) features back into the form the samples came in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sklearn_dlpp.graph._arrays import ptr
from sklearn_dlpp.graph._event_set import EventSet
from sklearn_dlpp.graph._inputs import AWKWARD, GRAPHS, PADDED, is_awkward
from sklearn_dlpp.graph._read import EVENTS, TYPED_GRAPHS, Reading
from sklearn_dlpp.graph._sets import awkward_with_columns

if TYPE_CHECKING:
    import networkx as nx


def write_like(
    reading: Reading,
    x: np.ndarray,
    edge_attr: np.ndarray | None,
    node_features: Any,
    edge_features: Any,
) -> Any:
    """The samples of ``reading`` with node features ``x`` (packed order) and edge features.

    Graphs come back as copies, arrays as new arrays (padding kept, a mask
    copied), awkward arrays with the fields replaced, events as events.
    """
    form, data, arrays = reading.form, reading.data, reading.arrays
    if form in (GRAPHS, TYPED_GRAPHS):
        return _write_graphs(reading, x, edge_attr, node_features, edge_features)
    if form == EVENTS:
        return _write_events(reading, x)
    if form == PADDED:
        out = np.array(np.ma.getdata(data), dtype=np.float64)
        out[reading.real] = x
        if isinstance(data, np.ma.MaskedArray):
            return np.ma.MaskedArray(out, mask=np.ma.getmaskarray(data).copy())
        return out
    if form == AWKWARD:
        return awkward_with_columns(data, x, node_features, many=True)
    bounds = ptr(arrays.n_nodes)
    out = []
    for i, sample in enumerate(data):
        rows = x[bounds[i] : bounds[i + 1]]
        if is_awkward(sample):
            rows = awkward_with_columns(sample, rows, node_features, many=False)
        out.append(rows)
    return out


def _kind_rows(reading: Reading, x: np.ndarray) -> list[np.ndarray]:
    """Each node's features: its kind's block of columns for typed nodes, else its row."""
    arrays = reading.arrays
    if arrays.layout is None:
        return list(x)
    starts = np.cumsum([0] + [width for _, width in arrays.layout])
    return [x[j, starts[kind] : starts[kind + 1]] for j, kind in enumerate(arrays.kind_index)]


def _write_events(reading: Reading, x: np.ndarray) -> EventSet | list[dict]:
    arrays = reading.arrays
    starts = np.cumsum([0] + [width for _, width in arrays.layout])
    values = {
        kind: x[arrays.kind_index == index, starts[index] : starts[index + 1]]
        for index, (kind, _) in enumerate(arrays.layout)
    }
    if isinstance(reading.data, EventSet):
        return reading.data._with_values(values)
    counts = reading.kind_counts
    out = [{} for _ in range(len(reading))]
    for kind, rows in values.items():
        for i, part in enumerate(np.split(rows, ptr(counts[kind])[1:-1])):
            if kind in reading.data[i]:
                out[i][kind] = part
    return out


def _write_graphs(
    reading: Reading, x: np.ndarray, edge_attr: np.ndarray | None, names: Any, edge_name: Any
) -> list[nx.Graph]:
    """Copies of the graphs with the feature attributes replaced."""
    graphs, arrays = reading.data, reading.arrays
    vector = names is None or isinstance(names, str)
    attribute = "x" if names is None else names
    node_bounds = ptr(arrays.n_nodes)
    edge_bounds = ptr(arrays.n_labelled)
    rows_of_nodes = _kind_rows(reading, x) if vector else None
    out = []
    for i, graph in enumerate(graphs):
        # copy() keeps the order of G.nodes() and G.edges(), so targets stay aligned.
        copy = graph.copy()
        if vector:
            rows = rows_of_nodes[node_bounds[i] : node_bounds[i + 1]]
            scalar = np.ndim(graph.nodes[next(iter(graph))][attribute]) == 0
            values = [row[0] for row in rows] if scalar else rows
            for data, value in zip(copy.nodes.values(), values, strict=True):
                data[attribute] = float(value) if scalar else value
        else:
            rows = x[node_bounds[i] : node_bounds[i + 1]]
            for data, row in zip(copy.nodes.values(), rows.tolist(), strict=True):
                data.update(zip(names, row, strict=True))
        if edge_attr is not None:
            edge_rows = edge_attr[edge_bounds[i] : edge_bounds[i + 1]]
            edges = [data for *_, data in copy.edges(data=True)]
            if edges and np.ndim(edges[0][edge_name]) == 0:
                edge_rows = edge_rows[:, 0].tolist()
            for data, row in zip(edges, edge_rows, strict=True):
                data[edge_name] = row
        out.append(copy)
    return out
