"""Defaults of the graph estimators: early_stopping='auto' and the validation log-loss."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import log_loss

from sklearn_dlpp import GraphClassifier, GraphRegressor, NodeClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = {"hidden": 4, "n_blocks": 1, "max_iter": 2, "random_state": 0}


def _sets(n_graphs: int, n_nodes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_graphs, n_nodes, 2)) + 1.0
    return X, (X[:, :, 0].sum(axis=1) > n_nodes).astype(int)


@pytest.mark.parametrize(("n_graphs", "expected"), [(999, False), (1000, True)])
def test_auto_holds_graphs_out_from_1000_training_rows(n_graphs, expected):
    X, y = _sets(n_graphs, 1)
    clf = GraphClassifier(**TINY).fit(X, y)
    assert clf.early_stopping_ is expected
    assert (clf.validation_scores_ is not None) is expected
    assert clf.get_params()["early_stopping"] == "auto"
    assert clone(clf).early_stopping == "auto"


def test_auto_counts_nodes_for_node_classifiers():
    X, _ = _sets(40, 25)  # 1,000 nodes in 40 graphs
    node_y = list((X[:, :, 0] > 1).astype(int))
    assert NodeClassifier(**TINY).fit(X, node_y).early_stopping_ is True
    assert NodeClassifier(**TINY).fit(X[:39], node_y[:39]).early_stopping_ is False
    # 1,000 nodes but 10 graphs: one held-out graph cannot be scored, so no early stopping.
    X10, _ = _sets(10, 100)
    y10 = list((X10[:, :, 0] > 1).astype(int))
    assert NodeClassifier(**TINY).fit(X10, y10).early_stopping_ is False


def test_auto_stays_off_for_partial_fit_and_explicit_values_hold():
    X, y = _sets(1000, 1)
    streamed = GraphClassifier(**TINY).partial_fit(X, y, classes=[0, 1])
    assert streamed.early_stopping_ is False
    assert streamed.validation_scores_ is None
    assert GraphRegressor(**TINY, early_stopping=False).fit(X, y).early_stopping_ is False
    X_small, y_small = _sets(40, 1)
    # partial_fit after a fit that held graphs out: plain epochs on all the chunk.
    fitted = GraphClassifier(**TINY).fit(X, y)
    assert fitted.early_stopping_ is True
    fitted.partial_fit(X, y)
    assert fitted.early_stopping_ is False
    # One more epoch, without a validation score (n_iter_ counts the last call).
    assert fitted.n_iter_ == 1
    assert len(fitted.loss_curve_) == len(fitted.validation_scores_) + 1
    forced = GraphClassifier(**TINY, early_stopping=True).fit(X_small, y_small)
    assert forced.early_stopping_ is True
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        GraphClassifier(**TINY, early_stopping=True).partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_validation_score_is_minus_the_weighted_log_loss(n_classes):
    X, _ = _sets(60, 3)
    y = np.arange(60) % n_classes
    weights = np.random.default_rng(0).uniform(0.1, 2.0, size=60)
    clf = GraphClassifier(**TINY).fit(X, y)
    expected = -log_loss(y, clf.predict_proba(X), sample_weight=weights)
    assert clf._score_raw(clf._raw(X), y, weights) == pytest.approx(expected, rel=1e-9)
    node_y = np.arange(180) % n_classes
    nodes = NodeClassifier(**TINY).fit(X, list(node_y.reshape(60, 3)))
    weights = np.repeat(weights, 3)
    proba = np.concatenate(nodes.predict_proba(X))
    expected = -log_loss(node_y, proba, sample_weight=weights)
    assert nodes._score_raw(nodes._raw(X), node_y, weights) == pytest.approx(expected, rel=1e-9)


def test_early_stopping_keeps_the_epoch_of_best_validation_loss():
    X, y = _sets(300, 3, seed=1)
    clf = GraphClassifier(
        hidden=16,
        n_blocks=1,
        max_iter=40,
        learning_rate_init=0.05,
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
    ).fit(X, y)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # Log-losses, not accuracies: negative, and not multiples of 1 / n_validation.
    assert all(score < 0 for score in clf.validation_scores_)
    assert len(set(clf.validation_scores_)) == len(clf.validation_scores_)
