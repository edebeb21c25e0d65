"""The training engine: the one home of the training loop, run through skorch.

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

The engine's parts live in their own modules: the spec in
:mod:`sklearn_dlpp._spec`, scikit-learn's stopping rules and rate schedules in
:mod:`sklearn_dlpp._stopping`, the skorch net in :mod:`sklearn_dlpp._net`, and
devices, seeds and threads in :mod:`sklearn_dlpp._runtime`; their names used
elsewhere are importable from here too.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import Tensor, nn

from sklearn_dlpp._batches import SliceBatches, TrainingData
from sklearn_dlpp._losses import WeightedLoss, mean_loss, per_sample_loss, weight_matrices
from sklearn_dlpp._net import net_class
from sklearn_dlpp._runtime import bounded_threads, resolve_device, seed_from, torch_seeded
from sklearn_dlpp._spec import Spec, make_spec
from sklearn_dlpp._stopping import (
    schedule_learning_rate,
    trigger_stopping,
    update_no_improvement_count,
    validation_score,
)

# The names of the engine's modules, importable from here as before.
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
    net = net_class()(
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
                score = validation_score(owner, valid, raw_val)
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
            if update_no_improvement_count(owner, net, spec, valid, raw_val, score):
                best_state = _snapshot(module)
            schedule_learning_rate(owner, net, spec)
            if _stopped_by_callback(net, dataset_train=train, dataset_valid=valid):
                break
            if owner._no_improvement_count > spec.n_iter_no_change:
                if trigger_stopping(net, spec):
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


def _snapshot(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _epoch_loss(net: Any) -> float:
    """The epoch's loss: the batch losses averaged with batch sizes as weights."""
    batches = net.history[-1, "batches"]
    losses = np.array([b["train_loss"] for b in batches])
    sizes = np.array([b["train_batch_size"] for b in batches])
    return np.float64(np.dot(losses, sizes) / sizes.sum())
