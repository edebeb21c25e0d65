"""make_pass_class: the course's two-feature toy, for classification and regression."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from sklearn_dlpp.datasets import make_pass_class


def test_features():
    X, y = make_pass_class(1000, n_lectures=12, random_state=0)
    assert X.shape == (1000, 2)
    assert X.dtype == np.float64
    lectures, hours = X.T
    np.testing.assert_array_equal(lectures, np.round(lectures))
    assert lectures.min() >= 0
    assert lectures.max() <= 12
    assert (hours >= 0).all()
    assert y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}


def test_pass_is_a_grade_of_fifty():
    X_pass, passed = make_pass_class(500, random_state=1)
    X_grade, grade = make_pass_class(500, target="grade", random_state=1)
    np.testing.assert_array_equal(X_pass, X_grade)
    assert grade.dtype == np.float64
    assert ((grade >= 0) & (grade <= 100)).all()
    np.testing.assert_array_equal(passed, (grade >= 50).astype(np.int64))
    assert 0.45 < passed.mean() < 0.7


def test_more_work_more_passes():
    X, y = make_pass_class(4000, random_state=2)
    lectures, hours = X.T
    assert y[lectures > np.median(lectures)].mean() > y[lectures < np.median(lectures)].mean()
    assert y[hours > np.median(hours)].mean() > y[hours < np.median(hours)].mean()
    _, grade = make_pass_class(4000, target="grade", noise=0.0, random_state=2)
    assert np.corrcoef(hours, grade)[0, 1] > 0.3


@pytest.mark.parametrize("seed", [0, 1])
def test_boundary_is_curved(seed):
    X, y = make_pass_class(2000, noise=0.0, random_state=seed)
    linear = make_pipeline(StandardScaler(), LogisticRegression(C=1e4, max_iter=5000))
    curved = make_pipeline(
        PolynomialFeatures(3), StandardScaler(), LogisticRegression(C=1e4, max_iter=5000)
    )
    assert linear.fit(X, y).score(X, y) < 0.985
    assert curved.fit(X, y).score(X, y) > 0.99


def test_noise_blurs_the_grade():
    _, clean = make_pass_class(2000, target="grade", noise=0.0, random_state=3)
    _, noisy = make_pass_class(2000, target="grade", noise=10.0, random_state=3)
    assert 5 < np.std(noisy - clean) < 12
