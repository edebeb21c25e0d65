"""GraphScaler: statistics over real nodes, output in the input's form, inputs untouched."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from _graph_samples import assert_same_input, graphs, jets, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from sklearn_dlpp.graph import GraphScaler, pack_graphs, standardize_batch

FAST = settings(max_examples=30, deadline=None)


@FAST
@given(st.lists(graphs(multigraph=False), min_size=2, max_size=5))
def test_graphs_in_graphs_out(samples):
    before = snapshot(samples)
    scaler = GraphScaler(edge_features="w").fit(samples)
    out = scaler.transform(samples)
    assert_same_input(before, samples)
    x = np.concatenate([[d["x"] for _, d in g.nodes(data=True)] for g in samples])
    np.testing.assert_allclose(scaler.mean_, x.mean(axis=0))
    np.testing.assert_allclose(scaler.var_, x.var(axis=0))
    for old, new in zip(samples, out, strict=True):
        assert new is not old
        # Same node and edge order, so targets read from the originals stay aligned.
        assert list(new.nodes) == list(old.nodes)
        assert list(new.edges) == list(old.edges)
    packed = pack_graphs(out, edge_features="w", n_edge_features=2, dtype=torch.float64)
    direct = scaler.transform_batch(
        pack_graphs(samples, edge_features="w", n_edge_features=2, dtype=torch.float64)
    )
    torch.testing.assert_close(packed.x, direct.x)
    torch.testing.assert_close(packed.edge_attr, direct.edge_attr)
    if scaler.edge_mean_ is not None:
        edges = np.array([d["w"] for g in samples for *_, d in g.edges(data=True)])
        np.testing.assert_allclose(scaler.edge_mean_, edges.mean(axis=0))


def test_padded_keeps_padding_and_masked_keeps_mask():
    X = jets(20, 6, seed=4)
    real = (X != 0).any(axis=2)
    before = snapshot(X)
    out = GraphScaler().fit_transform(X)
    assert_same_input(before, X)
    assert out.shape == X.shape
    assert (out[~real] == 0).all()
    np.testing.assert_allclose(out[real].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out[real].std(axis=0), 1)
    masked = np.ma.MaskedArray(X, mask=np.repeat(~real[..., None], 3, axis=2))
    out_masked = GraphScaler().fit_transform(masked)
    assert isinstance(out_masked, np.ma.MaskedArray)
    np.testing.assert_array_equal(np.ma.getmaskarray(out_masked), np.ma.getmaskarray(masked))
    np.testing.assert_allclose(out_masked.data[real], out[real])


def test_lists_named_and_scalar_attributes():
    rows = [np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 5.0]])]
    out = GraphScaler(with_std=False).fit_transform(rows)
    np.testing.assert_allclose(np.concatenate(out), [[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]])
    graph = nx.Graph()
    graph.add_node("a", pt=1.0, eta=0.0, x=2.0)
    graph.add_node("b", pt=3.0, eta=0.0, x=4.0)
    scaled = GraphScaler(node_features=["pt", "eta"]).fit_transform([graph])[0]
    assert scaled.nodes["a"]["pt"] == -1.0
    assert scaled.nodes["b"]["pt"] == 1.0
    assert scaled.nodes["a"]["eta"] == 0.0  # a constant feature keeps scale 1
    assert scaled.nodes["a"]["x"] == 2.0
    scalar = GraphScaler().fit_transform([graph])[0]
    assert scalar.nodes["a"]["x"] == -1.0


def test_awkward_in_awkward_out():
    ak = pytest.importorskip("awkward")
    records = ak.Array([[{"pt": 1.0, "id": 5}], [{"pt": 3.0, "id": 7}, {"pt": 5.0, "id": 9}]])
    before = records.to_list()
    out = GraphScaler(node_features=["pt"]).fit_transform(records)
    assert records.to_list() == before
    assert out["id"].to_list() == [[5], [7, 9]]
    np.testing.assert_allclose(ak.flatten(out["pt"]).to_numpy(), [-1.2247449, 0.0, 1.2247449])
    one = GraphScaler(node_features=["pt"]).fit(records).transform([records[1]])
    assert one[0]["pt"].to_list() == pytest.approx([0.0, 1.2247449])


def test_feature_count_checked_and_clone():
    scaler = GraphScaler().fit(jets(3, 4))
    with pytest.raises(ValueError, match=r"Sample 0: 2 node features, but 3 were expected"):
        scaler.transform(np.ones((2, 3, 2)))
    assert clone(scaler).get_params() == scaler.get_params()
    with pytest.raises(ValueError, match=r"with_mean"):
        GraphScaler(with_mean="yes").fit(jets(3, 4))


def test_standardize_batch_leaves_the_batch_alone():
    batch = pack_graphs([np.array([[1.0, 2.0], [3.0, 4.0]])])
    x = batch.x.clone()
    out = standardize_batch(batch, [2.0, 3.0], [1.0, 2.0])
    assert out.x.tolist() == [[-1.0, -0.5], [1.0, 0.5]]
    assert torch.equal(batch.x, x)
    assert out.edge_index is batch.edge_index
