"""Graph neural networks as scikit-learn estimators: graph, node and edge level."""

from __future__ import annotations

from typing import Any

import numpy as np

from sklearn_dlpp._compat import _fit_context
from sklearn_dlpp._docs import fill_doc
from sklearn_dlpp._graph_base import BaseGraphEstimator
from sklearn_dlpp._graph_docs import class_doc
from sklearn_dlpp._outputs import ClassifierOutputs, RegressorOutputs


class _LogLossValidation:
    """Classifiers whose early stopping watches the validation log-loss, not the accuracy.

    The accuracy of a few hundred held-out graphs moves in steps and stops
    improving long before the probabilities do (measured: docs/benchmarks.md).
    """

    def _score_raw(self, raw: np.ndarray, y: Any, sample_weight: Any) -> float:
        targets = self._label_binarizer.transform(y).astype(np.float64)
        if self.out_activation_ == "softmax":
            log_p = raw - np.logaddexp.reduce(raw, axis=1, keepdims=True)
            losses = -(targets * log_p).sum(axis=1)
        else:
            targets = targets.reshape(raw.shape)
            losses = (np.logaddexp(0.0, raw) - targets * raw).sum(axis=1)
        return -float(np.average(losses, weights=sample_weight))


class _GraphLevel(BaseGraphEstimator):
    """Estimators with one target (a label or a row of numbers) per graph (private base)."""

    _level = "graph"

    @fill_doc
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None):
        """Fit on graphs X with one target per graph.

        Parameters
        ----------
        %(graph_X)s
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            One label per graph (classifiers), or one target or row of targets
            per graph (regressors).
        %(partial_fit_weight)s

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)


class GraphClassifier(_LogLossValidation, ClassifierOutputs, _GraphLevel):
    __doc__ = class_doc(
        """Graph neural network classifier: one label per graph (e.g. jet tagging).

    X is a list of ``networkx`` graphs, a zero-padded particle array
    (n_samples, n_particles, n_features), a list of 2-D particle arrays or an
    awkward array; see :func:`sklearn_dlpp.graph.pack_graphs`. Node features
    are encoded by an MLP, updated by ``n_blocks`` GN (or deep-set) blocks,
    pooled by a permutation-invariant readout and classified by an MLP head
    (sigmoid or softmax).
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp import GraphClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.array([0, 1] * 30)
    >>> sizes = rng.integers(3, 8, 60)
    >>> X = [rng.normal(size=(int(n), 2)) + 2 * label for n, label in zip(sizes, y)]
    >>> clf = GraphClassifier(hidden=16, n_blocks=1, learning_rate_init=0.01, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """,
        labels="Class labels.",
    )

    _level = "graph"

    @fill_doc
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None):
        """One epoch on a chunk of graphs, keeping the optimiser state.

        Parameters
        ----------
        %(graph_chunk)s
        y : array-like of shape (n_samples,)
            One label per graph.
        %(partial_fit_weight)s
        %(classes)s

        Returns
        -------
        self : GraphClassifier
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)


class GraphRegressor(RegressorOutputs, _GraphLevel):
    __doc__ = class_doc(
        """Graph neural network regressor: one (or several) real targets per graph.

    The architecture of :class:`GraphClassifier` with an identity output and
    the half squared error.
""",
        """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_dlpp import GraphRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = [rng.uniform(size=(int(n), 1)) for n in rng.integers(2, 9, 80)]
    >>> y = np.array([x.sum() for x in X])  # the total energy of a set of particles
    >>> reg = GraphRegressor(hidden=16, n_blocks=0, readout="sum", max_iter=200,
    ...                      learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """,
    )

    _level = "graph"
    loss = "squared_error"

    @fill_doc
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None):
        """One epoch on a chunk of graphs, keeping the optimiser state.

        Parameters
        ----------
        %(graph_chunk)s
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets of the chunk, as in :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights, as in :meth:`fit`.

        Returns
        -------
        self : GraphRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)


def __getattr__(name: str) -> Any:
    """Node and edge classifiers moved to ``_part_estimators``; models pickled before still load."""
    if name in ("NodeClassifier", "EdgeClassifier"):
        from sklearn_dlpp import _part_estimators

        return getattr(_part_estimators, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
