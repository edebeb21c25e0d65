"""Bad input: every estimator refuses it with a ValueError or TypeError that names the problem.

Named cases pin the messages; hypothesis then feeds at least 500 malformed
inputs per family (dense, graph) and lets nothing else escape, never modifies
an input and never leaves a refused fit half-fitted.
"""

from __future__ import annotations

import copy
import pickle

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import accuracy_score

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

GRAPH_PARAMS = {"hidden": 4, "n_blocks": 1, "max_iter": 1, "random_state": 0}
# float32 training, so that the float32-range checks have something to guard.
DENSE_PARAMS = {"max_iter": 1, "random_state": 0, "dtype": "float32"}
DENSE = {
    "MLPClassifier": MLPClassifier(hidden_layer_sizes=(4,), **DENSE_PARAMS),
    "MLPRegressor": MLPRegressor(hidden_layer_sizes=(4,), **DENSE_PARAMS),
    "PerceptronClassifier": PerceptronClassifier(**DENSE_PARAMS),
}
GRAPH = {
    # Edge features on one of them, so that edge attributes are read (and fuzzed) too.
    "GraphClassifier": GraphClassifier(**GRAPH_PARAMS, edge_features="w"),
    # Particle sets (a list of 2-D arrays) on another: the set readers.
    "GraphRegressor": GraphRegressor(**GRAPH_PARAMS),
    "NodeClassifier": NodeClassifier(**GRAPH_PARAMS),
    "EdgeClassifier": EdgeClassifier(**GRAPH_PARAMS),
}
ALL = {**DENSE, **GRAPH}
CLASSIFIERS = ("MLPClassifier", "PerceptronClassifier", "GraphClassifier")
PARTS = ("NodeClassifier", "EdgeClassifier")
N_SAMPLES = 24
N_GRAPHS = 8


def dense_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_SAMPLES, 3))
    y = rng.normal(size=N_SAMPLES) if name == "MLPRegressor" else np.arange(N_SAMPLES) % 2
    return X, y


def make_graph(rng: np.random.Generator, n_nodes: int, width: int = 2) -> nx.Graph:
    G = nx.cycle_graph(n_nodes)
    for node in G:
        G.nodes[node]["x"] = rng.normal(size=width)
        G.nodes[node]["y"] = node % 2
    for u, v in G.edges():
        G.edges[u, v]["y"] = u % 2
        G.edges[u, v]["w"] = rng.normal(size=2)
    return G


def graph_data(name: str) -> tuple[list, np.ndarray | None]:
    rng = np.random.default_rng(0)
    sizes = 3 + np.arange(N_GRAPHS) % 3
    if name == "GraphRegressor":
        return [rng.normal(size=(n, 2)) for n in sizes], rng.normal(size=N_GRAPHS)
    graphs = [make_graph(rng, n) for n in sizes]
    return graphs, (np.arange(N_GRAPHS) % 2 if name == "GraphClassifier" else None)


def data(name: str):
    return dense_data(name) if name in DENSE else graph_data(name)


def part_size(name: str):
    return len if name == "NodeClassifier" else nx.number_of_edges


@pytest.fixture(scope="module")
def fitted():
    return {name: clone(est).fit(*data(name)) for name, est in ALL.items()}


def snapshot(obj) -> object:
    """Bytes of everything a user sees in ``obj``: graphs by content, not by networkx's caches."""
    if isinstance(obj, nx.Graph):
        edges = obj.edges(keys=True, data=True) if obj.is_multigraph() else obj.edges(data=True)
        return (type(obj), pickle.dumps((obj.graph, list(obj.nodes(data=True)), list(edges))))
    if isinstance(obj, (list, tuple)):
        return (type(obj), [snapshot(item) for item in obj])
    return pickle.dumps(obj)


def assert_refused(call, inputs, match: str | None = None) -> None:
    """``call()`` raises a ValueError/TypeError with a message and leaves ``inputs`` alone."""
    before = snapshot(inputs)
    with pytest.raises((ValueError, TypeError), match=match) as info:
        call()
    assert str(info.value).strip(), f"{type(info.value).__name__} without a message"
    assert snapshot(inputs) == before, "the input was modified"


def assert_fit_refused(est, X, y, sample_weight=None, match: str | None = None) -> None:
    est = clone(est)
    assert_refused(lambda: est.fit(X, y, sample_weight=sample_weight), (X, y, sample_weight), match)
    assert not hasattr(est, "module_"), "a refused fit left a network behind"


def with_value(array, index, value, dtype=None) -> np.ndarray:
    """A copy of ``array`` (as ``dtype``) with ``value`` at ``index``."""
    out = np.array(array, dtype=dtype)
    out[index] = value
    return out


