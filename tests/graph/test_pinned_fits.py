"""Fitted predictions pinned before the graph-input redesign (issue 14).

Each case fits a small graph estimator with a fixed ``random_state`` on one input
form (networkx graphs with edge features, padded arrays with built kNN edges,
ragged arrays, masked arrays, typed events, typed networkx graphs, node and edge
targets, sample weights) and compares a few predicted values with the numbers
the code gave before the redesign. A change in packing order, standardisation
statistics, target reading or weighting moves them.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sklearn_dlpp import EdgeClassifier, GraphClassifier, GraphRegressor, NodeClassifier
from sklearn_dlpp.datasets import make_calorimeter, make_events, make_jets, make_tracks

SMALL = {"hidden": 8, "n_blocks": 2, "max_iter": 15, "random_state": 0, "early_stopping": False}


def _jets():
    X, y = make_jets(60, max_particles=12, random_state=1)
    return X, y


def _graphs_with_edge_features():
    rng = np.random.RandomState(2)
    graphs, y = [], []
    for i in range(40):
        G = nx.path_graph(3 + i % 4)
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=3) * [1.0, 10.0, 0.1] + [0, 5, 0]
        for a, b in G.edges():
            G.edges[a, b]["w"] = rng.normal(size=2) + np.array([3.0, 0.0])
        graphs.append(G)
        y.append(float(sum(G.nodes[n]["x"][0] for n in G)))
    return graphs, np.array(y)


def _typed_graphs():
    rng = np.random.RandomState(3)
    graphs, y = [], []
    for i in range(30):
        G = nx.Graph()
        for node in range(2 + i % 3):
            kind = "a" if node % 2 else "b"
            G.add_node(node, kind=kind, x=rng.normal(size=2 if kind == "a" else 3) + 1.0)
        G.add_edges_from((j, j + 1) for j in range(len(G) - 1))
        graphs.append(G)
        y.append(i % 2)
    return graphs, np.array(y)


def _case_jets_knn():
    X, y = _jets()
    model = GraphClassifier(set_edges="knn", k=3, knn_features=[1, 2], **SMALL).fit(X, y)
    return model.predict_proba(X[:4])[:, 1]


def _case_jets_deepset_weights():
    X, y = _jets()
    weights = np.linspace(0.5, 2.0, len(y))
    model = GraphClassifier(block="deepset", **SMALL).fit(X, y, sample_weight=weights)
    return model.predict_proba(X[:4])[:, 1]


def _case_ragged_full():
    X, y = _jets()
    ragged = [jet[np.any(jet != 0, axis=1)] for jet in X]
    model = GraphRegressor(set_edges="full", aggregation="attention", **SMALL).fit(ragged, y)
    return model.predict(ragged[:4])


def _case_masked():
    X, y = _jets()
    masked = np.ma.MaskedArray(X, mask=np.broadcast_to((X == 0).all(-1)[..., None], X.shape))
    model = GraphClassifier(set_edges="full", readout="mean", **SMALL).fit(masked, y)
    return model.predict_proba(masked[:4])[:, 1]


def _case_edge_features():
    graphs, y = _graphs_with_edge_features()
    model = GraphRegressor(edge_features="w", **SMALL).fit(graphs, y)
    return model.predict(graphs[:4])


def _case_events():
    events, y = make_events(40, random_state=4)
    model = GraphClassifier(set_edges="full", **SMALL).fit(events, y)
    return model.predict_proba(events[:4])[:, 1]


def _case_typed_graphs():
    graphs, y = _typed_graphs()
    model = GraphClassifier(node_kind="kind", **SMALL).fit(graphs, y)
    return model.predict_proba(graphs[:4])[:, 1]


def _case_nodes():
    graphs, y = make_calorimeter(8, random_state=5)
    model = NodeClassifier(**SMALL).fit(graphs, y)
    return np.concatenate(list(model.predict_proba(graphs[:1])))[:4].ravel()


def _case_edges():
    graphs, y = make_tracks(6, n_tracks=4, random_state=6)
    model = EdgeClassifier(**SMALL).fit(graphs, y)
    return np.concatenate(list(model.predict_proba(graphs[:1])))[:4, 1]


CASES = {
    name.removeprefix("_case_"): function
    for name, function in sorted(globals().items())
    if name.startswith("_case_")
}


def run_case(name: str) -> np.ndarray:
    return np.asarray(CASES[name](), dtype=np.float64)


PINNED = {
    "edge_features": [0.051857, 0.180678, 0.322534, 0.411727],
    "edges": [0.581127, 0.579897, 0.582998, 0.58372],
    "events": [0.552141, 0.471692, 0.605981, 0.635058],
    "jets_deepset_weights": [0.597762, 0.58056, 0.574625, 0.586025],
    "jets_knn": [0.463795, 0.467945, 0.52511, 0.489742],
    "masked": [0.49255, 0.494771, 0.498175, 0.495183],
    "nodes": [
        0.253504,
        0.440666,
        0.30583,
        0.252503,
        0.44097,
        0.306527,
        0.246793,
        0.438837,
        0.31437,
        0.24317,
        0.436567,
        0.320263,
    ],
    "ragged_full": [0.552413, 0.580674, 0.555637, 0.613065],
    "typed_graphs": [0.522097, 0.524105, 0.55021, 0.552186],
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_gives_the_pinned_predictions(name):
    np.testing.assert_allclose(run_case(name), PINNED[name], rtol=0, atol=2e-6)
