"""Training faults: divergence, Ctrl-C and device memory never lose or half-build a model."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from skorch.callbacks import Callback

from sklearn_dlpp import (
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
    TrainingDivergedWarning,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class Recorder(Callback):
    """Keeps the weights after every epoch; raises KeyboardInterrupt at epoch (or batch) ``at``."""

    def __init__(self, at: int | None = None, where: str = "epoch") -> None:
        self.at = at
        self.where = where

    def initialize(self) -> Recorder:
        self.states_: list[dict[str, torch.Tensor]] = []
        self.batches_ = 0
        return self

    def on_batch_end(self, net, **kwargs) -> None:
        self.batches_ += 1
        if self.where == "batch" and self.batches_ == self.at:
            self.states_.append(state(net.module_))
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs) -> None:
        self.states_.append(state(net.module_))
        if self.where == "epoch" and len(self.states_) == self.at:
            raise KeyboardInterrupt


def state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same_weights(module: torch.nn.Module, expected: dict[str, torch.Tensor]) -> None:
    actual = module.state_dict()
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        torch.testing.assert_close(actual[key], value, rtol=0, atol=0, msg=key)


def dense_data(n: int = 100, scale: float = 1.0):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    return X * scale, X.sum(axis=1), (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)


def sets_data(n: int = 60, scale: float = 1.0):
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(k), 2)) for k in rng.integers(2, 6, n)]
    totals = np.array([x[:, 0].sum() for x in X])
    return [x * scale for x in X], totals, (totals > 0).astype(int)


def fit_interruptible(est, X, y):
    """Fit; a KeyboardInterrupt that escapes would end the whole test session, so catch it."""
    try:
        return est.fit(X, y)
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped fit")


def finite(values) -> bool:
    """All finite: an array, a list of numbers or a list of per-graph arrays."""
    return all(np.isfinite(np.ravel(v)).all() for v in values)


# ------------------------------------------------------------------------ divergence
DIVERGING = {
    # Each diverges within a few epochs; the regressors' last finite epochs end on
    # weights whose outputs already overflow, the classifiers' do not.
    "MLPRegressor": lambda es: (
        MLPRegressor(
            hidden_layer_sizes=(4,),
            solver="sgd",
            learning_rate_init=1.0,
            momentum=0.9,
            max_iter=30,
            random_state=0,
            early_stopping=es,
            n_iter_no_change=100,
            dtype="float32",  # tuned to overflow float32 within a few epochs
        ),
        dense_data()[0],
        dense_data()[1] * 1e3,
    ),
    "MLPClassifier": lambda es: (
        MLPClassifier(
            hidden_layer_sizes=(4,),
            solver="sgd",
            learning_rate_init=10.0,
            max_iter=30,
            random_state=0,
            early_stopping=es,
            n_iter_no_change=100,
            dtype="float32",
        ),
        dense_data(200, scale=1e3)[0],
        dense_data(200)[2],
    ),
    "GraphRegressor": lambda es: (
        GraphRegressor(
            hidden=4,
            n_blocks=1,
            solver="sgd",
            learning_rate_init=0.05,
            max_iter=30,
            random_state=0,
            early_stopping=es,
            n_iter_no_change=100,
            validation_fraction=0.25,
        ),
        sets_data(40)[0],
        sets_data(40)[1] * 1e3,
    ),
    "GraphClassifier": lambda es: (
        GraphClassifier(
            hidden=4,
            n_blocks=1,
            solver="sgd",
            learning_rate_init=10.0,
            standardize=False,
            max_iter=30,
            random_state=0,
            early_stopping=es,
            n_iter_no_change=100,
            validation_fraction=0.25,
        ),
        sets_data(40, scale=1e3)[0],
        sets_data(40)[2],
    ),
}


@pytest.mark.parametrize("early_stopping", [False, True], ids=["plain", "early_stopping"])
@pytest.mark.parametrize("name", DIVERGING)
def test_divergence_stops_with_finite_weights_and_predictions(name, early_stopping):
    est, X, y = DIVERGING[name](early_stopping)
    recorder = Recorder()
    est.set_params(callbacks=[recorder])
    with pytest.warns(TrainingDivergedWarning, match=r"NaN or infinite.*learning_rate_init"):
        est.fit(X, y)
    assert est.n_iter_ < est.max_iter
    assert len(est.loss_curve_) == est.n_iter_
    assert finite(est.loss_curve_)
    assert all(torch.isfinite(p).all() for p in est.module_.parameters())
    assert finite(est.predict(X))
    if hasattr(est, "predict_proba"):
        assert finite(est.predict_proba(X))
    if early_stopping:
        # The best epoch by validation score is kept, as without a fault.
        assert finite(est.validation_scores_)
        best = int(np.argmax(est.validation_scores_))
        assert_same_weights(est.module_, recorder.states_[best])


# ----------------------------------------------------------------- KeyboardInterrupt
INTERRUPTIBLE = {
    "MLPClassifier": lambda es, cb: (
        MLPClassifier(
            hidden_layer_sizes=(8,),
            learning_rate_init=0.05,
            max_iter=20,
            random_state=0,
            early_stopping=es,
            callbacks=[cb],
        ),
        *dense_data(200)[::2],
    ),
    "PerceptronClassifier": lambda es, cb: (
        PerceptronClassifier(max_iter=20, random_state=0, early_stopping=es, callbacks=[cb]),
        *dense_data(200)[::2],
    ),
    "GraphClassifier": lambda es, cb: (
        GraphClassifier(
            hidden=4,
            n_blocks=1,
            learning_rate_init=0.05,
            max_iter=20,
            random_state=0,
            early_stopping=es,
            validation_fraction=0.3,
            callbacks=[cb],
        ),
        *sets_data()[::2],
    ),
}


@pytest.mark.parametrize("early_stopping", [False, True], ids=["plain", "early_stopping"])
@pytest.mark.parametrize("name", INTERRUPTIBLE)
def test_keyboard_interrupt_leaves_a_fitted_usable_estimator(name, early_stopping):
    recorder = Recorder(at=3)
    est, X, y = INTERRUPTIBLE[name](early_stopping, recorder)
    with pytest.warns(UserWarning, match=r"interrupted by user after 3 epoch\(s\)"):
        fit_interruptible(est, X, y)
    # on_epoch_end comes after the epoch's bookkeeping: the third epoch counts.
    assert est.n_iter_ == 3
    assert len(est.loss_curve_) == 3
    if early_stopping:
        # The best scored epoch is restored.
        best = int(np.argmax(est.validation_scores_))
        assert_same_weights(est.module_, recorder.states_[best])
    else:
        assert_same_weights(est.module_, recorder.states_[2])
    assert finite(est.predict_proba(X))
    assert est.score(X, y) == accuracy_score(y, est.predict(X))
    # Usable at once: training can go on from the weights reached.
    est.set_params(warm_start=True, callbacks=None, max_iter=2).fit(X, y)
    assert est.n_iter_ == 2  # per call, as in scikit-learn
    assert len(est.loss_curve_) == 5


def test_keyboard_interrupt_in_the_middle_of_an_epoch():
    recorder = Recorder(at=5, where="batch")
    X, _, y = dense_data(200)
    est = MLPClassifier(
        hidden_layer_sizes=(8,), batch_size=16, max_iter=5, random_state=0, callbacks=[recorder]
    )
    with pytest.warns(UserWarning, match=r"interrupted by user after 0 epoch\(s\)"):
        fit_interruptible(est, X, y)
    assert est.n_iter_ == 0
    assert_same_weights(est.module_, recorder.states_[-1])  # the weights reached
    assert finite(est.predict_proba(X))


def test_keyboard_interrupt_with_lbfgs():
    recorder = Recorder(at=1)
    X, y, _ = dense_data()
    est = MLPRegressor(
        hidden_layer_sizes=(8,), solver="lbfgs", random_state=0, callbacks=[recorder]
    )
    with pytest.warns(UserWarning, match=r"interrupted"):
        fit_interruptible(est, X, y)
    assert_same_weights(est.module_, recorder.states_[-1])
    assert finite(est.predict(X))
    assert est.score(X, y) > 0.5


def test_keyboard_interrupt_is_documented():
    for cls in (MLPClassifier, MLPRegressor, PerceptronClassifier, GraphClassifier, NodeClassifier):
        notes = " ".join(cls.__doc__.split())
        assert "KeyboardInterrupt" in notes
        assert "fitted and usable" in notes
        assert "TrainingDivergedWarning" in notes


# -------------------------------------------------------------------- device memory
OOM_MESSAGE = (
    "CUDA out of memory. Tried to allocate 1.50 GiB. GPU 0 has a total capacity of "
    "79.19 GiB of which 1.02 GiB is free."
)


def out_of_memory_after(cls, n_calls: int):
    """``cls._build_module`` whose network raises CUDA's OutOfMemoryError after ``n_calls``."""
    build = cls._build_module

    def build_failing(self, *args, **kwargs):
        module = build(self, *args, **kwargs)
        calls = itertools.count()
        forward = module.forward

        def failing_forward(*inputs, **options):
            if next(calls) >= n_calls:
                raise torch.OutOfMemoryError(OOM_MESSAGE)
            return forward(*inputs, **options)

        module.forward = failing_forward
        return module

    return build_failing


