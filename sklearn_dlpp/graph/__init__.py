"""Graph input layer: networkx graphs and particle sets in, packed batches out."""

from sklearn_dlpp.graph._batch import GraphBatch
from sklearn_dlpp.graph._events import EventSet
from sklearn_dlpp.graph._pack import pack_graphs
from sklearn_dlpp.graph._scaler import GraphScaler, standardize_batch
from sklearn_dlpp.graph._targets import edge_targets, node_targets, split_edges, split_nodes

__all__ = [
    "EventSet",
    "GraphBatch",
    "GraphScaler",
    "edge_targets",
    "node_targets",
    "pack_graphs",
    "split_edges",
    "split_nodes",
    "standardize_batch",
]
