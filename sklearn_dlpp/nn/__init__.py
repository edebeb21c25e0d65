"""Torch modules of the graph networks, usable on their own.

The option sets the modules take are constants here, so that the estimators'
parameter constraints use the same ones: :data:`ACTIVATIONS` (scikit-learn's
activation names), :data:`AGGREGATIONS` (how a GN block aggregates messages),
:data:`EDGECONV_AGGREGATIONS` (the subset an EdgeConv block takes),
:data:`POOLINGS` (how :class:`Readout` pools nodes), :data:`BLOCKS` and
:data:`LEVELS` (of :class:`GraphNetwork`).
"""

from sklearn_dlpp.nn._activations import ACTIVATIONS
from sklearn_dlpp.nn._attention import DeepSetBlock, DeepSetOutput
from sklearn_dlpp.nn._edgeconv import (
    EDGECONV_AGGREGATIONS,
    EdgeConvBlock,
    EdgeConvOutput,
    ParticleNet,
    knn_graph,
)
from sklearn_dlpp.nn._gn import AGGREGATIONS, GNBlock, GNOutput
from sklearn_dlpp.nn._mlp import MLP
from sklearn_dlpp.nn._network import BLOCKS, LEVELS, GraphNetwork
from sklearn_dlpp.nn._particle_attention import (
    PairEmbedding,
    ParticleAttentionBlock,
    ParticleTransformer,
    pair_interactions,
)
from sklearn_dlpp.nn._readout import POOLINGS, Readout
from sklearn_dlpp.nn._scatter import segment_max, segment_mean, segment_softmax, segment_sum
from sklearn_dlpp.nn._typed import KindEncoder

__all__ = [
    "ACTIVATIONS",
    "AGGREGATIONS",
    "BLOCKS",
    "EDGECONV_AGGREGATIONS",
    "LEVELS",
    "MLP",
    "POOLINGS",
    "DeepSetBlock",
    "DeepSetOutput",
    "EdgeConvBlock",
    "EdgeConvOutput",
    "GNBlock",
    "GNOutput",
    "GraphNetwork",
    "KindEncoder",
    "PairEmbedding",
    "ParticleAttentionBlock",
    "ParticleNet",
    "ParticleTransformer",
    "Readout",
    "knn_graph",
    "pair_interactions",
    "segment_max",
    "segment_mean",
    "segment_softmax",
    "segment_sum",
]
