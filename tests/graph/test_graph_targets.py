"""Node and edge targets line up with the packed nodes and labelled edges, and split back."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from _graph_samples import graphs, jets, relabelled
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_dlpp.graph import edge_targets, node_targets, pack_graphs, split_edges, split_nodes

FAST = settings(max_examples=40, deadline=None)


def _label(samples: list[nx.Graph]) -> list[nx.Graph]:
    """Copies with a node label (first feature) and an edge label (first edge feature)."""
    out = []
    for graph in samples:
        graph = graph.copy()
        for _, data in graph.nodes(data=True):
            data["label"] = float(data["x"][0])
        for *_, data in graph.edges(data=True):
            data["truth"] = float(data["w"][0])
        out.append(graph)
    return out


@FAST
@given(st.lists(graphs(), min_size=1, max_size=5), st.integers(0, 100))
def test_targets_follow_nodes_and_labelled_edges(samples, seed):
    samples = _label([relabelled(graph, seed) for graph in samples])
    batch = pack_graphs(samples, edge_features="w", n_edge_features=2)
    y_nodes = node_targets(samples, "label")
    np.testing.assert_allclose(y_nodes, batch.x[:, 0].numpy(), rtol=1e-6)
    y_edges = edge_targets(samples, "truth")
    assert len(y_edges) == int(batch.target_ptr[-1])
    # Every message edge, in either direction, carries the label of its labelled edge.
    np.testing.assert_allclose(
        y_edges[batch.edge_target.numpy()], batch.edge_attr[:, 0].numpy(), rtol=1e-6
    )
    per_graph = [[d["truth"] for *_, d in g.edges(data=True)] for g in samples]
    np.testing.assert_array_equal(edge_targets(samples, per_graph), y_edges)
    for got, want in zip(split_edges(y_edges, batch), per_graph, strict=True):
        np.testing.assert_array_equal(got, want)
    per_node = [[d["label"] for _, d in g.nodes(data=True)] for g in samples]
    for got, want in zip(split_nodes(torch.from_numpy(y_nodes), batch), per_node, strict=True):
        np.testing.assert_array_equal(got, want)


def test_padded_node_targets_drop_padding():
    X = jets(5, 4, seed=2)
    real = (X != 0).any(axis=2)
    y = np.arange(20).reshape(5, 4)
    per_set = [row[mask] for row, mask in zip(y, real, strict=True)]
    np.testing.assert_array_equal(node_targets(X, y), np.concatenate(per_set))
    np.testing.assert_array_equal(node_targets(X, per_set), np.concatenate(per_set))
    masked = np.ma.MaskedArray(X, mask=np.repeat(~real[..., None], 3, axis=2))
    np.testing.assert_array_equal(node_targets(masked, y), np.concatenate(per_set))
    batch = pack_graphs(X)
    for got, want in zip(split_nodes(node_targets(X, y), batch), per_set, strict=True):
        np.testing.assert_array_equal(got, want)


def test_multi_output_and_string_labels():
    rows = [np.ones((2, 3)), np.ones((3, 3))]
    y = [np.zeros((2, 4)), np.ones((3, 4))]
    assert node_targets(rows, y).shape == (5, 4)
    labels = node_targets(rows, [["a", "b"], ["c", "d", "e"]])
    assert labels.tolist() == ["a", "b", "c", "d", "e"]
    batch = pack_graphs(rows)
    assert [part.shape for part in split_nodes(node_targets(rows, y), batch)] == [(2, 4), (3, 4)]


def test_awkward_node_targets():
    ak = pytest.importorskip("awkward")
    records = ak.Array([[{"pt": 1.0, "is_b": 1}], [{"pt": 2.0, "is_b": 0}, {"pt": 3.0, "is_b": 1}]])
    assert node_targets(records, "is_b").tolist() == [1, 0, 1]
    assert node_targets(records, ak.Array([[1], [0, 1]])).tolist() == [1, 0, 1]


def test_split_checks_the_length():
    batch = pack_graphs([np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"Got 3 values for 2 nodes"):
        split_nodes(np.zeros(3), batch)
    with pytest.raises(ValueError, match=r"Got 1 values for 0 labelled edges"):
        split_edges(np.zeros(1), batch)
