"""The shared estimator skeleton: validate -> seed -> build module -> train -> fitted attributes.

Subclasses say what their data and network are (``_build_module``,
``_loss_kind``, ``_score_raw``); the training itself, with scikit-learn's
semantics, runs in :mod:`sklearn_dlpp._engine`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from torch import Tensor, nn

from sklearn_dlpp import _engine
from sklearn_dlpp._batches import TrainingData
from sklearn_dlpp._compat import Interval, Options, StrOptions
from sklearn_dlpp._distributed import shared_seed_and_state
from sklearn_dlpp._engine import TrainingDivergedWarning
from sklearn_dlpp._model_protocol import ModelProtocol, OutputHead, label_binarizer
from sklearn_dlpp._runtime import bounded_threads, resolve_device, seed_from, torch_seeded
from sklearn_dlpp._spec import early_stopping_of

__all__ = ["BaseNeuralEstimator", "DeviceOutOfMemoryError", "TrainingDivergedWarning"]

_PREDICT_CHUNK = 1 << 16


class _DeviceString(StrOptions):
    """'auto', 'cpu', 'cuda' or 'cuda:N': checked with the other parameters, before fitting."""

    def __init__(self) -> None:
        super().__init__({"auto", "cpu", "cuda"})

    def is_satisfied_by(self, val: Any) -> bool:
        return isinstance(val, str) and re.fullmatch(r"auto|cpu|cuda(:\d+)?", val) is not None

    def __str__(self) -> str:
        return "a str among {'auto', 'cpu', 'cuda'} or 'cuda:N'"


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
    "device": [_DeviceString()],
    "callbacks": [list, None],
    "dtype": [StrOptions({"float32", "float64"}), None],
}


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
        if early_stopping_of(self):
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

    # -------------------------------------------------------------- training
    def _train(
        self,
        train: TrainingData,
        valid: TrainingData | None,
        n_inputs: int,
        n_outputs: int,
        *,
        incremental: bool,
    ) -> None:
        """Fit the network on ``train``; ``valid`` is scored for early stopping."""
        device = torch.device(self.device_)
        fresh = not hasattr(self, "module_") or not (self.warm_start or incremental)
        spec = _engine.make_spec(self, len(train), incremental=incremental, seed=self._seed_)
        try:
            with bounded_threads(), torch_seeded(self._seed_, device):
                if fresh:
                    self.module_ = self._build_module(n_inputs, n_outputs).to(device)
                    self._reset_training_state()
                    self.__dict__.pop("net_", None)
                _engine.fit(self, spec, train, valid)
        except torch.OutOfMemoryError as error:
            message = str(error)
        else:
            self.module_.eval()
            return
        # Raised outside the handler: torch's traceback, and the batch tensors its
        # frames hold, are released before the caller sees the error.
        self._out_of_memory(message, spec.batch_size)

    def _out_of_memory(self, message: str, batch_size: int) -> None:
        # No half-trained network: predict must not silently use one.
        for name in ("module_", "net_"):
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

    # --------------------------------------------- persistence and export
    def _protocol(self, level: str, n_inputs: Callable[[], int], **fields: Any) -> ModelProtocol:
        """``__sklearn_dlpp_model__``: ``fields`` and what every estimator shares.

        The network is ``_build_module(n_inputs(), n_outputs_)``; classifiers
        rebuild their label binarizer at :meth:`ModelProtocol.restore`.
        """
        classifier = isinstance(self, ClassifierMixin)

        def shape() -> tuple[int, int]:
            return n_inputs(), self.n_outputs_

        def binarizer() -> Any:
            return label_binarizer(
                self.classes_,
                self.out_activation_,
                self.n_outputs_,
                strict=getattr(self, "_strict_labels", False),
                sparse=bool(getattr(self, "_sparse_labels", False)),
            )

        def restore() -> None:
            if classifier:
                self._label_binarizer = binarizer()
            self._after_load()

        return ModelProtocol(
            level=level,
            classifier=classifier,
            validate_params=self._validate_params,
            shape=shape,
            build=lambda: self._build_module(*shape()),
            label_binarizer=binarizer if classifier else None,
            restore=restore,
            output=lambda: OutputHead(classifier, self.out_activation_, self.n_outputs_),
            **fields,
        )


def store_parameters(estimator: BaseEstimator, arguments: dict[str, Any]) -> None:
    """Keep each argument of ``__init__`` as the attribute of its name, as scikit-learn wants.

    ``arguments`` is ``locals()`` taken first thing in ``__init__``: ``self``
    (and the ``__class__`` cell of an ``__init__`` that calls ``super()``) are
    left out. The values are stored as given, without validation: scikit-learn
    checks them when ``fit`` starts (``_parameter_constraints``).
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
