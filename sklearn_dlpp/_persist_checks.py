"""What a saved estimator's fitted attributes must be before its network is built.

:func:`sklearn_dlpp.load` builds a network only from a file whose fitted
attributes have the types and sizes that ``fit`` gives them, whose layer counts
the stored tensors can fill, and whose network (laid out on PyTorch's ``meta``
device, which allocates nothing) has exactly the stored tensors' names, shapes
and dtypes. :func:`sklearn_dlpp.save` runs the same checks, so that what it
writes, :func:`load` reads.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
import torch

_CLASSIFIER_ACTIVATIONS = frozenset({"logistic", "softmax"})
_REGRESSOR_ACTIVATIONS = frozenset({"identity", "exp"})


def check_fitted_attributes(estimator: Any) -> None:
    """Raise ValueError naming the first fitted attribute that ``fit`` could not have made."""
    model = estimator.__sklearn_dlpp_model__()
    _count(estimator, "n_outputs_", minimum=1)
    activations = _CLASSIFIER_ACTIVATIONS if model.classifier else _REGRESSOR_ACTIVATIONS
    activation = _required(estimator, "out_activation_")
    if not isinstance(activation, str) or activation not in activations:
        msg = f"out_activation_ must be one of {sorted(activations)}, got {activation!r}"
        raise ValueError(msg)
    device = _required(estimator, "device_")
    if not isinstance(device, str):
        msg = f"device_ must be a string, got {type(device).__name__}"
        raise ValueError(msg)
    try:
        torch.device(device)
    except RuntimeError as exc:
        msg = f"device_ {device[:40]!r} is not a device ({exc})"
        raise ValueError(msg) from exc
    for name in ("n_iter_", "t_", "_no_improvement_count", "_seed_"):
        if hasattr(estimator, name):
            _count(estimator, name, minimum=0)
    if hasattr(estimator, "_seed_") and estimator._seed_ >= 2**63:
        msg = f"_seed_ must be below 2**63, got {estimator._seed_}"
        raise ValueError(msg)
    for name in ("loss_", "best_loss_", "best_validation_score_"):
        value = getattr(estimator, name, None)
        if value is not None and not _real(value):
            msg = f"{name} must be a number or None, got {type(value).__name__}"
            raise ValueError(msg)
    for name in ("loss_curve_", "validation_scores_"):
        value = getattr(estimator, name, None)
        if value is not None and not (isinstance(value, list) and all(map(_real, value))):
            msg = f"{name} must be a list of numbers or None"
            raise ValueError(msg)
    if model.classifier:
        classes = _required(estimator, "classes_")
        if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 1:
            msg = "classes_ must be a one-dimensional array of at least one class"
            raise ValueError(msg)
    if model.level != "dense":
        _check_graph(estimator)
    else:
        n_features = _count(estimator, "n_features_in_", minimum=1)
        names = getattr(estimator, "feature_names_in_", None)
        if names is not None and not (
            isinstance(names, np.ndarray)
            and names.shape == (n_features,)
            and all(isinstance(name, str) for name in names.tolist())
        ):
            msg = f"feature_names_in_ must be {n_features} strings"
            raise ValueError(msg)


def _check_graph(estimator: Any) -> None:
    for name in ("kinds_", "n_kind_features_", "edge_mean_", "edge_scale_"):
        _required(estimator, name)  # None when unused, but set by every fit
    n_nodes = _count(estimator, "n_node_features_", minimum=1)
    n_edges = _count(estimator, "n_edge_features_", minimum=0)
    _moments(estimator, "node", n_nodes, required=True)
    _moments(estimator, "edge", n_edges, required=False)
    kinds = getattr(estimator, "kinds_", None)
    widths = getattr(estimator, "n_kind_features_", None)
    if (kinds is None) != (widths is None):
        msg = "kinds_ and n_kind_features_ must both be set or both be None"
        raise ValueError(msg)
    if kinds is None:
        return
    if not (
        isinstance(kinds, np.ndarray)
        and isinstance(widths, np.ndarray)
        and kinds.ndim == widths.ndim == 1
        and len(kinds) == len(widths) >= 1
        and widths.dtype.kind in "iu"
        and (widths >= 0).all()
        and int(widths.sum()) == n_nodes
    ):
        msg = (
            "kinds_ and n_kind_features_ must be arrays of one entry per kind, "
            f"the widths summing to n_node_features_={n_nodes}"
        )
        raise ValueError(msg)


def _moments(estimator: Any, what: str, n_features: int, *, required: bool) -> None:
    mean = getattr(estimator, f"{what}_mean_", None)
    scale = getattr(estimator, f"{what}_scale_", None)
    if mean is None and scale is None and not (required or n_features):
        return
    for name, value in ((f"{what}_mean_", mean), (f"{what}_scale_", scale)):
        if not (
            isinstance(value, np.ndarray)
            and value.dtype.kind == "f"
            and value.shape == (n_features,)
            and np.isfinite(value).all()
        ):
            msg = f"{name} must be {n_features} finite floats"
            raise ValueError(msg)
    if not (scale > 0).all():
        msg = f"{what}_scale_ must be positive"
        raise ValueError(msg)


def _required(estimator: Any, name: str) -> Any:
    if not hasattr(estimator, name):
        msg = f"the fitted attribute {name} is missing"
        raise ValueError(msg)
    return getattr(estimator, name)


def _count(estimator: Any, name: str, *, minimum: int) -> int:
    value = _required(estimator, name)
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        msg = f"{name} must be an integer >= {minimum}, got {value!r:.40}"
        raise ValueError(msg)
    return int(value)


def _real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def check_layer_counts(estimator: Any, n_tensors: int) -> None:
    """Refuse a network that would have more tensors than the file stores.

    Counted without laying out the whole network (the estimator's
    ``count_tensors``: a dense layer has a weight and a bias; a graph network's
    tensors grow by the same number with every block, counted on networks of
    zero and one block), after the kinds of typed nodes (a weight and a bias
    each at least) are bounded. So :func:`layout` never lays out more modules
    than the file has tensors.
    """
    kinds = getattr(estimator, "kinds_", None)
    n_kinds = 0 if kinds is None else len(kinds)
    if 2 * n_kinds > n_tensors:
        msg = f"kinds_ needs at least {2 * n_kinds} tensors; the file stores {n_tensors}"
        raise ValueError(msg)
    expected, what = estimator.__sklearn_dlpp_model__().count_tensors()
    if expected > n_tensors:  # fewer: laid out, its layout names the extra tensors
        msg = f"a network of {what} has {expected} tensors; the file stores only {n_tensors}"
        raise ValueError(msg)


def layout(estimator: Any) -> torch.nn.Module:
    """The estimator's network on the ``meta`` device: shapes and dtypes, no memory."""
    # The meta device draws no random numbers; fork_rng keeps the global RNG safe anyway.
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        return estimator.__sklearn_dlpp_model__().build()


def check_layout(module: torch.nn.Module, declared: dict[str, tuple[tuple[int, ...], Any]]) -> None:
    """The network's state_dict has exactly the declared names, shapes and dtypes."""
    expected = module.state_dict()
    if set(expected) != set(declared):
        missing, extra = (
            sorted(set(expected) - set(declared)),
            sorted(set(declared) - set(expected)),
        )
        msg = (
            f"the weights do not fit the network (missing {_head(missing)}, "
            f"unexpected {_head(extra)})"
        )
        raise ValueError(msg)
    for key, want in expected.items():
        shape, dtype = declared[key]
        if shape != tuple(want.shape) or dtype != want.dtype:
            msg = (
                f"weight {key!r} has shape {shape} and dtype {dtype}, "
                f"the network needs {tuple(want.shape)} and {want.dtype}"
            )
            raise ValueError(msg)


def _head(names: list[str], n: int = 5) -> str:
    shown = ", ".join(repr(name[:60]) for name in names[:n])
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return f"[{shown}]{more}"
