"""Inputs are never mutated: float64 X, y and sample_weight in every form, every method.

Float64 values that float32 cannot represent exactly (``rng.normal``) make a
fit that writes its float32 copy back into the caller's array visible; the
float64 networks (``dtype='float64'``) wrap the caller's memory without a copy,
so any in-place operation on the training tensors would show too.
"""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pytest

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
)
from sklearn_dlpp.graph import EventSet, GraphScaler

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------ comparison
def _assert_unchanged(before, after, where="input"):
    """Deep equality, bit for bit for arrays (dtype included)."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), where
        assert before.dtype == after.dtype, where
        if isinstance(before, np.ma.MaskedArray):
            np.testing.assert_array_equal(np.ma.getmaskarray(after), np.ma.getmaskarray(before))
            before, after = before.data, after.data
        np.testing.assert_array_equal(after, before, err_msg=where, strict=True)
    elif isinstance(before, nx.Graph):
        assert list(after.nodes) == list(before.nodes), where
        assert list(after.edges) == list(before.edges), where
        for n in before.nodes:
            _assert_unchanged(before.nodes[n], after.nodes[n], f"{where}: node {n}")
        for e in before.edges:
            _assert_unchanged(before.edges[e], after.edges[e], f"{where}: edge {e}")
    elif isinstance(before, dict):
        assert list(after) == list(before), where
        for key in before:
            _assert_unchanged(before[key], after[key], f"{where}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        assert len(after) == len(before), where
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            _assert_unchanged(b, a, f"{where}[{i}]")
    elif isinstance(before, EventSet):
        assert after.kinds == before.kinds, where
        for i in range(len(before)):
            _assert_unchanged(before[i], after[i], f"{where}: event {i}")
    elif type(before).__module__.partition(".")[0] == "awkward":
        import awkward as ak

        assert ak.to_list(after) == ak.to_list(before), where
        assert str(ak.type(after)) == str(ak.type(before)), where
    else:
        assert after == before, where


def _run_every_method(model, X, y, w):
    """fit, partial_fit (where there is one), every prediction method, score with weights."""
    args = (X,) if y is None else (X, y)
    model.fit(*args, sample_weight=w)
    if hasattr(model, "partial_fit") and not model.early_stopping:
        model.partial_fit(*args, sample_weight=w)
    for method in ("predict", "predict_proba", "decision_function"):
        if hasattr(model, method):
            getattr(model, method)(X)
    model.score(*args, sample_weight=w)


def _check(model, X, y, w):
    before = copy.deepcopy((X, y, w))
    _run_every_method(model, X, y, w)
    _assert_unchanged(before[0], X, "X")
    _assert_unchanged(before[1], y, "y")
    _assert_unchanged(before[2], w, "sample_weight")


# ----------------------------------------------------------------- dense data
def _dense(n=60):
    X = RNG.normal(size=(n, 5))  # float64, not representable in float32
    assert not np.array_equal(X, X.astype(np.float32))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    w = RNG.uniform(0.5, 2.0, n)
    return X, y, w


DENSE = {
    "MLPClassifier": lambda **kw: MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, **kw),
    "MLPRegressor": lambda **kw: MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, **kw),
    "PerceptronClassifier": lambda **kw: PerceptronClassifier(max_iter=2, **kw),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("name", DENSE)
def test_dense_estimators_leave_float64_inputs_alone(name, dtype, early_stopping):
    X, y, w = _dense()
    if name == "MLPRegressor":
        y = X @ np.arange(5.0)  # float64 targets too
    model = DENSE[name](dtype=dtype, early_stopping=early_stopping, random_state=0)
    _check(model, X, y, w)


def test_dense_fortran_and_sliced_inputs_are_left_alone():
    X, y, w = _dense()
    for view in (np.asfortranarray(X), X[::2], X.T.copy().T):
        rows = len(view)
        _check(
            MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
            view,
            y[:rows] if rows == len(y) else y[::2],
            w[:rows] if rows == len(w) else w[::2],
        )
    # The base array of the slice is untouched as well.
    snapshot = X.copy()
    MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, dtype="float64", random_state=0).fit(
        X[::2], y[::2], sample_weight=w[::2]
    )
    np.testing.assert_array_equal(X, snapshot, strict=True)


# ----------------------------------------------------------------- graph data
def _particles(n=24):
    return [RNG.normal(size=(int(k), 3)) for k in RNG.integers(2, 6, n)]


def _padded(n=24):
    sets = _particles(n)
    X = np.zeros((n, 6, 3))
    for i, s in enumerate(sets):
        X[i, : len(s)] = s
    return X


def _masked(n=24):
    X = RNG.normal(size=(n, 5, 3))
    mask = np.zeros(X.shape, bool)
    for i, k in enumerate(RNG.integers(1, 5, n)):
        mask[i, k:] = True  # masked entries: padding, with non-zero values underneath
    return np.ma.MaskedArray(X, mask=mask)


def _networkx(n=24):
    graphs = []
    for _ in range(n):
        G = nx.gnp_random_graph(int(RNG.integers(3, 6)), 0.6, seed=int(RNG.integers(1 << 30)))
        for node in G:
            G.nodes[node]["x"] = RNG.normal(size=3)
            G.nodes[node]["y"] = int(RNG.integers(2))
        for u, v in G.edges():
            G.edges[u, v]["x"] = RNG.normal(size=2)
            G.edges[u, v]["y"] = int(RNG.integers(2))
        graphs.append(G)
    return graphs


def _awkward(n=24):
    ak = pytest.importorskip("awkward")
    counts = RNG.integers(2, 6, n)
    return ak.zip(
        {
            "pt": ak.unflatten(RNG.normal(size=counts.sum()), counts),
            "eta": ak.unflatten(RNG.normal(size=counts.sum()), counts),
        }
    )


def _events(n=24):
    return [
        {"jet": RNG.normal(size=(int(RNG.integers(1, 4)), 3)), "muon": RNG.normal(size=(1, 2))}
        for _ in range(n)
    ]


GRAPH_INPUTS = {
    "ragged": _particles,
    "padded": _padded,
    "masked": _masked,
    "networkx": _networkx,
    "awkward": _awkward,
    "events": _events,
    "eventset": lambda: EventSet({k: [e[k] for e in _events()] for k in ("jet", "muon")}),
}
FAST = {"hidden": 4, "n_blocks": 1, "max_iter": 2, "random_state": 0}


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("cls", [GraphClassifier, GraphRegressor])
@pytest.mark.parametrize("form", GRAPH_INPUTS)
def test_graph_estimators_leave_every_input_form_alone(form, cls, early_stopping):
    X = GRAPH_INPUTS[form]()
    n = len(X)
    y = np.arange(n) % 2 if cls is GraphClassifier else RNG.normal(size=n)
    w = RNG.uniform(0.5, 2.0, n)
    options = {"set_edges": "knn", "k": 2} if form != "networkx" else {}
    _check(cls(early_stopping=early_stopping, **FAST, **options), X, y, w)


@pytest.mark.parametrize("cls", [NodeClassifier, EdgeClassifier])
def test_part_classifiers_leave_graphs_and_label_lists_alone(cls):
    graphs = _networkx()
    w = RNG.uniform(0.5, 2.0, len(graphs))
    _check(cls(**FAST), graphs, None, w)  # labels read from the attribute 'y'
    attribute = "nodes" if cls is NodeClassifier else "edges"
    y = [np.array([d["y"] for *_, d in getattr(G, attribute)(data=True)]) for G in graphs]
    _check(cls(early_stopping=True, **FAST), graphs, y, w)


def test_node_classifier_leaves_particle_arrays_and_node_labels_alone():
    X = _particles()
    y = [RNG.integers(0, 2, len(s)) for s in X]
    _check(NodeClassifier(set_edges="knn", k=2, **FAST), X, y, RNG.uniform(0.5, 2.0, len(X)))


def test_graph_scaler_leaves_its_input_alone():
    for make in (_particles, _padded, _networkx):
        X = make()
        before = copy.deepcopy(X)
        GraphScaler().fit(X).transform(X)
        _assert_unchanged(before, X, make.__name__)
