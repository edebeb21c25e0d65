"""The skorch net the engine trains through: skorch's NeuralNet, specialised.

:func:`net_class` builds the class on the first fit, so that importing the
package does not import skorch. The net slices tensor batches itself, adds
scikit-learn's L2 penalty, trains data-parallel under
:func:`sklearn_dlpp.data_parallel`, hands dense networks' steps to
:mod:`sklearn_dlpp._dense_kernel`, and predicts through the estimator that owns
it (so that skorch's scoring callbacks and scikit-learn's scorers work on it).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sklearn_dlpp import _dense_kernel
from sklearn_dlpp._batches import SliceBatches, TrainingData
from sklearn_dlpp._distributed import (
    mean_loss_over_ranks,
    process_group,
    wrap_for_data_parallel,
)
from sklearn_dlpp._losses import WeightedLoss, weight_matrices
from sklearn_dlpp._model_protocol import binary_proba

__all__ = ["net_class"]


@functools.cache
def net_class() -> type:
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
                return binary_proba(probabilities)
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
