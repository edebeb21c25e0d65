"""The protocol through which persistence and ONNX export see every estimator of the package.

Every estimator implements ``__sklearn_dlpp_model__()``, in the style of
scikit-learn's ``__sklearn_tags__``: it returns a :class:`ModelProtocol` that
says what :func:`~sklearn_dlpp.save`, :func:`~sklearn_dlpp.load` and
:func:`~sklearn_dlpp.export_onnx` need to know (how to build the network, what
is rebuilt rather than stored, how to restore derived state, the model's inputs
and output head), so that those modules call no private method of an estimator
and keep no list of their own. The dense estimators implement it in
:mod:`sklearn_dlpp._dense`, the graph estimators in
:mod:`sklearn_dlpp._graph_base`; this module holds the protocol and the pieces
both implementations share.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.preprocessing import LabelBinarizer
from torch import Tensor, nn

# Fitted attributes rebuilt at load rather than stored: the network (its weights are
# the file's tensors), the training engine (optimizer moments, as with pickle),
# snapshots, caches, and the label binarizer (a function of classes_ and the head).
REBUILT = frozenset(
    {"module_", "net_", "_best_state", "_numpy_cache", "_random_state", "_label_binarizer"}
)
# The example traced at export: three fully connected graphs. Sizes of 0 and 1 would
# be specialised by torch.export; distinct sizes keep unrelated axes apart.
EXAMPLE_SIZES = (5, 6, 7)


class Standardization(NamedTuple):
    """Feature statistics a graph model applies as ``(value - mean) / scale``."""

    node_mean: np.ndarray
    node_scale: np.ndarray
    edge_mean: np.ndarray | None
    edge_scale: np.ndarray | None


@dataclass(frozen=True)
class ModelProtocol:
    """What persistence and export use of an estimator: ``estimator.__sklearn_dlpp_model__()``.

    The attributes are known for any estimator, fitted or not; the functions
    read the fitted attributes when called (at load, after the file's fitted
    attributes are set and checked).

    Attributes
    ----------
    level : {"dense", "graph", "node", "edge"}
        What one output row is: a sample, a graph, a node or a labelled edge.
    classifier : bool
        Whether the model's output is probabilities (else predictions).
    rebuilt : frozenset of str
        Fitted attributes that are never stored: :attr:`restore` and ``load``
        rebuild them.
    validate_params : callable () -> None
        Raise what ``fit`` raises for invalid parameters
        (``InvalidParameterError``).
    shape : callable () -> (int, int)
        The network's number of inputs and outputs.
    build : callable () -> torch.nn.Module
        A fresh network with the fitted one's layout (on torch's current
        default device: ``meta`` lays it out without memory).
    count_tensors : callable () -> (int, str)
        How many tensors the network's ``state_dict`` holds, counted without
        building it whole, and what decides it (for error messages); raises
        ValueError for parameters that make no network.
    label_binarizer : callable () -> LabelBinarizer, or None
        Classifiers: the label binarizer ``fit`` made, rebuilt from
        ``classes_`` and the output head (ValueError when they disagree).
    restore : callable () -> None
        Rebuild the derived state once ``module_`` holds the weights.
    input_names : callable () -> tuple of str
        Names of the exported model's inputs, in order.
    inputs : callable (X) -> dict of str to ndarray
        Those inputs for samples ``X`` (what :func:`~sklearn_dlpp.onnx_inputs`
        returns).
    example_inputs : callable () -> tuple of Tensor
        Inputs to trace the model with, one per input name.
    output : callable () -> OutputHead
        The module that turns raw network outputs into ``predict_proba``
        (classifiers) or ``predict`` (regressors).
    standardization : callable () -> Standardization or None
        The feature statistics the model applies to its inputs, None when it
        takes them as they are.
    """

    level: str
    classifier: bool
    validate_params: Callable[[], None]
    shape: Callable[[], tuple[int, int]]
    build: Callable[[], nn.Module]
    count_tensors: Callable[[], tuple[int, str]]
    label_binarizer: Callable[[], LabelBinarizer] | None
    restore: Callable[[], None]
    input_names: Callable[[], tuple[str, ...]]
    inputs: Callable[[Any], dict[str, np.ndarray]]
    example_inputs: Callable[[], tuple[Tensor, ...]]
    output: Callable[[], OutputHead]
    standardization: Callable[[], Standardization | None] = lambda: None
    rebuilt: frozenset[str] = REBUILT


# -------------------------------------------------------------------- output
def binary_proba(p: Any) -> Any:
    """The two columns ``[1 - p, p]`` of a binary classifier, from ``p`` of shape (n, 1).

    Parameters
    ----------
    p : ndarray or Tensor of shape (n, 1)
        Probability of the positive class.

    Returns
    -------
    proba : ndarray or Tensor of shape (n, 2)
        Of the same type as ``p``.
    """
    if isinstance(p, Tensor):
        return torch.cat([1 - p, p], dim=1)
    return np.hstack([1.0 - p, p])


class OutputHead(nn.Module):
    """What ``predict_proba`` / ``predict`` compute from the raw network output.

    Parameters
    ----------
    classifier : bool
        Whether the network is a classifier's.
    out_activation : str
        The estimator's ``out_activation_``.
    n_outputs : int
        The network's outputs.
    """

    def __init__(self, classifier: bool, out_activation: str, n_outputs: int) -> None:
        super().__init__()
        if classifier:
            if out_activation == "softmax":
                self.kind = "softmax"
            elif n_outputs == 1:
                self.kind = "binary"  # one logit, two columns of probabilities
            else:
                self.kind = "sigmoid"  # multi-label
        else:
            self.kind = "exp" if out_activation == "exp" else "identity"
        self.ravel = not classifier and n_outputs == 1
        self.name = "probabilities" if classifier else "predictions"

    def forward(self, raw: Tensor) -> Tensor:
        if self.kind == "softmax":
            return torch.softmax(raw, dim=1)
        if self.kind == "binary":
            return binary_proba(torch.sigmoid(raw))
        if self.kind == "sigmoid":
            return torch.sigmoid(raw)
        prediction = torch.exp(raw) if self.kind == "exp" else raw
        return prediction.reshape(-1) if self.ravel else prediction


def label_binarizer(
    classes: Any, out_activation: str, n_outputs: int, *, strict: bool, sparse: bool
) -> LabelBinarizer:
    """The label binarizer that ``fit`` made, from ``classes_`` and the output head.

    Parameters
    ----------
    classes : ndarray
        The estimator's ``classes_``.
    out_activation : str
        Its ``out_activation_``.
    n_outputs : int
        Its network's outputs.
    strict : bool
        Whether ``fit`` refuses one class for a binary output.
    sparse : bool
        Whether ``fit`` saw a sparse label indicator matrix (predictions stay sparse).

    Returns
    -------
    binarizer : LabelBinarizer

    Raises
    ------
    ValueError
        When the classes do not fit the output head.
    """
    classes = np.asarray(classes)
    if out_activation == "softmax":
        y_type = "multiclass"
    elif n_outputs > 1:
        y_type = "multilabel-indicator"
    else:
        y_type = "binary"
    # One class fits a binary output where fit allows it (labels that are not strict).
    allowed = ((2,) if strict else (1, 2)) if y_type == "binary" else (n_outputs,)
    if len(classes) not in allowed:
        msg = f"{len(classes)} classes do not fit a {out_activation} output with {n_outputs} units"
        raise ValueError(msg)
    if y_type == "multilabel-indicator":
        # Two rows rather than np.eye: the same binarizer, in memory linear in the classes.
        indicator = np.zeros((2, len(classes)), dtype=int)
        indicator[1] = 1
        binarizer = LabelBinarizer().fit(indicator)
    else:
        binarizer = LabelBinarizer().fit(classes)
    if binarizer.y_type_ != y_type or not np.array_equal(binarizer.classes_, classes):
        msg = (
            f"classes_ {classes.tolist()} do not fit a {out_activation} output "
            f"with {n_outputs} unit(s)"
        )
        raise ValueError(msg)
    binarizer.sparse_input_ = sparse
    return binarizer


# ------------------------------------------------------------- tensor counts
def count_dense_tensors(hidden_sizes: list[Any]) -> tuple[int, str]:
    """Tensors of a dense network (a weight and a bias per layer), for ``count_tensors``."""
    if not all(isinstance(size, Integral) and not isinstance(size, bool) for size in hidden_sizes):
        msg = f"hidden_layer_sizes must be integers, got {hidden_sizes!r:.80}"
        raise ValueError(msg)
    return 2 * (len(hidden_sizes) + 1), f"{len(hidden_sizes)} hidden layers"


def count_by_probing(estimator: Any, parameter: str) -> tuple[int, str]:
    """Tensors of a network that grows by the same tensors per unit of ``parameter``.

    Counted on networks of 0 and 1 unit laid out on the ``meta`` device (no
    memory), for ``count_tensors``.
    """
    probe = copy.copy(estimator)
    counts = []
    for value in (0, 1):
        setattr(probe, parameter, value)
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            counts.append(len(probe.__sklearn_dlpp_model__().build().state_dict()))
    value = getattr(estimator, parameter)
    return counts[0] + value * (counts[1] - counts[0]), f"{parameter}={value}"


# ------------------------------------------------------------------- inputs
def graph_input_names(edge_features: bool, level: str) -> tuple[str, ...]:
    """The fields of :class:`~sklearn_dlpp.graph.GraphBatch` that a graph model reads."""
    names = ["x", "edge_index"]
    if edge_features:
        names.append("edge_attr")
    names += ["node_graph", "node_ptr"]
    if level == "edge":
        names += ["edge_target", "target_ptr"]
    return tuple(names)


def dense_example(n_features: int, dtype: torch.dtype) -> tuple[Tensor]:
    """A feature matrix to trace with: shapes matter, values do not (global RNG untouched)."""
    generator = torch.Generator().manual_seed(0)
    shape = (len(EXAMPLE_SIZES) + 1, n_features)
    return (torch.randn(shape, generator=generator, dtype=dtype),)


def graph_example(
    names: tuple[str, ...], n_node_features: int, n_edge_features: int
) -> tuple[Tensor, ...]:
    """The inputs ``names`` of three fully connected graphs, to trace with."""
    generator = torch.Generator().manual_seed(0)
    senders, receivers, targets = [], [], []
    offset = n_labelled = 0
    for n in EXAMPLE_SIZES:
        for i in range(n):
            for j in range(i + 1, n):
                # an undirected edge: two messages, one labelled edge
                senders += [offset + i, offset + j]
                receivers += [offset + j, offset + i]
                targets += [n_labelled, n_labelled]
                n_labelled += 1
        offset += n
    sizes = torch.tensor(EXAMPLE_SIZES)
    pairs = sizes * (sizes - 1) // 2
    tensors = {
        "x": torch.randn(offset, n_node_features, generator=generator),
        "edge_index": torch.tensor([senders, receivers]),
        "edge_attr": torch.randn(len(senders), n_edge_features, generator=generator),
        "node_graph": torch.repeat_interleave(torch.arange(len(EXAMPLE_SIZES)), sizes),
        "node_ptr": torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)]),
        "edge_target": torch.tensor(targets),
        "target_ptr": torch.cat([torch.zeros(1, dtype=torch.long), pairs.cumsum(0)]),
    }
    return tuple(tensors[name] for name in names)
