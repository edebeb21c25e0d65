"""The network side of the graph estimators: building the module from the parameters, attention."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sklearn_dlpp._runtime import bounded_threads
from sklearn_dlpp.graph import feature_columns
from sklearn_dlpp.nn import EdgeConvBlock, GraphNetwork, ParticleNet, ParticleTransformer


class GraphNetworkMixin:
    """Builds the graph network an estimator's parameters describe (private mixin)."""

    def attention_weights(self, X: Any, block: int = -1) -> list:
        """The learned attention of one block, per sample of X.

        Parameters
        ----------
        X : sequence of graphs, padded array, sequence of arrays or awkward array
            The samples, in any form the estimator takes.
        block : int, default=-1
            Which block (Python indexing: -1 is the last).

        Returns
        -------
        attention : list
            One entry per sample. For a GN block with ``aggregation='attention'``
            or ``'keyquery'``: a pair ``(edge_index, weights)``, ``edge_index`` of
            shape (2, n_message_edges) holding sender and receiver positions in the
            sample's node order, ``weights`` of shape (n_message_edges,) summing to
            1 over each receiver's incoming edges. For a deep-set block: an
            (n_nodes, n_nodes) matrix, row ``i`` the weights node ``i`` gives to
            every node of its set.

        Raises
        ------
        ValueError
            When the block has no attention (sum, mean or max aggregation).
        """
        batch = self._batch_for_prediction(X)
        n_blocks = len(self.module_.blocks)
        if not -n_blocks <= block < n_blocks:
            msg = f"block={block} is out of range for a network of {n_blocks} block(s)."
            raise ValueError(msg)
        if self.module_.training:
            self.module_.eval()
        with bounded_threads(), torch.inference_mode():
            weights = self.module_.attention_weights(batch)[block]
        if weights is None and isinstance(self.module_.blocks[block], EdgeConvBlock):
            msg = "EdgeConv blocks have no attention weights; use block='transformer'."
            raise ValueError(msg)
        if weights is None:
            msg = (
                f"block {block} aggregates with {self.aggregation!r}, which has no attention "
                "weights; fit with aggregation='attention' or 'keyquery', or block='deepset'."
            )
            raise ValueError(msg)
        batch = batch.to("cpu")
        weights = weights.detach().cpu().double().numpy()
        node_ptr = batch.node_ptr.numpy()
        sizes = np.diff(node_ptr)
        if weights.ndim == 3:  # deep set: (n_graphs, max_nodes, max_nodes), padded
            return [weights[g, :n, :n] for g, n in enumerate(sizes)]
        edge_ptr = batch.edge_ptr.numpy()
        edge_index = batch.edge_index.numpy()
        return [
            (
                edge_index[:, edge_ptr[g] : edge_ptr[g + 1]] - node_ptr[g],
                weights[edge_ptr[g] : edge_ptr[g + 1]],
            )
            for g in range(len(sizes))
        ]

    def _feature_columns(self, value: Any, parameter: str) -> list[int] | None:
        """Column indices of named or numbered node features (None stays None)."""
        if value is None:
            return None
        names = self.node_features if isinstance(self.node_features, (list, tuple)) else None
        return feature_columns(value, names, self.n_node_features_, parameter)

    def _build_module(self, n_inputs: int, n_outputs: int) -> GraphNetwork:
        self.n_outputs_ = n_outputs
        four_momenta = self._feature_columns(self.pair_features, "pair_features")
        if four_momenta is not None and len(four_momenta) != 4:
            msg = (
                "pair_features names the 4 node feature columns (px, py, pz, E) of each "
                f"particle, got {list(self.pair_features)}."
            )
            raise ValueError(msg)
        knn_columns = self._feature_columns(self.knn_features, "knn_features")
        if self.preset is not None:
            if self._level != "graph":
                msg = (
                    f"preset={self.preset!r} is a graph-level tagger; {type(self).__name__} "
                    "predicts per node or edge."
                )
                raise ValueError(msg)
            if self.preset == "particlenet":
                module = ParticleNet(n_inputs, n_outputs, point_columns=knn_columns)
            else:
                module = ParticleTransformer(
                    n_inputs, n_outputs, four_momentum_columns=four_momenta
                )
        else:
            module = self._graph_network(n_inputs, n_outputs, knn_columns, four_momenta)
        if self.standardize:
            module.input_mean.copy_(torch.as_tensor(self.node_mean_, dtype=torch.float32))
            module.input_scale.copy_(torch.as_tensor(self.node_scale_, dtype=torch.float32))
        return module

    def _graph_network(
        self,
        n_inputs: int,
        n_outputs: int,
        knn_columns: list[int] | None,
        four_momenta: list[int] | None,
    ) -> GraphNetwork:
        return GraphNetwork(
            n_inputs,
            self.n_edge_features_,
            n_outputs,
            level=self._level,
            hidden=self.hidden,
            n_blocks=self.n_blocks,
            aggregation=self.aggregation,
            block=self.block,
            readout=self.readout,
            dropout=self.dropout,
            activation=self.activation,
            n_kind_features=(
                None if self._fitted_kinds() is None else self.n_kind_features_.tolist()
            ),
            k=self.k,
            dynamic=self.dynamic,
            knn_columns=knn_columns if self.dynamic else None,
            four_momentum_columns=four_momenta,
            n_heads=self.n_heads,
        )
