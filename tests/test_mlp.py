"""MLPClassifier / MLPRegressor: the drop-in promise, training semantics, weights."""

from __future__ import annotations

import io
import pickle
import re
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier, MLPRegressor, TrainingDivergedWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def clf_data():
    return make_classification(n_samples=300, n_features=8, n_informative=5, random_state=0)


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=300, n_features=6, noise=5.0, random_state=0)
    return X, y / y.std()


def small(cls, **kw):
    params = {"hidden_layer_sizes": (16,), "max_iter": 30, "random_state": 0}
    return cls(**{**params, **kw})


def test_same_parameters_and_defaults_as_scikit_learn():
    for ours, theirs in [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)]:
        sk_params = theirs().get_params()
        our_params = ours().get_params()
        assert {k: our_params[k] for k in sk_params} == sk_params
        assert set(our_params) - set(sk_params) == {"device", "dropout", "callbacks", "dtype"}


@pytest.mark.parametrize("early_stopping", [False, True])
def test_fitted_attributes_follow_scikit_learn_conventions(clf_data, early_stopping):
    X, y = clf_data
    kw = {"hidden_layer_sizes": (7, 5), "max_iter": 15, "early_stopping": early_stopping}
    ours = MLPClassifier(random_state=0, **kw).fit(X, y)
    theirs = SkMLPClassifier(random_state=0, **kw).fit(X, y)
    for name in ["n_features_in_", "n_layers_", "n_outputs_", "out_activation_"]:
        assert getattr(ours, name) == getattr(theirs, name), name
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert all(isinstance(c, np.ndarray) for c in ours.coefs_ + ours.intercepts_)
    for name in ["best_loss_", "validation_scores_", "best_validation_score_"]:
        assert (getattr(ours, name) is None) == (getattr(theirs, name) is None), name
    assert len(ours.loss_curve_) == ours.n_iter_
    assert ours.t_ == ours.n_iter_ * (len(X) - (round(0.1 * len(X)) if early_stopping else 0))
    if early_stopping:
        assert len(ours.validation_scores_) == ours.n_iter_
        assert ours.best_validation_score_ == max(ours.validation_scores_)


def test_lbfgs_has_no_partial_fit_and_no_loss_curve(reg_data):
    X, y = reg_data
    reg = MLPRegressor(solver="lbfgs", hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    assert not hasattr(reg, "partial_fit")
    reg.fit(X, y)
    assert 0 < reg.n_iter_ <= 50
    assert not hasattr(reg, "loss_curve_")
    assert reg.score(X, y) > 0.9


def test_lbfgs_warns_when_it_runs_out_of_iterations(reg_data):
    X, y = reg_data
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        MLPRegressor(solver="lbfgs", max_iter=3, random_state=0).fit(X, y)


@pytest.mark.parametrize(
    ("solver", "schedule"),
    [("adam", "constant"), ("sgd", "constant"), ("sgd", "invscaling"), ("sgd", "adaptive")],
)
def test_every_solver_learns(clf_data, solver, schedule):
    X, y = clf_data
    X = StandardScaler().fit_transform(X)
    # invscaling decays with the samples seen (0.05 / sqrt(301) after one epoch
    # at scikit-learn's power_t): a gentler power lets 30 epochs learn.
    clf = small(
        MLPClassifier, solver=solver, learning_rate=schedule, learning_rate_init=0.05, power_t=0.1
    )
    assert clf.fit(X, y).score(X, y) > 0.85


def test_invscaling_follows_samples_seen(clf_data):
    X, y = clf_data
    clf = small(MLPClassifier, solver="sgd", learning_rate="invscaling", max_iter=3).fit(X, y)
    lr = clf.net_.optimizer_.param_groups[0]["lr"]
    assert lr == pytest.approx(clf.learning_rate_init / (clf.t_ + 1) ** clf.power_t)


def test_adaptive_divides_rate_when_stuck():
    X = np.zeros((20, 2))
    y = np.arange(20) % 2  # nothing to learn: the loss stalls at once
    clf = MLPClassifier(
        hidden_layer_sizes=(2,),
        solver="sgd",
        learning_rate="adaptive",
        n_iter_no_change=1,
        tol=10.0,
        max_iter=6,
        random_state=0,
    ).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] < clf.learning_rate_init


def test_tol_stops_training_early_like_scikit_learn(clf_data):
    X, y = clf_data
    kw = {"hidden_layer_sizes": (16,), "tol": 10.0, "n_iter_no_change": 2, "max_iter": 100}
    clf = MLPClassifier(**kw).fit(X, y)
    # The first epoch improves on an infinite best loss; then none counts.
    assert clf.n_iter_ == SkMLPClassifier(**kw).fit(X, y).n_iter_ == 4


