"""scikit-learn's own estimator checks on every dense estimator."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_dlpp import MLPClassifier, MLPRegressor, PerceptronClassifier

ESTIMATORS = [
    MLPClassifier(hidden_layer_sizes=(32,), max_iter=100, random_state=0),
    MLPRegressor(hidden_layer_sizes=(32,), max_iter=100, random_state=0),
    PerceptronClassifier(max_iter=100, random_state=0),
]

# As scikit-learn does for its own MLPs (PER_ESTIMATOR_CHECK_PARAMS): the
# weight-equivalence checks compare fits at rtol=1e-7, so they run in float64
# with full-batch solvers, where weighting and repeating rows are the same sum.
_EQUIVALENCE = {
    "MLPClassifier": {"solver": "lbfgs", "dtype": "float64"},
    "PerceptronClassifier": {"solver": "lbfgs", "dtype": "float64"},
    "MLPRegressor": {"solver": "sgd", "tol": 1e-2, "random_state": 42, "dtype": "float64"},
}
PER_CHECK_PARAMS = {
    (name, f"check_sample_weight_equivalence_on_{kind}_data"): params
    for name, params in _EQUIVALENCE.items()
    for kind in ("dense", "sparse")
}

EXPECTED_FAILED: dict[str, dict[str, str]] = {}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_compatible(estimator, check):
    name = getattr(check, "func", check).__name__
    params = PER_CHECK_PARAMS.get((type(estimator).__name__, name))
    if params:
        estimator = clone(estimator).set_params(**params)
    check(estimator)


def test_convergence_warning_is_real():
    """The warning filtered above is the one scikit-learn raises, not a mask for others."""
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(
            [[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0]
        )
