"""make_electron_photon: layout, labels, and a separation that is real but not perfect."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp.datasets import make_electron_photon


@pytest.fixture(scope="module")
def sample():
    return make_electron_photon(4000, random_state=0, return_feature_names=True)


def test_layout(sample):
    X, y, names = sample
    assert X.shape == (4000, len(names)) == (4000, 9)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert np.isfinite(X).all()
    assert names[:4] == ("E", "pT", "eta", "phi")
    assert len(make_electron_photon(5, random_state=0)) == 2


def test_kinematics_are_consistent(sample):
    X, _, names = sample
    col = {name: X[:, i] for i, name in enumerate(names)}
    np.testing.assert_allclose(col["E"], col["pT"] * np.cosh(col["eta"]), rtol=1e-12)
    assert (np.abs(col["eta"]) < 2.47).all()
    assert (np.abs(col["phi"]) <= np.pi).all()
    assert (col["pT"] > 10).all()
    assert (col["p_over_E"] >= 0).all()
    np.testing.assert_array_equal(col["n_tracks"], np.round(col["n_tracks"]))


@pytest.mark.parametrize("fraction", [0.0, 0.3, 1.0])
def test_photon_fraction_is_exact(fraction):
    _, y = make_electron_photon(200, photon_fraction=fraction, random_state=0)
    assert y.sum() == round(200 * fraction)


def test_eta_phi_and_energy_carry_no_information(sample):
    X, y, names = sample
    for name in ("E", "pT", "eta", "phi"):
        column = X[:, names.index(name)]
        for feature in (column, np.abs(column)):
            assert abs(roc_auc_score(y, feature) - 0.5) < 0.04, name


def test_photons_without_conversion_rarely_have_a_track():
    X, y, names = make_electron_photon(
        2000, conversion_probability=0.0, random_state=1, return_feature_names=True
    )
    trackless = X[:, names.index("p_over_E")] == 0
    assert 0.85 < trackless[y == 1].mean() < 0.97  # chance matches to pile-up tracks
    assert trackless[y == 0].mean() < 0.1  # lost electron tracks


def test_good_classifiers_separate_well_but_not_perfectly(sample):
    X, y, _ = sample
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    boosted = HistGradientBoostingClassifier(random_state=0).fit(X_train, y_train)
    auc_boosted = roc_auc_score(y_test, boosted.predict_proba(X_test)[:, 1])
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    linear.fit(X_train, y_train)
    auc_linear = roc_auc_score(y_test, linear.decision_function(X_test))
    assert 0.90 < auc_boosted < 0.975
    assert 0.80 < auc_linear < auc_boosted


def test_conversions_make_the_problem_harder():
    aucs = []
    for probability in (0.0, 0.8):
        X, y = make_electron_photon(3000, conversion_probability=probability, random_state=2)
        X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
        model = HistGradientBoostingClassifier(random_state=0).fit(X_train, y_train)
        aucs.append(roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]))
    assert aucs[0] > aucs[1] + 0.05
