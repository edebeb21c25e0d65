"""background_rejection and its scorer: hand-computed values, event weights, scikit-learn search."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.naive_bayes import GaussianNB

from sklearn_dlpp.datasets import make_electron_photon
from sklearn_dlpp.metrics import (
    background_rejection,
    background_rejection_scorer,
    make_background_rejection_scorer,
)

# Scanning the cut down: (tpr, fpr) = (0,0) (1/3,0) (1/3,1/3) (2/3,1/3) (2/3,2/3) (2/3,1) (1,1).
Y_SIX = [1, 0, 1, 0, 0, 1]
SCORE_SIX = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]


@pytest.mark.parametrize(
    ("y", "score", "efficiency", "expected"),
    [
        ([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1], 0.75, 4.0),  # half way along (0.5,0)-(1,0.5)
        ([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1], 0.5, np.inf),  # no background passes
        ([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1], 1.0, 2.0),
        (Y_SIX, SCORE_SIX, 0.2, np.inf),
        (Y_SIX, SCORE_SIX, 1 / 3, np.inf),  # the first point reaching it is the tightest
        (Y_SIX, SCORE_SIX, 0.5, 3.0),
        (Y_SIX, SCORE_SIX, 0.9, 1.0),
        ([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], 0.75, 2.0),  # fpr 0 -> 0.5 on tpr 0.5 -> 1
        ([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1], 0.6, 10.0),  # a fifth along (0.5,0)-(1,0.5)
    ],
)
def test_hand_computed(y, score, efficiency, expected):
    result = background_rejection(y, score, signal_efficiency=efficiency)
    assert isinstance(result, float)
    assert result == pytest.approx(expected)


def test_default_efficiency_is_thirty_percent():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 500)
    score = y + rng.normal(0, 1.5, 500)
    assert background_rejection(y, score) == background_rejection(y, score, signal_efficiency=0.3)


def test_invariant_under_monotone_maps_of_the_score():
    rng = np.random.RandomState(1)
    y = rng.randint(0, 2, 300)
    score = y + rng.normal(0, 1, 300)
    for efficiency in (0.1, 0.5, 0.9):
        direct = background_rejection(y, score, signal_efficiency=efficiency)
        mapped = background_rejection(y, np.exp(3 * score), signal_efficiency=efficiency)
        assert mapped == pytest.approx(direct)


def test_perfect_and_useless_scores():
    y = np.array([0] * 50 + [1] * 50)
    assert background_rejection(y, y.astype(float), signal_efficiency=1.0) == np.inf
    # A constant score keeps everything or nothing: interpolated, eps_B = eps_S.
    assert background_rejection(y, np.zeros(100), signal_efficiency=0.25) == pytest.approx(4.0)


def _weighted_data(seed=0, n=200):
    rng = np.random.RandomState(seed)
    y = rng.randint(0, 2, n)
    score = np.round(y + rng.normal(0, 1, n), 1)  # rounded: ties across classes
    weight = rng.randint(0, 5, n)
    weight[:2] = 1  # both classes keep weight
    return y, score, weight


@pytest.mark.parametrize("efficiency", [0.05, 0.3, 0.5, 0.77, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_weights_equal_repeated_rows(efficiency, seed):
    y, score, weight = _weighted_data(seed)
    weighted = background_rejection(y, score, signal_efficiency=efficiency, sample_weight=weight)
    repeated = background_rejection(
        np.repeat(y, weight), np.repeat(score, weight), signal_efficiency=efficiency
    )
    assert weighted == pytest.approx(repeated)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 5), st.integers(0, 3)), min_size=2, max_size=40
    ),
    efficiency=st.floats(0.01, 1.0),
)
def test_weights_are_repetitions_property(rows, efficiency):
    y, score, weight = (np.array(column) for column in zip(*rows, strict=True))
    repeated_y = np.repeat(y, weight)
    assume(len(np.unique(repeated_y)) == 2)  # a class without weight is an error, tested apart
    weighted = background_rejection(y, score, signal_efficiency=efficiency, sample_weight=weight)
    repeated = background_rejection(
        repeated_y, np.repeat(score, weight), signal_efficiency=efficiency
    )
    assert weighted == pytest.approx(repeated)


def test_roc_auc_is_scikit_learns_with_weights():
    y, score, weight = _weighted_data(3)
    weighted = roc_auc_score(y, score, sample_weight=weight)
    repeated = roc_auc_score(np.repeat(y, weight), np.repeat(score, weight))
    assert weighted == pytest.approx(repeated)


@pytest.mark.parametrize("efficiency", [0.2, 0.5, 0.8])
def test_negative_weights_subtract_events(efficiency):
    # NLO generators give negative weights: an event with weight 2 and its copy with
    # weight -1 count as the event once.
    y, score, _ = _weighted_data(4, n=100)
    extra = np.arange(0, 100, 3)
    y_all = np.concatenate([y, y[extra]])
    score_all = np.concatenate([score, score[extra]])
    weight = np.concatenate([np.ones(100), -np.ones(extra.size)])
    weight[extra] = 2.0
    result = background_rejection(
        y_all, score_all, signal_efficiency=efficiency, sample_weight=weight
    )
    assert result == pytest.approx(background_rejection(y, score, signal_efficiency=efficiency))


def test_negative_net_background_passing_is_infinite_rejection():
    y = [1, 1, 0, 0, 0]
    score = [0.9, 0.8, 0.85, 0.1, 0.1]
    weight = [1.0, 1.0, -1.0, 2.0, 2.0]  # the background above the cut nets negative
    assert background_rejection(y, score, signal_efficiency=1.0, sample_weight=weight) == np.inf


def test_labels_and_pos_label():
    y01 = np.array([1, 0, 1, 0, 0, 1])
    expected = background_rejection(y01, SCORE_SIX, signal_efficiency=0.5)
    assert background_rejection(2 * y01 - 1, SCORE_SIX, signal_efficiency=0.5) == expected
    assert background_rejection(y01.astype(bool), SCORE_SIX, signal_efficiency=0.5) == expected
    names = np.where(y01 == 1, "photon", "electron")
    got = background_rejection(names, SCORE_SIX, signal_efficiency=0.5, pos_label="photon")
    assert got == expected
    flipped = background_rejection(y01, SCORE_SIX, signal_efficiency=0.5, pos_label=0)
    assert flipped == background_rejection(1 - y01, SCORE_SIX, signal_efficiency=0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y_true": [0, 1, 1], "y_score": [0.1, 0.2]}, "inconsistent numbers of samples"),
        ({"sample_weight": [1.0, 1.0]}, "inconsistent numbers of samples"),
        ({"y_true": [0, 1, 2, 1]}, "binary"),
        ({"y_true": [1, 1, 1, 1]}, "both signal and background"),
        ({"y_true": [0.5, 1.5, 0.5, 1.5]}, "binary"),
        ({"y_true": [2, 3, 2, 3]}, "pass pos_label"),
        ({"y_true": ["a", "b", "a", "b"]}, "pass pos_label"),
        ({"pos_label": 3}, "not one of the labels"),
        ({"signal_efficiency": 0.0}, "signal_efficiency"),
        ({"signal_efficiency": 1.5}, "signal_efficiency"),
        ({"signal_efficiency": -0.2}, "signal_efficiency"),
        ({"signal_efficiency": np.nan}, "signal_efficiency"),
        ({"signal_efficiency": "0.3"}, "signal_efficiency"),
        ({"signal_efficiency": True}, "signal_efficiency"),
        ({"sample_weight": [1.0, -3.0, 1.0, 1.0]}, "positive total weight"),
        ({"sample_weight": [0.0, 1.0, 0.0, 1.0]}, "positive total weight"),
        ({"sample_weight": [1.0, np.nan, 1.0, 1.0]}, "finite"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"y_true": [0, 1, 0, 1], "y_score": [0.1, 0.2, 0.3, 0.4], **kwargs}
    with pytest.raises(ValueError, match=match):
        background_rejection(**args)


def test_bad_efficiency_in_the_scorer_factory():
    with pytest.raises(ValueError, match="signal_efficiency"):
        make_background_rejection_scorer(signal_efficiency=2)


@pytest.fixture(scope="module")
def physics():
    X, y = make_electron_photon(600, random_state=0)
    weight = np.random.RandomState(0).uniform(0.5, 2.0, y.size)
    return X, y, weight


def _manual_scores(X, y, weight, cv, efficiency, estimator=None):
    scores = []
    for train, test in cv.split(X, y):
        model = (estimator or LogisticRegression(max_iter=2000)).fit(X[train], y[train])
        scores.append(
            background_rejection(
                y[test],
                model.decision_function(X[test]),
                signal_efficiency=efficiency,
                sample_weight=None if weight is None else weight[test],
            )
        )
    return np.array(scores)


def test_scorer_reads_decision_function_or_predict_proba(physics):
    X, y, _ = physics
    model = LogisticRegression(max_iter=2000).fit(X, y)
    expected = background_rejection(y, model.decision_function(X))
    assert background_rejection_scorer(model, X, y) == pytest.approx(expected)
    bayes = GaussianNB().fit(X, y)  # predict_proba only
    expected = background_rejection(y, bayes.predict_proba(X)[:, 1], signal_efficiency=0.5)
    scorer = make_background_rejection_scorer(signal_efficiency=0.5)
    assert scorer(bayes, X, y) == pytest.approx(expected)


def test_scorer_with_string_labels(physics):
    X, y, _ = physics
    names = np.where(y == 1, "photon", "electron")
    model = LogisticRegression(max_iter=2000).fit(X, names)
    scorer = make_background_rejection_scorer(pos_label="photon")
    expected = background_rejection(y, model.decision_function(X))
    assert scorer(model, X, names) == pytest.approx(expected)


def test_scorer_in_grid_search(physics):
    X, y, _ = physics
    cv = KFold(3, shuffle=True, random_state=0)
    # At 30 % efficiency a few hundred electrons are too few: none passes, the
    # rejection is infinite and the search warns. A looser working point is finite.
    search = GridSearchCV(
        LogisticRegression(max_iter=2000),
        {"C": [0.01, 1.0]},
        scoring=make_background_rejection_scorer(signal_efficiency=0.7),
        cv=cv,
    ).fit(X, y)
    for i, C in enumerate([0.01, 1.0]):
        model = LogisticRegression(C=C, max_iter=2000)
        expected = _manual_scores(X, y, None, cv, 0.7, estimator=model)
        got = [search.cv_results_[f"split{k}_test_score"][i] for k in range(3)]
        np.testing.assert_allclose(got, expected)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_score_ > 2


def test_scorer_routes_sample_weight(physics):
    X, y, weight = physics
    cv = KFold(3, shuffle=True, random_state=1)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_background_rejection_scorer(signal_efficiency=0.7)
        scorer.set_score_request(sample_weight=True)
        model = LogisticRegression(max_iter=2000).set_fit_request(sample_weight=False)
        search = GridSearchCV(model, {"C": [1.0]}, scoring=scorer, cv=cv)
        search.fit(X, y, sample_weight=weight)
        results = cross_validate(
            model, X, y, cv=cv, scoring=scorer, params={"sample_weight": weight}
        )
    expected = _manual_scores(X, y, weight, cv, 0.7)
    unweighted = _manual_scores(X, y, None, cv, 0.7)
    assert not np.allclose(expected, unweighted)
    got = [search.cv_results_[f"split{k}_test_score"][0] for k in range(3)]
    np.testing.assert_allclose(got, expected)
    np.testing.assert_allclose(results["test_score"], expected)


def test_factory_returns_independent_scorers():
    first = make_background_rejection_scorer()
    second = make_background_rejection_scorer()
    assert first is not second
    assert first is not background_rejection_scorer
    with sklearn.config_context(enable_metadata_routing=True):
        first.set_score_request(sample_weight=True)
        assert second.get_metadata_routing().score.requests["sample_weight"] is None
