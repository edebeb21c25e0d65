"""The training losses, from raw network outputs, as scikit-learn defines them."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def per_sample_loss(kind: str, raw: Tensor, y: Tensor) -> Tensor:
    """Loss of each sample, from the raw network output (before the output activation).

    The sums and means over outputs follow scikit-learn's ``LOSS_FUNCTIONS``:
    log losses sum over outputs, half squared error averages over outputs, half
    Poisson deviance sums over outputs.
    """
    if kind == "binary_log_loss":
        return nn.functional.binary_cross_entropy_with_logits(raw, y, reduction="none").sum(1)
    if kind == "log_loss":
        return -(y * nn.functional.log_softmax(raw, dim=1)).sum(1)
    if kind == "squared_error":
        return 0.5 * ((raw - y) ** 2).mean(1)
    if kind == "poisson":
        # raw is log(mu); the y*log(y) - y term keeps the deviance zero at the optimum.
        return (torch.exp(raw) - y * raw + torch.special.xlogy(y, y) - y).sum(1)
    msg = f"unknown loss {kind!r}"
    raise ValueError(msg)


def mean_loss(kind: str, raw: Tensor, y: Tensor) -> Tensor:
    """``per_sample_loss(...).mean()`` through torch's fused reductions (the unweighted case)."""
    functional = nn.functional
    if kind == "binary_log_loss":
        return functional.binary_cross_entropy_with_logits(raw, y, reduction="sum") / len(y)
    if kind == "log_loss":
        return functional.cross_entropy(raw, y)  # y holds one-hot probabilities
    if kind == "squared_error":
        return 0.5 * functional.mse_loss(raw, y)
    return per_sample_loss(kind, raw, y).mean()


class WeightedLoss(nn.Module):
    """Weighted sum of :func:`per_sample_loss` over the sum of the weights' absolute values."""

    def __init__(self, kind: str = "squared_error") -> None:
        super().__init__()
        self.kind = kind

    def forward(self, raw: Tensor, target: tuple[Tensor, Tensor | None]) -> Tensor:
        y, w = target
        if w is None:
            return mean_loss(self.kind, raw, y)
        losses = per_sample_loss(self.kind, raw, y)
        # Normalised by sum(|w|): with NLO (negative) weights a minibatch's plain sum
        # can be near zero or negative even when the total is positive.
        return (losses * w).sum() / w.abs().sum().clamp_min(torch.finfo(w.dtype).tiny)


def weight_matrices(module: nn.Module) -> list[Tensor]:
    """The weight matrices that the L2 penalty applies to: every Linear's weight."""
    return [m.weight for m in module.modules() if isinstance(m, nn.Linear)]
