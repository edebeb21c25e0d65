"""scikit-learn's stopping rules and learning-rate schedules, for the training loop.

After each epoch the loop of :mod:`sklearn_dlpp._engine` asks these: the
validation score (the same on every data-parallel rank), the bookkeeping of
epochs without improvement on the training loss or the validation score
(``tol``, ``n_iter_no_change``), SGD's ``invscaling`` rate, and whether to stop
(or, with ``learning_rate='adaptive'``, divide the rate first), with
scikit-learn's ``verbose`` messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from sklearn_dlpp._batches import TrainingData
from sklearn_dlpp._distributed import mean_over_ranks
from sklearn_dlpp._spec import Spec

__all__ = [
    "schedule_learning_rate",
    "trigger_stopping",
    "update_no_improvement_count",
    "validation_score",
]


def validation_score(owner: Any, valid: TrainingData, raw_val: np.ndarray) -> float:
    """The estimator's score on the validation data, averaged over data-parallel ranks."""
    if not np.isfinite(raw_val).all():
        return np.nan
    weights = None if valid.sample_weight is None else _numpy(valid.sample_weight)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging fit's huge outputs
        # Averaged over the ranks: all take the same stopping decision.
        return mean_over_ranks(owner._score_raw(raw_val, valid.labels, weights))


def update_no_improvement_count(
    owner: Any,
    net: Any,
    spec: Spec,
    valid: TrainingData | None,
    raw_val: np.ndarray | None,
    score: float | None,
) -> bool:
    """scikit-learn's stopping bookkeeping; True when the weights are the best so far."""
    if not spec.early_stopping:
        if owner.loss_curve_[-1] > owner.best_loss_ - spec.tol:
            owner._no_improvement_count += 1
        else:
            owner._no_improvement_count = 0
        owner.best_loss_ = min(owner.best_loss_, owner.loss_curve_[-1])
        return False
    owner.validation_scores_.append(score)
    if spec.verbose:
        print(f"Validation score: {score:f}")
    _record_valid_loss(net, raw_val, valid)
    if score < owner.best_validation_score_ + spec.tol:
        owner._no_improvement_count += 1
    else:
        owner._no_improvement_count = 0
    if score > owner.best_validation_score_:
        owner.best_validation_score_ = score
        return True
    return False


def _record_valid_loss(net: Any, raw_val: np.ndarray, valid: TrainingData) -> None:
    """``valid_loss`` and ``valid_loss_best`` in the history, for skorch's callbacks."""
    with torch.no_grad():
        raw = torch.as_tensor(raw_val, device=valid.y.device)
        weights = valid.sample_weight
        target = (valid.y.to(raw.dtype), None if weights is None else weights.to(raw.dtype))
        loss = float(net.get_loss(raw, target))
    history = net.history
    previous = [row.get("valid_loss", np.inf) for row in history[:-1]]
    history.record("valid_loss", loss)
    history.record("valid_loss_best", bool(loss < min(previous, default=np.inf)))


def schedule_learning_rate(owner: Any, net: Any, spec: Spec) -> None:
    if spec.solver == "sgd" and spec.learning_rate == "invscaling":
        _set_lr(net, spec.learning_rate_init / (owner.t_ + 1) ** spec.power_t)


def trigger_stopping(net: Any, spec: Spec) -> bool:
    """scikit-learn's rule and messages: stop, except that adaptive SGD first divides its rate."""
    what = "Validation score" if spec.early_stopping else "Training loss"
    msg = (
        f"{what} did not improve more than tol={spec.tol:f} for "
        f"{spec.n_iter_no_change} consecutive epochs."
    )
    if not (spec.solver == "sgd" and spec.learning_rate == "adaptive"):
        if spec.verbose:
            print(msg + " Stopping.")
        return True
    lr = _current_lr(net)
    if lr <= 1e-6:
        if spec.verbose:
            print(msg + " Learning rate too small. Stopping.")
        return True
    _set_lr(net, lr / 5.0)
    if spec.verbose:
        print(msg + f" Setting learning rate to {lr / 5.0:f}")
    return False


def _current_lr(net: Any) -> float:
    return net.optimizer_.param_groups[0]["lr"]


def _set_lr(net: Any, lr: float) -> None:
    for group in net.optimizer_.param_groups:
        group["lr"] = lr


def _numpy(t: Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()
