"""Determinism: on the CPU, the same random_state gives the same model, bit for bit.

Every source of randomness (initialisation, shuffling, dropout, the validation
split) is drawn from random_state, never from the global RNGs, so that other
code running between two fits cannot change them.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

STOCHASTIC = {"early_stopping": True, "validation_fraction": 0.25, "n_iter_no_change": 3}
GRAPH = {"hidden": 8, "n_blocks": 1, "max_iter": 8, "dropout": 0.2, **STOCHASTIC}
DENSE = {"hidden_layer_sizes": (8,), "max_iter": 8, "dropout": 0.2, **STOCHASTIC}
ESTIMATORS = {
    "MLPClassifier": lambda rs: MLPClassifier(**DENSE, random_state=rs),
    "MLPClassifier-sgd": lambda rs: MLPClassifier(
        **DENSE, solver="sgd", batch_size=16, random_state=rs
    ),
    "MLPRegressor": lambda rs: MLPRegressor(**DENSE, random_state=rs),
    "PerceptronClassifier": lambda rs: PerceptronClassifier(
        max_iter=8, batch_size=16, random_state=rs, **STOCHASTIC
    ),
    "GraphClassifier": lambda rs: GraphClassifier(
        **GRAPH, aggregation="attention", random_state=rs
    ),
    "GraphRegressor": lambda rs: GraphRegressor(
        **GRAPH, set_edges="knn", k=2, readout="attention", random_state=rs
    ),
    "NodeClassifier": lambda rs: NodeClassifier(**GRAPH, aggregation="max", random_state=rs),
    "EdgeClassifier": lambda rs: EdgeClassifier(**GRAPH, batch_size=8, random_state=rs),
}


def data(name: str):
    rng = np.random.default_rng(0)
    if name.startswith(("MLP", "Perceptron")):
        X = rng.normal(size=(80, 4))
        y = X[:, 0] + X[:, 1] ** 2
        return X, (y if name == "MLPRegressor" else (y > np.median(y)).astype(int))
    if name == "GraphRegressor":
        X = [rng.normal(size=(int(n), 3)) for n in rng.integers(2, 7, 40)]
        return X, np.array([x[:, 0].sum() for x in X])
    graphs = []
    for n in rng.integers(3, 8, 40):
        G = nx.gnp_random_graph(int(n), 0.5, seed=int(rng.integers(1 << 30)))
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=3)
            G.nodes[node]["y"] = int(G.nodes[node]["x"][0] > 0)
        for u, v in G.edges():
            G.edges[u, v]["y"] = int(G.nodes[u]["y"] == G.nodes[v]["y"])
        graphs.append(G)
    if name == "GraphClassifier":
        return graphs, np.array([G.number_of_edges() > len(G) for G in graphs]).astype(int)
    return graphs, None


def outputs(model, X) -> np.ndarray:
    out = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
    return np.concatenate(out) if isinstance(out, list) else out


def disturb_global_rngs() -> None:
    """What other code between two fits may do to the global random number generators."""
    torch.manual_seed(1234)
    torch.rand(17)
    np.random.seed(99)  # noqa: NPY002 (the global RNG is the point)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_same_random_state_same_model_on_cpu(name):
    X, y = data(name)
    first = ESTIMATORS[name](0).set_params(device="cpu").fit(X, y)
    disturb_global_rngs()
    second = ESTIMATORS[name](0).set_params(device="cpu").fit(X, y)
    np.testing.assert_array_equal(outputs(first, X), outputs(second, X))
    assert first.loss_curve_ == second.loss_curve_
    assert first.validation_scores_ == second.validation_scores_
    weights = second.module_.state_dict()
    for key, value in first.module_.state_dict().items():
        assert torch.equal(value, weights[key]), key
    # The test can fail: another random_state gives another model.
    other = ESTIMATORS[name](1).set_params(device="cpu").fit(X, y)
    assert not np.array_equal(outputs(first, X), outputs(other, X))


@pytest.mark.parametrize("name", ["MLPClassifier", "GraphClassifier"])
def test_equal_random_state_instances_give_the_same_model(name):
    X, y = data(name)
    models = [
        ESTIMATORS[name](np.random.RandomState(3)).set_params(device="cpu").fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(outputs(models[0], X), outputs(models[1], X))


def test_partial_fit_sequences_are_reproducible():
    X, y = data("MLPClassifier")
    runs = []
    for _ in range(2):
        clf = MLPClassifier(hidden_layer_sizes=(8,), dropout=0.2, random_state=0, device="cpu")
        for chunk in np.array_split(np.arange(len(y)), 4):
            clf.partial_fit(X[chunk], y[chunk], classes=[0, 1])
            disturb_global_rngs()
        runs.append(clf.predict_proba(X))
    np.testing.assert_array_equal(*runs)
