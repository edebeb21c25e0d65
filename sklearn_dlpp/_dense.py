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
from sklearn_dlpp._batches import TrainingData
from sklearn_dlpp._dense_layers import predict_raw
from sklearn_dlpp._model_protocol import ModelProtocol, count_dense_tensors, dense_example
from sklearn_dlpp._outputs import FLOAT32_MAX, check_weights
from sklearn_dlpp._parallel import finite_sums
from sklearn_dlpp._runtime import bounded_threads
from sklearn_dlpp.nn import ACTIVATIONS

_NUMPY_ACTIVATIONS = {
    "identity": None,
    "logistic": lambda h: np.exp(-np.logaddexp(0.0, -h)).astype(h.dtype),
    "tanh": np.tanh,
    "relu": lambda h: np.maximum(h, 0, out=h),
}
# Up to this many rows on the CPU, predictions run through numpy (see _numpy_forward),
# for networks up to this many parameters (their float64 copy is made per call).
_NUMPY_ROWS = 64
_NUMPY_MAX_PARAMETERS = 1 << 17
# Rows per chunk of a bulk CPU prediction, each thread taking the next chunk: for
# 1,000,000 rows x 20 through (64, 64), chunks of 256-2,048 rows were no faster
# (they pay more Python per row than they gain in cache).
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


