"""The training engine: the only module that knows skorch.

Estimators hand it tensors (or packed graphs) that already live on the training
device; it cuts batches by slicing them, never through a per-sample
``Dataset``/``DataLoader`` (measured 3.5x slower than a plain PyTorch loop).
skorch runs the epoch: batches, history, callbacks, user callbacks.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer
from skorch.utils import TeeGenerator
from torch import Tensor, nn

from sklearn_dlpp import _dense_kernel
from sklearn_dlpp._distributed import (
    data_parallel,
    local_cuda_device,
    mean_loss_over_ranks,
    process_group,
    shard,
)


@dataclass(frozen=True)
class TrainingData:
    """Inputs, targets and sample weights, on the training device.

    ``X`` is a tensor or any object with ``__len__`` and ``select(index)``
    (a :class:`~sklearn_dlpp.graph.GraphBatch`).
    """

    X: Any
    y: Tensor
    sample_weight: Tensor | None = None

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: Tensor | slice) -> tuple[Any, tuple[Tensor, Tensor | None]]:
        if isinstance(self.X, Tensor):
            Xb = self.X[index]
        else:
            if isinstance(index, slice):
                index = torch.arange(len(self))[index]
            Xb = self.X.select(index)
        w = None if self.sample_weight is None else self.sample_weight[index]
        return Xb, (self.y[index], w)

    def permuted(self, order: Tensor) -> TrainingData:
        """The same data in the order ``order`` (tensor inputs only)."""
        w = None if self.sample_weight is None else self.sample_weight[order]
        return TrainingData(self.X[order], self.y[order], w)


# Dense inputs up to this size are re-ordered once per epoch rather than gathered per batch.
_PRESHUFFLE_BYTES = 1 << 30


class SliceBatches:
    """Batches cut from :class:`TrainingData` by index, reshuffled each pass.

    With ``ranks=(rank, world_size)`` (data-parallel training) every rank draws
    the same permutation and keeps its shard of it, in batches of
    ``ceil(batch_size / world_size)``: each optimiser step still sees about
    ``batch_size`` samples in all, so hyperparameters mean the same on any
    number of processes.
    """

    def __init__(
        self,
        data: TrainingData,
        batch_size: int,
        *,
        shuffle: bool,
        generator: torch.Generator | None,
        ranks: tuple[int, int] | None = None,
    ) -> None:
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.ranks = ranks

    def __len__(self) -> int:
        if self.ranks is not None:
            per_rank = -(-len(self.data) // self.ranks[1])
            return -(-per_rank // self._rank_batch_size())
        return -(-len(self.data) // self.batch_size)

    def _rank_batch_size(self) -> int:
        return -(-self.batch_size // self.ranks[1])

    def __iter__(self) -> Iterator[tuple[Any, tuple[Tensor, Tensor]]]:
        n = len(self.data)
        device = self.data.y.device
        if self.ranks is not None:
            yield from self._shard_batches(n, device)
            return
        if self.shuffle:
            # The permutation is drawn on the CPU generator so that CPU and CUDA
            # fits see the same batches for the same random_state.
            order = torch.randperm(n, generator=self.generator).to(device)
            data = self.data
            if isinstance(data.X, Tensor) and data.X.nbytes <= _PRESHUFFLE_BYTES:
                # One gather per epoch, then views: the same batches as gathering
                # each batch (bit for bit), without a small gather per step.
                data, order = data.permuted(order), None
            for start in range(0, n, self.batch_size):
                if order is None:
                    yield data.take(slice(start, start + self.batch_size))
                else:
                    yield data.take(order[start : start + self.batch_size])
        else:
            for start in range(0, n, self.batch_size):
                yield self.data.take(slice(start, start + self.batch_size))

    def _shard_batches(
        self, n: int, device: torch.device
    ) -> Iterator[tuple[Any, tuple[Tensor, Tensor]]]:
        rank, world_size = self.ranks
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        mine = shard(order, rank, world_size).to(device)
        size = self._rank_batch_size()
        for start in range(0, len(mine), size):
            yield self.data.take(mine[start : start + size])


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
    """Weighted mean of :func:`per_sample_loss`, normalised by the sum of weights."""

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


class Net(NeuralNet):
    """skorch's NeuralNet with tensor-slicing batches and an L2 penalty like scikit-learn's.

    The penalty is ``alpha / 2 * sum(W**2) / sum(w_batch)`` over the weight
    matrices (not the biases), which is what scikit-learn's MLPs minimise.
    Under an initialised ``torch.distributed`` process group it trains
    data-parallel (see :mod:`sklearn_dlpp._distributed`).
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
        # (scikit-learn's semantics); skorch keeps the history and the timer.
        return [("epoch_timer", EpochTimer())]

    def initialize(self) -> Net:
        super().initialize()
        # Data-parallel ranks cut the same permutation: the estimator passes
        # the same seed on every rank (see BaseNeuralEstimator._seed).
        self.batch_generator_ = torch.Generator().manual_seed(self.seed)
        self.penalised_ = weight_matrices(self.module_)
        self.ranks_ = process_group()
        # module_ stays the plain module (predictions, pickling, user code);
        # the wrapper only averages gradients during training. Set past
        # skorch's __setattr__, which would register it as a second module.
        object.__setattr__(self, "data_parallel_", data_parallel(self.module_))
        # Dense networks train through backpropagation written out (see _dense_kernel);
        # None where autograd runs the step.
        kernel = None
        if self.ranks_ is None and isinstance(self.criterion_, WeightedLoss):
            kernel = _dense_kernel.attach(
                self.module_, self.criterion_.kind, self.alpha, self.optimizer_
            )
        object.__setattr__(self, "kernel_", kernel)
        return self

    def check_data(self, X: Any, y: Any = None) -> None:
        """Data arrive validated and on the device."""

    def get_split_datasets(self, X: Any, y: Any = None, **fit_params: Any) -> tuple[Any, None]:
        # Validation is scored by the estimator, with its own metric.
        return X, None

    def get_iterator(self, dataset: Any, training: bool = False) -> SliceBatches:
        return SliceBatches(
            dataset,
            self.batch_size,
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

    def run_single_epoch(
        self, iterator: Any, training: bool, prefix: str, step_fn: Any, **fit_params: Any
    ) -> None:
        threads = torch.get_num_threads()
        kernel = self.kernel_
        if not training or threads == 1 or kernel is None or not kernel.serial(self.batch_size):
            super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
            return
        # Small steps run on one thread (see _dense_kernel._SERIAL_ELEMENTS).
        torch.set_num_threads(1)
        try:
            super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        finally:
            torch.set_num_threads(threads)

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
        # y_pred is the kernel's output buffer: valid until the next step (callbacks
        # that keep it across batches must copy it).
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
        """skorch's ``on_grad_computed``, for callbacks that listen to it (gradient clipping)."""
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


def weight_matrices(module: nn.Module) -> list[Tensor]:
    """The weight matrices that the L2 penalty applies to: every Linear's weight."""
    return [m.weight for m in module.modules() if isinstance(m, nn.Linear)]


_SOLVER_DEFAULTS = {
    "momentum": 0.9,
    "nesterovs_momentum": True,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
    "max_fun": 15000,
}


def make_optimizer(estimator: Any) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
    """Map scikit-learn's solver parameters to a torch optimizer and its arguments."""
    # Estimators without a parameter (the perceptron has no beta_1) get scikit-learn's default.
    defaults = {**_SOLVER_DEFAULTS, **getattr(estimator, "_solver_defaults", {})}
    get = {**defaults, **estimator.get_params(deep=False)}.__getitem__
    if estimator.solver == "adam":
        kwargs = {
            "lr": get("learning_rate_init"),
            "betas": (get("beta_1"), get("beta_2")),
            "eps": get("epsilon"),
            **_fused(),
        }
        return torch.optim.Adam, kwargs
    if estimator.solver == "sgd":
        momentum = get("momentum")
        kwargs = {
            "lr": get("learning_rate_init"),
            "momentum": momentum,
            "nesterov": bool(get("nesterovs_momentum") and momentum > 0),
            **_fused(),
        }
        return torch.optim.SGD, kwargs
    kwargs = {
        "lr": 1.0,
        "max_iter": get("max_iter"),
        "max_eval": get("max_fun"),
        "tolerance_grad": get("tol"),
        "tolerance_change": 0.0,
        "history_size": 10,
        "line_search_fn": "strong_wolfe",
    }
    return torch.optim.LBFGS, kwargs


def _fused() -> dict[str, bool]:
    """Fused optimizer steps where torch has them: one kernel instead of one per tensor."""
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices
    except ImportError:  # older torch
        return {}
    return {"fused": True} if "cpu" in _get_fused_kernels_supported_devices() else {}


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
