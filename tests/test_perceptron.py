"""PerceptronClassifier: the course's single neuron."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_classification
from sklearn.linear_model import LogisticRegression

from sklearn_dlpp import PerceptronClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_binary_is_sigmoid_of_a_linear_unit():
    X, y = make_classification(n_samples=200, n_features=4, random_state=0)
    clf = PerceptronClassifier(max_iter=50, random_state=0).fit(X, y)
    assert clf.coef_.shape == (1, 4)
    assert clf.intercept_.shape == (1,)
    z = X @ clf.coef_.ravel() + clf.intercept_[0]
    np.testing.assert_allclose(clf.decision_function(X), z, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(z > 0).astype(int)])


def test_reaches_logistic_regression_accuracy():
    X, y = make_classification(n_samples=400, n_features=6, random_state=1)
    ours = PerceptronClassifier(max_iter=200, random_state=0).fit(X, y).score(X, y)
    reference = LogisticRegression().fit(X, y).score(X, y)
    assert ours >= reference - 0.02


def test_plain_gradient_descent_learns_and():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 0, 0, 1])
    clf = PerceptronClassifier(
        solver="sgd", batch_size=4, learning_rate_init=1.0, max_iter=500, alpha=0.0, random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), y)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_multiclass_softmax_shapes():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    clf = PerceptronClassifier(max_iter=100, random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 2)
    assert clf.intercept_.shape == (3,)
    assert clf.decision_function(X).shape == (300, 3)
    assert clf.out_activation_ == "softmax"
    assert clf.score(X, y) > 0.9


def test_class_weight_balanced_moves_the_boundary():
    X, y = make_classification(n_samples=400, weights=[0.9], flip_y=0.05, random_state=0)
    plain = PerceptronClassifier(max_iter=100, random_state=0).fit(X, y)
    balanced = PerceptronClassifier(max_iter=100, class_weight="balanced", random_state=0).fit(X, y)
    assert balanced.predict(X).mean() > plain.predict(X).mean()
    by_dict = PerceptronClassifier(max_iter=100, class_weight={0: 1.0, 1: 8.0}, random_state=0)
    assert by_dict.fit(X, y).predict(X).mean() > plain.predict(X).mean()


def test_early_stopping_and_verbose(capsys):
    X, y = make_classification(n_samples=300, random_state=0)
    clf = PerceptronClassifier(
        early_stopping=True, n_iter_no_change=3, max_iter=300, verbose=True, random_state=0
    ).fit(X, y)
    assert clf.n_iter_ < 300
    assert len(clf.validation_scores_) == clf.n_iter_
    assert "Validation score: " in capsys.readouterr().out