def _live_parameters(name: str, *, transpose: bool, doc: str) -> property:
    """``coefs_`` (``name='weight'``) or ``intercepts_`` (``'bias'``): live numpy views, both ways.

    Reading gives the ``name`` parameter of every linear layer as numpy views
    (:class:`_LiveWeights`, transposed to scikit-learn's layout where
    ``transpose``); assigning a list copies each array into its layer.
    """

    def get(self: BaseDense) -> list[np.ndarray]:
        check_is_fitted(self, "module_")
        return _LiveWeights([getattr(m, name) for m in self._linears()], transpose=transpose)

    def assign(self: BaseDense, values: list[Any]) -> None:
        check_is_fitted(self, "module_")
        _assign(self._linears(), name, values, transpose=transpose)

    return property(get, assign, doc=doc)


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

    coefs_ = _live_parameters(
        "weight",
        transpose=True,
        doc="""Weight matrices, ``coefs_[i]`` of shape (units in layer i, units in layer i+1).

        As in scikit-learn these are the network's weights themselves: editing
        an array in place, assigning ``coefs_[i] = W`` or assigning the whole
        list changes the network (on a GPU the arrays are copies; assignment
        still writes through).
        """,
    )
    intercepts_ = _live_parameters(
        "bias",
        transpose=False,
        doc=(
            "Bias vectors, ``intercepts_[i]`` of shape (units in layer i+1,); live like ``coefs_``."
        ),
    )

    def _linears(self) -> list[nn.Linear]:
        return [m for m in self.module_ if isinstance(m, nn.Linear)]

    def _check_X(self, X: Any, *, reset: bool, y: Any = "no_validation") -> Any:
        kwargs = {"accept_sparse": ["csr", "csc"], "dtype": (np.float64, np.float32)}
        if isinstance(y, str) and y == "no_validation":
            return validate_data(self, X, reset=reset, **kwargs)
        return validate_data(self, X, y, reset=reset, multi_output=True, **kwargs)

    @property
    def _torch_dtype(self) -> torch.dtype:
        """The training precision: the network's once built, else ``dtype`` or X's."""
        module = getattr(self, "module_", None)
        if module is not None:
            return self._linears()[0].weight.dtype
        return torch.float64 if self._dtype_name == "float64" else torch.float32

    def _resolve_dtype(self, X: Any, first: bool) -> None:
        """On a new network: ``dtype`` where set, else X's dtype (float32 or float64)."""
        if first:
            self.__dict__.pop("module_", None)
            self._dtype_name = self.dtype or np.dtype(X.dtype).name

    def _tensor(self, X: Any) -> Tensor:
        if sp.issparse(X):
            X = X.toarray()
        X = np.ascontiguousarray(X, dtype=_NUMPY_DTYPES[self._torch_dtype])
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
        self._resolve_dtype(X, first)
        _check_float32_range(X, self._torch_dtype)
        if X.shape[0] == 0:
            msg = "Found array with 0 sample(s) while a minimum of 1 is required."
            raise ValueError(msg)
        uniform = sample_weight is None
        sample_weight = check_weights(sample_weight, X)
        targets = self._encode_targets(y, first=first, incremental=incremental, classes=classes)
        self._resolve_device()
        self._seed(incremental)
        valid = None
        if self.early_stopping and self.solver != "lbfgs":
            X, X_val, targets, t_val, y, y_val, sample_weight, w_val = self._split(
                X, targets, y, sample_weight
            )
            valid = self._training_data(X_val, t_val, None if uniform else w_val, y_val)
        # Without weights the loss is a plain mean: cheaper, and the same number.
        train = self._training_data(X, targets, None if uniform else sample_weight, y)
        self._train(train, valid, X.shape[1], targets.shape[1], incremental=incremental)
        self._cache_numpy_views()
        return self

    def _training_data(self, X: Any, targets: Any, weights: Any, labels: Any) -> TrainingData:
        def tensor(values: Any) -> torch.Tensor:
            return torch.as_tensor(values, dtype=self._torch_dtype).to(self.device_)

        return TrainingData(
            self._tensor(X),
            tensor(targets),
            None if weights is None else tensor(weights),
            labels,
        )

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
        if "module_" not in self.__dict__:
            check_is_fitted(self, "module_")
        X = _predict_input(self, X)
        linears = self._linears()
        dtype = linears[0]._parameters["weight"].dtype
        _check_float32_range(X, dtype)
        raw = None
        if X.shape[0] <= _NUMPY_ROWS and self.device_ == "cpu" and not sp.issparse(X):
            layers = self._numpy_views(linears)
            if sum(w.size + b.size for w, b in layers) <= _NUMPY_MAX_PARAMETERS:
                raw = self._numpy_forward(X, layers)
        if raw is None:
            tensor = self._tensor(X)
            raw = self._cpu_raw(tensor)
            if raw is None:
                raw = super()._raw_output(tensor)
        return raw.astype(np.result_type(X.dtype, _NUMPY_DTYPES[dtype]), copy=False)

    def _raw_output(self, X: Any) -> np.ndarray:
        """Raw outputs as float64; on the CPU, chunk by chunk into buffers (see predict_raw)."""
        raw = self._cpu_raw(X)
        if raw is None:
            return super()._raw_output(X)
        return raw.astype(np.float64)

    def _cpu_raw(self, X: Any) -> np.ndarray | None:
        """Raw outputs in the network's precision by ``predict_raw``, else None.

        The rows go in chunks of ``_CPU_PREDICT_ROWS`` to each of torch's
        intra-op threads (within the process's thread budget).
        """
        if not isinstance(X, Tensor) or X.device.type != "cpu":
            return None
        module = self.module_
        if module.training:
            module.eval()
        with bounded_threads(), torch.inference_mode():
            raw = predict_raw(module, X, _CPU_PREDICT_ROWS)
        return None if raw is None else raw.numpy()

    def _numpy_forward(
        self, X: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray]] | None = None
    ) -> np.ndarray:
        """The network in numpy, for a few rows on the CPU.

        torch's per-module dispatch costs ~60 us for a 3-layer MLP, four times
        the arithmetic of one row; scikit-learn's single-row latency is the bar.
        It computes in float64 on exact float64 copies of the weights: BLAS may
        sum a row in another order depending on how many rows come with it
        (small-matrix kernels), and in float32 that shows as row-dependent
        rounding (scikit-learn's subset-invariance check). Results agree with
        the float32 torch path to float32 rounding. The copies are made per
        call (microseconds for the networks this path takes), so weights edited
        through ``coefs_`` are always seen. ``layers`` are the weights' numpy
        views (``_numpy_views``).
        """
        h = np.asarray(X, dtype=np.float64)
        if layers is None:
            layers = self._numpy_views(self._linears())
        activation = _NUMPY_ACTIVATIONS[self.activation]
        last = len(layers) - 1
        for i, (weight, bias) in enumerate(layers):
            h = h @ weight.T.astype(np.float64, copy=False)
            h += bias.astype(np.float64, copy=False)
            if i < last and activation is not None:
                h = activation(h)
        return h

    def _numpy_views(self, linears: list[nn.Linear]) -> list[tuple[np.ndarray, np.ndarray]]:
        """numpy views of the weights (CPU), made again only when a parameter's memory moves.

        Views, not copies: in-place training steps and edits through ``coefs_``
        are seen at once; a new storage (a new module, re-pointed parameters)
        changes the data pointers that key the cache.
        """
        key = _pointers(linears)
        cached = self.__dict__.get("_numpy_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        # Made at the end of fit and load (predict must not change the estimator).
        return [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in linears]

    def _cache_numpy_views(self) -> None:
        if self.device_ == "cpu":
            linears = self._linears()
            self._numpy_cache = (_pointers(linears), self._numpy_views(linears))

    def _after_load(self) -> None:
        self._cache_numpy_views()

    def __sklearn_dlpp_model__(self) -> ModelProtocol:
        """What persistence and ONNX export use of this estimator (see ``_model_protocol``)."""

        def inputs(X: Any) -> dict[str, np.ndarray]:
            X = self._check_X(X, reset=False)
            if sp.issparse(X):
                X = X.toarray()
            return {"X": np.ascontiguousarray(X, dtype=self.dtype)}

        return self._protocol(
            "dense",
            lambda: self.n_features_in_,
            count_tensors=lambda: count_dense_tensors(self._hidden_sizes()),
            input_names=lambda: ("X",),
            inputs=inputs,
            example_inputs=lambda: dense_example(self.n_features_in_, self._torch_dtype),
        )


class _LiveWeights(list):
    """``coefs_``/``intercepts_``: numpy views of the weights; item assignment writes through."""

    def __init__(self, parameters: list[Tensor], *, transpose: bool) -> None:
        super().__init__(_view(p, transpose) for p in parameters)
        self._parameters = parameters
        self._transpose = transpose

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            msg = "assign the layers one at a time (coefs_[i] = W) or the whole list"
            raise TypeError(msg)
        parameter = self._parameters[index]
        _copy_into(parameter, value, self._transpose, f"[{index}]")
        super().__setitem__(index, _view(parameter, self._transpose))


def _view(parameter: Tensor, transpose: bool) -> np.ndarray:
    data = parameter.detach()
    array = data.numpy() if data.device.type == "cpu" else data.cpu().numpy()
    return array.T if transpose else array


def _copy_into(parameter: Tensor, value: Any, transpose: bool, where: str) -> None:
    array = np.asarray(value)
    expected = tuple(parameter.shape[::-1] if transpose else parameter.shape)
    if array.shape != expected:
        msg = f"shape {array.shape} does not fit layer {where}, which has shape {expected}."
        raise ValueError(msg)
    with torch.no_grad():
        source = torch.as_tensor(array.T if transpose else array, dtype=parameter.dtype)
        parameter.copy_(source.to(parameter.device))


def _assign(linears: list[nn.Linear], name: str, values: list[Any], *, transpose: bool) -> None:
    values = list(values)
    if len(values) != len(linears):
        msg = f"got {len(values)} arrays for a network of {len(linears)} layers."
        raise ValueError(msg)
    for i, (layer, value) in enumerate(zip(linears, values, strict=True)):
        _copy_into(getattr(layer, name), value, transpose, f"[{i}]")


_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}


