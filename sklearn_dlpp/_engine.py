"""The training engine: the one home of the training loop, and the only module that knows skorch.

An estimator describes a fit with a plain :class:`Spec` (made from its
scikit-learn parameters by :func:`make_spec`, the one place where scikit-learn's
names meet torch's), puts its network in ``module_`` and calls :func:`fit` with
the data. The engine runs scikit-learn's training semantics on top of skorch:

- epochs of minibatches (or one L-BFGS run), the loss curve, ``n_iter_`` per
  call, ``tol``/``n_iter_no_change``, early stopping with the best weights
  restored, the SGD learning-rate schedules, scikit-learn's ``verbose`` lines
  and ``ConvergenceWarning``;
- a diverging fit stops with :class:`TrainingDivergedWarning` and keeps the
  last weights with finite outputs; an interrupted fit keeps the weights reached;
- skorch's callback protocol in full: ``on_train_begin(net, X, y)``,
  ``on_epoch_begin/end`` with the training and validation data,
  ``on_batch_begin/end`` with each batch and its predictions, ``on_train_end``;
  ``train_loss`` (and, with early stopping, ``valid_loss``) in ``net.history``,
  so skorch's own callbacks (``EpochScoring``, ``BatchScoring``,
  ``EarlyStopping``, ``Checkpoint``, ``LRScheduler``, ``ProgressBar``) work.

The estimator provides ``_raw_output(inputs)`` (raw outputs as float64 numpy)
and ``_score_raw(raw, labels, weights)`` (the validation score), and keeps
scikit-learn's fitted attributes (``n_iter_``, ``t_``, ``loss_``,
``loss_curve_``, ``best_loss_``, ``validation_scores_``,
``best_validation_score_``), which the engine updates. skorch is imported on
the first fit, not with the package.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import warnings
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import Tensor, nn

from sklearn_dlpp import _dense_kernel
from sklearn_dlpp._batches import SliceBatches, TrainingData
from sklearn_dlpp._distributed import (
    local_cuda_device,
    mean_loss_over_ranks,
    mean_over_ranks,
    process_group,
    wrap_for_data_parallel,
)
from sklearn_dlpp._losses import WeightedLoss, mean_loss, per_sample_loss, weight_matrices

__all__ = [
    "SliceBatches",
    "Spec",
    "TrainingData",
    "TrainingDivergedWarning",
    "WeightedLoss",
    "bounded_threads",
    "fit",
    "make_spec",
    "mean_loss",
    "per_sample_loss",
    "resolve_device",
    "seed_from",
    "torch_seeded",
    "weight_matrices",
]


class TrainingDivergedWarning(UserWarning):
    """The training loss became NaN or infinite; the last finite weights were kept."""


# ---------------------------------------------------------------------- the spec
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
        early_stopping=bool(get("early_stopping")) and solver != "lbfgs",
        learning_rate=get("learning_rate"),
        learning_rate_init=get("learning_rate_init"),
        power_t=get("power_t"),
        verbose=bool(get("verbose")),
        callbacks=list(get("callbacks") or []),
        device=estimator.device_,
        check_outputs=getattr(estimator, "_check_outputs_after_fit", True),
    )


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


# ----------------------------------------------------------------------- the fit
def fit(owner: Any, spec: Spec, train: TrainingData, valid: TrainingData | None) -> None:
    """Train ``owner.module_`` on ``train`` as ``spec`` says; ``valid`` is scored for stopping.

    ``owner.net_`` (the skorch net: optimizer state, history, callbacks) is
    kept between ``partial_fit`` calls and made afresh by every other fit.
    """
    if not spec.incremental or "net_" not in owner.__dict__:
        owner.net_ = _make_net(owner, spec, len(train))
    net = owner.net_
    net.batch_size = spec.batch_size  # partial_fit: this call's data decide it
    owner.n_iter_ = 0
    net.notify("on_train_begin", X=train, y=train.labels)
    if spec.solver == "lbfgs":
        _run_lbfgs(owner, net, spec, train)
    else:
        _run_epochs(owner, net, spec, train, valid)
    net.notify("on_train_end", X=train, y=train.labels)


def _make_net(owner: Any, spec: Spec, n_samples: int) -> Any:
    kwargs = dict(spec.optimizer_kwargs)
    lr = kwargs.pop("lr")
    optimizer = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}.get(spec.solver)
    net = _net_class()(
        module=owner.module_,
        criterion=WeightedLoss,
        criterion__kind=spec.loss,
        optimizer=optimizer or torch.optim.LBFGS,
        lr=lr,
        batch_size=spec.batch_size,
        max_epochs=1,
        train_split=None,
        callbacks=spec.callbacks,
        device=spec.device,
        verbose=0,
        alpha=spec.alpha,
        shuffle=spec.shuffle,
        seed=spec.seed,
        **{f"optimizer__{k}": v for k, v in kwargs.items()},
    )
    net.initialize()
    # Set past skorch's __setattr__; a weak reference, so the estimator and its
    # net do not keep each other alive.
    object.__setattr__(net, "owner_", weakref.proxy(owner))
    return net


def _run_lbfgs(owner: Any, net: Any, spec: Spec, train: TrainingData) -> None:
    net.batch_size = len(train)
    try:
        net.notify("on_epoch_begin", dataset_train=train, dataset_valid=None)
        _run_batches(net, train)
        net.notify("on_epoch_end", dataset_train=train, dataset_valid=None)
    except KeyboardInterrupt:
        _interrupted(owner)
    state = next(iter(net.optimizer_.state.values()), {})
    owner.n_iter_ = int(state.get("n_iter", 0))
    owner.t_ = getattr(owner, "t_", 0) + len(train) * owner.n_iter_
    owner.loss_ = _full_loss(owner, net, train)
    if not np.isfinite(owner.loss_):
        msg = "lbfgs reached a non-finite loss; try a larger alpha or scaled inputs"
        raise FloatingPointError(msg)
    evaluations = int(state.get("func_evals", 0))
    max_fun = spec.optimizer_kwargs["max_eval"]
    if owner.n_iter_ >= spec.max_iter or evaluations >= max_fun:
        reason = (
            "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"
            if owner.n_iter_ >= spec.max_iter
            else "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT"
        )
        message = f"lbfgs failed to converge after {owner.n_iter_} iteration(s) (status=1):\n"
        message += f"{reason}\n"
        if owner.n_iter_ >= spec.max_iter:
            message += (
                "\nIncrease the number of iterations to improve the convergence "
                f"(max_iter={spec.max_iter})."
            )
        message += (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=5)


def _full_loss(owner: Any, net: Any, train: TrainingData) -> float:
    with torch.no_grad():
        raw = owner.module_(train.X)
        return float(net.get_loss(raw, (train.y, train.sample_weight)))


def _run_batches(net: Any, train: TrainingData) -> None:
    """One pass over the batches: skorch's ``run_single_epoch``, with the batches'
    labels shown to callbacks (looked up only when a user callback listens)."""
    iterator = net.get_iterator(train, training=True)
    listening = bool(net.callbacks)
    show_labels = listening and train.labels is not None
    history = net.history
    count = 0
    # Small dense steps run on one thread (see _dense_kernel.DenseKernel.serial).
    threads = torch.get_num_threads()
    kernel = getattr(net, "kernel_", None)
    serial = threads > 1 and kernel is not None and kernel.serial(net.batch_size)
    if serial:
        torch.set_num_threads(1)
    try:
        for batch in iterator:
            shown = (batch[0], train.labels_of(iterator.index)) if show_labels else batch
            net.notify("on_batch_begin", batch=shown, training=True)
            step = net.train_step(batch)
            history.record_batch("train_loss", step["loss"].item())
            history.record_batch("train_batch_size", len(batch[1][0]))
            if listening and isinstance(step.get("y_pred"), Tensor):
                # Callbacks may keep predictions (EpochScoring's cache): their own copy.
                step = {**step, "y_pred": step["y_pred"].detach().clone()}
            net.notify("on_batch_end", batch=shown, training=True, **step)
            count += 1
    finally:
        if serial:
            torch.set_num_threads(threads)
    history.record("train_batch_count", count)


def _show_validation(net: Any, valid: TrainingData, raw_val: np.ndarray) -> None:
    """The validation pass, as one batch, to callbacks that score validation data."""
    if not net.callbacks:
        return
    batch = (valid.X, valid.labels)
    y_pred = torch.as_tensor(raw_val)
    net.notify("on_batch_begin", batch=batch, training=False)
    net.notify("on_batch_end", batch=batch, training=False, y_pred=y_pred)


def _run_epochs(
    owner: Any, net: Any, spec: Spec, train: TrainingData, valid: TrainingData | None
) -> None:
    module = owner.module_
    n_samples = len(train)
    epochs = 1 if spec.incremental else spec.max_iter
    # Weights to fall back on, oldest first: the start and the last two epochs
    # with a finite loss (an epoch's mean loss can be finite while its last
    # step already ruined the weights).
    start = _snapshot(module)
    fallbacks = [start]
    best_state = start if spec.early_stopping else None
    diverged = False
    try:
        for _ in range(epochs):
            net.notify("on_epoch_begin", dataset_train=train, dataset_valid=valid)
            _run_batches(net, train)
            loss = _epoch_loss(net)
            raw_val = score = None
            if np.isfinite(loss) and spec.early_stopping:
                raw_val = owner._raw_output(valid.X)
                score = _validation_score(owner, valid, raw_val)
                _show_validation(net, valid, raw_val)
            # Outputs so large that the score overflows count as diverged too.
            if not np.isfinite(loss) or (raw_val is not None and not np.isfinite(score)):
                diverged = True
                _diverged(owner, spec, fallbacks, train)
                break
            fallbacks = [start, *fallbacks[1:][-1:], _snapshot(module)]
            owner.n_iter_ += 1
            owner.t_ += n_samples
            owner.loss_ = loss
            owner.loss_curve_.append(loss)
            if spec.verbose:
                print(f"Iteration {owner.n_iter_}, loss = {loss:.8f}")
            if _update_no_improvement_count(owner, net, spec, valid, raw_val, score):
                best_state = _snapshot(module)
            _schedule_learning_rate(owner, net, spec)
            if _stopped_by_callback(net, dataset_train=train, dataset_valid=valid):
                break
            if owner._no_improvement_count > spec.n_iter_no_change:
                if _trigger_stopping(net, spec):
                    break
                owner._no_improvement_count = 0
            if spec.incremental:
                break
            if owner.n_iter_ == spec.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({spec.max_iter}) "
                    "reached and the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=5,
                )
        # The last step can ruin the weights without a non-finite epoch loss: one
        # forward pass per fit checks (not per partial_fit call, which streams).
        checked = diverged or spec.early_stopping or spec.incremental
        if not checked and not _finite_after_fit(owner, spec, train):
            _diverged(owner, spec, fallbacks, train)
    except KeyboardInterrupt:
        # Documented: an interrupted fit leaves a usable estimator with the
        # weights reached (the best ones when early stopping).
        _interrupted(owner)
    if spec.early_stopping and best_state is not None:
        module.load_state_dict(best_state)


def _stopped_by_callback(net: Any, **kwargs: Any) -> bool:
    """Send ``on_epoch_end``; True when skorch's ``EarlyStopping`` asked to stop.

    It asks by raising KeyboardInterrupt; any other KeyboardInterrupt is the
    user's, and reaches the interrupt handling of the fit.
    """
    from skorch.callbacks import EarlyStopping

    net.on_epoch_end(net, **kwargs)
    for _, callback in net.callbacks_:
        try:
            callback.on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            if isinstance(callback, EarlyStopping):
                return True
            raise
    return False


def _interrupted(owner: Any) -> None:
    warnings.warn(
        f"Training interrupted by user after {owner.n_iter_} epoch(s); the estimator "
        "keeps the weights reached so far.",
        UserWarning,
        stacklevel=5,
    )


def _finite_after_fit(owner: Any, spec: Spec, train: TrainingData) -> bool:
    """Did the last step leave the network sound? A forward pass over the training
    data, or (``spec.check_outputs`` False: graph fits, where that pass costs a tenth
    of the fit) finite parameters."""
    if spec.check_outputs:
        return _outputs_finite(owner, train)
    return all(bool(torch.isfinite(p).all()) for p in owner.module_.parameters())


def _outputs_finite(owner: Any, train: TrainingData) -> bool:
    return bool(np.isfinite(owner._raw_output(train.X)).all())


def _diverged(owner: Any, spec: Spec, fallbacks: list[dict[str, Tensor]], train: TrainingData):
    if not spec.early_stopping:  # with early stopping the best state is restored anyway
        for state in reversed(fallbacks):
            owner.module_.load_state_dict(state)
            if _outputs_finite(owner, train):
                break
    # The optimizer's moments are poisoned too: the next partial_fit starts afresh.
    owner.__dict__.pop("net_", None)
    warnings.warn(
        f"The training loss became NaN or infinite in epoch {owner.n_iter_ + 1}; "
        "training stopped and the estimator keeps the weights of the last epoch with "
        "finite outputs (the best by validation score with early_stopping). Lower "
        "learning_rate_init, scale the inputs (StandardScaler) or raise alpha.",
        TrainingDivergedWarning,
        stacklevel=5,
    )


def _validation_score(owner: Any, valid: TrainingData, raw_val: np.ndarray) -> float:
    """The estimator's score on the validation data, averaged over data-parallel ranks."""
    if not np.isfinite(raw_val).all():
        return np.nan
    weights = None if valid.sample_weight is None else _numpy(valid.sample_weight)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging fit's huge outputs
        # Averaged over the ranks: all take the same stopping decision.
        return mean_over_ranks(owner._score_raw(raw_val, valid.labels, weights))