# ---------------------------------------------------------------- dense: named cases
DENSE_FIT_CASES = {
    "nan in X": (lambda X, y: (with_value(X, (3, 1), np.nan), y, None), r"X contains NaN"),
    "inf in X": (lambda X, y: (with_value(X, (0, 0), np.inf), y, None), r"X contains infinity"),
    "X beyond float32": (
        lambda X, y: (with_value(X, (1, 2), 1e39), y, None),
        r"X has values beyond the float32 range",
    ),
    "empty X": (lambda X, y: (X[:0], y[:0], None), r"0 sample\(s\)"),
    "no features": (lambda X, y: (X[:, :0], y, None), r"0 feature\(s\)"),
    "1-D X": (lambda X, y: (X[:, 0], y, None), r"Expected 2D array"),
    "3-D X": (lambda X, y: (X[:, :, None], y, None), r"dim 3"),
    "text in X": (lambda X, y: (with_value(X, (2, 0), "pt", object), y, None), r"convert string"),
    "object in X": (lambda X, y: (with_value(X, (2, 0), {}, object), y, None), r"dict"),
    "complex X": (lambda X, y: (X + 1j, y, None), r"Complex data"),
    "y length": (lambda X, y: (X, y[:-1], None), r"inconsistent numbers of samples"),
    "y missing": (lambda X, y: (X, None, None), r"requires y"),
    "nan in y": (lambda X, y: (X, with_value(y, 4, np.nan, float), None), r"y contains NaN"),
    "inf in y": (lambda X, y: (X, with_value(y, 4, np.inf, float), None), r"y contains infinity"),
    "weights length": (
        lambda X, y: (X, y, np.ones(len(y) - 1)),
        r"sample_weight.shape == \(23,\), expected \(24,\)",
    ),
    "nan weight": (
        lambda X, y: (X, y, with_value(np.ones(len(y)), 0, np.nan)),
        r"sample_weight contains NaN",
    ),
    "all-zero weights": (lambda X, y: (X, y, np.zeros(len(y))), r"at least one non-zero"),
    "zero-sum weights": (
        lambda X, y: (X, y, np.resize([2.0, -2.0], len(y))),
        r"sum of sample_weight is zero",
    ),
    "negative total weight": (
        lambda X, y: (X, y, np.full(len(y), -1.0)),
        r"sum of sample_weight is negative .* total must be positive",
    ),
    "weights beyond float32": (
        lambda X, y: (X, y, with_value(np.ones(len(y)), 0, 1e39)),
        r"sample_weight has values beyond the float32 range",
    ),
    "text weights": (lambda X, y: (X, y, np.array(["w"] * len(y))), r"convert string"),
    "2-D weights": (lambda X, y: (X, y, np.ones((len(y), 2))), r"1D array"),
}
DENSE_CLASSIFIER_CASES = {
    "continuous y": (lambda X, y: (X, y + 0.5, None), r"Unknown label type: continuous"),
    "object labels": (lambda X, y: (X, np.array([object()] * len(y)), None), r"label type"),
    "mixed label types": (
        lambda X, y: (X, np.array(["a", *range(len(y) - 1)], dtype=object), None),
        r"mixes label types",
    ),
}
DENSE_REGRESSOR_CASES = {
    "y beyond float32": (lambda X, y: (X, with_value(y, 0, -1e39), None), r"y has values beyond"),
    "text y": (lambda X, y: (X, np.array(["a"] * len(y)), None), r"convert string"),
}


def _params(name: str, cases: dict) -> list:
    return [pytest.param(name, *case, id=f"{name}-{key}") for key, case in cases.items()]


def _dense_fit_params(name: str) -> list:
    special = DENSE_CLASSIFIER_CASES if name in CLASSIFIERS else DENSE_REGRESSOR_CASES
    return _params(name, {**DENSE_FIT_CASES, **special})


@pytest.mark.parametrize(
    ("name", "make", "match"), [p for name in DENSE for p in _dense_fit_params(name)]
)
def test_dense_fit_refuses(name, make, match):
    X, y, w = make(*dense_data(name))
    assert_fit_refused(DENSE[name], X, y, w, match)


DENSE_PREDICT_CASES = {
    "too few features": (lambda X: X[:, :2], r"X has 2 features, but \w+ is expecting 3"),
    "too many features": (lambda X: np.hstack([X, X]), r"X has 6 features, but \w+ is expecting 3"),
    "nan": (lambda X: with_value(X, (0, 1), np.nan), r"X contains NaN"),
    "inf": (lambda X: with_value(X, (1, 1), -np.inf), r"X contains infinity"),
    "beyond float32": (lambda X: with_value(X, (1, 1), -1e300), r"beyond the float32 range"),
    "empty": (lambda X: X[:0], r"0 sample\(s\)"),
    "text": (lambda X: with_value(X, (0, 0), "eta", object), r"convert string"),
    "1-D": (lambda X: X[0], r"Expected 2D array"),
}


