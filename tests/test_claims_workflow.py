"""Cross-validation of node and edge classifiers splits by graph and scores each fold's fit.

``tests/test_graph_estimators.py`` checks only the number of scores; here they
must equal fits made fold by fold on the graphs of each split.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from sklearn.model_selection import KFold, cross_val_score

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

FAST = {"hidden": 8, "n_blocks": 1, "max_iter": 5, "learning_rate_init": 0.01, "random_state": 0}


def _graphs(n=30):
    rng = np.random.default_rng(3)
    graphs = []
    for _ in range(n):
        G = nx.gnp_random_graph(int(rng.integers(3, 7)), 0.5, seed=int(rng.integers(1 << 30)))
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=2)
            G.nodes[node]["y"] = int(G.nodes[node]["x"][0] > 0)
        for u, v in G.edges():
            G.edges[u, v]["y"] = int(G.nodes[u]["y"] == G.nodes[v]["y"])
        graphs.append(G)
    return graphs


@pytest.mark.parametrize("cls", [NodeClassifier, EdgeClassifier])
def test_cross_val_score_equals_fold_by_fold_fits(cls):
    graphs = _graphs()
    folds = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(cls(**FAST), graphs, cv=folds)
    by_hand = []
    for train, test in folds.split(graphs):
        model = cls(**FAST).fit([graphs[i] for i in train])
        test_graphs = [graphs[i] for i in test]
        # The score is the accuracy over all nodes (edges) of the test graphs.
        attribute = "nodes" if cls is NodeClassifier else "edges"
        truth = np.concatenate(
            [[d["y"] for *_, d in getattr(G, attribute)(data=True)] for G in test_graphs]
        )
        predicted = np.concatenate(model.predict(test_graphs))
        assert model.score(test_graphs) == pytest.approx((truth == predicted).mean())
        by_hand.append(model.score(test_graphs))
    np.testing.assert_allclose(scores, by_hand, rtol=1e-12)


@pytest.mark.parametrize("cls", [NodeClassifier, EdgeClassifier, GraphClassifier, GraphRegressor])
def test_graph_estimator_tags_tell_scikit_learn_what_x_is(cls):
    # Tools that read tags (scikit-learn's checks, meta-estimators) must not feed 2-D X.
    tags = cls().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.three_d_array is True
    assert tags.non_deterministic is False


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, PerceptronClassifier])
def test_dense_estimator_tags_accept_sparse_2d_x(cls):
    tags = cls().__sklearn_tags__()
    assert tags.input_tags.two_d_array is True
    assert tags.input_tags.sparse is True


@pytest.mark.parametrize("cls", [MLPClassifier, GraphClassifier])
def test_pickling_leaves_the_fitted_estimator_as_it_was(cls):
    import pickle

    graphs = _graphs(20)
    y = np.arange(20) % 2
    X = graphs if cls is GraphClassifier else np.array([G.nodes[0]["x"] for G in graphs])
    kw = {"max_iter": 3, "random_state": 0}
    kw |= {"hidden": 4, "n_blocks": 1} if cls is GraphClassifier else {"hidden_layer_sizes": (4,)}
    pickled, untouched = cls(**kw).fit(X, y), cls(**kw).fit(X, y)
    before = set(vars(pickled))
    pickle.dumps(pickled)
    assert set(vars(pickled)) == before  # the optimizer state (net_) and caches stay
    # partial_fit goes on with the same Adam moments as an estimator never pickled.
    pickled.partial_fit(X, y)
    untouched.partial_fit(X, y)
    for a, b in zip(
        pickled.module_.state_dict().values(), untouched.module_.state_dict().values(), strict=True
    ):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
