"""Torch modules of the graph networks, usable on their own.

The option sets the modules take are importable from here, so that the
estimators' parameter constraints use the same ones: ``ACTIVATIONS``
(scikit-learn's activation names, mapped to their torch modules),
``AGGREGATIONS`` (how a :class:`GNBlock` aggregates messages),
``EDGECONV_AGGREGATIONS`` (the subset an :class:`EdgeConvBlock` takes),
``POOLINGS`` (how a :class:`Readout` pools nodes: a graph network's
``readout``), ``BLOCKS`` and ``LEVELS`` (of :class:`GraphNetwork`).
"""

# The option sets are re-exported (``import X as X``) without being in __all__:
# importable, but constants rather than API pages of their own.
from sklearn_dlpp.nn._activations import ACTIVATIONS as ACTIVATIONS
from sklearn_dlpp.nn._attention import DeepSetBlock, DeepSetOutput
from sklearn_dlpp.nn._edgeconv import (
    EDGECONV_AGGREGATIONS as EDGECONV_AGGREGATIONS,
)
from sklearn_dlpp.nn._edgeconv import (
    EdgeConvBlock,
    EdgeConvOutput,
    ParticleNet,
    knn_graph,
)
from sklearn_dlpp.nn._gn import AGGREGATIONS as AGGREGATIONS
from sklearn_dlpp.nn._gn import GNBlock, GNOutput
from sklearn_dlpp.nn._mlp import MLP
from sklearn_dlpp.nn._network import BLOCKS as BLOCKS
from sklearn_dlpp.nn._network import LEVELS as LEVELS
from sklearn_dlpp.nn._network import GraphNetwork
from sklearn_dlpp.nn._particle_attention import (
    PairEmbedding,
    ParticleAttentionBlock,
    ParticleTransformer,
    pair_interactions,
)
from sklearn_dlpp.nn._readout import POOLINGS as POOLINGS
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