@pytest.mark.parametrize("case", DENSE_PREDICT_CASES)
@pytest.mark.parametrize("name", DENSE)
def test_dense_predict_refuses(fitted, name, case):
    make, match = DENSE_PREDICT_CASES[case]
    X = make(dense_data(name)[0])
    model = fitted[name]
    for method in ("predict", "predict_proba") if name in CLASSIFIERS else ("predict",):
        assert_refused(lambda m=method: getattr(model, m)(X), X, match)


# ----------------------------------------------------------- labels, classes, weights
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_score_refuses_labels_it_cannot_compare(fitted, name):
    X, y = data(name)
    model = fitted[name]
    labels = with_value(y, 0, "top", object)
    assert_refused(lambda: model.score(X, labels), labels, r"mixes label types")
    assert model.score(X, y) == accuracy_score(y, model.predict(X))


def test_graph_score_refuses_labels_not_seen_in_fit(fitted):
    # The graph estimators keep this refusal (the dense ones follow scikit-learn:
    # see test_sklearn_parity.py).
    X, y = data("GraphClassifier")
    model = fitted["GraphClassifier"]
    assert_refused(lambda: model.score(X, with_value(y, 0, 2)), y, r"not seen in fit: \[2\]")


@pytest.mark.parametrize("name", ALL)
def test_score_weights_follow_the_fit_policy(fitted, name):
    X, y = data(name)
    n = len(X)
    for w, match in [(np.zeros(n), r"non-zero"), (-np.ones(n), r"negative")]:
        assert_refused(lambda w=w: fitted[name].score(X, y, sample_weight=w), w, match)
    nlo = np.where(np.arange(n) % 4 == 0, -0.5, 1.0)
    assert np.isfinite(fitted[name].score(X, y, sample_weight=nlo))


@pytest.mark.parametrize("name", ALL)
def test_negative_event_weights_are_accepted(name):
    """HEP policy: negative weights (NLO generators) are fine while their total is positive."""
    X, y = data(name)
    w = np.where(np.arange(len(X)) % 4 == 0, -0.5, 1.0)
    model = clone(ALL[name]).fit(X, y, sample_weight=w)
    predictions = model.predict(X)
    assert np.isfinite(np.concatenate(predictions) if name in PARTS else predictions).all()


@pytest.mark.parametrize("name", ["MLPClassifier", "GraphRegressor"])
def test_minibatches_with_a_negative_weight_sum_train(name):
    """A batch may hold more negative than positive weight; only the total must be positive."""
    X, y = data(name)
    w = np.ones(len(X))
    w[:3] = -1.0  # the first batch of 3, in order: a negative sum
    model = clone(ALL[name]).set_params(batch_size=3, shuffle=False, max_iter=3)
    model.fit(X, y, sample_weight=w)  # a TrainingDivergedWarning is an error here
    # Losses of the size of per-event losses, not divided by a clamped batch sum.
    assert np.abs(model.loss_curve_).max() < 100
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize("name", ALL)
def test_weight_policy_is_documented(name):
    doc = " ".join(type(ALL[name]).fit.__doc__.split()).lower()
    assert "negative" in doc
    assert "sum" in doc


# ---------------------------------------------------------------- graph: named cases
def _changed(change, index: int = 1):
    """X with ``change`` applied to (a copy of) sample ``index``."""

    def make(X, y):
        X = copy.deepcopy(X)
        change(X[index])
        return X, y, None

    return make


def _set_node(name, value, node=0):
    def change(G):
        G.nodes[node][name] = value

    return change


def _replaced(index, value):
    def make(X, y):
        X = list(X)
        X[index] = value
        return X, y, None

    return make