def test_early_stopping_restores_best_weights(clf_data):
    X, y = clf_data
    clf = small(
        MLPClassifier,
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=200,
        learning_rate_init=0.05,
    ).fit(X, y)
    assert clf.n_iter_ < 200
    best = int(np.argmax(clf.validation_scores_))
    assert best < clf.n_iter_ - 1
    refit = small(
        MLPClassifier,
        early_stopping=True,
        n_iter_no_change=200,
        max_iter=best + 1,
        learning_rate_init=0.05,
    ).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), refit.predict_proba(X), atol=1e-6)


def test_partial_fit_needs_classes_first_and_accumulates(clf_data):
    X, y = clf_data
    clf = small(MLPClassifier)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:150], y[:150], classes=[0, 1])
    clf.partial_fit(X[150:], y[150:])
    assert clf.n_iter_ == 1  # scikit-learn counts the epochs of the last call
    assert clf.t_ == len(X)
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(X[:5], np.full(5, 7))
    with pytest.raises(ValueError, match="early_stopping"):
        small(MLPClassifier, early_stopping=True).partial_fit(X, y, classes=[0, 1])


def test_many_partial_fits_reach_the_score_of_a_fit(clf_data):
    X, y = clf_data
    full = small(MLPClassifier, max_iter=40, n_iter_no_change=100).fit(X, y).score(X, y)
    clf = small(MLPClassifier)
    for _ in range(40):
        for chunk in np.array_split(np.arange(len(X)), 3):
            clf.partial_fit(X[chunk], y[chunk], classes=[0, 1])
    assert clf.score(X, y) >= full - 0.03


def test_warm_start_continues_and_checks_classes(clf_data):
    X, y = clf_data
    clf = small(MLPClassifier, warm_start=True, max_iter=5).fit(X, y)
    first = clf.coefs_[0].copy()
    clf.fit(X, y)
    assert not np.allclose(first, clf.coefs_[0])
    assert clf.n_iter_ == 5  # per call, as in scikit-learn; the loss curve goes on
    assert len(clf.loss_curve_) == 10
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X, np.where(y == 1, 2, y))


def test_labels_strings_multiclass_and_multilabel():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=1
    )
    names = np.array(["electron", "muon", "photon"])[y]
    clf = small(MLPClassifier, max_iter=60).fit(X, names)
    assert clf.out_activation_ == "softmax"
    assert set(clf.predict(X)) <= set(names)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)
    Y = np.column_stack([y == 0, y == 1, y == 2, y > 0]).astype(int)
    multi = small(MLPClassifier).fit(X, Y)
    assert multi.predict(X).shape == Y.shape
    assert multi.out_activation_ == "logistic"


def test_multi_output_regression_and_poisson(reg_data):
    X, y = reg_data
    Y = np.column_stack([y, -y])
    reg = small(MLPRegressor, max_iter=100, learning_rate_init=0.01).fit(X, Y)
    assert reg.predict(X).shape == (len(X), 2)
    assert reg.score(X, Y) > 0.8
    counts = np.random.default_rng(0).poisson(np.exp(0.3 * X[:, 0]))
    pois = small(MLPRegressor, loss="poisson", max_iter=100).fit(X, counts)
    assert pois.out_activation_ == "exp"
    assert np.all(pois.predict(X) > 0)
    with pytest.raises(ValueError, match="negative"):
        small(MLPRegressor, loss="poisson").fit(X, -counts - 1)


def test_sparse_float32_and_pandas_inputs(clf_data):
    pd = pytest.importorskip("pandas")
    X, y = clf_data
    dense = small(MLPClassifier).fit(X, y)
    sparse = small(MLPClassifier).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)))
    as32 = small(MLPClassifier).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(dense.predict_proba(X), as32.predict_proba(X), atol=1e-5)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = small(MLPClassifier).fit(frame, y)
    assert list(clf.feature_names_in_) == list(frame.columns)