def _update_no_improvement_count(
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


def _schedule_learning_rate(owner: Any, net: Any, spec: Spec) -> None:
    if spec.solver == "sgd" and spec.learning_rate == "invscaling":
        _set_lr(net, spec.learning_rate_init / (owner.t_ + 1) ** spec.power_t)


def _trigger_stopping(net: Any, spec: Spec) -> bool:
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


def _snapshot(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _numpy(t: Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def _epoch_loss(net: Any) -> float:
    """The epoch's loss: the batch losses averaged with batch sizes as weights."""
    batches = net.history[-1, "batches"]
    losses = np.array([b["train_loss"] for b in batches])
    sizes = np.array([b["train_batch_size"] for b in batches])
    return np.float64(np.dot(losses, sizes) / sizes.sum())


# ---------------------------------------------------------------- the skorch net
@functools.cache
def _net_class() -> type:
    """skorch's NeuralNet, specialised; built on the first fit so that importing the
    package does not import skorch (and whatever skorch imports)."""
    from skorch import NeuralNet
    from skorch.callbacks import Callback, EpochTimer, PassthroughScoring
    from skorch.utils import TeeGenerator

    class Net(NeuralNet):
        """skorch's NeuralNet with tensor-slicing batches and an L2 penalty like scikit-learn's.

        The penalty is ``alpha / 2 * sum(W**2) / sum(|w_batch|)`` over the weight
        matrices (not the biases), which is what scikit-learn's MLPs minimise.
        Under :func:`sklearn_dlpp.data_parallel` it trains data-parallel (see
        :mod:`sklearn_dlpp._distributed`). ``predict``/``predict_proba`` decode
        the network's output with the estimator's head, so that skorch's
        scoring callbacks and scikit-learn's scorers work on the net.
        """

        def __init__(
            self,
            *args: Any,
            alpha: float = 0.0,
            shuffle: bool = True,
            seed: int = 0,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            self.alpha = alpha
            self.shuffle = shuffle
            self.seed = seed

        def get_default_callbacks(self) -> list[tuple[str, Any]]:
            # Scores, logging and early stopping are the estimators' business
            # (scikit-learn's semantics); skorch keeps the history, the timer
            # and the epoch's train_loss.
            return [
                ("epoch_timer", EpochTimer()),
                ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ]

        def initialize(self) -> Any:
            super().initialize()
            # Data-parallel ranks cut the same permutation: the estimator passes
            # the same seed on every rank (see BaseNeuralEstimator._seed).
            self.batch_generator_ = torch.Generator().manual_seed(self.seed)
            self.penalised_ = weight_matrices(self.module_)
            self.ranks_ = process_group()
            # module_ stays the plain module (predictions, pickling, user code);
            # the wrapper only averages gradients during training. Set past
            # skorch's __setattr__, which would register it as a second module.
            object.__setattr__(self, "data_parallel_", wrap_for_data_parallel(self.module_))
            # Dense networks train through backpropagation written out (see
            # _dense_kernel); None where autograd runs the step (data parallelism too).
            kernel = None
            if self.ranks_ is None and isinstance(self.criterion_, WeightedLoss):
                kernel = _dense_kernel.attach(
                    self.module_, self.criterion_.kind, self.alpha, self.optimizer_
                )
            object.__setattr__(self, "kernel_", kernel)
            return self

        def check_data(self, X: Any, y: Any = None) -> None:
            """Data arrive validated and on the device."""

        def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any):
            # Validation is scored by the estimator, with its own metric.
            return X, None

        def get_iterator(self, dataset: Any, training: bool = False) -> SliceBatches:
            # Validation is one pass over all rows (ProgressBar counts it as one batch).
            return SliceBatches(
                dataset,
                self.batch_size if training else max(1, len(dataset)),
                shuffle=training and self.shuffle,
                generator=self.batch_generator_,
                ranks=self.ranks_ if training else None,
            )

        def get_loss(
            self, y_pred: Tensor, y_true: Any, X: Any = None, training: bool = False
        ) -> Tensor:
            loss = self.criterion_(y_pred, y_true)
            if self.alpha and (not training or self.ranks_ is not None):
                # Through autograd: for reported losses, and under data parallelism, where
                # DDP must average the penalty's gradient with the rest (see train_step_single).
                squares = torch.stack([(p * p).sum() for p in self.penalised_]).sum()
                loss = loss + 0.5 * self._penalty_scale(y_true, training) * squares
            return loss

        def _penalty_scale(self, y_true: Any, training: bool) -> Tensor | float:
            """``alpha / sum(|w|)`` of the batch (of the global batch under data parallelism)."""
            y, w = y_true
            total_weight = len(y) if w is None else w.abs().sum()
            if training and self.ranks_ is not None:
                # Averaged over the ranks, the penalty must be scaled by the
                # weight of the global batch, as in a single-process fit.
                total_weight = total_weight * self.ranks_[1]
            return self.alpha / total_weight

        def infer(self, x: Any, **fit_params: Any) -> Tensor:
            # Batches are already tensors (or packed graphs) on the device.
            if self.data_parallel_ is not None and torch.is_grad_enabled():
                return self.data_parallel_(x, **fit_params)
            return self.module_(x, **fit_params)

        def train_step(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
            kernel = self.kernel_
            if kernel is None or fit_params or not kernel.usable():
                if kernel is not None:
                    kernel.hand_over()
                return super().train_step(batch, **fit_params)
            self._set_training(True)
            X, (y, w) = batch
            if kernel.closure_only:
                return self._kernel_closure_step(kernel, batch)
            loss, raw = kernel.loss_and_gradients(X, y, w)
            self._gradients_computed(kernel, batch)
            kernel.update()
            # What optimizer.step() records for torch's LR schedulers (skorch's
            # LRScheduler): the kernel's update is the optimizer's step.
            self.optimizer_._opt_called = True
            # y_pred is the kernel's output buffer: valid until the next step
            # (_run_batches copies it for callbacks, which may keep it).
            return {"loss": loss, "y_pred": raw}

        def _kernel_closure_step(self, kernel: Any, batch: Any) -> dict[str, Any]:
            """LBFGS: torch's optimizer with the kernel computing loss and gradient."""
            X, (y, w) = batch
            first: list[dict[str, Any]] = []

            def closure() -> Tensor:
                loss, raw = kernel.loss_and_gradients(X, y, w)
                self._gradients_computed(kernel, batch)
                if not first:
                    first.append({"loss": loss, "y_pred": raw.clone()})
                return loss

            self.optimizer_.step(closure)
            return first[0]

        def _gradients_computed(self, kernel: Any, batch: Any) -> None:
            """skorch's ``on_grad_computed``, for callbacks that listen (gradient clipping)."""
            kernel.expose_gradients()
            base = Callback.on_grad_computed
            listeners = (getattr(type(cb), "on_grad_computed", base) for _, cb in self.callbacks_)
            if any(method is not base for method in listeners):
                self.notify(
                    "on_grad_computed",
                    named_parameters=TeeGenerator(self.get_all_learnable_params()),
                    batch=batch,
                    training=True,
                )

        def train_step_single(self, batch: Any, **fit_params: Any) -> dict[str, Any]:
            step = super().train_step_single(batch, **fit_params)
            if self.alpha and self.ranks_ is None:
                # The L2 term's gradient, alpha / sum(|w|) * W, added in one fused op: the
                # same update as differentiating the penalty, without its autograd graph
                # (a quarter of a small MLP's step at batch 256).
                scale = self._penalty_scale(batch[1], training=True)
                pairs = [(p.grad, p) for p in self.penalised_ if p.grad is not None]
                grads, weights = [g for g, _ in pairs], [p for _, p in pairs]
                with torch.no_grad():
                    if isinstance(scale, Tensor):
                        torch._foreach_add_(grads, torch._foreach_mul(weights, scale))
                    else:
                        torch._foreach_add_(grads, weights, alpha=scale)
                    squares = torch.stack(torch._foreach_norm(weights)).square().sum()
                    step["loss"] = step["loss"] + 0.5 * scale * squares
            if self.ranks_ is not None:
                # The history (epoch loss, stopping rule) and LBFGS's line search
                # must read the same number on every rank, or the ranks would part.
                step["loss"] = mean_loss_over_ranks(step["loss"])
            return step

        def _set_training(self, training: bool = True) -> None:
            # skorch sets the mode every step; walking the module tree each time
            # costs more than the step of a small MLP.
            if self.module_.training != training:
                super()._set_training(training)

        def forward_iter(self, X: Any, training: bool = False, device: str = "cpu"):
            # Outside skorch's prediction cache: the whole data set in one pass.
            inputs = X.X if isinstance(X, TrainingData) else X
            self._set_training(training)
            with torch.set_grad_enabled(training):
                yield self.infer(inputs).to(device)

        def _raw(self, X: Any) -> np.ndarray:
            return self.forward(X, training=False).detach().to("cpu", torch.float64).numpy()

        def predict_proba(self, X: Any) -> np.ndarray:
            """Class probabilities from the network's output, as the estimator gives them."""
            probabilities = self.owner_._proba_from_raw(self._raw(X))
            if probabilities.shape[1] == 1 and self.owner_.out_activation_ == "logistic":
                return np.hstack([1.0 - probabilities, probabilities])
            return probabilities

        def predict(self, X: Any) -> np.ndarray:
            """Predictions decoded from the network's output, as the estimator gives them."""
            raw = self._raw(X)
            if hasattr(self.owner_, "_labels_from_raw"):
                return self.owner_._labels_from_raw(raw)
            return self.owner_._prediction_from_raw(raw)

        @property
        def classes_(self) -> np.ndarray:
            return self.owner_.classes_

        def __sklearn_tags__(self):
            return self.owner_.__sklearn_tags__()

    return Net


# ------------------------------------------------------------ device and threads
def resolve_device(device: str) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU.

    CUDA means the GPUs this process is given (``CUDA_VISIBLE_DEVICES``, as a
    dask worker per GPU has), and under a data-parallel launcher the GPU of
    the process's ``LOCAL_RANK``.
    """
    if device == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        device = "cuda"
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        msg = f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        raise ValueError(msg)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        msg = f"device={device!r} was requested but CUDA is not available; use device='auto'"
        raise ValueError(msg)
    if resolved.type == "cuda" and resolved.index is None:
        return local_cuda_device()
    return resolved


def seed_from(random_state: np.random.RandomState) -> int:
    """A torch seed drawn from a numpy random state."""
    return int(random_state.randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for the block, then give the global RNG back untouched."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _thread_budget() -> int | None:
    """Threads allowed to this process, as set by a parallel launcher (joblib, dask)."""
    for name in ("SKLEARN_DLPP_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _dask_worker_threads()


def _dask_worker_threads() -> int | None:
    """The ``nthreads`` of the dask worker running this task, if any.

    A nanny sets ``OMP_NUM_THREADS=1`` in its worker's environment, but a worker
    started without one (``dask worker --no-nanny``, or a cluster whose
    ``distributed.nanny.pre-spawn-environ`` is changed) leaves torch with one
    thread per core in every worker process.
    """
    # Only a process that imported distributed can be a worker; never import it here.
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return int(distributed.get_worker().state.nthreads)
    except (ValueError, AttributeError):  # not inside a worker's task
        return None


@contextlib.contextmanager
def bounded_threads() -> Iterator[None]:
    """Keep torch's intra-op threads within the process budget for the block.

    joblib's workers (GridSearchCV(n_jobs=k)) receive ``OMP_NUM_THREADS`` =
    cores // k, but torch may already have picked its thread count; an
    oversubscribed 2-core machine was measured 10x slower.
    """
    budget = _thread_budget()
    if budget is None:
        yield
        return
    before = torch.get_num_threads()
    if budget >= before:
        yield
        return
    torch.set_num_threads(budget)
    try:
        yield
    finally:
        torch.set_num_threads(before)