GRAPH_CASES = {
    "no nodes": (_replaced(2, nx.Graph()), r"Sample 2: the graph has no nodes"),
    "missing feature": (
        _changed(lambda G: G.nodes[1].pop("x")),
        r"Sample 1: node 1 has no node attribute 'x'",
    ),
    "ragged features": (_changed(_set_node("x", np.ones(3))), r"Sample 1: ragged node features"),
    "nan feature": (
        _changed(_set_node("x", [np.nan, 0.0])),
        r"Sample 1: node 0 has NaN or infinite",
    ),
    "inf feature": (
        _changed(_set_node("x", [0.0, -np.inf]), 3),
        r"Sample 3: node 0 has NaN or infinite",
    ),
    "feature beyond float32": (
        _changed(_set_node("x", [0.0, 1e39])),
        r"node features beyond the float32 range",
    ),
    "text feature": (
        _changed(_set_node("x", "pt")),
        r"Sample 1: node 0 has 'x' that is not numeric",
    ),
    "matrix feature": (
        _changed(_set_node("x", np.ones((2, 2)))),
        r"Sample 1: node 0: 'x' must be a number or 1-D",
    ),
    "not a graph": (_replaced(4, 7), r"Sample 4: expected a networkx graph.*got int"),
    "array among graphs": (_replaced(1, np.ones((3, 2))), r"Sample 1: expected a networkx graph"),
    "a lone graph": (lambda X, y: (X[0], y, None), r"X must be a sequence of samples"),
}
SET_CASES = {
    "empty set": (_replaced(2, np.ones((0, 2))), r"Sample 2: the set has no particles"),
    "nan particle": (
        _changed(lambda s: s.__setitem__((1, 0), np.nan), 3),
        r"Sample 3: particle 1 has NaN or infinite",
    ),
    "particle beyond float32": (
        _changed(lambda s: s.__setitem__((0, 1), -1e39)),
        r"node features beyond the float32 range",
    ),
    "width": (_replaced(5, np.ones((2, 3))), r"Sample 5: 3 node features, but sample 0 has 2"),
    "1-D set": (_replaced(1, np.ones(2)), r"Sample 1: expected .* of shape \(2,\)"),
    "graph among sets": (_replaced(1, nx.path_graph(2)), r"Sample 1: is a networkx graph"),
    "no node features": (
        lambda X, y: ([np.ones((3, 0))] * len(X), y, None),
        r"0 node features while a minimum of 1",
    ),
}
ANY_X_CASES = {
    "no samples": (lambda X, y: ([], y, None), r"X has no samples"),
    "2-D array": (lambda X, y: (np.ones((N_GRAPHS, 3)), y, None), r"must be 3-D"),
    "weights length": (
        lambda X, y: (X, y, np.ones(3)),
        r"sample_weight.shape == \(3,\), expected \(8,\)",
    ),
    "zero-sum weights": (
        lambda X, y: (X, y, np.resize([1.0, -1.0], len(X))),
        r"sum of sample_weight is zero",
    ),
    "negative total weight": (
        lambda X, y: (X, y, -np.ones(len(X))),
        r"sum of sample_weight is negative",
    ),
}
GRAPH_LEVEL_CASES = {
    "y length": (lambda X, y: (X, y[:-1], None), r"Found 7 targets for 8 graphs"),
    "y missing": (lambda X, y: (X, None, None), r"requires y"),
    "scalar y": (lambda X, y: (X, 1, None), r"one target per graph, got a scalar"),
    "nan in y": (lambda X, y: (X, with_value(y, 0, np.nan, float), None), r"y contains NaN"),
    "inf in y": (
        lambda X, y: (X, with_value(y, 0, np.inf, float), None),
        r"y contains (NaN or )?infinity",
    ),
}
GRAPH_CLASSIFIER_CASES = {
    "one class": (lambda X, y: (X, np.zeros_like(y), None), r"y has one class only"),
    "object labels": (lambda X, y: (X, np.array([object()] * len(y)), None), r"label type"),
    "nan edge feature": (
        _changed(lambda G: G.edges[0, 1].__setitem__("w", [np.nan, 1.0]), 2),
        r"Sample 2: edge \(0, 1\) has NaN or infinite",
    ),
    "missing edge feature": (
        _changed(lambda G: G.edges[1, 2].pop("w")),
        r"Sample 1: edge \(1, 2\) has no edge attribute 'w'",
    ),
}
GRAPH_REGRESSOR_CASES = {
    "3-D y": (lambda X, y: (X, np.ones((len(X), 2, 2)), None), r"1-D .* or 2-D"),
    "y beyond float32": (lambda X, y: (X, with_value(y, 0, 1e39), None), r"y has values beyond"),
}


def _part_cases(name: str) -> dict:
    unit = "node" if name == "NodeClassifier" else "edge"
    size = part_size(name)

    def targets(fill):
        return lambda X, y: (X, [fill(size(G)) for G in X], None)

    return {
        "targets per graph": (
            targets(lambda n: np.zeros(n + 1)),
            rf"Sample 0: \d+ {unit} targets for \d+ {unit}s",
        ),
        "y count": (lambda X, y: (X, [np.zeros(size(G)) for G in X[1:]], None), r"y has 7"),
        "missing target attribute": (
            lambda X, y: (X, "label", None),
            rf"has no {unit} attribute 'label'",
        ),
        "scalar y": (lambda X, y: (X, 3, None), rf"one array of {unit} targets"),
        "one class": (targets(np.ones), r"y has one class only"),
        "nan targets": (targets(lambda n: np.full(n, np.nan)), r"y contains NaN"),
    }