def test_reproducible_and_leaves_global_rngs_alone(clf_data):
    X, y = clf_data
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the global RNG is the point)
    a = small(MLPClassifier, dropout=0.2, early_stopping=True).fit(X, y)
    b = small(MLPClassifier, dropout=0.2, early_stopping=True).fit(X, y)
    assert torch.equal(torch_state, torch.random.get_rng_state())
    np.testing.assert_array_equal(np_state, np.random.get_state()[1])  # noqa: NPY002
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    c = small(MLPClassifier, random_state=1).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_inputs_are_not_modified(clf_data):
    X, y = clf_data
    X32 = X.astype(np.float32)
    X_copy, y_copy = X32.copy(), y.copy()
    w = np.ones(len(y))
    small(MLPClassifier).fit(X32, y, sample_weight=w).predict(X32)
    np.testing.assert_array_equal(X32, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(w, 1.0)


def test_zero_weights_equal_dropping_rows(clf_data):
    X, y = clf_data
    w = np.ones(len(y))
    w[::3] = 0
    params = {"solver": "lbfgs", "dtype": "float64", "max_iter": 50}
    weighted = small(MLPClassifier, **params).fit(X, y, sample_weight=w)
    dropped = small(MLPClassifier, **params).fit(X[w > 0], y[w > 0])
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), atol=1e-6)


def test_integer_weights_equal_repeating_rows(reg_data):
    X, y = reg_data
    w = np.random.default_rng(0).integers(1, 4, len(y))
    params = {"solver": "lbfgs", "dtype": "float64", "max_iter": 50}
    weighted = small(MLPRegressor, **params).fit(X, y, sample_weight=w)
    repeated = small(MLPRegressor, **params).fit(np.repeat(X, w, 0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-5, atol=1e-6)


def test_weights_shape_training_and_score(clf_data):
    X, y = clf_data
    w = np.where(y == 1, 10.0, 0.1)
    clf = small(MLPClassifier).fit(X, y, sample_weight=w)
    # Heavy signal weights push predictions towards class 1.
    assert clf.predict(X).mean() > small(MLPClassifier).fit(X, y).predict(X).mean()
    assert clf.score(X, y, sample_weight=w) != clf.score(X, y)
    negative = np.where(np.arange(len(y)) % 10 == 0, -0.5, 1.0)  # NLO-style negative weights
    small(MLPClassifier).fit(X, y, sample_weight=negative)
    with pytest.raises(ValueError, match="non-zero"):
        small(MLPClassifier).fit(X, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="sum of sample_weight is zero"):
        small(MLPClassifier).fit(X, y, sample_weight=np.resize([1.0, -1.0], len(y)))
    with pytest.raises(ValueError, match="sample_weight contains NaN"):
        small(MLPClassifier).fit(X, y, sample_weight=np.full(len(y), np.nan))


def test_diverging_fit_keeps_last_finite_weights(reg_data):
    X, y = reg_data
    reg = MLPRegressor(
        hidden_layer_sizes=(64,),
        solver="sgd",
        learning_rate_init=0.05,
        momentum=0.99,
        max_iter=200,
        random_state=0,
    )
    with pytest.warns(TrainingDivergedWarning, match="NaN or infinite"):
        reg.fit(X, y * 30)
    assert np.all(np.isfinite(reg.predict(X)))
    assert all(np.all(np.isfinite(c)) for c in reg.coefs_)
    assert all(np.isfinite(reg.loss_curve_))


def test_verbose_prints_one_line_per_epoch(clf_data, capsys):
    X, y = clf_data
    small(MLPClassifier, verbose=True, max_iter=3, early_stopping=True).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(",")[0] for ln in lines[::2]] == [f"Iteration {i}" for i in (1, 2, 3)]
    assert re.fullmatch(r"Iteration 1, loss = \d+\.\d{8}", lines[0])
    assert re.fullmatch(r"Validation score: \d\.\d{6}", lines[1])


def test_skorch_callbacks_pass_through(clf_data):
    from skorch.callbacks import Callback

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

    counter = CountEpochs()
    clf = small(MLPClassifier, max_iter=4, callbacks=[counter]).fit(*clf_data)
    assert clf.net_.callbacks_[-1][1].epochs == 4