@pytest.mark.parametrize(
    ("cls", "params", "data"),
    [
        (MLPClassifier, {"hidden_layer_sizes": (8,)}, lambda: dense_data(200)[::2]),
        (GraphRegressor, {"hidden": 4, "n_blocks": 1}, lambda: sets_data()[:2]),
    ],
    ids=["dense", "graph"],
)
def test_out_of_device_memory_names_batch_size_and_leaves_no_half_fitted_state(
    monkeypatch, cls, params, data
):
    X, y = data()
    monkeypatch.setattr(cls, "_build_module", out_of_memory_after(cls, n_calls=5))
    est = cls(**params, batch_size=16, max_iter=3, random_state=0)
    with pytest.raises(MemoryError, match=r"batch_size=16") as info:
        est.fit(X, y)
    # Still the error torch users catch, with what torch said about the memory needed.
    assert isinstance(info.value, torch.OutOfMemoryError)
    assert "1.50 GiB" in str(info.value)
    assert not hasattr(est, "module_")
    assert not hasattr(est, "net_")
    with pytest.raises(NotFittedError):
        est.predict(X)
    monkeypatch.undo()
    assert finite(est.fit(X, y).predict(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_real_cuda_out_of_memory_is_clear():
    free, _ = torch.cuda.mem_get_info()
    hidden = 1 << 18  # a 4 MiB network, so that keeping it would show below
    # One batch's hidden activations alone are twice the free memory.
    batch = int(2 * free // (hidden * 4)) + 1
    X = np.ones((batch, 2), dtype=np.float32)
    y = np.arange(batch) % 2
    before = torch.cuda.memory_allocated()
    est = MLPClassifier(hidden_layer_sizes=(hidden,), batch_size=batch, max_iter=1, device="cuda")
    with pytest.raises(MemoryError, match=rf"batch_size={batch}") as info:
        est.fit(X, y)
    assert isinstance(info.value, torch.OutOfMemoryError)
    assert re.search(r"\d+(\.\d+)? [KMGT]iB", str(info.value))
    assert not hasattr(est, "module_")
    del info  # its traceback holds the training tensors
    assert torch.cuda.memory_allocated() <= before + (1 << 20)