def _graph_fit_params(name: str) -> list:
    cases = {**(SET_CASES if name == "GraphRegressor" else GRAPH_CASES), **ANY_X_CASES}
    if name == "GraphClassifier":
        cases.update({**GRAPH_LEVEL_CASES, **GRAPH_CLASSIFIER_CASES})
    elif name == "GraphRegressor":
        cases.update({**GRAPH_LEVEL_CASES, **GRAPH_REGRESSOR_CASES})
    else:
        cases.update(_part_cases(name))
    return _params(name, cases)


@pytest.mark.parametrize(
    ("name", "make", "match"), [p for name in GRAPH for p in _graph_fit_params(name)]
)
def test_graph_fit_refuses(name, make, match):
    X, y, w = make(*graph_data(name))
    assert_fit_refused(GRAPH[name], X, y, w, match)


@pytest.mark.parametrize("name", GRAPH)
def test_graph_predict_refuses(fitted, name):
    X, _ = graph_data(name)
    if name == "GraphRegressor":
        wide = [np.ones((2, 3))]
        overflow = [X[0], with_value(X[1], (0, 0), 1e39)]
        nan = [with_value(X[0], (2, 1), np.nan)]
        empty_sample = [X[0], np.ones((0, 2))]
    else:
        wide = [make_graph(np.random.default_rng(1), 3, width=3)]
        overflow, nan = copy.deepcopy(X[:2]), copy.deepcopy(X[:1])
        overflow[1].nodes[0]["x"] = np.array([1e39, 0.0])
        nan[0].nodes[2]["x"] = np.array([0.0, np.nan])
        empty_sample = [X[0], nx.Graph()]
    cases = [
        (wide, r"Sample 0: 3 node features, but 2 were expected"),
        (overflow, r"beyond the float32 range"),
        (nan, r"Sample 0: (node|particle) 2 has NaN or infinite"),
        (empty_sample, r"Sample 1: the (graph has no nodes|set has no particles)"),
        ([], r"X has no samples"),
        ([X[0], "sample"], r"Sample 1: "),
        (np.ones((2, 3)), r"must be 3-D"),
    ]
    for bad, match in cases:
        assert_refused(lambda bad=bad: fitted[name].predict(bad), bad, match)


# ------------------------------------------------- gaps in the graph input layer (reported)
@pytest.mark.parametrize(
    "X", [[np.ones((3, 2)) + 1j] * 4, np.ones((4, 3, 2)) + 1j], ids=["ragged", "padded"]
)
def test_complex_particle_features_are_refused(X):
    assert_fit_refused(GRAPH["GraphRegressor"], X, np.arange(4.0), match=r"complex")


def test_a_missing_scalar_feature_is_named():
    graphs = [nx.path_graph(3) for _ in range(4)]
    for G in graphs:
        nx.set_node_attributes(G, 1.0, "x")
    del graphs[2].nodes[1]["x"]
    assert_fit_refused(
        GRAPH["NodeClassifier"], graphs, None, match=r"Sample 2: node 1 has no node attribute 'x'"
    )


# ------------------------------------------------------------------------- fuzzing
N_FUZZ = 500  # malformed inputs per family, counted

WORDS = st.text(max_size=5).map(lambda text: "x" + text)  # never parses as a number
NON_FINITE = st.sampled_from([np.nan, np.inf, -np.inf])
OVERFLOW32 = st.floats(3.5e38, 1e308).flatmap(lambda v: st.sampled_from([v, -v]))
# Cell values that are not numbers (a 2-element list would be a valid 2-feature vector).
NOT_NUMBERS = st.sampled_from([object(), {}, (), b"\x00", "", slice(1), [1.0, 2.0, 3.0]])


def _fuzz(strategy, check) -> None:
    """Run ``check`` on ``N_FUZZ`` draws of ``strategy`` and make sure they all ran."""
    seen = []

    @settings(
        max_examples=N_FUZZ,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=strategy)
    def run(case):
        seen.append(1)
        check(case)

    run()
    assert len(seen) >= N_FUZZ, f"hypothesis ran only {len(seen)} malformed inputs"


@st.composite
def bad_matrix(draw, X: np.ndarray, *, at_fit: bool):
    n, m = X.shape
    cell = (draw(st.integers(0, n - 1)), draw(st.integers(0, m - 1)))
    kinds = ["nonfinite", "overflow", "word", "not a number", "complex", "ragged", "ndim"]
    kinds += ["empty", "not an array"] if at_fit else ["empty", "not an array", "features"]
    kind = draw(st.sampled_from(kinds))
    if kind == "nonfinite":
        return with_value(X, cell, draw(NON_FINITE))
    if kind == "overflow":
        return with_value(X, cell, draw(OVERFLOW32))
    if kind == "word":
        return with_value(X, cell, draw(WORDS), object)
    if kind == "not a number":
        return with_value(X, cell, draw(NOT_NUMBERS), object)
    if kind == "complex":
        return X + 1j * draw(st.floats(1e-3, 1e3))
    if kind == "ragged":
        rows = X.tolist()
        rows[cell[0]] = rows[cell[0]][: draw(st.integers(0, m - 1))]
        return rows
    if kind == "ndim":
        return draw(st.sampled_from([X[:, 0], X[:, :, None], X[None], X[0, 0]]))
    if kind == "empty":
        return draw(st.sampled_from([X[:0], X[:, :0], []]))
    if kind == "features":
        k = draw(st.integers(1, m - 1))
        return draw(st.sampled_from([X[:, :-k], np.hstack([X, X[:, :k]])]))
    return draw(st.sampled_from([None, "X", 3.0, {"a": 1}]))


