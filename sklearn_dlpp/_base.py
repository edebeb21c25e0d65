"""The shared estimator skeleton: validate -> seed -> build module -> train -> fitted attributes.

Subclasses say what their data and network are (``_build_module``,
``_loss_kind``, ``_score_raw``); this module runs scikit-learn's training
semantics (loss curve, ``tol``/``n_iter_no_change``, early stopping with the best
weights restored, learning-rate schedules, ``warm_start``, ``partial_fit``)
on top of the skorch engine.
"""

from __future__ import annotations

import copy
import re
import time
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from torch import Tensor, nn

from sklearn_dlpp._distributed import mean_over_ranks, shared_seed_and_state
from sklearn_dlpp._engine import (
    Net,
    TrainingData,
    WeightedLoss,
    bounded_threads,
    make_optimizer,
    resolve_device,
    seed_from,
    torch_seeded,
)

_PREDICT_CHUNK = 1 << 16

# The training parameters every estimator shares, checked by scikit-learn's machinery.
TRAINING_CONSTRAINTS: dict[str, list[Any]] = {
    "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "device": [str],
    "callbacks": [list, None],
    "dtype": [StrOptions({"float32", "float64"})],
}


class TrainingDivergedWarning(UserWarning):
    """The training loss became NaN or infinite; the last finite weights were kept."""


class DeviceOutOfMemoryError(torch.OutOfMemoryError, MemoryError):
    """Training ran out of device memory; the estimator was left unfitted."""


_ALLOCATION = re.compile(r"Tried to allocate ([\d.]+ [KMGTP]?i?B)")


