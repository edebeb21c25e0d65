"""Every estimator on a GPU: skipped without CUDA (as in CI), run by benchmarks/gpu_check.sh."""

from __future__ import annotations

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


@pytest.mark.parametrize("cls", [PerceptronClassifier, MLPClassifier, MLPRegressor])
def test_dense_estimators_train_on_cuda_close_to_cpu(cls):
    X, y = make_classification(n_samples=400, n_features=10, random_state=0)
    kw = {"random_state": 0, "max_iter": 20}
    if cls is not PerceptronClassifier:
        kw["hidden_layer_sizes"] = (32,)
    gpu = cls(device="cuda", **kw).fit(X, y)
    cpu = cls(device="cpu", **kw).fit(X, y)
    assert gpu.device_.startswith("cuda")
    assert next(gpu.module_.parameters()).is_cuda
    out = gpu.predict_proba(X) if hasattr(gpu, "predict_proba") else gpu.predict(X)
    ref = cpu.predict_proba(X) if hasattr(cpu, "predict_proba") else cpu.predict(X)
    # CUDA kernels sum in another order: close, not identical.
    np.testing.assert_allclose(out, ref, atol=1e-3)


@pytest.mark.parametrize("cls", [GraphClassifier, GraphRegressor, NodeClassifier, EdgeClassifier])
def test_graph_estimators_train_on_cuda(cls):
    graphs = _graphs()
    y = None
    if cls is GraphClassifier:
        y = np.arange(len(graphs)) % 2
    elif cls is GraphRegressor:
        y = np.array([G.number_of_nodes() for G in graphs], dtype=float)
    model = cls(hidden=16, n_blocks=2, max_iter=10, device="cuda", random_state=0)
    model.fit(graphs, y)
    assert next(model.module_.parameters()).is_cuda
    model.predict(graphs)
