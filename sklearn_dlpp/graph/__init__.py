"""Graph input layer: networkx graphs and particle sets in, packed batches out."""

from sklearn_dlpp.graph._batch import GraphBatch

__all__ = ["GraphBatch"]
