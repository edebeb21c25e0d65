"""Graph estimators: scikit-learn behaviour, symmetries, receptive field, learning."""

from __future__ import annotations

import pickle

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)
from skorch.callbacks import Callback

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    NodeClassifier,
    TrainingDivergedWarning,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [GraphClassifier, GraphRegressor, NodeClassifier, EdgeClassifier]
FAST = {"hidden": 16, "n_blocks": 2, "max_iter": 5, "random_state": 0}


def random_graph(rng: np.random.Generator, n_nodes: int, p: float = 0.4) -> nx.Graph:
    G = nx.gnp_random_graph(n_nodes, p, seed=int(rng.integers(1 << 30)))
    for node in G:
        G.nodes[node]["x"] = rng.normal(size=3)
        G.nodes[node]["y"] = int(rng.integers(2))
    for u, v in G.edges():
        G.edges[u, v]["y"] = int(rng.integers(2))
    return G


@pytest.fixture(scope="module")
def graphs():
    rng = np.random.default_rng(0)
    return [random_graph(rng, int(n)) for n in rng.integers(2, 9, 40)]


def fitted(cls, graphs, **kw):
    y = np.arange(len(graphs)) % 2
    if cls is GraphRegressor:
        y = np.array([sum(G.nodes[n]["x"][0] for n in G) for G in graphs])
    if cls in (NodeClassifier, EdgeClassifier):
        y = None
    return cls(**{**FAST, **kw}).fit(graphs, y)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_scikit_learn_checks_without_2d_data(cls):
    name = cls.__name__
    check_no_attributes_set_in_init(name, cls())
    check_parameters_default_constructible(name, cls())
    check_get_params_invariance(name, cls())
    check_set_params(name, cls())
    assert name in repr(cls(hidden=8))


# ----------------------------------------------------------------- symmetries
def relabelled(G: nx.Graph, rng: np.random.Generator) -> tuple[nx.Graph, dict]:
    """The same graph with new node ids, node insertion order and edge insertion order."""
    nodes = list(G.nodes())
    new_ids = {n: f"hit-{i}" for n, i in zip(nodes, rng.permutation(len(nodes)), strict=True)}
    H = nx.Graph()
    for n in rng.permutation(len(nodes)):
        H.add_node(new_ids[nodes[n]], **G.nodes[nodes[n]])
    edges = list(G.edges(data=True))
    for i in rng.permutation(len(edges)):
        u, v, data = edges[i]
        if rng.integers(2):
            u, v = v, u
        H.add_edge(new_ids[u], new_ids[v], **data)
    return H, new_ids


@st.composite
def graph_lists(draw):
    seed = draw(st.integers(0, 10_000))
    n_graphs = draw(st.integers(1, 5))
    rng = np.random.default_rng(seed)
    return [random_graph(rng, int(rng.integers(1, 7))) for _ in range(n_graphs)], seed


@pytest.fixture(scope="module")
def models(graphs):
    return {
        cls: fitted(cls, graphs, aggregation=agg)
        for cls, agg in [
            (GraphClassifier, "attention"),
            (GraphRegressor, "keyquery"),
            (NodeClassifier, "max"),
            (EdgeClassifier, "mean"),
        ]
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sample=graph_lists())
def test_invariance_and_equivariance_under_relabelling_and_reordering(models, sample):
    X, seed = sample
    rng = np.random.default_rng(seed)
    shuffled, ids = zip(*(relabelled(G, rng) for G in X), strict=True)
    order = rng.permutation(len(X))
    X2 = [shuffled[i] for i in order]
    graph_clf, graph_reg = models[GraphClassifier], models[GraphRegressor]
    np.testing.assert_allclose(
        graph_clf.predict_proba(X2), graph_clf.predict_proba(X)[order], rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        graph_reg.predict(X2), graph_reg.predict(X)[order], rtol=1e-4, atol=1e-5
    )

    node_p, node_p2 = (
        models[NodeClassifier].predict_proba(X),
        models[NodeClassifier].predict_proba(X2),
    )
    edge_p, edge_p2 = (
        models[EdgeClassifier].predict_proba(X),
        models[EdgeClassifier].predict_proba(X2),
    )
    for new_pos, g in enumerate(order):
        G, H, mapping = X[g], X2[new_pos], ids[g]
        position = {n: i for i, n in enumerate(H.nodes())}
        expected = node_p[g]
        got = node_p2[new_pos][[position[mapping[n]] for n in G.nodes()]]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        edge_pos = {frozenset(e): i for i, e in enumerate(H.edges())}
        got = edge_p2[new_pos][
            [edge_pos[frozenset((mapping[u], mapping[v]))] for u, v in G.edges()]
        ]
        np.testing.assert_allclose(got, edge_p[g], rtol=1e-4, atol=1e-5)


