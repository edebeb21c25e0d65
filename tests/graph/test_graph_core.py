"""The one graph input core: one standardisation, typed inputs as an ordinary case, one reading."""

from __future__ import annotations

import pickle

import networkx as nx
import numpy as np
import pytest

import sklearn_dlpp
from sklearn_dlpp import GraphClassifier, NodeClassifier
from sklearn_dlpp.graph import (
    EventSet,
    GraphScaler,
    PackOptions,
    feature_moments,
    level_targets,
    pack_graphs,
    read_samples,
)

FAST = {"hidden": 4, "n_blocks": 1, "max_iter": 2, "random_state": 0, "early_stopping": False}
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _events(seed=0, n=12):
    rng = np.random.RandomState(seed)
    jets = [rng.normal(5.0, 2.0, size=(1 + i % 3, 3)) for i in range(n)]
    muons = [rng.normal(-1.0, 0.5, size=(i % 2, 2)) for i in range(n)]
    return EventSet({"jet": jets, "muon": muons}), np.arange(n) % 2


def test_scaler_standardises_each_kind_over_its_own_objects():
    events, _ = _events()
    scaler = GraphScaler().fit(events)
    jets = np.concatenate([event["jet"] for event in events])
    muons = np.concatenate([event["muon"] for event in events])
    assert scaler.kinds_ == (("jet", 3), ("muon", 2))
    np.testing.assert_allclose(scaler.mean_, np.r_[jets.mean(0), muons.mean(0)])
    np.testing.assert_allclose(scaler.scale_, np.r_[jets.std(0), muons.std(0)])
    out = scaler.transform(events)
    assert isinstance(out, EventSet)
    assert out.n_objects["muon"].tolist() == events.n_objects["muon"].tolist()
    new_jets = np.concatenate([event["jet"] for event in out])
    np.testing.assert_allclose(new_jets.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(new_jets.std(0), 1)
    # a list of per-event dicts comes back as one
    as_list = scaler.transform(list(events))
    assert isinstance(as_list, list)
    np.testing.assert_allclose(as_list[3]["jet"], out[3]["jet"])


def test_scaler_on_typed_graphs_writes_each_kind_its_own_block():
    events, _ = _events(1)
    graphs = events.to_graphs()
    scaler = GraphScaler(node_kind="kind").fit(graphs)
    np.testing.assert_allclose(scaler.mean_, GraphScaler().fit(events).mean_)
    out = scaler.transform(graphs)
    expected = GraphScaler().fit_transform(events).to_graphs()
    for new, reference in zip(out, expected, strict=True):
        for node in new:
            assert new.nodes[node]["kind"] == reference.nodes[node]["kind"]
            np.testing.assert_allclose(new.nodes[node]["x"], reference.nodes[node]["x"])


def test_estimators_fit_the_public_scaler():
    events, y = _events(2)
    clf = GraphClassifier(set_edges="full", **FAST).fit(events, y)
    scaler = GraphScaler().fit_batch(pack_graphs(events, set_edges="full"))
    np.testing.assert_array_equal(clf.node_mean_, scaler.mean_)
    np.testing.assert_array_equal(clf.node_scale_, scaler.scale_)

    graphs = []
    rng = np.random.RandomState(3)
    for size in (3, 4, 5):
        G = nx.path_graph(size)
        nx.set_node_attributes(G, {n: rng.normal(size=2) for n in G}, "x")
        G.add_edge(0, 0)  # a self-loop passes one message, the other edges two
        nx.set_edge_attributes(G, {e: rng.normal(size=1) + 4 for e in G.edges()}, "w")
        graphs.append(G)
    reg = NodeClassifier(edge_features="w", **FAST).fit(
        graphs, [np.arange(len(G)) % 2 for G in graphs]
    )
    labelled = np.array([d["w"] for G in graphs for *_, d in G.edges(data=True)])
    # edge features count once per labelled edge, not once per message direction
    np.testing.assert_allclose(reg.edge_mean_, labelled.mean(0), rtol=1e-6)
    np.testing.assert_allclose(reg.edge_scale_, labelled.std(0), rtol=1e-5)


def test_feature_moments_kinds_without_rows_and_constant_columns():
    x = np.array([[1.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    mean, scale, _ = feature_moments(x, kind_index=[0, 0], layout=(("a", 1), ("b", 2)))
    assert mean.tolist() == [2.0, 0.0, 0.0]
    assert scale.tolist() == [1.0, 1.0, 1.0]  # kind "b" has no rows: 0 and 1


def test_targets_come_from_the_same_reading():
    events, _ = _events(4, n=3)
    reading = read_samples(events, PackOptions())
    y = [{"jet": np.ones(len(e["jet"])), "muon": np.zeros(len(e["muon"]))} for e in events]
    rows = level_targets(reading, y, "node")
    kinds = reading.batch.node_kind.numpy()
    assert len(rows) == len(kinds)
    np.testing.assert_array_equal(rows, (kinds == 0).astype(float))


def test_fitted_typed_model_refuses_untyped_samples_and_back():
    events, y = _events(5)
    typed = GraphClassifier(**FAST).fit(events, y)
    with pytest.raises(ValueError, match="fitted on typed nodes"):
        typed.predict([np.ones((2, 5))])
    untyped = GraphClassifier(**FAST).fit([np.ones((2, 5)), np.zeros((1, 5)) + 2], [0, 1])
    with pytest.raises(ValueError, match="fitted on untyped samples"):
        untyped.predict(events)


def test_to_graphs_takes_set_edges_and_warns_for_the_old_name():
    events, _ = _events(6, n=2)
    new = events.to_graphs(set_edges="knn", k=1)
    with pytest.warns(FutureWarning, match="set_edges"):
        old = events.to_graphs(edges="knn", k=1)
    assert [list(G.edges()) for G in new] == [list(G.edges()) for G in old]
    assert isinstance(new[0], nx.DiGraph)


def test_models_pickled_under_the_old_module_path_still_load():
    from sklearn_dlpp import _graph_estimators

    assert _graph_estimators.NodeClassifier is sklearn_dlpp.NodeClassifier
    clf = NodeClassifier(**FAST)
    assert type(pickle.loads(pickle.dumps(clf))) is NodeClassifier
