"""Training semantics side by side with scikit-learn's MLPs: what a script observes is the same."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import neural_network
from sklearn.exceptions import ConvergenceWarning

from sklearn_dlpp import MLPClassifier, MLPRegressor, PerceptronClassifier

PAIRS = {
    "MLPClassifier": (neural_network.MLPClassifier, MLPClassifier),
    "MLPRegressor": (neural_network.MLPRegressor, MLPRegressor),
}


def data(n: int = 60):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    return X, y


def both(name: str, **params):
    """scikit-learn's estimator and ours, with the same parameters."""
    theirs, ours = PAIRS[name]
    params = {"hidden_layer_sizes": (5,), "random_state": 0, **params}
    return theirs(**params), ours(**params)


def caught(call):
    """Run ``call``; the categories and messages of the warnings it emitted."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message)) for w in record]


def target(name: str, y: np.ndarray) -> np.ndarray:
    return y if name == "MLPClassifier" else y + 0.5


# ------------------------------------------------------------- counts and warnings
@pytest.mark.parametrize("name", PAIRS)
def test_warm_start_counts_each_call_and_warns_at_max_iter(name):
    X, y = data()
    for estimator in both(name, max_iter=3, warm_start=True):
        seen = []
        for _ in range(3):
            warned = caught(lambda e=estimator: e.fit(X, target(name, y)))
            assert [c for c, _ in warned] == [ConvergenceWarning]
            seen.append((estimator.n_iter_, estimator.t_, len(estimator.loss_curve_)))
        # n_iter_ counts the last call; t_ and the loss curve go on.
        assert seen == [(3, 180, 3), (3, 360, 6), (3, 540, 9)]


@pytest.mark.parametrize("name", PAIRS)
def test_partial_fit_counts_one_epoch_per_call_and_never_warns(name):
    X, y = data()
    for estimator in both(name, max_iter=3):
        for call in range(1, 4):
            if name == "MLPClassifier":
                fit = lambda e=estimator: e.partial_fit(X, y, classes=[0, 1])  # noqa: E731
            else:
                fit = lambda e=estimator: e.partial_fit(X, target(name, y))  # noqa: E731
            assert caught(fit) == []
            assert (estimator.n_iter_, estimator.t_) == (1, 60 * call)


@pytest.mark.parametrize(
    ("limit", "reason"),
    [
        ({"max_iter": 3}, "ITERATIONS REACHED LIMIT"),
        ({"max_fun": 5}, "F,G EVALUATIONS EXCEEDS LIMIT"),
    ],
)
def test_lbfgs_warns_at_either_limit(limit, reason):
    X, y = data()
    for estimator in both("MLPClassifier", solver="lbfgs", **limit):
        warned = caught(lambda e=estimator: e.fit(X, y))
        assert len(warned) == 1
        category, message = warned[0]
        assert category is ConvergenceWarning
        assert message.startswith("lbfgs failed to converge after ")
        assert reason in message
        assert ("Increase the number of iterations" in message) == ("max_iter" in limit)
        assert 1 <= estimator.n_iter_ <= limit.get("max_iter", 5)


def test_verbose_lines_have_scikit_learns_format(capsys):
    X, y = data()

    def shape_of_output(estimator) -> list[str]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        lines = capsys.readouterr().out.splitlines()
        return [re.sub(r"\d+\.\d+|\d+", "N", line) for line in lines]

    for params in (
        {"max_iter": 3, "early_stopping": True},
        {"max_iter": 50, "n_iter_no_change": 2, "tol": 0.5},
        {"max_iter": 50, "solver": "sgd", "learning_rate": "adaptive", "tol": 0.5},
    ):
        theirs, ours = both("MLPClassifier", verbose=True, **params)
        expected = shape_of_output(theirs)
        assert expected, params
        assert shape_of_output(ours) == expected, params


# ------------------------------------------------------------------ fitted weights
@pytest.mark.parametrize("name", PAIRS)
def test_coefs_are_the_live_weights(name):
    X, y = data()
    _, ours = both(name, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.fit(X, target(name, y))
    before = ours.predict(X)
    ours.coefs_[-1][:] = 0.0  # in place, as pruning does
    ours.intercepts_[-1][:] = 0.0
    flat = ours.predict(X[:100])
    assert np.unique(flat).size == 1
    assert np.all(ours.coefs_[-1] == 0.0)
    # Item and whole-list assignment write through too.
    rng = np.random.RandomState(1)
    weights = [rng.normal(size=c.shape) for c in ours.coefs_]
    ours.coefs_[0] = weights[0]
    np.testing.assert_allclose(ours.coefs_[0], weights[0], rtol=1e-6)
    ours.coefs_ = weights
    ours.intercepts_ = [np.zeros_like(b) for b in ours.intercepts_]
    h = np.maximum(X @ weights[0], 0.0) @ weights[1]
    raw = ours.predict_proba(X)[:, 1] if name == "MLPClassifier" else ours.predict(X)
    expected = 1.0 / (1.0 + np.exp(-h.ravel())) if name == "MLPClassifier" else h.ravel()
    np.testing.assert_allclose(raw, expected, rtol=1e-5, atol=1e-7)
    assert not np.array_equal(before, ours.predict(X)) or name == "MLPClassifier"
    with pytest.raises(ValueError, match="does not fit layer"):
        ours.coefs_[0] = np.zeros((2, 2))


def test_perceptron_coef_and_intercept_are_live():
    X, y = data()
    clf = PerceptronClassifier(random_state=0, max_iter=300, tol=0.5).fit(X, y)
    clf.coef_[:] = [[1.0, 0.0, 0.0, 0.0]]
    clf.intercept_[:] = 0.0
    np.testing.assert_array_equal(clf.predict(X), (X[:, 0] > 0).astype(int))
    clf.coef_ = [[-1.0, 0.0, 0.0, 0.0]]
    np.testing.assert_array_equal(clf.predict(X), (X[:, 0] < 0).astype(int))
    clf.intercept_ = [5.0]
    assert np.all(clf.predict(X[np.abs(X[:, 0]) < 1]) == 1)


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_follow_X(name, dtype):
    X, y = data()
    X = X.astype(dtype)
    for estimator in both(name, max_iter=200):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, target(name, y))
    theirs, ours = both(name, max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, target(name, y))
        ours.fit(X, target(name, y))
    assert [c.dtype for c in ours.coefs_] == [c.dtype for c in theirs.coefs_]
    assert [b.dtype for b in ours.intercepts_] == [b.dtype for b in theirs.intercepts_]
    method = "predict_proba" if name == "MLPClassifier" else "predict"
    for X_new in (X, X.astype(np.float64)):
        assert getattr(ours, method)(X_new).dtype == getattr(theirs, method)(X_new).dtype


def test_dtype_parameter_still_chooses_the_training_precision():
    X, y = data()
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, dtype="float32", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.coefs_[0].dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float64  # float64 X: outputs follow X


# ------------------------------------------------------------------------- labels
def test_multilabel_partial_fit_with_classes_and_sparse_indicators():
    X, y = data()
    Y = np.c_[y, 1 - y, (X[:, 1] > 0).astype(int)]
    for estimator in both("MLPClassifier"):
        estimator.partial_fit(X, Y, classes=[0, 1, 2])
        estimator.partial_fit(X, Y)
        np.testing.assert_array_equal(estimator.classes_, [0, 1, 2])
        assert estimator.predict(X).shape == Y.shape
    for estimator in both("MLPClassifier", max_iter=20):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, sp.csr_matrix(Y))
        predicted = estimator.predict(X)
        assert sp.issparse(predicted)
        assert predicted.shape == Y.shape
        assert 0.0 <= estimator.score(X, sp.csr_matrix(Y)) <= 1.0


def test_unseen_labels_count_as_errors_in_score():
    X, y = data()
    scores = []
    for estimator in both("MLPClassifier", max_iter=300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)
        relabelled = np.where(y == 1, 2, y)  # every 1 becomes an unseen 2
        scores.append(estimator.score(X, relabelled))
        assert scores[-1] == pytest.approx(np.mean(estimator.predict(X) == relabelled))
    assert scores[1] <= 1.0 - np.mean(y == 1) + 1e-12


@pytest.mark.parametrize("cls", [MLPClassifier, PerceptronClassifier])
def test_one_class_fits_the_constant(cls):
    X, _ = data()
    theirs = neural_network.MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    ours = cls(max_iter=20, random_state=0)
    for estimator in (theirs, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, np.full(len(X), 7))
        np.testing.assert_array_equal(estimator.classes_, [7])
        np.testing.assert_array_equal(estimator.predict(X), np.full(len(X), 7))
        assert estimator.predict_proba(X).shape == (len(X), 2)
        assert estimator.score(X, np.full(len(X), 7)) == 1.0
    # Declared in partial_fit too.
    for estimator in both("MLPClassifier"):
        estimator.partial_fit(X, np.zeros(len(X), int), classes=[0])
        assert np.all(estimator.predict(X) == 0)


# ------------------------------------------------------------------------- device
@pytest.mark.parametrize("name", PAIRS)
def test_device_is_checked_with_the_other_parameters(name):
    X, y = data()
    ours = PAIRS[name][1](device="gpu")
    with pytest.raises(ValueError, match=r"The 'device' parameter of \w+ must be"):
        ours.fit(X, target(name, y))


def test_sparse_multilabel_predictions_stay_sparse_after_save_and_load(tmp_path):
    pytest.importorskip("safetensors")
    from sklearn_dlpp import load, save

    X, y = data()
    Y = sp.csr_matrix(np.c_[y, 1 - y, (X[:, 1] > 0).astype(int)])
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, Y)
    save(clf, tmp_path / "m.safetensors", key=False)
    restored = load(tmp_path / "m.safetensors", key=False)
    assert sp.issparse(restored.predict(X))
    assert (restored.predict(X) != clf.predict(X)).nnz == 0