@st.composite
def bad_labels(draw, y: np.ndarray, *, classifier: bool, strict: bool = True):
    """Targets with one defect: ``y`` holds labels for classifiers, values for regressors.

    ``strict``: the estimator refuses one class (the graph estimators; the dense
    ones learn the constant, as scikit-learn's).
    """
    n = len(y)
    i = draw(st.integers(0, n - 1))
    kinds = ["nonfinite", "length", "missing", "not a number", "3-D"]
    kinds += ["continuous", "mixed"] if classifier else ["overflow", "words"]
    kinds += ["one class"] if classifier and strict else []
    kind = draw(st.sampled_from(kinds))
    if kind == "nonfinite":
        return with_value(y, i, draw(NON_FINITE), object if y.dtype.kind == "U" else float)
    if kind == "length":
        k = draw(st.integers(1, 3))
        return draw(st.sampled_from([y[:-k], np.concatenate([y, y[:k]])]))
    if kind == "missing":
        return None
    if kind == "not a number":
        if classifier and strict:  # all one value: one class, refused only when strict
            return np.array([draw(NOT_NUMBERS)] * n, dtype=object)
        values = NOT_NUMBERS
        if classifier and y.dtype.kind in "UO":
            # A string among string labels is one more class, not a defect.
            values = NOT_NUMBERS.filter(lambda v: not isinstance(v, str))
        return with_value(y, i, draw(values), object)
    if kind == "3-D":
        return np.repeat(y[:, None, None], 2, axis=2)
    if kind == "one class":
        return np.full_like(y, draw(st.sampled_from(list(np.unique(y)))))
    if kind == "continuous":
        return np.linspace(0.0, 1.0, n) + draw(st.floats(0.01, 0.99))
    if kind == "mixed":
        other = draw(st.integers(5, 9)) if y.dtype.kind == "U" else draw(WORDS)
        return with_value(y, i, other, object)
    if kind == "overflow":
        return with_value(y, i, draw(OVERFLOW32))
    return np.array([draw(WORDS)] * n)


@st.composite
def bad_weights(draw, n: int):
    kinds = ["length", "nonfinite", "zeros", "zero sum", "negative", "2-D", "word", "overflow"]
    kind = draw(st.sampled_from(kinds))
    i = draw(st.integers(0, n - 1))
    if kind == "length":
        return np.ones(n + draw(st.sampled_from([-2, -1, 1, 5])))
    if kind == "nonfinite":
        return with_value(np.ones(n), i, draw(NON_FINITE))
    if kind == "zeros":
        return np.zeros(n)
    if kind == "zero sum":
        return np.resize([1.0, -1.0], n) * draw(st.floats(0.1, 10.0))
    if kind == "negative":
        # A total below zero even with one weight raised by up to n / 2.
        return with_value(-np.ones(n), i, draw(st.floats(-1.0, n / 2)))
    if kind == "2-D":
        return np.ones((n, draw(st.integers(2, 3))))
    if kind == "word":
        return with_value(np.ones(n), i, draw(WORDS), object)
    return with_value(np.ones(n), i, draw(OVERFLOW32))


@st.composite
def bad_score_args(draw, name: str, y: np.ndarray):
    """(y, sample_weight) for ``score`` with one defect."""
    n = len(y)
    # Dense classifiers count unseen labels as errors (scikit-learn); mixed types are refused.
    kinds = {"GraphClassifier": ["unseen", "weights"], "MLPClassifier": ["mixed", "weights"]}
    kinds["PerceptronClassifier"] = kinds["MLPClassifier"]
    kind = draw(st.sampled_from(kinds.get(name, ["y", "weights"])))
    if kind == "weights":
        return y, draw(bad_weights(n))
    i = draw(st.integers(0, n - 1))
    if kind == "unseen":
        return with_value(y, i, draw(st.sampled_from([2, 7, -1]))), None
    if kind == "mixed":
        return with_value(y, i, draw(WORDS), object), None
    defect = draw(st.sampled_from(["nonfinite", "length", "word", "not a number"]))
    if defect == "nonfinite":
        return with_value(y, i, draw(NON_FINITE)), None
    if defect == "length":
        return y[: -draw(st.integers(1, 3))], None
    if defect == "word":
        return with_value(y, i, draw(WORDS), object), None
    return with_value(y, i, draw(NOT_NUMBERS), object), None


