"""Data larger than memory: partial_fit over chunks reaches the score of one fit on all the data."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import make_classification, make_regression

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

EPOCHS = 8
CHUNK = 100
# The streamed fit may score this much lower (accuracy, or R^2) than the one fit.
TOLERANCE = 0.05


def _chunks(X, y, size: int) -> Iterator[tuple]:
    """What a reader of a file too large for memory yields: consecutive pieces."""
    for start in range(0, len(X), size):
        yield X[start : start + size], None if y is None else y[start : start + size]


# ------------------------------------------------------------------- data
def _dense_classification():
    X, y = make_classification(
        n_samples=1000, n_features=10, n_informative=6, class_sep=1.5, random_state=0
    )
    return X[:800], y[:800], X[800:], y[800:]


def _dense_regression():
    X, y = make_regression(n_samples=1000, n_features=8, noise=5.0, random_state=0)
    y = y / y.std()
    return X[:800], y[:800], X[800:], y[800:]


def _particles(regression: bool):
    rng = np.random.default_rng(0)
    labels = np.arange(600) % 2
    sizes = rng.integers(3, 8, 600)
    X = [rng.normal(size=(int(n), 2)) + 0.7 * c for n, c in zip(sizes, labels, strict=True)]
    y = np.array([x[:, 0].mean() for x in X]) if regression else labels
    return X[:500], y[:500], X[500:], y[500:]


def _networkx():
    rng = np.random.default_rng(0)
    graphs = []
    for i in range(300):
        G = nx.gnp_random_graph(int(rng.integers(4, 8)), 0.5, seed=i)
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=2)
            G.nodes[node]["y"] = int(G.nodes[node]["x"][0] + G.nodes[node]["x"][1] > 0)
        for u, v in G.edges():
            G.edges[u, v]["y"] = int(G.nodes[u]["y"] == G.nodes[v]["y"])
        graphs.append(G)
    return graphs[:250], None, graphs[250:], None


GRAPH = {"hidden": 16, "n_blocks": 1, "learning_rate_init": 0.01}
CASES = {
    "MLPClassifier": (
        MLPClassifier,
        {"hidden_layer_sizes": (32,), "learning_rate_init": 0.01},
        _dense_classification,
    ),
    "MLPRegressor": (
        MLPRegressor,
        {"hidden_layer_sizes": (32,), "learning_rate_init": 0.01},
        _dense_regression,
    ),
    "GraphClassifier": (GraphClassifier, GRAPH, lambda: _particles(regression=False)),
    "GraphRegressor": (GraphRegressor, GRAPH, lambda: _particles(regression=True)),
    "NodeClassifier": (NodeClassifier, GRAPH, _networkx),
    "EdgeClassifier": (EdgeClassifier, GRAPH, _networkx),
}


# A last chunk smaller than batch_size is clipped with scikit-learn's warning.
@pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning")
@pytest.mark.parametrize("name", CASES)
def test_partial_fit_on_chunks_reaches_one_fit(name):
    cls, params, data = CASES[name]
    X, y, X_test, y_test = data()
    # Without a held-out fraction: partial_fit never holds data out.
    one_fit = cls(
        **params, max_iter=EPOCHS, batch_size=CHUNK, early_stopping=False, random_state=0
    ).fit(X, y)

    streamed = cls(**params, batch_size=CHUNK, random_state=0)
    # partial_fit must be told every class up front: a chunk may lack some.
    classes = {}
    if is_classifier(streamed):
        classes = {"classes": [0, 1] if y is None else np.unique(y)}
    for _ in range(EPOCHS):
        for X_chunk, y_chunk in _chunks(X, y, CHUNK):
            streamed.partial_fit(X_chunk, y_chunk, **classes)

    # As many optimiser steps in both: one epoch of fit is one pass over the chunks.
    assert streamed.t_ == one_fit.t_
    expected = one_fit.score(X_test, y_test)
    assert expected > (0.75 if is_classifier(one_fit) else 0.5)  # a fit worth matching
    assert streamed.score(X_test, y_test) >= expected - TOLERANCE
