"""What the complete networks share: a packed batch in, the input standardisation kept."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class GraphModel(nn.Module):
    """Base of the networks that map a :class:`~sklearn_dlpp.graph.GraphBatch` to outputs.

    The estimators standardise the node features before they pack them; the
    buffers ``input_mean`` and ``input_scale`` keep how (``x = (raw - mean) /
    scale``, 0 and 1 until an estimator sets them), so that a network can read
    columns raw: kNN coordinates, four-momenta. A subclass sets
    ``n_node_features`` and calls :meth:`_keep_input_scaling` in its constructor.
    """

    n_node_features: int

    def _keep_input_scaling(self) -> None:
        """Register the ``input_mean`` (zeros) and ``input_scale`` (ones) buffers."""
        self.register_buffer("input_mean", torch.zeros(self.n_node_features))
        self.register_buffer("input_scale", torch.ones(self.n_node_features))

    def _raw_columns(self, x: Tensor, columns: Sequence[int]) -> Tensor:
        """Columns of the input as they were before standardisation."""
        return x[:, columns] * self.input_scale[columns] + self.input_mean[columns]

    def _check_x(self, x: Tensor) -> None:
        """Raise a ValueError unless ``x`` is ``(n_nodes, n_node_features)``."""
        if x.dim() != 2 or x.shape[1] != self.n_node_features:
            msg = f"expected x of shape (n_nodes, {self.n_node_features}), got {tuple(x.shape)}."
            raise ValueError(msg)


def reset_every_part(module: nn.Module) -> None:
    """Call ``reset_parameters`` of every submodule (at any depth) that has one.

    Weights are re-drawn and batch-norm statistics reset, in the order of
    ``module.modules()``.
    """
    for part in module.modules():
        if part is not module and hasattr(part, "reset_parameters"):
            part.reset_parameters()