def test_pipeline_grid_search_and_cross_validation(clf_data):
    X, y = clf_data
    pipe = make_pipeline(StandardScaler(), small(MLPClassifier, max_iter=20))
    grid = GridSearchCV(
        pipe,
        {
            "mlpclassifier__hidden_layer_sizes": [(4,), (16,)],
            "mlpclassifier__alpha": [1e-4, 1e-2],
            "mlpclassifier__learning_rate_init": [1e-3, 1e-2],
        },
        cv=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.7
    X_reg, y_reg = make_regression(100, 4, random_state=0)
    scores = cross_val_score(small(MLPRegressor), X_reg, y_reg, cv=3)
    by_hand = [
        small(MLPRegressor).fit(X_reg[train], y_reg[train]).score(X_reg[test], y_reg[test])
        for train, test in KFold(3).split(X_reg)
    ]
    np.testing.assert_allclose(scores, by_hand, rtol=1e-6)


def test_threads_are_bounded_in_parallel_workers(clf_data):
    X, y = clf_data

    def threads_during_fit(X, y):
        from skorch.callbacks import Callback

        seen = []

        class Spy(Callback):
            def on_epoch_end(self, net, **kwargs):
                seen.append(torch.get_num_threads())

        # As when torch picked its thread count before joblib set the worker's budget
        # (a worker's fresh torch already reads it, which no fit could then break).
        torch.set_num_threads(max(2, joblib.cpu_count()))
        small(MLPClassifier, max_iter=1, callbacks=[Spy()]).fit(X, y)
        return seen[0]

    counts = joblib.Parallel(n_jobs=2)(joblib.delayed(threads_during_fit)(X, y) for _ in range(2))
    assert all(c <= max(1, joblib.cpu_count() // 2) for c in counts)


def test_clone_pickle_and_joblib_round_trips(clf_data):
    X, y = clf_data
    clf = small(MLPClassifier).fit(X, y)
    unfitted = clone(clf)
    assert not hasattr(unfitted, "module_")
    assert unfitted.get_params() == clf.get_params()
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, y)  # a fresh optimizer after loading, same weights to start
    assert restored.n_iter_ == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_model_loads_on_a_cpu_only_machine(clf_data, tmp_path):
    X, y = clf_data
    clf = small(MLPClassifier, device="cuda").fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    np.save(tmp_path / "X.npy", X)
    code = textwrap.dedent(
        f"""
        import joblib, numpy as np
        clf = joblib.load({str(path)!r})
        assert clf.device_ == "cpu"
        print(clf.predict_proba(np.load({str(tmp_path / "X.npy")!r})).sum())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"CUDA_VISIBLE_DEVICES": "", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(out.stdout) == pytest.approx(len(X), rel=1e-6)


def test_device_errors_are_clear(clf_data):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        small(MLPClassifier, device="cuda").fit(*clf_data)
    assert small(MLPClassifier, device="auto").fit(*clf_data).device_ == "cpu"


def test_drop_in_analysis_script_scores_at_least_as_well():
    """A typical analysis written against sklearn.neural_network, run with both imports."""
    script = textwrap.dedent(
        """
        import warnings
        warnings.simplefilter("ignore")
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.datasets import load_breast_cancer, load_diabetes
        from sklearn.model_selection import cross_val_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from {module} import MLPClassifier, MLPRegressor

        X, y = load_breast_cancer(return_X_y=True)
        clf = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(32,),
                            max_iter=300, early_stopping=True, random_state=0))
        acc = cross_val_score(clf, X, y, cv=5).mean()
        X, y = load_diabetes(return_X_y=True)
        reg = TransformedTargetRegressor(
            make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(32,),
                          learning_rate_init=0.01, early_stopping=True, max_iter=1000,
                          random_state=0)),
            transformer=StandardScaler(),
        )
        r2 = cross_val_score(reg, X, y, cv=5).mean()
        curve = reg.fit(X, y).regressor_[-1].validation_scores_
        print(acc, r2, len(curve))
        """
    )
    scores = {}
    for module in ["sklearn.neural_network", "sklearn_dlpp"]:
        namespace: dict = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = io.StringIO()
            from contextlib import redirect_stdout

            with redirect_stdout(out):
                exec(script.format(module=module), namespace)
        acc, r2, _ = out.getvalue().split()
        scores[module] = (float(acc), float(r2))
    ours, theirs = scores["sklearn_dlpp"], scores["sklearn.neural_network"]
    assert ours[0] >= theirs[0] - 0.005, scores  # about one sample in 5 folds of 114
    assert ours[1] >= theirs[1] - 0.005, scores


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_small_batches_take_the_numpy_path_with_the_same_result(clf_data, activation):
    X, y = clf_data
    clf = small(MLPClassifier, activation=activation, hidden_layer_sizes=(8, 8)).fit(X, y)
    few = clf.predict_proba(X[:10])  # numpy path
    many = clf.predict_proba(X)[:10]  # torch path
    np.testing.assert_allclose(few, many, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        clf.module_[0].weight.zero_()  # an edit of module_ reaches the cached copy
    np.testing.assert_allclose(clf.predict_proba(X[:10]), clf.predict_proba(X)[:10], atol=1e-6)
