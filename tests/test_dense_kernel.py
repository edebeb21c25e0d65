"""The written-out training step of dense networks against autograd and torch's optimizers."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, GradientNormClipping

from sklearn_dlpp import MLPClassifier, MLPRegressor, PerceptronClassifier, _dense_kernel
from sklearn_dlpp._dense import dense_network
from sklearn_dlpp._dense_kernel import DenseKernel, attach
from sklearn_dlpp._dense_layers import predict_raw
from sklearn_dlpp._engine import WeightedLoss

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
KINDS = ["binary_log_loss", "log_loss", "squared_error", "poisson"]

# The fits here are a few epochs long on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _targets(kind: str, n: int, rng: np.random.RandomState) -> np.ndarray:
    if kind == "binary_log_loss":
        return rng.randint(0, 2, size=(n, 2)).astype(float)
    if kind == "log_loss":
        # Smoothed and not summing to one: the gradient holds for any targets.
        return 0.9 * np.eye(3)[rng.randint(0, 3, size=n)] + 0.2
    if kind == "poisson":
        return rng.poisson(2.0, size=(n, 1)).astype(float)
    return rng.randn(n, 2)


def _problem(kind, activation, dtype=torch.float32, weighted=False, n=37, seed=0):
    rng = np.random.RandomState(seed)
    y = torch.as_tensor(_targets(kind, n, rng), dtype=dtype)
    X = torch.as_tensor(rng.randn(n, 5), dtype=dtype)
    # Negative weights too: the normalisation is by sum(|w|), as in WeightedLoss.
    w = torch.as_tensor(rng.uniform(-0.5, 2.0, n), dtype=dtype) if weighted else None
    torch.manual_seed(seed)
    module = dense_network([5, 7, 6, y.shape[1]], activation).to(dtype)
    return module, X, y, w


def _autograd_loss(module, kind, alpha, X, y, w):
    """The objective as the engine differentiates it: WeightedLoss plus the L2 term."""
    loss = WeightedLoss(kind)(module(X), (y, w))
    total = len(y) if w is None else w.abs().sum()
    squares = sum((m.weight**2).sum() for m in module if isinstance(m, torch.nn.Linear))
    return loss + 0.5 * alpha / total * squares


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_and_gradients_match_autograd(activation, kind, weighted, alpha):
    module, X, y, w = _problem(kind, activation, weighted=weighted)
    reference = copy.deepcopy(module)
    expected = _autograd_loss(reference, kind, alpha, X, y, w)
    expected.backward()

    optimizer = torch.optim.Adam(module.parameters(), fused=True)
    kernel = DenseKernel(module, kind, alpha, optimizer)
    loss, raw = kernel.loss_and_gradients(X, y, w)

    torch.testing.assert_close(loss, expected.detach(), rtol=2e-6, atol=1e-7)
    torch.testing.assert_close(raw, reference(X).detach(), rtol=1e-6, atol=1e-6)
    for p, ref in zip(module.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.grad, ref.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_float64_gradients_match_autograd_to_float64_precision(kind):
    module, X, y, w = _problem(kind, "tanh", dtype=torch.float64, weighted=True)
    reference = copy.deepcopy(module)
    _autograd_loss(reference, kind, 0.1, X, y, w).backward()
    kernel = DenseKernel(module, kind, 0.1, torch.optim.Adam(module.parameters(), fused=True))
    kernel.loss_and_gradients(X, y, w)
    for p, ref in zip(module.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.grad, ref.grad, rtol=1e-12, atol=1e-14)


def test_parameters_become_views_of_one_buffer_with_values_unchanged():
    module, *_ = _problem("squared_error", "relu")
    before = [p.detach().clone() for p in module.parameters()]
    params = list(module.parameters())
    kernel = DenseKernel(module, "squared_error", 0.0, torch.optim.Adam(params, fused=True))
    assert list(module.parameters()) == params  # the same Parameter objects
    for p, value in zip(module.parameters(), before, strict=True):
        assert torch.equal(p, value)
        assert p.untyped_storage().data_ptr() == kernel.parameters.untyped_storage().data_ptr()
    assert kernel.parameters.numel() == sum(p.numel() for p in params)


OPTIMIZERS = {
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.9), eps=1e-6, fused=True),
    "sgd-nesterov": lambda ps: torch.optim.SGD(
        ps, lr=0.05, momentum=0.9, nesterov=True, fused=True
    ),
    "sgd-momentum": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.5, fused=True),
    "sgd-plain": lambda ps: torch.optim.SGD(ps, lr=0.05, fused=True),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_steps_match_torch_optimizer_including_a_changed_learning_rate(name):
    module, X, y, w = _problem("log_loss", "relu", weighted=True)
    reference = copy.deepcopy(module)
    ref_optimizer = OPTIMIZERS[name](reference.parameters())
    kernel = DenseKernel(module, "log_loss", 0.2, OPTIMIZERS[name](module.parameters()))
    for step in range(4):
        if step == 2:  # schedules set the rate in the optimizer's param group
            for optimizer in (ref_optimizer, kernel.optimizer):
                optimizer.param_groups[0]["lr"] /= 5
        ref_optimizer.zero_grad()
        _autograd_loss(reference, "log_loss", 0.2, X, y, w).backward()
        ref_optimizer.step()
        kernel.step(X, y, w)
    for p, ref in zip(module.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("reason", "make"),
    [
        ("dropout", lambda: (dense_network([3, 4, 1], "relu", dropout=0.5), {})),
        ("not fused", lambda: (dense_network([3, 4, 1], "relu"), {"fused": False})),
        ("amsgrad", lambda: (dense_network([3, 4, 1], "relu"), {"amsgrad": True})),
        ("weight decay", lambda: (dense_network([3, 4, 1], "relu"), {"weight_decay": 0.1})),
        (
            "custom module",
            lambda: (torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU()), {}),
        ),
    ],
)
def test_attach_leaves_to_autograd_what_the_kernel_does_not_compute(reason, make):
    module, options = make()
    optimizer = torch.optim.Adam(module.parameters(), **{"fused": True, **options})
    assert attach(module, "squared_error", 0.0, optimizer) is None, reason


def test_attach_takes_plain_networks_and_lbfgs():
    module = dense_network([3, 4, 1], "tanh")
    assert attach(module, "poisson", 0.0, torch.optim.Adam(module.parameters(), fused=True))
    module = dense_network([3, 4, 1], "tanh")
    assert attach(module, "poisson", 0.0, torch.optim.LBFGS(module.parameters()))


def _data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 6).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1)
    return X, y


FITS = [
    (MLPClassifier, {"hidden_layer_sizes": (9, 7), "max_iter": 6, "batch_size": 32}),
    (
        MLPClassifier,
        {"solver": "sgd", "activation": "tanh", "max_iter": 6, "batch_size": 50, "alpha": 0.1},
    ),
    (MLPRegressor, {"activation": "logistic", "max_iter": 6, "batch_size": 40}),
    (MLPRegressor, {"solver": "lbfgs", "max_iter": 30, "dtype": "float64"}),
    (PerceptronClassifier, {"solver": "sgd", "max_iter": 6, "batch_size": 16}),
]


@pytest.mark.parametrize(("cls", "params"), FITS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fit_through_the_kernel_follows_the_autograd_fit(monkeypatch, cls, params, weighted):
    X, y = _data()
    target = y.astype(float) if cls is MLPRegressor else y
    weights = np.random.RandomState(1).uniform(0.2, 2.0, len(y)) if weighted else None

    def fit():
        return cls(random_state=0, **params).fit(X, target, sample_weight=weights)

    fast = fit()
    assert fast.net_.kernel_ is not None
    monkeypatch.setattr(_dense_kernel, "enabled", False)
    slow = fit()
    assert slow.net_.kernel_ is None
    if params.get("solver") == "lbfgs":
        assert fast.n_iter_ == slow.n_iter_
        np.testing.assert_allclose(fast.loss_, slow.loss_, rtol=1e-6)
    else:
        np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=2e-5)
    for a, b in zip(fast.coefs_, slow.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fit_is_bit_reproducible_through_the_kernel():
    X, y = _data()
    fits = [MLPClassifier(max_iter=3, random_state=4).fit(X, y) for _ in range(2)]
    assert fits[0].net_.kernel_ is not None
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    for a, b in zip(fits[0].coefs_, fits[1].coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_hook_hands_the_steps_to_autograd_and_back_with_the_optimizer_state(monkeypatch, solver):
    X, y = _data()
    calls = []

    def run():
        est = MLPClassifier(hidden_layer_sizes=(8,), solver=solver, batch_size=30, random_state=0)
        est.partial_fit(X, y, classes=np.unique(y))
        handle = est.module_.register_forward_hook(lambda *args: calls.append(1))
        est.partial_fit(X, y)
        handle.remove()
        est.partial_fit(X, y)
        return est

    fast = run()
    assert len(calls) == 4  # the second partial_fit ran its 4 batches through the module
    monkeypatch.setattr(_dense_kernel, "enabled", False)
    slow = run()
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-5)
    for a, b in zip(fast.coefs_, slow.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_gradient_callbacks_see_the_kernels_gradients(monkeypatch):
    X, y = _data()

    def fit():
        clip = GradientNormClipping(gradient_clip_value=0.05)
        return MLPClassifier(max_iter=4, batch_size=30, random_state=0, callbacks=[clip]).fit(X, y)

    fast = fit()
    monkeypatch.setattr(_dense_kernel, "enabled", False)
    slow = fit()
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=2e-5)


def test_weights_stay_live_views_between_partial_fits():
    X, y = _data()
    est = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    est.partial_fit(X, y, classes=np.unique(y))
    view = est.module_[0].weight.detach().numpy()
    before = view.copy()
    est.partial_fit(X, y)
    assert not np.array_equal(view, before)
    np.testing.assert_array_equal(view, est.coefs_[0].T.astype(np.float32))


class _PredictEachEpoch(Callback):
    """Predicts a few rows (the numpy path) and the same rows through torch, each epoch."""

    def __init__(self, estimator, X):
        self.estimator, self.X = estimator, X
        self.pairs = []

    def on_epoch_end(self, net, **kwargs):
        many = np.tile(self.X, (40, 1))  # past the numpy path's row limit
        self.pairs.append(
            (self.estimator.predict_proba(self.X), self.estimator.predict_proba(many))
        )


def test_few_row_predictions_during_a_fit_see_the_current_weights():
    X, y = _data()
    est = MLPClassifier(hidden_layer_sizes=(5,), max_iter=2, warm_start=True, random_state=0)
    est.fit(X, y)  # caches numpy copies of the weights
    callback = _PredictEachEpoch(est, X[:3])
    est.set_params(callbacks=[callback]).fit(X, y)
    few, many = callback.pairs[0]
    np.testing.assert_allclose(few, many[:3], rtol=1e-5)


def test_pickles_carry_each_parameter_not_the_whole_buffer(monkeypatch):
    X, y = _data()
    params = {"hidden_layer_sizes": (40, 30), "max_iter": 2, "random_state": 0}
    fast = MLPClassifier(**params).fit(X, y)
    monkeypatch.setattr(_dense_kernel, "enabled", False)
    slow = MLPClassifier(**params).fit(X, y)
    blob = pickle.dumps(fast)
    assert len(blob) < 1.1 * len(pickle.dumps(slow))
    np.testing.assert_array_equal(pickle.loads(blob).predict_proba(X), fast.predict_proba(X))
    copied = copy.deepcopy(fast)
    weight = copied.module_[0].weight
    assert weight.untyped_storage().nbytes() == weight.numel() * weight.element_size()


@pytest.mark.parametrize("rows", [1, 7, 10, 23])
def test_chunked_prediction_matches_the_module(rows):
    torch.manual_seed(0)
    module = dense_network([4, 6, 5, 2], "logistic", dropout=0.3).eval()
    X = torch.randn(rows, 4)
    with torch.inference_mode():
        np.testing.assert_allclose(predict_raw(module, X, 4), module(X), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("threads", [2, 3])
def test_chunks_spread_over_threads_give_the_serial_result(threads):
    torch.manual_seed(0)
    module = dense_network([4, 6, 5, 2], "relu").eval()
    X = torch.randn(23, 4)
    before = torch.get_num_threads()
    with torch.inference_mode():
        serial = predict_raw(module, X, 4, threads=1)
        spread = predict_raw(module, X, 4, threads=threads)
    np.testing.assert_array_equal(spread, serial)
    assert torch.get_num_threads() == before


def test_chunked_prediction_leaves_hooked_modules_to_torch():
    module = dense_network([4, 6, 2], "relu").eval()
    module[0].register_forward_hook(lambda *args: None)
    assert predict_raw(module, torch.randn(3, 4), 2) is None


def test_bulk_predict_matches_the_module_forward():
    X, y = _data(n=300)
    est = MLPClassifier(hidden_layer_sizes=(8, 8), max_iter=2, random_state=0).fit(X, y)
    big = np.repeat(X, 30, axis=0)  # 9,000 rows: three chunks
    with torch.inference_mode():
        expected = est.module_(torch.from_numpy(big)).double().numpy()
    np.testing.assert_allclose(est._raw(big), expected, rtol=1e-6, atol=1e-6)


class _ThreadsPerBatch(Callback):
    def __init__(self):
        self.threads = []

    def on_batch_end(self, net, **kwargs):
        self.threads.append(torch.get_num_threads())


@pytest.mark.parametrize(("batch_size", "expected"), [(32, 1), (600, 2)])
def test_small_steps_run_on_one_thread_and_the_setting_comes_back(
    monkeypatch, batch_size, expected
):
    monkeypatch.setenv("SKLEARN_DLPP_NUM_THREADS", "2")  # the tests run with OMP_NUM_THREADS=1
    X, y = _data(n=1200)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        record = _ThreadsPerBatch()
        MLPClassifier(
            hidden_layer_sizes=(64,), batch_size=batch_size, max_iter=1, callbacks=[record]
        ).fit(X, y)
        assert set(record.threads) == {expected}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
