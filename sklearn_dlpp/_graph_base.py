"""Shared skeleton of the graph estimators: graphs in, packed batch, network, targets per level."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, column_or_1d
from torch import Tensor

from sklearn_dlpp._base import TRAINING_CONSTRAINTS, BaseNeuralEstimator, store_parameters
from sklearn_dlpp._batches import TrainingData
from sklearn_dlpp._compat import Interval, StrOptions
from sklearn_dlpp._graph_network import GraphNetworkMixin
from sklearn_dlpp._model_protocol import (
    ModelProtocol,
    Standardization,
    count_by_probing,
    graph_example,
    graph_input_names,
)
from sklearn_dlpp._outputs import check_weights
from sklearn_dlpp.graph import (
    GraphBatch,
    GraphScaler,
    PackOptions,
    Reading,
    concat_ranges,
    level_targets,
    read_samples,
    standardize_batch,
)
from sklearn_dlpp.nn import ACTIVATIONS, AGGREGATIONS, BLOCKS, POOLINGS

GRAPH_CONSTRAINTS: dict[str, list[Any]] = {
    **{k: v for k, v in TRAINING_CONSTRAINTS.items() if k != "dtype"},
    "solver": [StrOptions({"sgd", "adam"})],
    "hidden": [Interval(Integral, 1, None, closed="left")],
    "n_blocks": [Interval(Integral, 0, None, closed="left")],
    "block": [StrOptions(set(BLOCKS))],
    "aggregation": [StrOptions(set(AGGREGATIONS))],
    "readout": [StrOptions(set(POOLINGS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "node_features": [str, list, tuple, None],
    "edge_features": [str, None],
    "set_edges": [StrOptions({"none", "full", "knn"})],
    "k": [Interval(Integral, 1, None, closed="left")],
    "knn_features": [Integral, str, list, tuple, None],
    "standardize": ["boolean"],
    "node_kind": [str, None],
    "early_stopping": ["boolean", StrOptions({"auto"})],
    "dynamic": ["boolean"],
    "n_heads": [Interval(Integral, 1, None, closed="left")],
    "pair_features": [list, tuple, None],
    "preset": [StrOptions({"particlenet", "part"}), None],
}

# early_stopping="auto" holds out graphs when the training rows (graphs, nodes or
# labelled edges: what the loss counts) reach this number; see docs/benchmarks.md.
AUTO_EARLY_STOPPING_ROWS = 1000


class RowsByGraph:
    """Per-node or per-edge values indexed by graph: ``rows[index]`` holds those graphs' rows.

    Lets the engine slice node- and edge-level targets with the same graph
    indices that slice the packed batch.
    """

    def __init__(self, values: Tensor, ptr: Tensor) -> None:
        self.values = values
        self.ptr = ptr

    @property
    def device(self) -> torch.device:
        return self.values.device

    def __len__(self) -> int:
        return self.ptr.numel() - 1

    def rows(self, index: Tensor | slice) -> Tensor:
        if isinstance(index, slice):
            index = torch.arange(len(self), device=self.ptr.device)[index]
        counts = self.ptr[1:] - self.ptr[:-1]
        return concat_ranges(self.ptr[index], counts[index])

    def __getitem__(self, index: Tensor | slice) -> Tensor:
        return self.values[self.rows(index)]


class BaseGraphEstimator(GraphNetworkMixin, BaseNeuralEstimator):
    """Graph estimators: X is a list of graphs or particle sets (private base).

    Subclasses set ``_level`` ("graph", "node" or "edge") and mix in a head from
    :mod:`sklearn_dlpp._outputs`.
    """

    _parameter_constraints: dict = GRAPH_CONSTRAINTS
    _level = "graph"
    # One-class y and labels unseen in fit are refused (see ClassifierOutputs).
    _strict_labels = True
    # No forward pass over every training graph at the end of a fit (an eighth of
    # the fit): every step's loss was finite, so only the last update can have
    # ruined the network, and non-finite parameters show it (see _engine).
    _check_outputs_after_fit = False
    # Graphs per forward pass at predict time: bounded memory for large inputs.
    _predict_chunk = 1024

    def __init__(
        self,
        *,
        hidden=64,
        n_blocks=3,
        block="gn",
        aggregation="sum",
        readout="sum",
        dropout=0.0,
        activation="relu",
        node_features=None,
        edge_features=None,
        set_edges="none",
        k=8,
        knn_features=None,
        standardize=True,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate_init=0.001,
        max_iter=100,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        callbacks=None,
        node_kind=None,
        dynamic=True,
        n_heads=8,
        pair_features=None,
        preset=None,
    ):
        store_parameters(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags

    # ------------------------------------------------------------------ input
    def _read(self, X: Any, *, fitted: bool) -> Reading:
        """Read X once (validation, packing); fitted, against what fit saw."""
        fitted_kinds = self._fitted_kinds() if fitted else None
        # node_features, edge_features, set_edges, k, knn_features, node_kind: parameters
        options = PackOptions.of(
            self,
            n_node_features=self.n_node_features_ if fitted else None,
            n_edge_features=self.n_edge_features_ if fitted else None,
            kinds=fitted_kinds,
            typed=(fitted_kinds is not None) if fitted else None,
        )
        reading = read_samples(X, options)
        batch = reading.batch
        if batch.x.shape[1] == 0:
            msg = "X has 0 node features while a minimum of 1 is required."
            raise ValueError(msg)
        # The readers refuse NaN and inf; values they accept can still overflow float32.
        for what, values in (("node", batch.x), ("edge", batch.edge_attr)):
            if values is not None and not torch.isfinite(values).all():
                msg = (
                    f"X has {what} features beyond the float32 range (|x| > 3.4e38); rescale them."
                )
                raise ValueError(msg)
        return reading

    def _pack(self, X: Any, *, fitted: bool) -> GraphBatch:
        """X as a packed batch, unstandardised (the input of the ONNX model)."""
        return self._read(X, fitted=fitted).batch

    def _fitted_kinds(self) -> tuple | None:
        """The (kind, n_features) layout seen in fit, None for untyped samples."""
        if getattr(self, "kinds_", None) is None:
            return None
        return tuple(zip(self.kinds_, self.n_kind_features_.tolist(), strict=True))

    def _fit_standardization(self, batch: GraphBatch) -> None:
        scaler = GraphScaler(with_mean=self.standardize, with_std=self.standardize)
        scaler.fit_batch(batch)
        self.node_mean_, self.node_scale_ = scaler.mean_, scaler.scale_
        self.edge_mean_, self.edge_scale_ = scaler.edge_mean_, scaler.edge_scale_

    def _standardized(self, batch: GraphBatch) -> GraphBatch:
        if not self.standardize:
            return batch
        edge = self.edge_mean_ is not None and batch.edge_attr is not None
        return standardize_batch(
            batch,
            self.node_mean_,
            self.node_scale_,
            self.edge_mean_ if edge else None,
            self.edge_scale_ if edge else None,
        )

    def _batch_for_prediction(self, X: Any) -> GraphBatch:
        check_is_fitted(self, "module_")
        return self._standardized(self._pack(X, fitted=True)).to(self.device_)

    def _raw(self, X: Any) -> np.ndarray:
        return self._raw_output(self._batch_for_prediction(X))

    # ---------------------------------------------------------------- targets
    def _level_targets(self, reading: Reading, y: Any) -> np.ndarray:
        """The targets as one array with a row per graph, node or labelled edge."""
        if self._level == "graph" and y is None:
            msg = f"{type(self).__name__} requires y to be passed, but the target y is None."
            raise ValueError(msg)
        y = level_targets(reading, y, self._level)
        graph_classes = self._level == "graph" and isinstance(self, ClassifierMixin)
        if graph_classes and y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return y

    def _row_weights(self, reading: Reading, sample_weight: Any) -> np.ndarray | None:
        """Weights per row: one per graph (repeated over its nodes or edges), or one per row."""
        if sample_weight is None:
            return None
        batch = reading.batch
        if self._level == "graph" or _one_per_graph(sample_weight):
            graph_weights = check_weights(sample_weight, np.empty((batch.n_graphs, 0)))
            return self._per_row(graph_weights, batch)
        try:
            weights = level_targets(reading, sample_weight, self._level, "weights")
        except (TypeError, ValueError) as error:
            msg = (
                f"sample_weight holds one weight per graph or one array of {self._level} "
                f"weights per graph; as the latter: {error}"
            )
            raise ValueError(msg) from None
        if weights.ndim != 1:
            msg = (
                f"sample_weight needs one number per {self._level}; got {weights.shape[1:]} "
                f"values per {self._level}."
            )
            raise ValueError(msg)
        return check_weights(weights, np.empty((len(weights), 0)))

    def _level_ptr(self, batch: GraphBatch) -> Tensor | None:
        return {"node": batch.node_ptr, "edge": batch.target_ptr}.get(self._level)

    def _per_row(self, values: np.ndarray, batch: GraphBatch) -> np.ndarray:
        """Per-graph values repeated for each node / labelled edge of the graph."""
        ptr = self._level_ptr(batch)
        if ptr is None:
            return values
        return np.repeat(values, np.diff(ptr.numpy()), axis=0)

    # -------------------------------------------------------------------- fit
    def _fit(self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any = None):
        if self.early_stopping is True and incremental:
            msg = "partial_fit does not support early_stopping=True"
            raise ValueError(msg)
        first = not hasattr(self, "module_") or not (self.warm_start or incremental)
        reading = self._read(X, fitted=not first)
        batch = reading.batch
        labels = self._level_targets(reading, y)
        row_weights = self._row_weights(reading, sample_weight)
        uniform = row_weights is None
        targets = self._encode_targets(
            labels, first=first, incremental=incremental, classes=classes
        )
        if first:
            self.n_node_features_ = batch.x.shape[1]
            self.n_edge_features_ = 0 if batch.edge_attr is None else batch.edge_attr.shape[1]
            self.kinds_ = self.n_kind_features_ = None
            if batch.kinds is not None:
                self.kinds_ = np.empty(len(batch.kinds), dtype=object)
                for i, (kind, _) in enumerate(batch.kinds):
                    self.kinds_[i] = kind  # one by one: a tuple kind stays one entry
                self.n_kind_features_ = np.array([n for _, n in batch.kinds], dtype=np.int64)
            self._fit_standardization(batch)
        self._resolve_device()
        self._seed(incremental)
        batch = self._standardized(batch)

        ptr = self._level_ptr(batch)
        if incremental and self.early_stopping == "auto":
            self._stop_holding_out()
        elif first or not hasattr(self, "early_stopping_"):
            self.early_stopping_ = self._resolve_early_stopping(len(labels), batch.n_graphs)
        valid = None
        train_graphs = np.arange(batch.n_graphs)
        if self.early_stopping_:
            train_graphs, valid_graphs = self._split(labels, batch.n_graphs)
            valid_rows = _rows(ptr, valid_graphs)
            valid = TrainingData(
                batch.select(torch.as_tensor(valid_graphs)).to(self.device_),
                self._indexable(targets[valid_rows], None),
                None if uniform else self._indexable(row_weights[valid_rows], None),
                labels[valid_rows],
            )
        train_rows = _rows(ptr, train_graphs)
        train_batch = batch.select(torch.as_tensor(train_graphs))
        train_ptr = self._level_ptr(train_batch)
        train = TrainingData(
            train_batch.to(self.device_),
            self._indexable(targets[train_rows], train_ptr),
            None if uniform else self._indexable(row_weights[train_rows], train_ptr),
            labels[train_rows],
        )
        self._train(train, valid, self.n_node_features_, targets.shape[1], incremental=incremental)
        return self

    def _resolve_early_stopping(self, n_rows: int, n_graphs: int) -> bool:
        """early_stopping as a bool for fit: 'auto' is on for large enough training sets."""
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        # As train_test_split counts the held-out graphs; fewer than 2 cannot be scored.
        n_valid = int(np.ceil(self.validation_fraction * n_graphs))
        return n_valid >= 2 and n_rows >= AUTO_EARLY_STOPPING_ROWS

    def _stop_holding_out(self) -> None:
        """partial_fit with 'auto': no held-out graphs, also after a fit that held some out."""
        if getattr(self, "early_stopping_", False) and getattr(self, "best_loss_", 0) is None:
            # The training loop then tracks the training loss, which a fit with early
            # stopping left unset.
            self.best_loss_ = min(self.loss_curve_, default=np.inf)
            self._no_improvement_count = 0
        self.early_stopping_ = False

    def _indexable(self, values: np.ndarray, ptr: Tensor | None) -> Tensor | RowsByGraph:
        tensor = torch.as_tensor(values, dtype=torch.float32).to(self.device_)
        return tensor if ptr is None else RowsByGraph(tensor, ptr.to(self.device_))

    def _split(self, labels: np.ndarray, n_graphs: int) -> tuple[np.ndarray, np.ndarray]:
        """Hold out whole graphs for early stopping (stratified for graph classifiers)."""
        stratify = None
        if self._level == "graph" and isinstance(self, ClassifierMixin) and labels.ndim == 1:
            stratify = labels
        train, valid = train_test_split(
            np.arange(n_graphs),
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        if len(valid) < 2:
            msg = (
                "The validation set is too small. Increase 'validation_fraction' "
                "or the number of graphs."
            )
            raise ValueError(msg)
        return np.sort(train), np.sort(valid)

    def __sklearn_dlpp_model__(self) -> ModelProtocol:
        """What persistence and ONNX export use of this estimator (see ``_model_protocol``)."""

        def input_names() -> tuple[str, ...]:
            return graph_input_names(self.n_edge_features_ > 0, self._level)

        def inputs(X: Any) -> dict[str, np.ndarray]:
            batch = self._pack(X, fitted=True)
            return {
                name: np.ascontiguousarray(getattr(batch, name).numpy()) for name in input_names()
            }

        def standardization() -> Standardization | None:
            if not self.standardize:
                return None
            mean, scale = self.edge_mean_, self.edge_scale_
            return Standardization(self.node_mean_, self.node_scale_, mean, scale)

        return self._protocol(
            self._level,
            lambda: self.n_node_features_,
            count_tensors=lambda: count_by_probing(self, "n_blocks"),
            input_names=input_names,
            inputs=inputs,
            example_inputs=lambda: graph_example(
                input_names(), self.n_node_features_, self.n_edge_features_
            ),
            standardization=standardization,
        )


def _one_per_graph(sample_weight: Any) -> bool:
    """Whether sample_weight holds one number per graph (else one array per graph)."""
    if isinstance(sample_weight, str):
        return False
    if isinstance(sample_weight, np.ndarray) and sample_weight.dtype != object:
        return sample_weight.ndim <= 1
    if not hasattr(sample_weight, "__iter__"):
        return True
    return all(np.ndim(w) == 0 and not isinstance(w, Mapping) for w in sample_weight)


def _rows(ptr: Tensor | None, graphs: np.ndarray) -> np.ndarray:
    """Row indices (nodes or labelled edges) of ``graphs``; the graphs themselves at graph level."""
    if ptr is None:
        return graphs
    graphs = torch.as_tensor(graphs)
    return concat_ranges(ptr[graphs], (ptr[1:] - ptr[:-1])[graphs]).numpy()
