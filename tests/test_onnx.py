"""ONNX export: onnxruntime reproduces predict_proba / predict for every estimator and option."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
    export_onnx,
    onnx_inputs,
)
from sklearn_dlpp._graph_base import GRAPH_CONSTRAINTS, BaseGraphEstimator
from sklearn_dlpp._outputs import ClassifierOutputs

pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
ort = pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

GRAPH = {"hidden": 8, "n_blocks": 1, "max_iter": 3, "random_state": 0, "device": "cpu"}
DENSE = {"hidden_layer_sizes": (6,), "max_iter": 5, "random_state": 0, "device": "cpu"}


def _graphs(seed: int, n_graphs: int) -> list[nx.Graph]:
    """Random graphs, with a lone node and an isolated node among them."""
    rng = np.random.default_rng(seed)
    graphs = [nx.empty_graph(1), nx.Graph([(0, 1), (1, 2)])]
    graphs[1].add_node(3)
    for n_nodes in rng.integers(2, 9, n_graphs - 2):
        graphs.append(nx.gnp_random_graph(int(n_nodes), 0.5, seed=int(rng.integers(1 << 30))))
    for G in graphs:
        for node in G:
            G.nodes[node]["x"] = rng.normal(3.0, 2.0, size=3)
            G.nodes[node]["y"] = int(rng.integers(3))
        for u, v in G.edges():
            G.edges[u, v]["w"] = rng.normal(size=2)
            G.edges[u, v]["y"] = int(rng.integers(2))
    return graphs


def _sets(seed: int, n_sets: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(n), 2)) for n in [1, *rng.integers(2, 10, n_sets - 1)]]


def _dense(seed: int) -> np.ndarray:
    return make_classification(
        n_samples=30, n_features=4, n_informative=3, n_redundant=0, random_state=seed
    )[0]


def _case(case: str):
    """The (unfitted) estimator of a case, its training data, and inputs to compare on."""
    X = _dense(0)
    labels = np.arange(30) % 3
    graphs, sets = _graphs(0, 16), _sets(0, 16)
    per_graph = np.arange(16) % 2
    cases = {
        "perceptron binary": (
            PerceptronClassifier(max_iter=5, random_state=0, device="cpu"),
            X,
            labels % 2,
        ),
        "mlp softmax": (MLPClassifier(**DENSE), X, labels),
        "mlp multilabel": (MLPClassifier(**DENSE), X, (X[:, :3] > 0).astype(int)),
        "regressor": (MLPRegressor(**DENSE), X, X[:, 0]),
        "regressor poisson float64": (
            MLPRegressor(loss="poisson", dtype="float64", **DENSE),
            X,
            np.abs(X[:, :2]),
        ),
        "graph attention": (
            GraphClassifier(aggregation="attention", readout="attention", **GRAPH),
            graphs,
            per_graph,
        ),
        "graph regressor mean max": (
            GraphRegressor(
                edge_features="w", aggregation="mean", readout="max", standardize=False, **GRAPH
            ),
            graphs,
            np.c_[per_graph, -per_graph],
        ),
        "node keyquery": (NodeClassifier(aggregation="keyquery", **GRAPH), graphs, None),
        "edge max": (EdgeClassifier(edge_features="w", aggregation="max", **GRAPH), graphs, None),
        "sets knn sum mean": (
            GraphClassifier(set_edges="knn", k=2, readout="mean", **GRAPH),
            sets,
            per_graph,
        ),
        "sets deepset": (GraphClassifier(block="deepset", **GRAPH), sets, np.arange(16) % 3),
        "sets edgeconv": (
            GraphClassifier(block="edgeconv", k=3, aggregation="max", **GRAPH),
            sets,
            per_graph,
        ),
        "sets transformer": (
            GraphClassifier(block="transformer", n_heads=2, **GRAPH),
            sets,
            per_graph,
        ),
    }
    estimator, X, y = cases[case]
    if not isinstance(estimator, BaseGraphEstimator):
        test = _dense(1)
        return estimator, X, y, [test, test[:1]]
    test = _graphs(1, 12) if isinstance(X[0], nx.Graph) else _sets(1, 12)
    # several batch shapes: more graphs than traced, one graph, one with a lone node
    return estimator, X, y, [test, test[:1], test[1:2], test + test]


def _fit(case: str):
    estimator, X, y, inputs = _case(case)
    return estimator.fit(X, y), inputs


CASES = [
    "perceptron binary",
    "mlp softmax",
    "mlp multilabel",
    "regressor",
    "regressor poisson float64",
    "graph attention",
    "graph regressor mean max",
    "node keyquery",
    "edge max",
    "sets knn sum mean",
    "sets deepset",
    "sets transformer",
]


@pytest.fixture(scope="module", params=CASES)
def exported(request, tmp_path_factory):
    estimator, inputs = _fit(request.param)
    path = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(estimator, path)
    return estimator, ort.InferenceSession(str(path)), inputs


def _expected(estimator, X) -> np.ndarray:
    if not isinstance(estimator, ClassifierOutputs):
        return estimator.predict(X)
    proba = estimator.predict_proba(X)
    return np.concatenate(proba) if isinstance(proba, list) else proba


def test_onnxruntime_reproduces_the_estimator(exported):
    estimator, session, inputs = exported
    for X in inputs:
        feed = onnx_inputs(estimator, X)
        assert [i.name for i in session.get_inputs()] == list(feed)
        (got,) = session.run(None, feed)
        want = _expected(estimator, X)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def test_axes_are_named_and_dynamic(exported):
    estimator, session, _ = exported
    axes = {i.name: i.shape for i in session.get_inputs()}
    (output,) = session.get_outputs()
    if not isinstance(estimator, BaseGraphEstimator):
        assert axes == {"X": ["n_samples", estimator.n_features_in_]}
        assert output.shape[0] == "n_samples"
        return
    assert axes["x"] == ["n_nodes", estimator.n_node_features_]
    assert axes["edge_index"] == [2, "n_edges"]
    assert axes["node_graph"] == ["n_nodes"]
    assert axes["node_ptr"] == ["n_graphs_plus_1"]
    if "edge_attr" in axes:
        assert axes["edge_attr"] == ["n_edges", estimator.n_edge_features_]
    rows = {"graph": "n_graphs", "node": "n_nodes", "edge": "n_labelled_edges"}
    assert output.shape[0] == rows[estimator._level]
    assert output.name == (
        "probabilities" if isinstance(estimator, ClassifierOutputs) else "predictions"
    )


def test_every_graph_option_is_exported():
    """The cases cover each aggregation, readout and block but edgeconv (refused, below)."""
    estimators = [_case(case)[0] for case in CASES]
    graph = [est for est in estimators if isinstance(est, BaseGraphEstimator)]
    aggregations = {est.aggregation for est in graph if est.block == "gn" and est.n_blocks}
    readouts = {est.readout for est in graph if est._level == "graph"}
    assert aggregations == GRAPH_CONSTRAINTS["aggregation"][0].options
    assert readouts == GRAPH_CONSTRAINTS["readout"][0].options
    assert {est.block for est in graph} | {"edgeconv"} == GRAPH_CONSTRAINTS["block"][0].options
    assert {est._level for est in graph} == {"graph", "node", "edge"}


def test_edgeconv_is_refused_with_a_clear_error(tmp_path):
    estimator, X, y, _ = _case("sets edgeconv")
    with pytest.raises(ValueError, match="EdgeConv"):
        export_onnx(estimator.fit(X, y), tmp_path / "m.onnx")


def test_export_leaves_the_estimator_and_torch_alone(tmp_path):
    estimator, (X, _) = _fit("mlp softmax")
    before = estimator.predict_proba(X)
    module = estimator.module_
    state = torch.random.get_rng_state()
    export_onnx(estimator, tmp_path / "m.onnx")
    assert estimator.module_ is module
    assert not module.training
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_array_equal(estimator.predict_proba(X), before)
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_onnx_inputs_check_like_predict():
    with pytest.raises(NotFittedError):
        onnx_inputs(MLPClassifier(), _dense(0))
    estimator, _ = _fit("mlp softmax")
    with pytest.raises(ValueError, match="features"):
        onnx_inputs(estimator, _dense(0)[:, :3])
    with pytest.raises(NotFittedError):
        export_onnx(GraphClassifier(), "unused.onnx")
