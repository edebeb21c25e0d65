"""Node and edge classifiers: one prediction per node (calorimeter cells) or edge (track hits)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

from sklearn_dlpp._compat import _fit_context
from sklearn_dlpp._docs import fill_doc
from sklearn_dlpp._graph_base import BaseGraphEstimator
from sklearn_dlpp._graph_docs import class_doc
from sklearn_dlpp._graph_estimators import _LogLossValidation
from sklearn_dlpp._model_protocol import binary_proba
from sklearn_dlpp._outputs import ClassifierOutputs
from sklearn_dlpp.graph import split_edges, split_nodes


class _PartClassifier(_LogLossValidation, ClassifierOutputs, BaseGraphEstimator):
    """Classifiers of graph parts (nodes or edges): predictions come back per graph."""

    def _rows_per_graph(self, X: Any, rows: Callable[[np.ndarray], np.ndarray]) -> list:
        """``rows(raw)`` (one row per node or edge of X) split into one array per graph."""
        _refuse_plain_scorer(self)
        batch = self._batch_for_prediction(X)
        values = rows(self._raw_output(batch))
        split = split_nodes if self._level == "node" else split_edges
        return split(values, batch.to("cpu"))

    def _proba_rows(self, raw: np.ndarray) -> np.ndarray:
        proba = self._proba_from_raw(raw)
        if self.n_outputs_ == 1 and self.out_activation_ == "logistic":
            proba = binary_proba(proba)
        return proba

    def _flat_scoring(self, X: Any, y: Any, sample_weight: Any) -> tuple:
        """Outputs, targets and weights of every node (edge) of X, one row each.

        What :func:`sklearn_dlpp.metrics.make_flat_scorer` hands to a
        scikit-learn scorer: a stand-in classifier whose ``predict`` and
        ``predict_proba`` answer with one row per node (edge), the targets and
        weights in the same order.
        """
        check_is_fitted(self, "module_")
        reading = self._read(X, fitted=True)
        raw = self._raw_output(self._standardized(reading.batch).to(self.device_))
        labels = self._level_targets(reading, y)
        weights = self._row_weights(reading, sample_weight)
        return _RowOutputs(self, raw), labels, weights

    @fill_doc
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None):
        """Fit on graphs X with one label per node (or edge).

        Parameters
        ----------
        %(graph_X)s
        y : sequence of array-like, str or None, default=None
            One label array per graph, the name of the attribute holding the
            labels, or None for the attribute ``'y'``.
        sample_weight : array-like of shape (n_samples,) or sequence of array-like, default=None
            Event weights, one per graph, or one array per graph with a weight
            per node (or edge), in the order of ``y`` (negative allowed; their
            sum must be positive).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @fill_doc
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None, classes: Any = None):
        """One epoch on a chunk of graphs, keeping the optimiser state.

        Parameters
        ----------
        %(graph_chunk)s
        y : sequence of array-like, str or None, default=None
            Labels, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,) or sequence of array-like, default=None
            Weights, as in :meth:`fit`.
        %(classes)s

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    @fill_doc
    def predict(self, X: Any) -> list[np.ndarray]:
        """Predict the class of every node (or edge).

        Parameters
        ----------
        %(graph_X)s

        Returns
        -------
        labels : list of ndarray
            One array of labels per graph, in the graph's node (or edge) order.
        """
        return self._rows_per_graph(X, self._labels_from_raw)

    @fill_doc
    def predict_proba(self, X: Any) -> list[np.ndarray]:
        """Probability of each class for every node (or edge).

        Parameters
        ----------
        %(graph_X)s

        Returns
        -------
        proba : list of ndarray of shape (n_nodes_i or n_edges_i, n_classes)
            One array per graph; columns in the order of ``classes_``.
        """
        return self._rows_per_graph(X, self._proba_rows)

    @fill_doc
    def predict_log_proba(self, X: Any) -> list[np.ndarray]:
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        %(graph_X)s

        Returns
        -------
        log_proba : list of ndarray of shape (n_nodes_i or n_edges_i, n_classes)
            One array per graph.
        """
        return self._rows_per_graph(X, partial(_log_proba_rows, self))

    @fill_doc
    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Accuracy over all nodes (or edges) of all graphs.

        Parameters
        ----------
        %(graph_X)s
        y : sequence of array-like, str or None, default=None
            Labels, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,) or sequence of array-like, default=None
            One weight per graph, applied to all its nodes (or edges), or one
            array of weights per graph with one weight per node (or edge).

        Returns
        -------
        score : float
            The (weighted) fraction of nodes (or edges) classified right.
        """
        predictions, labels, weights = self._flat_scoring(X, y, sample_weight)
        self._check_known_labels(labels)
        return accuracy_score(labels, predictions.predict(X), sample_weight=weights)


class NodeClassifier(_PartClassifier):
    __doc__ = class_doc(
        """Graph neural network classifying every node (e.g. calorimeter cell segmentation).

    Cross-validation and searches split by graph: ``cross_val_score(clf, graphs, y)``
    with y a list of per-graph label arrays, or with y omitted when the graphs
    carry their labels in the node attribute ``'y'``.
