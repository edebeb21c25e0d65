"""Torch modules of the graph networks, usable on their own."""

from sklearn_dlpp.nn._attention import DeepSetBlock, DeepSetOutput
from sklearn_dlpp.nn._edgeconv import EdgeConvBlock, EdgeConvOutput, ParticleNet, knn_graph
from sklearn_dlpp.nn._gn import GNBlock, GNOutput
from sklearn_dlpp.nn._mlp import MLP
from sklearn_dlpp.nn._network import GraphNetwork
from sklearn_dlpp.nn._particle_attention import (
    PairEmbedding,
    ParticleAttentionBlock,
    ParticleTransformer,
    pair_interactions,
)
from sklearn_dlpp.nn._readout import Readout
from sklearn_dlpp.nn._scatter import segment_max, segment_mean, segment_softmax, segment_sum
from sklearn_dlpp.nn._typed import KindEncoder

__all__ = [
    "MLP",
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
