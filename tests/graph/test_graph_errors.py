"""Every bad input raises a ValueError that names the sample and the problem."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from _graph_samples import assert_same_input, jets, snapshot

from sklearn_dlpp.graph import edge_targets, node_targets, pack_graphs


def _graph(n: int = 3, width: int = 2, directed: bool = False) -> nx.Graph:
    graph = nx.path_graph(n, create_using=nx.DiGraph if directed else nx.Graph)
    for node in graph:
        graph.nodes[node]["x"] = np.full(width, float(node))
    for u, v in graph.edges():
        graph.edges[u, v]["w"] = [1.0, 2.0]
    return graph


def _with(index: int, change) -> list[nx.Graph]:
    graphs = [_graph() for _ in range(3)]
    change(graphs[index])
    return graphs


def _set_node(node, name, value):
    def change(graph):
        graph.nodes[node][name] = value

    return change


def _set_edge(u, v, name, value):
    def change(graph):
        graph.edges[u, v][name] = value

    return change


def _drop_node_attr(graph):
    del graph.nodes[1]["x"]


def _padded_with(index: int, value: float) -> np.ndarray:
    X = jets(3, 4, seed=0)
    X[index, 0, 1] = value
    return X


GRAPH_CASES = {
    "no nodes": ([_graph(), nx.Graph(), _graph()], {}, r"Sample 1: the graph has no nodes"),
    "missing attr": (_with(2, _drop_node_attr), {}, r"Sample 2: node 1 has no node attribute 'x'"),
    "ragged in graph": (
        _with(1, _set_node(2, "x", [1.0, 2.0, 3.0])),
        {},
        r"Sample 1: ragged node features: node 0 has 2, node 2 has 3",
    ),
    "width between graphs": (
        [_graph(), _graph(), _graph(width=3)],
        {},
        r"Sample 2: 3 node features, but sample 0 has 2",
    ),
    "width vs fitted": ([_graph()], {"n_node_features": 4}, r"Sample 0: 2 node features, but 4"),
    "names vs fitted": (
        [_graph()],
        {"node_features": ["x"], "n_node_features": 4},
        r"Sample 0: 1 node features, but 4",
    ),
    "nan feature": (
        _with(2, _set_node(1, "x", [np.nan, 1.0])),
        {},
        r"Sample 2: node 1 has NaN or infinite features",
    ),
    "inf feature": (
        _with(0, _set_node(0, "x", [np.inf, 1.0])),
        {},
        r"Sample 0: node 0 has NaN or infinite features",
    ),
    "text feature": (
        _with(1, _set_node(0, "x", "abc")),
        {},
        r"Sample 1: node 0 has 'x' that is not numeric",
    ),
    "matrix feature": (
        _with(1, _set_node(0, "x", np.ones((2, 2)))),
        {},
        r"Sample 1: node 0: 'x' must be a number or 1-D",
    ),
    "missing named attr": (
        [_graph()],
        {"node_features": ["x", "pt"]},
        r"Sample 0: node 0 has no node attribute 'pt'",
    ),
    "not a graph": ([_graph(), _graph(), 7], {}, r"Sample 2: expected a networkx graph.*got int"),
    "array among graphs": (
        [_graph(), np.ones((3, 2))],
        {},
        r"Sample 1: expected a networkx graph.*got ndarray",
    ),
    "missing edge attr": (
        _with(1, lambda g: g.edges[0, 1].pop("w")),
        {"edge_features": "w"},
        r"Sample 1: edge \(0, 1\) has no edge attribute 'w'",
    ),
    "nan edge attr": (
        _with(2, _set_edge(1, 2, "w", [1.0, np.nan])),
        {"edge_features": "w"},
        r"Sample 2: edge \(1, 2\) has NaN or infinite features",
    ),
    "edge width vs fitted": (
        [_graph()],
        {"edge_features": "w", "n_edge_features": 3},
        r"Sample 0: 2 edge features, but 3",
    ),
    "set edges on graphs": ([_graph()], {"set_edges": "knn"}, r"networkx graphs bring their own"),
    "mask on graphs": ([_graph()], {"mask": np.ones((1, 3))}, r"mask applies to a 3-D padded"),
    "empty names": ([_graph()], {"node_features": []}, r"node_features is an empty list"),
}

SET_CASES = {
    "all padding": (
        np.concatenate([jets(2, 4), np.zeros((1, 4, 3))]),
        {},
        r"Sample 2: every particle is padding",
    ),
    "nan particle": (_padded_with(1, np.nan), {}, r"Sample 1: particle 0 has NaN or infinite"),
    "inf particle": (_padded_with(2, -np.inf), {}, r"Sample 2: particle 0 has NaN or infinite"),
    "padded width vs fitted": (jets(2, 3), {"n_node_features": 5}, r"Sample 0: 3 node features"),
    "mask shape": (jets(3, 4), {"mask": np.ones((3, 5), bool)}, r"mask has shape \(3, 5\)"),
    "mask samples": (jets(3, 4), {"mask": np.ones((2, 4), bool)}, r"mask has shape \(2, 4\)"),
    "mask values": (jets(3, 4), {"mask": np.full((3, 4), 2)}, r"mask must hold booleans"),
    "mask twice": (
        np.ma.MaskedArray(jets(2, 3)),
        {"mask": np.ones((2, 3), bool)},
        r"either as a MaskedArray or as mask=",
    ),
    "partly masked": (
        np.ma.MaskedArray(
            np.ones((2, 2, 3)), mask=[[[0, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 1]]]
        ),
        {},
        r"Sample 1: particle 1 is partly masked",
    ),
    "mask on list": ([np.ones((2, 3))], {"mask": np.ones((1, 2))}, r"mask applies to a 3-D"),
    "empty set": ([np.ones((2, 3)), np.ones((0, 3))], {}, r"Sample 1: the set has no particles"),
    "list widths": (
        [np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 4))],
        {},
        r"Sample 2: 4 node features, but sample 0 has 3",
    ),
    "list width vs fitted": (
        [np.ones((2, 3)), np.ones((1, 3))],
        {"n_node_features": 2},
        r"Sample 0: 3 node features, but 2 were expected",
    ),
    "1-D sample": ([np.ones((2, 3)), np.ones(3)], {}, r"Sample 1: expected .* of shape \(3,\)"),
    "graph among arrays": ([np.ones((2, 3)), _graph()], {}, r"Sample 1: is a networkx graph"),
    "junk in list": ([np.ones((2, 3)), "abc"], {}, r"Sample 1: expected .*got str not numeric"),
    "nan in list": (
        [np.ones((2, 3)), np.array([[1.0, 2.0, 3.0], [1.0, np.inf, 0.0]])],
        {},
        r"Sample 1: particle 1 has NaN or infinite",
    ),
    "edge features on sets": (jets(2, 3), {"edge_features": "w"}, r"sets have no edges"),
    "names on arrays": (jets(2, 3), {"node_features": ["pt"]}, r"does not apply to a padded"),
    "bad set_edges": (jets(2, 3), {"set_edges": "star"}, r"set_edges must be one of"),
    "bad k": (jets(2, 3), {"set_edges": "knn", "k": 0}, r"k must be a positive integer"),
    "bad knn feature": (
        jets(2, 3),
        {"set_edges": "knn", "knn_features": [5]},
        r"knn_features entry 5",
    ),
    "knn feature name": (
        jets(2, 3),
        {"set_edges": "knn", "knn_features": ["eta"]},
        r"knn_features entry 'eta'",
    ),
    "2-D array": (np.ones((3, 4)), {}, r"must be 3-D .* got shape \(3, 4\)"),
    "single graph": (_graph(), {}, r"X must be a sequence of samples.*got Graph"),
    "empty list": ([], {}, r"X has no samples"),
    "scalar": (3.0, {}, r"X must be a sequence of samples"),
}


@pytest.mark.parametrize(("X", "options", "match"), GRAPH_CASES.values(), ids=GRAPH_CASES.keys())
def test_bad_graphs(X, options, match):
    before = snapshot(X)
    with pytest.raises(ValueError, match=match):
        pack_graphs(X, **options)
    assert_same_input(before, X)


@pytest.mark.parametrize(("X", "options", "match"), SET_CASES.values(), ids=SET_CASES.keys())
def test_bad_sets(X, options, match):
    with pytest.raises(ValueError, match=match):
        pack_graphs(X, **options)


def test_bad_awkward():
    ak = pytest.importorskip("awkward")
    records = ak.Array([[{"pt": 1.0}], []])
    with pytest.raises(ValueError, match=r"Sample 1: the set has no particles"):
        pack_graphs(records)
    with pytest.raises(ValueError, match=r"no field 'eta'"):
        pack_graphs(records[:1], node_features=["eta"])
    jagged = ak.Array([[{"pt": [1.0, 2.0]}, {"pt": [1.0]}]])
    with pytest.raises(ValueError, match=r"awkward field 'pt' must hold numbers"):
        pack_graphs(jagged)


def test_bad_targets():
    graphs = [_graph(), _graph(4)]
    with pytest.raises(ValueError, match=r"Sample 1: 3 node targets for 4 nodes"):
        node_targets(graphs, [np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match=r"y has 1 samples but X has 2"):
        node_targets(graphs, [np.zeros(3)])
    with pytest.raises(ValueError, match=r"Sample 0: node 0 has no node attribute 'label'"):
        node_targets(graphs, "label")
    with pytest.raises(ValueError, match=r"Sample 1: 2 edge targets for 3 edges"):
        edge_targets(graphs, [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match=r"Sample 0: edge \(0, 1\) has no edge attribute 'y'"):
        edge_targets(graphs, "y")
    with pytest.raises(ValueError, match=r"Edge targets need networkx graphs"):
        edge_targets(jets(2, 3), [np.zeros(1), np.zeros(1)])
    with pytest.raises(ValueError, match=r"Sample 0: a scalar node targets"):
        node_targets(graphs, [1, 2])
