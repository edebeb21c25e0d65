"""pack_graphs on networkx graphs: layout, invariances, slicing, inputs left alone."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from _graph_samples import (
    assert_batches_equal,
    assert_same_input,
    graphs,
    reference_pack,
    relabelled,
    snapshot,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_dlpp.graph import GraphBatch, pack_graphs

FAST = settings(max_examples=60, deadline=None)


@FAST
@given(st.lists(graphs(), min_size=1, max_size=5))
def test_matches_reference_and_leaves_input_alone(samples):
    before = snapshot(samples)
    batch = pack_graphs(samples, edge_features="w", n_edge_features=2)
    assert_batches_equal(batch, reference_pack(samples, edge_features="w"))
    assert_same_input(before, samples)


@FAST
@given(st.lists(graphs(multigraph=True), min_size=1, max_size=4))
def test_multigraphs_give_one_labelled_edge_per_key(samples):
    batch = pack_graphs(samples, edge_features="w", n_edge_features=2)
    assert_batches_equal(batch, reference_pack(samples, edge_features="w"))
    assert batch.n_targets.tolist() == [g.number_of_edges() for g in samples]


def _canonical(batch: GraphBatch, graph: int) -> tuple:
    """The graph as sets of feature rows, blind to node ids and orders."""
    lo, hi = batch.node_ptr[graph], batch.node_ptr[graph + 1]
    x = batch.x.numpy()
    nodes = sorted(map(tuple, x[lo:hi].round(6)))
    e_lo, e_hi = batch.edge_ptr[graph], batch.edge_ptr[graph + 1]
    senders, receivers = batch.edge_index[:, e_lo:e_hi].numpy()
    attr = batch.edge_attr[e_lo:e_hi].numpy()
    targets = batch.edge_target[e_lo:e_hi].numpy()
    # Messages grouped by labelled edge: the pairs of one undirected edge travel together.
    groups = {}
    for s, r, a, t in zip(senders, receivers, attr, targets, strict=True):
        groups.setdefault(t, []).append((tuple(x[s].round(6)), tuple(x[r].round(6)), *a.round(6)))
    edges = sorted(tuple(sorted(group)) for group in groups.values())
    return nodes, edges


@FAST
@given(st.lists(graphs(), min_size=1, max_size=4), st.integers(0, 1000))
def test_node_ids_and_insertion_orders_do_not_change_the_graph(samples, seed):
    shuffled = [relabelled(graph, seed + i) for i, graph in enumerate(samples)]
    a = pack_graphs(samples, edge_features="w", n_edge_features=2)
    b = pack_graphs(shuffled, edge_features="w", n_edge_features=2)
    for g in range(len(samples)):
        assert _canonical(a, g) == _canonical(b, g)
        # Node rows still follow each graph's own G.nodes() order.
        lo, hi = b.node_ptr[g], b.node_ptr[g + 1]
        expected = np.array([d["x"] for _, d in shuffled[g].nodes(data=True)], dtype=np.float32)
        np.testing.assert_array_equal(b.x[lo:hi].numpy(), expected)


@FAST
@given(st.lists(graphs(), min_size=1, max_size=6), st.data())
def test_select_equals_packing_the_selection(samples, data):
    index = data.draw(st.lists(st.integers(0, len(samples) - 1), max_size=8))
    batch = pack_graphs(samples, edge_features="w", n_edge_features=2)
    selected = batch.select(torch.tensor(index, dtype=torch.long))
    if index:
        picked = pack_graphs([samples[i] for i in index], edge_features="w", n_edge_features=2)
        assert_batches_equal(selected, picked)
    else:
        assert selected.n_graphs == 0


def test_graph_without_edges_is_valid():
    graph = nx.Graph()
    graph.add_node("lonely", x=[1.0, 2.0])
    batch = pack_graphs([graph, graph], edge_features="w", n_edge_features=3)
    assert batch.edge_index.shape == (2, 0)
    assert batch.edge_attr.shape == (0, 3)
    assert batch.n_nodes.tolist() == [1, 1]
    assert batch.target_ptr.tolist() == [0, 0, 0]


def test_undirected_self_loop_is_one_message_and_directed_edges_follow_direction():
    undirected = nx.Graph()
    undirected.add_nodes_from([(0, {"x": 0.0}), (1, {"x": 1.0})])
    undirected.add_edges_from([(0, 0), (0, 1)])
    directed = nx.DiGraph(undirected)
    directed.remove_edge(1, 0)
    batch = pack_graphs([undirected, directed])
    assert batch.edge_index.tolist() == [[0, 0, 1, 2, 2], [0, 1, 0, 2, 3]]
    assert batch.edge_target.tolist() == [0, 1, 1, 2, 3]
    assert batch.n_edges.tolist() == [3, 2]


def test_scalar_and_named_node_features():
    graph = nx.Graph()
    graph.add_node("a", x=1.5, pt=1.0, eta=2.0)
    graph.add_node("b", x=2.5, pt=3.0, eta=4.0)
    assert pack_graphs([graph]).x.tolist() == [[1.5], [2.5]]
    named = pack_graphs([graph], node_features=["eta", "pt"])
    assert named.x.tolist() == [[2.0, 1.0], [4.0, 3.0]]


def test_dtype_and_integer_index_dtypes():
    graph = nx.path_graph(3)
    nx.set_node_attributes(graph, 1, "pt")
    batch = pack_graphs([graph], node_features=["pt"], dtype=torch.float64)
    assert batch.x.dtype == torch.float64
    assert batch.x.shape == (3, 1)
    for name in ("edge_index", "node_graph", "node_ptr", "edge_ptr", "edge_target", "target_ptr"):
        assert getattr(batch, name).dtype == torch.long, name


def test_sequence_types_and_views():
    path = nx.path_graph(4)
    nx.set_node_attributes(path, {n: [float(n)] for n in path}, "x")
    view = path.subgraph([1, 2, 3])
    as_tuple = pack_graphs((path, view))
    assert as_tuple.n_nodes.tolist() == [4, 3]
    assert as_tuple.n_targets.tolist() == [3, 2]
    assert as_tuple.x[4:].flatten().tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("make", [nx.Graph, nx.DiGraph])
def test_node_order_is_user_order_not_sorted(make):
    graph = make()
    for node in ["z", "a", "m"]:
        graph.add_node(node, x=[ord(node)])
    graph.add_edge("m", "z")
    batch = pack_graphs([graph])
    assert batch.x.flatten().tolist() == [ord("z"), ord("a"), ord("m")]
    # networkx reports an undirected edge from its end that comes first in node order.
    expected = [0, 2] if make is nx.Graph else [2, 0]
    assert batch.edge_index[:, 0].tolist() == expected