class BaseNeuralEstimator(BaseEstimator):
    """Training loop shared by every estimator of the package (private base).

    Subclasses provide ``_build_module(n_inputs, n_outputs)``, ``_loss_kind()``
    and ``_score_raw(raw, y, sample_weight)`` (the validation score from raw
    network outputs), and store the training parameters under scikit-learn's
    names (``solver``, ``learning_rate_init``, ``max_iter``, ``tol`` ...).
    """

    # Rows per forward pass at predict time.
    _predict_chunk = _PREDICT_CHUNK

    # ----------------------------------------------------------------- state
    def _reset_training_state(self) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        if self.solver == "lbfgs":
            return
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _seed(self, incremental: bool) -> int:
        """Draw the torch seed of this fit from ``random_state`` (kept by ``partial_fit``)."""
        if incremental and hasattr(self, "_seed_"):
            return self._seed_
        self._random_state = check_random_state(self.random_state)
        self._seed_ = seed_from(self._random_state)
        self._seed_, shared_state = shared_seed_and_state(self._seed_)
        if shared_state is not None:
            # Data-parallel ranks: rank 0's draw decides the validation split too,
            # on every rank (rank 0's own state may be numpy's global one).
            self._random_state = shared_state
        return self._seed_

    def _batch_size(self, n_samples: int) -> int:
        if self.solver == "lbfgs":
            return n_samples
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. "
                "It is going to be clipped",
                UserWarning,
                stacklevel=4,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    # -------------------------------------------------------------- training
    def _train(
        self,
        train: TrainingData,
        valid: tuple[Any, np.ndarray, np.ndarray | None] | None,
        n_inputs: int,
        n_outputs: int,
        *,
        incremental: bool,
    ) -> None:
        """Fit the network on ``train``; ``valid`` is (inputs, targets, weights) to score."""
        device = torch.device(self.device_)
        fresh = not hasattr(self, "module_") or not (self.warm_start or incremental)
        try:
            with bounded_threads(), torch_seeded(self._seed_, device):
                if fresh:
                    self.module_ = self._build_module(n_inputs, n_outputs).to(device)
                    self._reset_training_state()
                if fresh or not incremental or not hasattr(self, "net_"):
                    self.net_ = self._make_net(len(train))
                if self.solver == "lbfgs":
                    self._run_lbfgs(train)
                else:
                    self._run_epochs(train, valid, incremental=incremental)
        except torch.OutOfMemoryError as error:
            message = str(error)
        else:
            self.module_.eval()
            return
        # Raised outside the handler: torch's traceback, and the batch tensors its
        # frames hold, are released before the caller sees the error.
        self._out_of_memory(message, len(train))

    def _out_of_memory(self, message: str, n_samples: int) -> None:
        net = getattr(self, "net_", None)
        batch_size = net.batch_size if net is not None else self._batch_size(n_samples)
        # No half-trained network: predict must not silently use one.
        for name in ("module_", "net_", "_best_state"):
            self.__dict__.pop(name, None)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        needed = _ALLOCATION.search(message)
        asked = f"torch asked for {needed.group(1)} more" if needed else "torch ran out of memory"
        msg = (
            f"{self.device_} ran out of memory training with batch_size={batch_size}: {asked} "
            f"({message.splitlines()[0]}). Lower batch_size (e.g. {max(1, batch_size // 2)}) "
            "or the network size; the estimator was left unfitted."
        )
        raise DeviceOutOfMemoryError(msg)

    def _make_net(self, n_samples: int) -> Net:
        optimizer, kwargs = make_optimizer(self)
        lr = kwargs.pop("lr")
        net = Net(
            module=self.module_,
            criterion=WeightedLoss,
            criterion__kind=self._loss_kind(),
            optimizer=optimizer,
            lr=lr,
            batch_size=self._batch_size(n_samples),
            max_epochs=1,
            train_split=None,
            callbacks=list(getattr(self, "callbacks", None) or []),
            device=self.device_,
            verbose=0,
            alpha=self.alpha,
            shuffle=getattr(self, "shuffle", True),
            seed=self._seed_,
            **{f"optimizer__{k}": v for k, v in kwargs.items()},
        )
        net.initialize()
        net.notify("on_train_begin")
        return net

    def _run_lbfgs(self, train: TrainingData) -> None:
        net = self.net_
        net.batch_size = len(train)
        try:
            net.fit_loop(train, epochs=1)
        except KeyboardInterrupt:
            self._interrupted()
        state = next(iter(net.optimizer_.state.values()), {})
        self.n_iter_ = int(state.get("n_iter", 0))
        self.t_ = len(train) * self.n_iter_
        self.loss_ = self._full_loss(train)
        if not np.isfinite(self.loss_):
            msg = "lbfgs reached a non-finite loss; try a larger alpha or scaled inputs"
            raise FloatingPointError(msg)
        if self.n_iter_ >= self.max_iter:
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                "(status=1): STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT. "
                "Increase the number of iterations to improve the convergence "
                f"(max_iter={self.max_iter}).",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _full_loss(self, train: TrainingData) -> float:
        with torch.no_grad():
            raw = self.module_(train.X)
            return float(self.net_.get_loss(raw, (train.y, train.sample_weight)))

    def _run_epochs(
        self,
        train: TrainingData,
        valid: tuple[Any, np.ndarray, np.ndarray | None] | None,
        *,
        incremental: bool,
    ) -> None:
        net = self.net_
        n_samples = len(train)
        epochs = 1 if incremental else self.max_iter
        # Weights to fall back on, oldest first: the start and the last two epochs
        # with a finite loss (an epoch's mean loss can be finite while its last
        # step already ruined the weights).
        start = _snapshot(self.module_)
        fallbacks = [start]
        self._best_state = start if self.early_stopping else None
        diverged = False
        try:
            for _ in range(epochs):
                started = time.perf_counter()
                net.fit_loop(train, epochs=1)
                loss = _epoch_loss(net)
                raw_val = None
                if np.isfinite(loss) and self.early_stopping:
                    raw_val = self._raw_output(valid[0])
                if not np.isfinite(loss) or (
                    raw_val is not None and not np.isfinite(raw_val).all()
                ):
                    diverged = True
                    self._diverged(fallbacks, train)
                    break
                fallbacks = [start, *fallbacks[1:][-1:], _snapshot(self.module_)]
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_ = loss
                self.loss_curve_.append(loss)
                self._update_no_improvement_count(valid, raw_val)
                self._report_epoch(time.perf_counter() - started)
                self._schedule_learning_rate()
                if self._no_improvement_count > self.n_iter_no_change:
                    if self._trigger_stopping():
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
            # The last step can ruin the weights without a non-finite epoch loss: one
            # forward pass per fit checks (not per partial_fit call, which streams).
            finite = diverged or self.early_stopping or incremental
            if not finite and not self._outputs_finite(train.X):
                self._diverged(fallbacks, train)
        except KeyboardInterrupt:
            # Documented: an interrupted fit leaves a usable estimator with the
            # weights reached (the best ones when early stopping).
            self._interrupted()
        if self.early_stopping and self._best_state is not None:
            self.module_.load_state_dict(self._best_state)
        self._best_state = None

    def _interrupted(self) -> None:
        warnings.warn(
            f"fit interrupted after {self.n_iter_} epoch(s); the estimator keeps "
            "the weights reached so far",
            UserWarning,
            stacklevel=5,
        )

    def _outputs_finite(self, X: Any) -> bool:
        return bool(np.isfinite(self._raw_output(X)).all())

    def _diverged(self, fallbacks: list[dict[str, Tensor]], train: TrainingData) -> None:
        if not self.early_stopping:  # with early stopping the best state is restored anyway
            for state in reversed(fallbacks):
                self.module_.load_state_dict(state)
                if self._outputs_finite(train.X):
                    break
        # The optimizer's moments are poisoned too: the next partial_fit starts afresh.
        self.__dict__.pop("net_", None)
        warnings.warn(
            f"The training loss became NaN or infinite in epoch {self.n_iter_ + 1}; "
            "training stopped and the estimator keeps the weights of the last epoch with "
            "finite outputs (the best by validation score with early_stopping). Lower "
            "learning_rate_init, scale the inputs (StandardScaler) or raise alpha.",
            TrainingDivergedWarning,
            stacklevel=5,
        )

    def _update_no_improvement_count(
        self,
        valid: tuple[Any, np.ndarray, np.ndarray | None] | None,
        raw_val: np.ndarray | None = None,
    ) -> None:
        if self.early_stopping:
            _, y_val, w_val = valid
            # Averaged over data-parallel ranks: all take the same stopping decision.
            score = mean_over_ranks(self._score_raw(raw_val, y_val, w_val))
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_state = _snapshot(self.module_)
            return
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

    def _report_epoch(self, seconds: float) -> None:
        if not self.verbose:
            return
        line = f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}"
        if self.early_stopping:
            line += f", validation score = {self.validation_scores_[-1]:.6f}"
        print(f"{line}, time = {seconds:.2f}s")

    def _current_lr(self) -> float:
        return self.net_.optimizer_.param_groups[0]["lr"]

    def _set_lr(self, lr: float) -> None:
        for group in self.net_.optimizer_.param_groups:
            group["lr"] = lr

    def _schedule_learning_rate(self) -> None:
        if self.solver == "sgd" and getattr(self, "learning_rate", "constant") == "invscaling":
            self._set_lr(self.learning_rate_init / (self.t_ + 1) ** self.power_t)

    def _trigger_stopping(self) -> bool:
        """scikit-learn's rule: stop, except that adaptive SGD first divides its rate by 5."""
        what = "Validation score" if self.early_stopping else "Training loss"
        if self.verbose:
            print(
                f"{what} did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs."
            )
        adaptive = self.solver == "sgd" and getattr(self, "learning_rate", "") == "adaptive"
        if not adaptive or self._current_lr() <= 1e-6:
            return True
        self._set_lr(self._current_lr() / 5.0)
        if self.verbose:
            print(f"Setting learning rate to {self._current_lr():f}")
        return False

    # ------------------------------------------------------------ prediction
    def _raw_output(self, X: Any) -> np.ndarray:
        """Raw network outputs (before the output activation) as float64 numpy."""
        module = self.module_
        if module.training:
            module.eval()
        n = len(X)
        chunk_size = self._predict_chunk
        with bounded_threads(), torch.inference_mode():
            if n <= chunk_size:
                # The common case, kept lean: single-row latency is dominated by overhead.
                return module(X).cpu().numpy().astype(np.float64)
            outputs = []
            for start in range(0, n, chunk_size):
                if isinstance(X, Tensor):
                    chunk = X[start : start + chunk_size]
                else:
                    chunk = X.select(torch.arange(start, min(n, start + chunk_size)))
                outputs.append(module(chunk).cpu())
            return torch.cat(outputs).numpy().astype(np.float64)

    def _resolve_device(self) -> None:
        self.device_ = str(resolve_device(self.device))

    # ------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        # A copy: scikit-learn's __getstate__ returns the estimator's own __dict__
        # (Python >= 3.11), so popping from it would strip the pickled estimator.
        state = dict(super().__getstate__())
        # The module travels on the CPU so that a CUDA fit loads on a CPU-only
        # machine; the skorch net (optimizer moments for partial_fit) stays behind.
        state.pop("net_", None)
        state.pop("_best_state", None)
        state.pop("_numpy_cache", None)
        module = state.get("module_")
        if (
            isinstance(module, nn.Module)
            and torch.device(state.get("device_", "cpu")).type != "cpu"
        ):
            state["module_"] = copy.deepcopy(module).cpu()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if isinstance(getattr(self, "module_", None), nn.Module):
            if torch.device(self.device_).type == "cuda" and not torch.cuda.is_available():
                self.device_ = "cpu"
            self.module_.to(self.device_)
            self._after_load()

    def _after_load(self) -> None:
        """Rebuild derived state after unpickling (subclasses override)."""


def _snapshot(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _epoch_loss(net: Net) -> float:
    """The epoch's loss: the batch losses averaged with batch sizes as weights."""
    batches = net.history[-1, "batches"]
    losses = np.array([b["train_loss"] for b in batches])
    sizes = np.array([b["train_batch_size"] for b in batches])
    return float(np.dot(losses, sizes) / sizes.sum())
