"""Run-time claims whose breakage leaves every output unchanged.

The thread budget and the numpy path for a few rows change speed, not results,
so a test that compares outputs cannot see them go. These tests watch torch's
thread count during ``fit`` and ``predict``, and which code computes a prediction.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

from sklearn_dlpp import MLPClassifier, MLPRegressor, PerceptronClassifier
from sklearn_dlpp._dense import _NUMPY_ROWS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class ThreadProbe(Callback):
    """torch's intra-op thread count at every training batch."""

    def initialize(self):
        self.seen_ = []
        return self

    def on_batch_begin(self, net, **kwargs):
        self.seen_.append(torch.get_num_threads())


@pytest.fixture
def many_threads(monkeypatch):
    """torch set to more threads than the budget, as torch picks before joblib sets one."""
    for name in ("OMP_NUM_THREADS", "SKLEARN_DLPP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "distributed", raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(before)


def _threads_in_fit_and_predict():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    probe = ThreadProbe()
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0, callbacks=[probe])
    clf.fit(X, y)
    seen_predicting = []
    clf.module_.register_forward_pre_hook(
        lambda *_: seen_predicting.append(torch.get_num_threads())
    )
    clf.predict(X)  # 200 rows: the torch path
    assert seen_predicting, "predict did not run the network"
    return set(clf.net_.callbacks_[-1][1].seen_), set(seen_predicting)


@pytest.mark.parametrize(
    ("variables", "budget"),
    [
        ({"OMP_NUM_THREADS": "1"}, 1),
        ({"OMP_NUM_THREADS": "2"}, 2),
        # The package's own variable comes first.
        ({"OMP_NUM_THREADS": "2", "SKLEARN_DLPP_NUM_THREADS": "1"}, 1),
    ],
)
def test_fit_and_predict_run_within_the_thread_budget(many_threads, monkeypatch, variables, budget):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    during_fit, during_predict = _threads_in_fit_and_predict()
    # Within the budget (the engine may use fewer threads still for small steps).
    assert max(during_fit) <= budget
    assert max(during_predict) <= budget
    # torch's own setting is given back afterwards.
    assert torch.get_num_threads() == many_threads


def test_dask_worker_threads_are_the_budget_without_variables(many_threads, monkeypatch):
    worker = SimpleNamespace(state=SimpleNamespace(nthreads=2))
    monkeypatch.setitem(sys.modules, "distributed", SimpleNamespace(get_worker=lambda: worker))
    during_fit, during_predict = _threads_in_fit_and_predict()
    assert max(during_fit) <= 2
    assert max(during_predict) <= 2
    assert torch.get_num_threads() == many_threads


def test_without_a_budget_torch_keeps_its_threads(many_threads):
    _, during_predict = _threads_in_fit_and_predict()
    # The budget comes from the environment, not from nowhere.
    assert during_predict == {many_threads}
    assert torch.get_num_threads() == many_threads


# ------------------------------------------------------------ numpy fast path
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, PerceptronClassifier])
def test_a_few_rows_on_the_cpu_are_predicted_without_torch(cls):
    X, y = make_classification(n_samples=150, n_features=5, random_state=0)
    kw = {} if cls is PerceptronClassifier else {"hidden_layer_sizes": (6,)}
    model = cls(max_iter=3, random_state=0, **kw).fit(X, y)
    calls = []
    model.module_.register_forward_pre_hook(lambda *_: calls.append(1))
    methods = [m for m in ("predict", "predict_proba", "decision_function") if hasattr(model, m)]
    for method in methods:
        few = getattr(model, method)(X[:_NUMPY_ROWS])
        assert not calls, f"{method} on {_NUMPY_ROWS} rows ran the torch network"
        many = getattr(model, method)(X[: _NUMPY_ROWS + 1])
        assert len(calls) == 1, f"{method} on {_NUMPY_ROWS + 1} rows did not run the network"
        calls.clear()
        if method == "predict" and cls is not MLPRegressor:
            np.testing.assert_array_equal(few, many[:-1])
        else:
            np.testing.assert_allclose(few, many[:-1], rtol=1e-5, atol=1e-6)
