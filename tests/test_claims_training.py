"""Training-loop claims that mutants of the core modules got past (benchmarks/mutation.py).

Each test names the documented behaviour; the mutant it kills is in docs/mutation.md.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sklearn_dlpp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=120):
    return make_classification(n_samples=n, n_features=5, random_state=0)


def _stopping_epoch(values, tol, patience, *, higher_is_better):
    """scikit-learn's rule, replayed: the epoch after which training stops (or None)."""
    best = -np.inf if higher_is_better else np.inf
    count = 0
    for epoch, value in enumerate(values, start=1):
        worse = value < best + tol if higher_is_better else value > best - tol
        count = count + 1 if worse else 0
        best = max(best, value) if higher_is_better else min(best, value)
        if count > patience:
            return epoch
    return None


@pytest.mark.parametrize("early_stopping", [True, False])
def test_training_stops_exactly_when_scikit_learns_rule_says(early_stopping):
    X, y = _data()
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        tol=1e-2,
        n_iter_no_change=3,
        max_iter=200,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        random_state=0,
    ).fit(X, y)
    values = clf.validation_scores_ if early_stopping else clf.loss_curve_
    assert len(values) == clf.n_iter_
    stop = _stopping_epoch(values, 1e-2, 3, higher_is_better=early_stopping)
    assert stop is not None, "the fit was meant to stop early"
    assert clf.n_iter_ == stop
    if early_stopping:
        assert clf.best_validation_score_ == max(values)
    else:
        assert clf.best_loss_ == min(values)


def test_batch_size_one_is_a_valid_minibatch():
    # scikit-learn accepts batch_size=1 (pure stochastic gradient descent).
    X, y = _data(30)
    clf = MLPRegressor(hidden_layer_sizes=(4,), batch_size=1, max_iter=1, random_state=0)
    clf.fit(X, y.astype(float))
    assert clf.t_ == 30
    assert len(clf.net_.history[-1, "batches"]) == 30


def test_a_validation_set_of_two_samples_is_enough():
    X, y = _data(20)
    y = y.astype(float)
    kw = {"hidden_layer_sizes": (4,), "early_stopping": True, "max_iter": 2, "random_state": 0}
    # 10 % of 20 samples: 2 held out, the smallest validation set accepted.
    MLPRegressor(**kw).fit(X, y)
    with pytest.raises(ValueError, match="validation set is too small"):
        MLPRegressor(validation_fraction=0.05, **kw).fit(X, y)