@st.composite
def dense_cases(draw):
    name = draw(st.sampled_from(sorted(DENSE)))
    X, y = dense_data(name)
    stage = draw(st.sampled_from(["fit X", "fit y", "fit weights", "predict", "score"]))
    if stage in ("fit y", "fit weights") and name == "MLPClassifier" and draw(st.booleans()):
        y = np.array(["qcd", "top"])[y]  # string labels go down other paths
    if stage == "fit X":
        return name, stage, (draw(bad_matrix(X, at_fit=True)), y, None)
    if stage == "fit y":
        labels = bad_labels(y, classifier=name in CLASSIFIERS, strict=False)
        return name, stage, (X, draw(labels), None)
    if stage == "fit weights":
        return name, stage, (X, y, draw(bad_weights(len(y))))
    if stage == "predict":
        return name, stage, (draw(bad_matrix(X, at_fit=False)), None, None)
    return name, stage, (X, *draw(bad_score_args(name, y)))


def _check_case(fitted, family: dict, case) -> None:
    name, stage, (X, y, w) = case
    if stage.startswith("fit"):
        assert_fit_refused(family[name], X, y, w)
    elif stage == "predict":
        regressor = name in ("MLPRegressor", "GraphRegressor")
        for method in ("predict",) if regressor else ("predict", "predict_proba"):
            assert_refused(lambda m=method: getattr(fitted[name], m)(X), X)
    else:
        assert_refused(lambda: fitted[name].score(X, y, sample_weight=w), (X, y, w))


def test_fuzz_dense_inputs(fitted):
    _fuzz(dense_cases(), lambda case: _check_case(fitted, DENSE, case))


@st.composite
def bad_graphs(draw, graphs: list, *, at_fit: bool, edges: bool):
    """Graphs with one defect; ``edges`` when the estimator reads the edge attribute 'w'."""
    graphs = copy.deepcopy(graphs)
    i = draw(st.integers(0, len(graphs) - 1))
    G = graphs[i]
    node = draw(st.sampled_from(list(G)))
    kinds = ["nonfinite", "overflow", "missing", "ragged", "word", "not a number", "matrix"]
    kinds += ["no nodes", "not a graph", "not a sequence", "empty", "array"]
    kinds += ["edge nonfinite", "edge missing", "edge word"] if edges else []
    kinds += [] if at_fit else ["width"]
    kind = draw(st.sampled_from(kinds))
    x = G.nodes[node]["x"]
    if kind == "nonfinite":
        G.nodes[node]["x"] = with_value(x, draw(st.integers(0, 1)), draw(NON_FINITE))
    elif kind == "overflow":
        G.nodes[node]["x"] = with_value(x, draw(st.integers(0, 1)), draw(OVERFLOW32))
    elif kind == "missing":
        del G.nodes[node]["x"]
    elif kind == "ragged":
        G.nodes[node]["x"] = np.ones(draw(st.sampled_from([0, 3, 4])))
    elif kind == "word":
        G.nodes[node]["x"] = draw(WORDS)
    elif kind == "not a number":
        G.nodes[node]["x"] = draw(NOT_NUMBERS)
    elif kind == "matrix":
        G.nodes[node]["x"] = np.ones((2, draw(st.integers(1, 3))))
    elif kind == "no nodes":
        graphs[i] = draw(st.sampled_from([nx.Graph(), nx.DiGraph(), nx.MultiGraph()]))
    elif kind == "not a graph":
        graphs[i] = draw(st.sampled_from([7, "G", None, np.ones(3), {}, [1.0]]))
    elif kind == "not a sequence":
        return draw(st.sampled_from([None, 3.0, "graphs", G, {"a": 1}]))
    elif kind == "empty":
        return draw(st.sampled_from([[], np.zeros((0, 3, 2))]))
    elif kind == "array":
        return draw(st.sampled_from([np.ones((N_GRAPHS, 3)), np.ones(N_GRAPHS)]))
    elif kind == "width":
        for G in graphs:
            for v in G:
                G.nodes[v]["x"] = np.ones(draw(st.sampled_from([1, 3])))
    else:
        u, v = draw(st.sampled_from(list(G.edges())))
        if kind == "edge nonfinite":
            G.edges[u, v]["w"] = with_value(G.edges[u, v]["w"], 0, draw(NON_FINITE))
        elif kind == "edge missing":
            del G.edges[u, v]["w"]
        else:
            G.edges[u, v]["w"] = draw(WORDS)
    return graphs