def test_a_graph_alone_equals_the_graph_in_a_batch(models, graphs):
    for cls, model in models.items():
        batch = model.predict_proba(graphs) if cls is not GraphRegressor else model.predict(graphs)
        for i in (0, 7, 39):
            alone = (
                model.predict_proba([graphs[i]])
                if cls is not GraphRegressor
                else model.predict([graphs[i]])
            )
            np.testing.assert_allclose(alone[0], batch[i], rtol=1e-5, atol=1e-6)


def test_inputs_are_not_modified(graphs):
    before = [
        (nx.to_dict_of_dicts(G), {n: d["x"].copy() for n, d in G.nodes(data=True)}) for G in graphs
    ]
    fitted(NodeClassifier, graphs).predict(graphs)
    for G, (adjacency, features) in zip(graphs, before, strict=True):
        assert nx.to_dict_of_dicts(G) == adjacency
        for n, d in G.nodes(data=True):
            np.testing.assert_array_equal(d["x"], features[n])


# ------------------------------------------------------------- receptive field
def shift_task(n_graphs: int, length: int, hops: int, rng: np.random.Generator):
    """Directed paths (messages flow from node i+1 to node i); node i must output the
    sign of the mark on node i+hops, which only ``hops`` blocks can bring to it."""
    graphs, labels = [], []
    for _ in range(n_graphs):
        G = nx.DiGraph()
        marks = rng.choice([-1.0, 1.0], size=length)
        for i in range(length):
            G.add_node(i, x=[marks[i]])
        G.add_edges_from((i + 1, i) for i in range(length - 1))
        target = np.zeros(length, dtype=int)
        target[: length - hops] = marks[hops:] > 0
        graphs.append(G)
        labels.append(target)
    return graphs, labels


def test_receptive_field_needs_as_many_blocks_as_hops():
    length, hops = 8, 2
    X, y = shift_task(200, length, hops, np.random.default_rng(0))
    scores = {}
    for n_blocks in (1, 2):
        clf = NodeClassifier(
            hidden=32, n_blocks=n_blocks, max_iter=100, learning_rate_init=0.01, random_state=0
        ).fit(X, y)
        predicted = np.array(clf.predict(X))[:, : length - hops]
        scores[n_blocks] = (predicted == np.array(y)[:, : length - hops]).mean()
    assert scores[2] > 0.95, scores
    assert scores[1] < 0.7, scores


# ------------------------------------------------------- scikit-learn workflow
def test_grid_search_cross_validation_clone_and_pickle(graphs):
    y = np.array([G.number_of_edges() > 6 for G in graphs]).astype(int)
    grid = GridSearchCV(
        GraphClassifier(**FAST), {"hidden": [8, 16], "aggregation": ["sum", "max"]}, cv=2
    )
    grid.fit(graphs, y)
    assert set(grid.cv_results_["param_hidden"]) == {8, 16}
    node_scores = cross_val_score(NodeClassifier(**FAST), graphs, cv=3)
    assert node_scores.shape == (3,)
    edge_y = [np.array([G.edges[e]["y"] for e in G.edges()]) for G in graphs]
    assert cross_val_score(EdgeClassifier(**FAST), graphs, edge_y, cv=2).shape == (2,)
    model = fitted(EdgeClassifier, graphs)
    assert not hasattr(clone(model), "module_")
    restored = pickle.loads(pickle.dumps(model))
    for a, b in zip(restored.predict_proba(graphs), model.predict_proba(graphs), strict=True):
        np.testing.assert_array_equal(a, b)


def test_reproducible(graphs):
    a = fitted(GraphClassifier, graphs, dropout=0.1).predict_proba(graphs)
    b = fitted(GraphClassifier, graphs, dropout=0.1).predict_proba(graphs)
    np.testing.assert_array_equal(a, b)


def test_string_labels_weights_early_stopping_and_multi_output(graphs):
    names = np.array(["qcd", "top"])[np.arange(len(graphs)) % 2]
    clf = GraphClassifier(**{**FAST, "max_iter": 30}, early_stopping=True, n_iter_no_change=3)
    clf.fit(graphs, names, sample_weight=np.linspace(0.5, 2.0, len(graphs)))
    assert set(clf.predict(graphs)) <= {"qcd", "top"}
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.predict_proba(graphs).shape == (len(graphs), 2)
    Y = np.column_stack([np.arange(len(graphs)), -np.arange(len(graphs))]).astype(float)
    assert GraphRegressor(**FAST).fit(graphs, Y).predict(graphs).shape == Y.shape
    multi = GraphClassifier(**FAST).fit(graphs, np.arange(len(graphs)) % 3)
    assert multi.predict_proba(graphs).shape == (len(graphs), 3)