def _check_float32_range(X: Any, dtype: torch.dtype) -> None:
    """Refuse float64 values that the float32 network would see as infinite."""
    values = X.data if sp.issparse(X) else X
    if dtype != torch.float32 or values.dtype != np.float64 or not values.size:
        return
    if values.max() > FLOAT32_MAX or values.min() < -FLOAT32_MAX:
        msg = (
            "X has values beyond the float32 range (|x| > 3.4e38) that the network would "
            "see as infinite; scale X (StandardScaler) or use dtype='float64'."
        )
        raise ValueError(msg)


def _pointers(linears: list[nn.Linear]) -> tuple[int, ...]:
    """Data pointers of the layers' weights and biases: the key of the numpy views."""
    # _parameters directly: Module.__getattr__ costs a microsecond per lookup.
    return tuple(
        [p.data_ptr() for m in linears for p in (m._parameters["weight"], m._parameters["bias"])]
    )


_PREDICT_DTYPES = (np.float64, np.float32)


def _predict_input(estimator: BaseDense, X: Any) -> Any:
    """X checked as ``estimator._check_X(X, reset=False)`` would; the usual case cheaply.

    scikit-learn's ``validate_data`` costs ~40 us per call whatever the size of
    X, half of a one-row prediction. A float32/float64 ndarray with at least
    one row, the fitted number of features and only finite values, given to an
    estimator fitted without feature names, is what it returns unchanged and
    without a warning: such an X is returned as it is after the same checks;
    anything else (lists, frames, sparse matrices, other dtypes or shapes,
    NaN or infinity) goes through ``_check_X`` for its conversions, warnings
    and errors.
    """
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in _PREDICT_DTYPES
        and X.shape[0] > 0
        and X.shape[1] == getattr(estimator, "n_features_in_", None)
        and getattr(estimator, "feature_names_in_", None) is None
        and finite_sums(X)
    ):
        return X
    return estimator._check_X(X, reset=False)
