"""The fit an estimator describes: scikit-learn's parameters in torch's terms.

:func:`make_spec` is the one place where scikit-learn's names meet torch's: it
turns an estimator's parameters into a :class:`Spec` (the optimizer and its
arguments, the batch size, the stopping rule), which the training loop of
:mod:`sklearn_dlpp._engine` follows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Spec", "early_stopping_of", "make_spec"]


@dataclass
class Spec:
    """Everything the engine needs to know about one fit, in torch's terms."""

    loss: str
    solver: str
    optimizer_kwargs: dict[str, Any]
    batch_size: int
    max_iter: int
    incremental: bool = False
    shuffle: bool = True
    seed: int = 0
    alpha: float = 0.0
    tol: float = 1e-4
    n_iter_no_change: float = 10
    early_stopping: bool = False
    learning_rate: str = "constant"
    learning_rate_init: float = 1e-3
    power_t: float = 0.5
    verbose: bool = False
    callbacks: list[Any] = field(default_factory=list)
    device: str = "cpu"
    check_outputs: bool = True


_SOLVER_DEFAULTS = {
    "momentum": 0.9,
    "nesterovs_momentum": True,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
    "max_fun": 15000,
    "learning_rate": "constant",
    "power_t": 0.5,
    "shuffle": True,
    "callbacks": None,
}


def make_spec(estimator: Any, n_samples: int, *, incremental: bool, seed: int) -> Spec:
    """The fit described by an estimator's scikit-learn parameters, in torch's terms.

    Estimators without a parameter (the perceptron has no ``beta_1``, the graph
    estimators no ``learning_rate``) get scikit-learn's default.
    """
    defaults = {**_SOLVER_DEFAULTS, **getattr(estimator, "_solver_defaults", {})}
    get = {**defaults, **estimator.get_params(deep=False)}.__getitem__
    solver = get("solver")
    if solver == "adam":
        kwargs = {
            "lr": get("learning_rate_init"),
            "betas": (get("beta_1"), get("beta_2")),
            "eps": get("epsilon"),
            **_fused(),
        }
    elif solver == "sgd":
        momentum = get("momentum")
        kwargs = {
            "lr": get("learning_rate_init"),
            "momentum": momentum,
            "nesterov": bool(get("nesterovs_momentum") and momentum > 0),
            **_fused(),
        }
    else:
        kwargs = {
            "lr": 1.0,
            "max_iter": get("max_iter"),
            "max_eval": get("max_fun"),
            "tolerance_grad": get("tol"),
            "tolerance_change": 0.0,
            "history_size": 10,
            "line_search_fn": "strong_wolfe",
        }
    return Spec(
        loss=estimator._loss_kind(),
        solver=solver,
        optimizer_kwargs=kwargs,
        batch_size=_batch_size(solver, get("batch_size"), n_samples),
        max_iter=get("max_iter"),
        incremental=incremental,
        shuffle=get("shuffle"),
        seed=seed,
        alpha=get("alpha"),
        tol=get("tol"),
        n_iter_no_change=get("n_iter_no_change"),
        early_stopping=early_stopping_of(estimator) and solver != "lbfgs",
        learning_rate=get("learning_rate"),
        learning_rate_init=get("learning_rate_init"),
        power_t=get("power_t"),
        verbose=bool(get("verbose")),
        callbacks=list(get("callbacks") or []),
        device=estimator.device_,
        check_outputs=getattr(estimator, "_check_outputs_after_fit", True),
    )


def early_stopping_of(estimator: Any) -> bool:
    """Whether this fit holds data out and stops early.

    An estimator whose ``early_stopping`` parameter is resolved at fit time (the
    graph estimators' ``'auto'``) records the outcome in ``early_stopping_``;
    the parameter itself is read otherwise.
    """
    return bool(getattr(estimator, "early_stopping_", estimator.early_stopping))


def _batch_size(solver: str, batch_size: Any, n_samples: int) -> int:
    if solver == "lbfgs":
        return n_samples
    if batch_size == "auto":
        return min(200, n_samples)
    if batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
            UserWarning,
            stacklevel=5,
        )
    return int(np.clip(batch_size, 1, n_samples))


def _fused() -> dict[str, bool]:
    """Fused optimizer steps where torch has them: one kernel instead of one per tensor."""
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # older torch
        return {}
    return {"fused": True} if "cpu" in _get_fused_kernels_supported_devices() else {}