def test_node_weights_are_per_graph_and_score_counts_all_nodes(graphs):
    clf = fitted(NodeClassifier, graphs)
    labels = np.concatenate([[G.nodes[n]["y"] for n in G] for G in graphs])
    predicted = np.concatenate(clf.predict(graphs))
    assert clf.score(graphs) == pytest.approx((labels == predicted).mean())
    weights = np.zeros(len(graphs))
    weights[0] = 1.0
    first = np.array([graphs[0].nodes[n]["y"] for n in graphs[0]])
    assert clf.score(graphs, sample_weight=weights) == pytest.approx(
        (clf.predict(graphs[:1])[0] == first).mean()
    )
    clf.fit(graphs, sample_weight=np.linspace(0.1, 1.0, len(graphs)))


def test_particle_sets_padded_masked_and_ragged():
    rng = np.random.default_rng(0)
    sizes = rng.integers(3, 9, 60)
    y = np.arange(60) % 2
    ragged = [rng.normal(size=(int(n), 3)) + 1.5 * label for n, label in zip(sizes, y, strict=True)]
    padded = np.zeros((60, 8, 3))
    for i, particles in enumerate(ragged):
        padded[i, : len(particles)] = particles
    for set_edges, block in [("none", "deepset"), ("knn", "gn"), ("full", "gn")]:
        params = {**FAST, "set_edges": set_edges, "block": block, "k": 3, "max_iter": 20}
        a = GraphClassifier(**params).fit(ragged, y)
        b = GraphClassifier(**params).fit(padded, y)
        np.testing.assert_allclose(a.predict_proba(ragged), b.predict_proba(padded), atol=1e-5)
        assert a.score(ragged, y) > 0.8
    mask = padded.any(axis=2)
    masked = np.ma.MaskedArray(padded, mask=np.repeat(~mask[:, :, None], 3, axis=2))
    c = GraphClassifier(**FAST).fit(masked, y)
    np.testing.assert_allclose(
        c.predict_proba(masked),
        GraphClassifier(**FAST).fit(ragged, y).predict_proba(ragged),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ([nx.Graph()], "no nodes"),
        ([np.array([[np.nan, 1.0, 2.0]])], "NaN"),
        ([np.ones((2, 2))], "feature"),
        (["not a graph"], "Sample 0"),
    ],
)
def test_bad_input_at_predict_names_the_problem(graphs, X, match):
    model = fitted(GraphClassifier, graphs)
    with pytest.raises(ValueError, match=match):
        model.predict(X)


def test_wrong_target_lengths_are_clear(graphs):
    with pytest.raises(ValueError, match="targets for 40 graphs"):
        GraphClassifier(**FAST).fit(graphs, np.zeros(39))
    with pytest.raises(ValueError, match="requires y"):
        GraphClassifier(**FAST).fit(graphs, None)


@pytest.mark.parametrize("params", [{"aggregation": "attention"}, {"aggregation": "keyquery"}])
def test_attention_weights_sum_to_one_per_receiver(graphs, params):
    model = fitted(GraphClassifier, graphs, **params)
    for G, (edge_index, weights) in zip(graphs, model.attention_weights(graphs), strict=True):
        assert edge_index.shape == (2, 2 * G.number_of_edges())
        receivers = edge_index[1]
        sums = np.bincount(receivers, weights=weights, minlength=len(G))
        has_incoming = np.bincount(receivers, minlength=len(G)) > 0
        np.testing.assert_allclose(sums[has_incoming], 1.0, rtol=1e-5)


def test_deep_set_attention_is_a_matrix_per_set_and_sum_has_none(graphs):
    rng = np.random.default_rng(0)
    sets = [rng.normal(size=(int(n), 3)) for n in rng.integers(1, 6, 10)]
    model = GraphClassifier(**FAST, block="deepset").fit(sets, np.arange(10) % 2)
    for particles, matrix in zip(sets, model.attention_weights(sets), strict=True):
        assert matrix.shape == (len(particles), len(particles))
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="no attention"):
        fitted(GraphClassifier, graphs).attention_weights(graphs)


def test_fit_ends_without_a_forward_pass_over_the_training_graphs(graphs, monkeypatch):
    calls = []
    forward = GraphClassifier._raw_output
    monkeypatch.setattr(
        GraphClassifier, "_raw_output", lambda self, X: calls.append(1) or forward(self, X)
    )
    fitted(GraphClassifier, graphs, max_iter=2)
    assert calls == []


class _RuinLastEpoch(Callback):
    """Sets a parameter to NaN at the end of the last epoch (its loss stays finite)."""

    def __init__(self, epochs):
        self.epochs = epochs
        self.seen = 0

    def on_epoch_end(self, net, **kwargs):
        self.seen += 1
        if self.seen == self.epochs:
            with torch.no_grad():
                next(net.module_.parameters()).fill_(float("nan"))


def test_a_last_update_that_ruins_the_network_is_still_caught(graphs):
    with pytest.warns(TrainingDivergedWarning):
        est = fitted(GraphClassifier, graphs, max_iter=3, callbacks=[_RuinLastEpoch(3)])
    assert all(torch.isfinite(p).all() for p in est.module_.parameters())