""",
        """
    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp import NodeClassifier
    >>> graphs = []
    >>> for i in range(30):
    ...     G = nx.path_graph(6)
    ...     for node in G:
    ...         G.nodes[node]["x"] = [float(node == i % 6)]
    ...         G.nodes[node]["y"] = int(abs(node - i % 6) == 1)  # neighbour of the marked node
    ...     graphs.append(G)
    >>> clf = NodeClassifier(hidden=16, n_blocks=1, max_iter=150, learning_rate_init=0.01,
    ...                      random_state=0).fit(graphs)
    >>> clf.score(graphs)
    1.0
    """,
        labels="Node labels.",
        part={"unit": "nodes", "unit_singular": "node", "order": "G.nodes()"},
    )

    _level = "node"


class EdgeClassifier(_PartClassifier):
    __doc__ = class_doc(
        """Graph neural network classifying every edge (e.g. track finding: same track or not).

    An undirected edge passes messages both ways but carries one label and one
    prediction. Cross-validation and searches split by graph.
""",
        """
    Examples
    --------
    >>> import networkx as nx
    >>> from sklearn_dlpp import EdgeClassifier
    >>> graphs = []
    >>> for i in range(20):
    ...     G = nx.cycle_graph(5)
    ...     for node in G:
    ...         G.nodes[node]["x"] = [float(node % 2), float(i % 3)]
    ...     for u, v in G.edges():
    ...         G.edges[u, v]["y"] = int(G.nodes[u]["x"][0] == G.nodes[v]["x"][0])
    ...     graphs.append(G)
    >>> clf = EdgeClassifier(hidden=16, n_blocks=1, max_iter=150, learning_rate_init=0.01,
    ...                      random_state=0).fit(graphs)
    >>> clf.score(graphs)
    1.0
    """,
        labels="Edge labels.",
        part={"unit": "edges", "unit_singular": "edge", "order": "G.edges()"},
    )

    _level = "edge"


class _RowOutputs(ClassifierMixin, BaseEstimator):
    """A node or edge classifier's outputs on one X as a classifier of rows (for scorers).

    scikit-learn's scorers call ``predict`` or ``predict_proba`` and expect one
    row per sample; this stand-in answers with one row per node (edge),
    computed once, whatever X the scorer passes back.
    """

    def __init__(self, estimator: _PartClassifier, raw: np.ndarray) -> None:
        self.estimator = estimator
        self.raw = raw

    @property
    def classes_(self) -> np.ndarray:
        return self.estimator.classes_

    def predict(self, X: Any) -> np.ndarray:
        return self.estimator._labels_from_raw(self.raw)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.estimator._proba_rows(self.raw)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        return _log_proba_rows(self.estimator, self.raw)


def _log_proba_rows(estimator: _PartClassifier, raw: np.ndarray) -> np.ndarray:
    """Log-probabilities from raw outputs, stable where a probability underflows to 0."""
    if estimator.out_activation_ == "softmax":
        return raw - np.logaddexp.reduce(raw, axis=1, keepdims=True)
    log_p = -np.logaddexp(0.0, -raw)
    if estimator.n_outputs_ == 1:
        return np.hstack([-np.logaddexp(0.0, raw), log_p])
    return log_p


# Metrics whose scorers need one row per sample: scikit-learn's and the package's.
_ROW_METRICS = ("sklearn.metrics", "sklearn_dlpp.metrics")


def _refuse_plain_scorer(estimator: _PartClassifier) -> None:
    """Raise, naming the fix, when a scikit-learn scorer asks for per-graph predictions.

    A scorer such as ``get_scorer("roc_auc")`` calls ``predict_proba`` and hands
    the result to a metric that needs one row per sample; the list of per-graph
    arrays would fail there with a message about shapes. The scorer is found a
    few frames up (``_BaseScorer._score``); a scorer around a metric of the
    user's own, which may well take the lists, is left alone.
    """
    frame = sys._getframe(2)
    for _ in range(8):
        if frame is None:
            return
        if frame.f_code.co_name == "_score" and frame.f_globals.get("__name__", "").startswith(
            "sklearn.metrics"
        ):
            metric = getattr(frame.f_locals.get("self"), "_score_func", None)
            if getattr(metric, "__module__", "").startswith(_ROW_METRICS):
                name = type(estimator).__name__
                unit = "node" if estimator._level == "node" else "edge"
                msg = (
                    f"{name} predicts one array per graph, and the scorer of "
                    f"{getattr(metric, '__name__', 'this metric')} needs one row per sample. "
                    f"Wrap the scorer to score every {unit} as a sample: "
                    "scoring=sklearn_dlpp.metrics.make_flat_scorer(name or scorer), "
                    "e.g. make_flat_scorer('roc_auc')."
                )
                raise ValueError(msg)
            return
        frame = frame.f_back
