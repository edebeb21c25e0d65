"""Graph input layer: networkx graphs and particle sets in, packed batches out.

The path from what a user passes to what a network consumes:
:func:`read_samples` detects the input form once and reads it into a
:class:`Reading` (the packed :class:`GraphBatch` and what aligns targets with
it), :func:`level_targets` reads per-graph, per-node or per-edge targets from
that reading, and :class:`GraphScaler` holds the one standardisation.
:func:`pack_graphs` is the short form for the batch alone.
"""

from sklearn_dlpp.graph._batch import GraphBatch, concat_ranges
from sklearn_dlpp.graph._columns import feature_columns
from sklearn_dlpp.graph._event_set import EventSet
from sklearn_dlpp.graph._pack import pack_graphs
from sklearn_dlpp.graph._read import PackOptions, Reading, read_samples
from sklearn_dlpp.graph._scaler import GraphScaler, feature_moments, standardize_batch
from sklearn_dlpp.graph._targets import (
    edge_targets,
    level_targets,
    node_targets,
    split_edges,
    split_nodes,
)

__all__ = [
    "EventSet",
    "GraphBatch",
    "GraphScaler",
    "PackOptions",
    "Reading",
    "concat_ranges",
    "edge_targets",
    "feature_columns",
    "feature_moments",
    "level_targets",
    "node_targets",
    "pack_graphs",
    "read_samples",
    "split_edges",
    "split_nodes",
    "standardize_batch",
]
