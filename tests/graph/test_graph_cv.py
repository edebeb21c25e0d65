"""scikit-learn can index, split and cross-validate every input form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _graph_samples import assert_batches_equal, jets
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import _safe_indexing

from sklearn_dlpp.graph import GraphScaler, pack_graphs


def _networkx_graphs(n: int) -> list:
    import networkx as nx

    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        graph = nx.gnp_random_graph(int(rng.integers(1, 8)), 0.4, seed=i)
        nx.set_node_attributes(graph, {v: rng.normal(size=3) for v in graph}, "x")
        out.append(graph)
    return out


def _forms() -> dict:
    X = jets(24, 6, seed=8)
    real = (X != 0).any(axis=2)
    forms = {
        "graphs": _networkx_graphs(24),
        "padded": X,
        "masked": np.ma.MaskedArray(X, mask=np.repeat(~real[..., None], 3, axis=2)),
        "list": [row[mask] for row, mask in zip(X, real, strict=True)],
    }
    try:
        import awkward as ak
    except ImportError:
        return forms
    forms["awkward"] = ak.Array([row.tolist() for row in forms["list"]])
    return forms


FORMS = _forms()


class MeanPoolRidge(RegressorMixin, BaseEstimator):
    """Ridge on mean-pooled node features: the smallest estimator that packs its input."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def _pool(self, X, **options) -> np.ndarray:
        batch = pack_graphs(X, **options)
        pooled = torch.zeros(batch.n_graphs, batch.x.shape[1]).index_add_(
            0, batch.node_graph, batch.x
        )
        return (pooled / batch.n_nodes[:, None]).numpy()

    def fit(self, X, y):
        features = self._pool(X)
        self.n_node_features_ = features.shape[1]
        self.ridge_ = Ridge(alpha=self.alpha).fit(features, y)
        return self

    def predict(self, X):
        return self.ridge_.predict(self._pool(X, n_node_features=self.n_node_features_))


@pytest.mark.parametrize("form", FORMS)
def test_safe_indexing_equals_select(form):
    X = FORMS[form]
    index = np.array([5, 0, 23, 5, 11])
    options = {} if form == "graphs" else {"set_edges": "knn", "k": 2}
    picked = pack_graphs(_safe_indexing(X, index), **options)
    assert_batches_equal(picked, pack_graphs(X, **options).select(torch.from_numpy(index)))


@pytest.mark.parametrize("form", FORMS)
def test_cross_validation_splits_every_form(form):
    X = FORMS[form]
    y = np.arange(len(X), dtype=float)
    folds = KFold(3, shuffle=True, random_state=0)
    for _, test in folds.split(np.zeros(len(y))):
        whole = pack_graphs(X)
        assert_batches_equal(pack_graphs(_safe_indexing(X, test)), whole.select(test))
    scores = cross_val_score(make_pipeline(GraphScaler(), MeanPoolRidge()), X, y, cv=folds)
    # The same folds cut by hand from the pooled features of the whole X (no indexing of X):
    # a split that mixed up samples would score differently.
    pooled = MeanPoolRidge()._pool(X)
    by_hand = {}
    for alpha in (0.1, 10.0):
        by_hand[alpha] = [
            Ridge(alpha=alpha).fit(pooled[train], y[train]).score(pooled[test], y[test])
            for train, test in folds.split(np.zeros(len(y)))
        ]
    search = GridSearchCV(MeanPoolRidge(), {"alpha": [0.1, 10.0]}, cv=folds).fit(X, y)
    np.testing.assert_allclose(search.cv_results_["split0_test_score"][0], by_hand[0.1][0])
    best = max(by_hand, key=lambda alpha: np.mean(by_hand[alpha]))
    assert search.best_params_ == {"alpha": best}
    np.testing.assert_allclose(search.best_score_, np.mean(by_hand[best]), rtol=1e-5)
    assert np.isfinite(scores).all()
