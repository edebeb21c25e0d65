"""Searches and cross-validation on a dask.distributed cluster equal the sequential run.

One LocalCluster of two worker processes on the loopback interface serves the
whole module (starting one costs a few seconds).
"""

from __future__ import annotations

import os
import pickle
import sys

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from skorch.callbacks import Callback
from torch import nn

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
)

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

THREADS_PER_WORKER = 1


@pytest.fixture(scope="module")
def client():
    import cloudpickle

    # Workers cannot import this test module: ship its functions by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=THREADS_PER_WORKER,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    dask_client = distributed.Client(cluster)
    try:
        yield dask_client
    finally:
        dask_client.close()
        cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


# ------------------------------------------------------------------- data
def _dense(regression: bool = False):
    X, y = make_classification(
        n_samples=60, n_features=4, n_informative=3, n_redundant=0, random_state=0
    )
    return X, (X @ [1.0, -0.5, 0.3, 0.0] if regression else y)


def _particles(regression: bool = False):
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 2
    X = [
        rng.normal(size=(int(n), 3)) + label
        for n, label in zip(rng.integers(2, 6, 40), labels, strict=True)
    ]
    y = np.array([x[:, 0].sum() for x in X]) if regression else labels
    return X, y


def _networkx():
    rng = np.random.default_rng(1)
    graphs = []
    for i in range(30):
        G = nx.gnp_random_graph(int(rng.integers(3, 7)), 0.5, seed=i)
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=2)
            G.nodes[node]["y"] = int(G.nodes[node]["x"][0] > 0)
        for u, v in G.edges():
            G.edges[u, v]["y"] = int(G.nodes[u]["y"] == G.nodes[v]["y"])
        graphs.append(G)
    return graphs, None


GRAPH = {"hidden": 8, "n_blocks": 1, "max_iter": 3, "random_state": 0}
CASES = {
    "PerceptronClassifier": (PerceptronClassifier(max_iter=5, random_state=0), _dense()),
    "MLPClassifier": (MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0), _dense()),
    "MLPRegressor": (
        MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0),
        _dense(regression=True),
    ),
    "GraphClassifier": (GraphClassifier(**GRAPH), _particles()),
    "GraphRegressor": (GraphRegressor(**GRAPH), _particles(regression=True)),
    "NodeClassifier": (NodeClassifier(**GRAPH), _networkx()),
    "EdgeClassifier": (EdgeClassifier(**GRAPH), _networkx()),
}
GRID = {"learning_rate_init": [0.001, 0.01], "alpha": [1e-4, 1e-2]}


def _search(kind: str, estimator):
    if kind == "grid":
        return GridSearchCV(estimator, GRID, cv=2, n_jobs=2)
    return RandomizedSearchCV(estimator, GRID, n_iter=3, cv=2, n_jobs=2, random_state=0)


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("name", CASES)
def test_parameters_hold_no_tensors_and_pickle_small(name):
    estimator = CASES[name][0]
    for key, value in estimator.get_params(deep=True).items():
        assert not isinstance(value, torch.Tensor | nn.Module), key
    # Every task ships a clone: it must stay a few kilobytes.
    assert len(pickle.dumps(clone(estimator))) < 4096


@pytest.mark.parametrize("kind", ["grid", "random"])
@pytest.mark.parametrize("name", CASES)
def test_search_on_dask_equals_sequential(client, name, kind):
    estimator, (X, y) = CASES[name]
    sequential = _search(kind, estimator).set_params(n_jobs=None).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        parallel = _search(kind, estimator).fit(X, y)
    assert parallel.cv_results_["params"] == sequential.cv_results_["params"]
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_array_equal(parallel.cv_results_[key], sequential.cv_results_[key])
    assert parallel.best_params_ == sequential.best_params_


@pytest.mark.parametrize("name", ["MLPRegressor", "GraphClassifier", "EdgeClassifier"])
def test_cross_validate_on_dask_equals_sequential(client, name):
    estimator, (X, y) = CASES[name]
    sequential = cross_validate(estimator, X, y, cv=3, return_estimator=True)
    with joblib.parallel_config(backend="dask"):
        parallel = cross_validate(estimator, X, y, cv=3, n_jobs=3, return_estimator=True)
    np.testing.assert_array_equal(parallel["test_score"], sequential["test_score"])
    # The fitted estimators came back from the workers in one piece.
    for ours, theirs in zip(parallel["estimator"], sequential["estimator"], strict=True):
        np.testing.assert_array_equal(ours.loss_curve_, theirs.loss_curve_)


class _ThreadProbe(Callback):
    """Records torch's thread count at every batch."""

    def initialize(self):
        self.seen = []
        return self

    def on_batch_begin(self, net, **kwargs):
        self.seen.append(torch.get_num_threads())


def _threads_during_fit_without_thread_variables() -> tuple[int, int]:
    """Fit on a worker whose environment sets no thread count; torch's threads before/during."""
    saved = {
        k: os.environ.pop(k)
        for k in ("OMP_NUM_THREADS", "SKLEARN_DLPP_NUM_THREADS")
        if k in os.environ
    }
    before = torch.get_num_threads()
    # What torch picks on its own in such a worker: one thread per core.
    torch.set_num_threads(max(2, os.cpu_count() or 2))
    try:
        probe = _ThreadProbe()
        X, y = _dense()
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0, callbacks=[probe]).fit(
            X, y
        )
        return torch.get_num_threads(), max(probe.seen)
    finally:
        torch.set_num_threads(before)
        os.environ.update(saved)


def test_fit_on_worker_stays_within_worker_threads(client):
    outside, during = client.submit(_threads_during_fit_without_thread_variables).result()
    assert outside > THREADS_PER_WORKER  # the probe really had more threads to lose
    assert during <= THREADS_PER_WORKER
