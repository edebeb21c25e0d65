"""Shared machinery of the dense (feature-vector) estimators: input checks, tensors, heads."""

from __future__ import annotations

import copy
from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import Tensor, nn

from sklearn_dlpp._base import BaseNeuralEstimator
from sklearn_dlpp._dense_kernel import predict_raw
from sklearn_dlpp._engine import TrainingData, bounded_threads
from sklearn_dlpp._outputs import FLOAT32_MAX, check_weights

ACTIVATIONS = {"identity": nn.Identity, "logistic": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
_NUMPY_ACTIVATIONS = {
    "identity": None,
    "logistic": lambda h: np.exp(-np.logaddexp(0.0, -h)).astype(h.dtype),
    "tanh": np.tanh,
    "relu": lambda h: np.maximum(h, 0, out=h),
}
# Up to this many rows on the CPU, predictions run through numpy (see _numpy_forward).
_NUMPY_ROWS = 64
# Rows per chunk and thread of a bulk CPU prediction: a hidden layer's activations
# stay in cache, and each thread gets this much work per parallel region.
_CPU_PREDICT_ROWS = 4096


class DenseNetwork(nn.Sequential):
    """``nn.Sequential`` whose forward calls each layer's ``forward`` directly.

    Skipping ``Module.__call__`` (hooks, tracing checks) for the layers saves a
    few microseconds each, which is a tenth of a small MLP's training step. The
    layers are plain torch layers, so no hook is lost; the module itself keeps
    its hooks (DistributedDataParallel, user hooks on the whole network).
    """

    # The forward is the plain chain of layers: _dense_kernel may compute it.
    _plain_sequential = True

    def forward(self, x: Tensor) -> Tensor:
        for layer in self:
            x = layer.forward(x)
        return x

    def __getstate__(self) -> dict[str, Any]:
        # Trained by _dense_kernel, the parameters are views of one flat buffer;
        # pickled or deep-copied as they are, each would carry the whole buffer.
        state = super().__getstate__()
        state["_modules"] = {name: _compact(layer) for name, layer in self._modules.items()}
        return state


def _compact(layer: nn.Module) -> nn.Module:
    """``layer``, or a shallow copy whose parameters own just their own memory."""
    params = layer._parameters
    if not any(p is not None and _is_view(p) for p in params.values()):
        return layer
    copied = copy.copy(layer)
    copied._parameters = {
        name: nn.Parameter(p.detach().clone(), p.requires_grad)
        if p is not None and _is_view(p)
        else p
        for name, p in params.items()
    }
    return copied


def _is_view(t: Tensor) -> bool:
    return t.untyped_storage().nbytes() != t.numel() * t.element_size()


def dense_network(layer_units: list[int], activation: str, dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with ``activation`` between them and no output activation.

    The output activation (sigmoid, softmax, exp) lives in the loss and in
    ``predict_proba``, where it can be computed stably from the raw output.
    """
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(pairwise(layer_units)):
        if i > 0:
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(fan_in, fan_out))
    _glorot_uniform(layers, activation)
    return DenseNetwork(*layers)


def _glorot_uniform(layers: list[nn.Module], activation: str) -> None:
    # scikit-learn's initialisation (Glorot et al.), so equal settings train alike.
    factor = 2.0 if activation == "logistic" else 6.0
    with torch.no_grad():
        for layer in layers:
            if isinstance(layer, nn.Linear):
                bound = (factor / (layer.in_features + layer.out_features)) ** 0.5
                layer.weight.uniform_(-bound, bound)
                layer.bias.uniform_(-bound, bound)


class BaseDense(BaseNeuralEstimator):
    """Feature-vector estimators: X of shape (n_samples, n_features)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(s <= 0 for s in sizes):
            msg = f"hidden_layer_sizes must be > 0, got {sizes}."
            raise ValueError(msg)
        return sizes

    def _build_module(self, n_inputs: int, n_outputs: int) -> nn.Module:
        units = [n_inputs, *self._hidden_sizes(), n_outputs]
        self.n_layers_ = len(units)
        self.n_outputs_ = n_outputs
        network = dense_network(units, self.activation, getattr(self, "dropout", 0.0))
        return network.to(self._torch_dtype)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``coefs_[i]`` of shape (units in layer i, units in layer i+1)."""
        check_is_fitted(self, "module_")
        return [_numpy(m.weight).T for m in self._linears()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape (units in layer i+1,)."""
        check_is_fitted(self, "module_")
        return [_numpy(m.bias) for m in self._linears()]

    def _linears(self) -> list[nn.Linear]:
        return [m for m in self.module_ if isinstance(m, nn.Linear)]

    def _check_X(self, X: Any, *, reset: bool, y: Any = "no_validation") -> Any:
        kwargs = {"accept_sparse": ["csr", "csc"], "dtype": (np.float64, np.float32)}
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, reset=reset, **kwargs)
            _check_float32_range(X, self.dtype)
            return X
        X, y = validate_data(self, X, y, reset=reset, multi_output=True, **kwargs)
        _check_float32_range(X, self.dtype)
        return X, y

    @property
    def _torch_dtype(self) -> torch.dtype:
        return torch.float64 if self.dtype == "float64" else torch.float32

    def _tensor(self, X: Any) -> Tensor:
        if sp.issparse(X):
            X = X.toarray()
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not X.flags.writeable:
            # torch cannot wrap read-only memory (memmaps); the copy never reaches the user.
            X = X.copy()
        return torch.from_numpy(X).to(self.device_)

    def _fit(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any = None):
        if self.early_stopping and incremental:
            msg = "partial_fit does not support early_stopping=True"
            raise ValueError(msg)
        first = not hasattr(self, "module_") or not (self.warm_start or incremental)
        X, y = self._check_X(X, reset=first, y=y)
        if X.shape[0] == 0:
            msg = "Found array with 0 sample(s) while a minimum of 1 is required."
            raise ValueError(msg)
        uniform = sample_weight is None
        # Training updates the weights in place, where a parameter's version need not
        # change (see _dense_kernel): the numpy copies are rebuilt after the fit.
        self.__dict__.pop("_numpy_cache", None)
        sample_weight = check_weights(sample_weight, X)
        targets = self._encode_targets(y, first=first, incremental=incremental, classes=classes)
        self._resolve_device()
        self._seed(incremental)
        valid = None
        if self.early_stopping and self.solver != "lbfgs":
            X, X_val, targets, _, y, y_val, sample_weight, w_val = self._split(
                X, targets, y, sample_weight
            )
            valid = (self._tensor(X_val), y_val, w_val)
        train = TrainingData(
            self._tensor(X),
            torch.as_tensor(targets, dtype=self._torch_dtype).to(self.device_),
            # Without weights the loss is a plain mean: cheaper, and the same number.
            None
            if uniform
            else torch.as_tensor(sample_weight, dtype=self._torch_dtype).to(self.device_),
        )
        self._train(train, valid, X.shape[1], targets.shape[1], incremental=incremental)
        self._cache_numpy_layers()
        return self

    def _split(self, X, targets, y, sample_weight):
        # Stratified for single-output classifiers (multi-label y is 2-D: not stratified).
        stratify = y if isinstance(self, ClassifierMixin) and y.ndim == 1 else None
        parts = train_test_split(
            X,
            targets,
            y,
            sample_weight,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if parts[1].shape[0] < 2:
            msg = (
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
            raise ValueError(msg)
        X_tr, X_val, t_tr, t_val, y_tr, y_val, w_tr, w_val = parts
        return X_tr, X_val, t_tr, t_val, y_tr, y_val, w_tr, w_val

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "module_")
        X = self._check_X(X, reset=False)
        if X.shape[0] <= _NUMPY_ROWS and self.device_ == "cpu" and not sp.issparse(X):
            return self._numpy_forward(X)
        return self._raw_output(self._tensor(X))

    def _raw_output(self, X: Any) -> np.ndarray:
        """Raw outputs; on the CPU, chunk by chunk into preallocated buffers (see predict_raw)."""
        if isinstance(X, Tensor) and X.device.type == "cpu":
            module = self.module_
            if module.training:
                module.eval()
            with bounded_threads(), torch.inference_mode():
                raw = predict_raw(module, X, _CPU_PREDICT_ROWS * torch.get_num_threads())
            if raw is not None:
                return raw.numpy().astype(np.float64)
        return super()._raw_output(X)

    def _numpy_forward(self, X: np.ndarray) -> np.ndarray:
        """The network in numpy, for a few rows on the CPU.

        torch's per-module dispatch costs ~60 us for a 3-layer MLP, four times
        the arithmetic of one row; scikit-learn's single-row latency is the bar.
        It computes in float64 on exact float64 copies of the weights: BLAS may
        sum a row in another order depending on how many rows come with it
        (small-matrix kernels), and in float32 that shows as row-dependent
        rounding (scikit-learn's subset-invariance check). Results agree with
        the float32 torch path to float32 rounding.
        """
        h = np.asarray(X, dtype=np.float64)
        for weight, bias, activation in self._numpy_layers():
            h = h @ weight + bias
            if activation is not None:
                h = activation(h)
        return h

    def _numpy_layers(self) -> list[tuple[np.ndarray, np.ndarray, Any]]:
        cached = getattr(self, "_numpy_cache", None)
        if cached is not None and cached[0] == self._weights_version():
            return cached[1]
        return self._copy_numpy_layers()

    def _weights_version(self) -> tuple[Any, ...]:
        # Parameter versions change with every in-place update (training, or a
        # user editing module_), so a cached copy can never go stale.
        params = [p for m in self._linears() for p in (m.weight, m.bias)]
        return (id(self.module_), *(p._version for p in params))

    def _after_load(self) -> None:
        self._cache_numpy_layers()

    def _cache_numpy_layers(self) -> None:
        """Copy the weights for the numpy path once per fit (predict must not change state)."""
        self._numpy_cache = (self._weights_version(), self._copy_numpy_layers())

    def _copy_numpy_layers(self) -> list[tuple[np.ndarray, np.ndarray, Any]]:
        linears = self._linears()
        layers = []
        for i, m in enumerate(linears):
            last = i == len(linears) - 1
            layers.append(
                (
                    m.weight.detach().cpu().double().numpy().T.copy(),
                    m.bias.detach().cpu().double().numpy().copy(),
                    None if last else _NUMPY_ACTIVATIONS[self.activation],
                )
            )
        return layers


def _check_float32_range(X: Any, dtype: str) -> None:
    """Refuse float64 values that the float32 network would see as infinite."""
    values = X.data if sp.issparse(X) else X
    if dtype != "float32" or values.dtype != np.float64 or not values.size:
        return
    if values.max() > FLOAT32_MAX or values.min() < -FLOAT32_MAX:
        msg = (
            "X has values beyond the float32 range (|x| > 3.4e38) that the network would "
            "see as infinite; scale X (StandardScaler) or use dtype='float64'."
        )
        raise ValueError(msg)


def _numpy(t: Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy().copy()
