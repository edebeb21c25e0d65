"""Every estimator on a GPU: skipped without CUDA (as in CI), run by benchmarks/gpu_check.sh.

Each test asserts numbers, so that a session with a GPU learns something:

- float64 fits on CUDA equal the CPU fit to 1e-6 (same batches: the permutation
  is drawn on the CPU generator; only the summation order of kernels differs);
- float32 fits agree within the tolerances below (summation order grows through
  training: close, not identical, as docs/user_guide/reproducibility.md says);
- a pickled CUDA model comes back on the GPU with the same predictions;
- a few rows on CUDA are predicted by the network on the GPU, not by the numpy
  path, and agree with the CPU model.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
)

pytestmark = [
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

DEVICE = "cuda"
# float32 tolerances after a short training (20 epochs dense, 10 graph).
FLOAT32_OUTPUT_ATOL = 1e-3
FLOAT32_LOSS_RTOL = 1e-3
# float64: the same batches and steps; only the kernels' summation order differs.
FLOAT64_OUTPUT_ATOL = 1e-6
FLOAT64_LOSS_RTOL = 1e-7


def _graphs(n=40, seed=0):
    import networkx as nx

    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(n):
        G = nx.gnp_random_graph(int(rng.integers(3, 9)), 0.5, seed=int(rng.integers(1 << 30)))
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=3)
            G.nodes[node]["y"] = int(G.nodes[node]["x"][0] > 0)
        for u, v in G.edges():
            G.edges[u, v]["y"] = int(G.nodes[u]["y"] == G.nodes[v]["y"])
        graphs.append(G)
    return graphs


def _outputs(model, X):
    """The continuous outputs: probabilities, decision values or regression outputs."""
    for method in ("predict_proba", "decision_function", "predict"):
        if hasattr(model, method):
            out = getattr(model, method)(X)
            return np.concatenate(out) if isinstance(out, list) else np.asarray(out)
    raise AssertionError(type(model).__name__)


def _dense_pair(cls, dtype):
    X, y = make_classification(n_samples=400, n_features=10, random_state=0)
    kw = {"random_state": 0, "max_iter": 20, "dtype": dtype}
    if cls is not PerceptronClassifier:
        kw["hidden_layer_sizes"] = (32,)
    if cls is MLPRegressor:
        y = X[:, :3].sum(axis=1)
    gpu = cls(device=DEVICE, **kw).fit(X, y)
    cpu = cls(device="cpu", **kw).fit(X, y)
    return gpu, cpu, X, y


@pytest.mark.parametrize("cls", [PerceptronClassifier, MLPClassifier, MLPRegressor])
def test_dense_estimators_train_on_cuda_close_to_cpu(cls):
    gpu, cpu, X, y = _dense_pair(cls, "float32")
    assert gpu.device_.startswith("cuda")
    assert next(gpu.module_.parameters()).is_cuda
    assert gpu.n_iter_ == cpu.n_iter_
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=FLOAT32_LOSS_RTOL)
    np.testing.assert_allclose(_outputs(gpu, X), _outputs(cpu, X), atol=FLOAT32_OUTPUT_ATOL)
    assert abs(gpu.score(X, y) - cpu.score(X, y)) <= 0.01


@pytest.mark.parametrize("cls", [PerceptronClassifier, MLPClassifier, MLPRegressor])
def test_float64_fits_on_cuda_equal_the_cpu_fit(cls):
    # The same permutation (drawn on the CPU generator) and the same steps: a permutation
    # or an initialisation drawn on the GPU would part the fits by far more than this.
    gpu, cpu, X, _ = _dense_pair(cls, "float64")
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=FLOAT64_LOSS_RTOL)
    for a, b in zip(gpu.coefs_, cpu.coefs_, strict=True):
        np.testing.assert_allclose(a, b, atol=FLOAT64_OUTPUT_ATOL)
    np.testing.assert_allclose(_outputs(gpu, X), _outputs(cpu, X), atol=FLOAT64_OUTPUT_ATOL)


def test_auto_device_is_cuda_and_refits_are_close():
    X, y = make_classification(n_samples=300, n_features=8, random_state=1)
    first = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0).fit(X, y)
    second = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0).fit(X, y)
    assert first.device_.startswith("cuda")  # device="auto" takes the GPU
    np.testing.assert_allclose(first.predict_proba(X), second.predict_proba(X), atol=1e-4)


def test_few_rows_on_cuda_run_the_gpu_network():
    gpu, cpu, X, _ = _dense_pair(MLPClassifier, "float32")
    calls = []
    gpu.module_.register_forward_pre_hook(lambda _, args: calls.append(args[0].device.type))
    few = gpu.predict_proba(X[:5])
    assert calls == ["cuda"]  # the numpy path is for CPU models only
    np.testing.assert_allclose(few, cpu.predict_proba(X[:5]), atol=FLOAT32_OUTPUT_ATOL)


def test_pickled_cuda_model_returns_to_the_gpu():
    gpu, _, X, _ = _dense_pair(MLPClassifier, "float32")
    restored = pickle.loads(pickle.dumps(gpu))
    assert restored.device_ == gpu.device_
    assert next(restored.module_.parameters()).is_cuda
    np.testing.assert_array_equal(restored.predict_proba(X), gpu.predict_proba(X))


@pytest.mark.parametrize("cls", [GraphClassifier, GraphRegressor, NodeClassifier, EdgeClassifier])
def test_graph_estimators_train_on_cuda_close_to_cpu(cls):
    graphs = _graphs()
    y = None
    if cls is GraphClassifier:
        y = np.array([G.nodes[0]["y"] for G in graphs])
    elif cls is GraphRegressor:
        y = np.array([G.number_of_nodes() for G in graphs], dtype=float)
    kw = {"hidden": 16, "n_blocks": 2, "max_iter": 10, "random_state": 0}
    gpu = cls(device=DEVICE, **kw).fit(graphs, y)
    cpu = cls(device="cpu", **kw).fit(graphs, y)
    assert next(gpu.module_.parameters()).is_cuda
    assert gpu.n_iter_ == cpu.n_iter_
    # Scatter-adds on CUDA sum messages in a varying order: close, not identical.
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=FLOAT32_LOSS_RTOL)
    np.testing.assert_allclose(
        _outputs(gpu, graphs), _outputs(cpu, graphs), atol=FLOAT32_OUTPUT_ATOL, rtol=1e-3
    )
    args = (graphs,) if y is None else (graphs, y)
    assert abs(gpu.score(*args) - cpu.score(*args)) <= 0.02