@st.composite
def bad_sets(draw, sets: list, *, at_fit: bool):
    """Particle sets (2-D arrays) with one defect."""
    sets = list(sets)
    i = draw(st.integers(0, len(sets) - 1))
    cell = (draw(st.integers(0, len(sets[i]) - 1)), draw(st.integers(0, 1)))
    kinds = ["nonfinite", "overflow", "word", "not a number", "width", "ndim", "no particles"]
    kinds += ["graph", "not a sequence", "empty", "no features"]
    kinds += [] if at_fit else ["all widths"]
    kind = draw(st.sampled_from(kinds))
    if kind == "nonfinite":
        sets[i] = with_value(sets[i], cell, draw(NON_FINITE))
    elif kind == "overflow":
        sets[i] = with_value(sets[i], cell, draw(OVERFLOW32))
    elif kind == "word":
        sets[i] = with_value(sets[i], cell, draw(WORDS), object)
    elif kind == "not a number":
        sets[i] = draw(NOT_NUMBERS)
    elif kind == "width":
        sets[i] = np.ones((2, draw(st.sampled_from([1, 3]))))
    elif kind == "ndim":
        sets[i] = draw(st.sampled_from([np.ones(2), np.ones((2, 2, 2)), 1.0]))
    elif kind == "no particles":
        sets[i] = np.ones((0, 2))
    elif kind == "graph":
        sets[i] = nx.path_graph(3)
    elif kind == "not a sequence":
        return draw(st.sampled_from([None, 3.0, "sets", {"a": 1}]))
    elif kind == "empty":
        return draw(st.sampled_from([[], np.zeros((0, 3, 2))]))
    elif kind == "no features":
        return [np.ones((3, 0))] * len(sets)
    else:
        return [np.ones((len(s), draw(st.sampled_from([1, 3])))) for s in sets]
    return sets


@st.composite
def bad_part_targets(draw, name: str, graphs: list):
    size = part_size(name)
    counts = [size(G) for G in graphs]
    i = draw(st.integers(0, len(graphs) - 1))
    kinds = ["length", "count", "attribute", "scalar", "one class", "continuous", "nan"]
    kinds += ["not a number", "missing label"]
    kind = draw(st.sampled_from(kinds))
    targets = [np.arange(c) % 2 for c in counts]
    if kind == "length":
        targets[i] = np.zeros(counts[i] + draw(st.sampled_from([-1, 1, 2])))
        return targets
    if kind == "count":
        return draw(st.sampled_from([targets[:-1], [*targets, targets[0]], []]))
    if kind == "attribute":
        return draw(WORDS)
    if kind == "scalar":
        return draw(st.sampled_from([3, 2.5, object()]))
    if kind == "one class":
        return [np.ones(c) for c in counts]
    if kind == "continuous":
        targets[i] = targets[i] + draw(st.floats(0.01, 0.99))
        return targets
    if kind == "nan":
        targets[i] = with_value(targets[i], 0, draw(NON_FINITE), float)
        return targets
    if kind == "not a number":
        return [np.array([draw(NOT_NUMBERS)] * c, dtype=object) for c in counts]
    # A node or edge without its 'y' attribute, read because y is None.
    G = graphs[i]
    if name == "NodeClassifier":
        del G.nodes[draw(st.sampled_from(list(G)))]["y"]
    else:
        u, v = draw(st.sampled_from(list(G.edges())))
        del G.edges[u, v]["y"]
    return None


@st.composite
def graph_cases(draw):
    name = draw(st.sampled_from(sorted(GRAPH)))
    X, y = graph_data(name)
    stage = draw(st.sampled_from(["fit X", "fit y", "fit weights", "predict", "score"]))
    if name in PARTS:
        if stage == "fit y":
            X = copy.deepcopy(X)  # bad_part_targets may remove a label attribute
            return name, stage, (X, draw(bad_part_targets(name, X)), None)
        if stage == "score":
            return name, stage, (X, None, draw(bad_weights(len(X))))
    elif stage == "fit y":
        labels = bad_labels(y, classifier=name in CLASSIFIERS, strict=False)
        return name, stage, (X, draw(labels), None)
    elif stage == "score":
        return name, stage, (X, *draw(bad_score_args(name, y)))
    if stage == "fit weights":
        return name, stage, (X, y, draw(bad_weights(len(X))))
    at_fit = stage == "fit X"
    if name == "GraphRegressor":
        bad = draw(bad_sets(X, at_fit=at_fit))
    else:
        bad = draw(bad_graphs(X, at_fit=at_fit, edges=name == "GraphClassifier"))
    return name, stage, (bad, y if at_fit else None, None)


def test_fuzz_graph_inputs(fitted):
    _fuzz(graph_cases(), lambda case: _check_case(fitted, GRAPH, case))
