"""EdgeConvBlock, knn_graph and ParticleNet: the rule, the dynamic graph, the symmetries."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sklearn_dlpp.graph import pack_graphs
from sklearn_dlpp.nn import EdgeConvBlock, ParticleNet, knn_graph


def _sets(rng, sizes, n_features=3):
    return [rng.normal(size=(n, n_features)).astype(np.float32) for n in sizes]


def _edges(edge_index):
    return sorted(zip(edge_index[0].tolist(), edge_index[1].tolist(), strict=True))


def test_dynamic_knn_picks_neighbours_in_the_space_of_points_or_of_features():
    """Two points far apart in (eta, phi) can be nearest in the features, and vice versa.

    Graph 0: points 0, 1 and 2, 3 are pairs in the point space; in the feature
    space the pairs are 0, 2 and 1, 3. Graph 1 sits on top of graph 0 in both
    spaces and must never lend it a neighbour.
    """
    points = torch.tensor([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0], [11.0, 0.0]])
    features = torch.tensor([[0.0], [10.0], [0.5], [10.5]])
    points = torch.cat([points, points + 0.01])
    features = torch.cat([features, features + 0.01])
    node_graph = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])
    node_ptr = torch.tensor([0, 4, 8])
    block = EdgeConvBlock(1, channels=(4,), k=1).eval()
    in_points = block(features, node_graph, node_ptr, points=points).edge_index
    in_features = block(features, node_graph, node_ptr).edge_index
    pairs_points = [(1, 0), (0, 1), (3, 2), (2, 3)]
    pairs_features = [(2, 0), (3, 1), (0, 2), (1, 3)]
    shifted = [(s + 4, r + 4) for s, r in pairs_points]
    assert _edges(in_points) == sorted(pairs_points + shifted)
    shifted = [(s + 4, r + 4) for s, r in pairs_features]
    assert _edges(in_features) == sorted(pairs_features + shifted)


def test_knn_graph_small_graphs_get_every_other_node_and_never_themselves():
    points = torch.randn(6, 2)
    node_graph = torch.tensor([0, 0, 0, 1, 2, 2])
    edge_index = knn_graph(points, node_graph, torch.tensor([0, 3, 4, 6]), k=5)
    # graph 0: 3 nodes x 2 others; graph 1: a lone node; graph 2: 2 nodes x 1 other
    assert edge_index.shape[1] == 6 + 0 + 2
    assert (edge_index[0] != edge_index[1]).all()
    assert (node_graph[edge_index[0]] == node_graph[edge_index[1]]).all()
    assert knn_graph(
        torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), torch.tensor([0]), 3
    ).shape == (2, 0)


@pytest.mark.parametrize("aggregation", ["mean", "max", "sum"])
def test_block_follows_the_edgeconv_rule(aggregation):
    """h_i' = relu(rho_j phi([h_i, h_j - h_i]) + BN(W_s h_i)), computed edge by edge."""
    torch.manual_seed(0)
    block = EdgeConvBlock(3, channels=(5, 4), k=2, aggregation=aggregation).eval()
    for norm in (*block.edge_norms, block.shortcut_norm):  # non-trivial statistics
        norm.running_mean.uniform_(-1, 1)
        norm.running_var.uniform_(0.5, 2)
        norm.bias.data.uniform_(0.5, 1.5)  # keeps most messages above the relu's 0
    x = torch.randn(4, 3)
    node_graph, node_ptr = torch.zeros(4, dtype=torch.long), torch.tensor([0, 4])
    nodes, edge_index = block(x, node_graph, node_ptr)
    expected = torch.empty(4, 4)
    for i in range(4):
        messages = []
        for j in edge_index[0][edge_index[1] == i].tolist():
            h = torch.cat([x[i], x[j] - x[i]]).unsqueeze(0)
            for layer, norm in zip(block.edge_layers, block.edge_norms, strict=True):
                h = torch.relu(norm(layer(h)))
            messages.append(h[0])
        stacked = torch.stack(messages)
        pooled = {"mean": stacked.mean(0), "max": stacked.amax(0), "sum": stacked.sum(0)}
        shortcut = block.shortcut_norm(block.shortcut(x[i : i + 1]))[0]
        expected[i] = torch.relu(pooled[aggregation] + shortcut)
    torch.testing.assert_close(nodes, expected)
    # the messages do count: the shortcut alone gives something else
    alone = torch.relu(block.shortcut_norm(block.shortcut(x)))
    assert (nodes - alone).abs().mean() > 0.1


def test_block_is_permutation_equivariant_and_independent_of_the_batch():
    rng = np.random.default_rng(0)
    batch = pack_graphs(_sets(rng, [7, 5, 9]))
    block = EdgeConvBlock(3, channels=(8, 8), k=3).eval()
    nodes = block(batch.x, batch.node_graph, batch.node_ptr).nodes
    perm = torch.cat([torch.randperm(7), 7 + torch.randperm(5), 12 + torch.randperm(9)])
    permuted = block(batch.x[perm], batch.node_graph, batch.node_ptr).nodes
    torch.testing.assert_close(permuted, nodes[perm])
    alone = pack_graphs([batch.x[7:12].numpy()])
    torch.testing.assert_close(block(alone.x, alone.node_graph, alone.node_ptr).nodes, nodes[7:12])


def test_static_block_uses_the_given_edges():
    x = torch.randn(3, 2)
    node_graph, node_ptr = torch.zeros(3, dtype=torch.long), torch.tensor([0, 3])
    block = EdgeConvBlock(2, channels=(4,), dynamic=False).eval()
    edge_index = torch.tensor([[1], [0]])
    out = block(x, node_graph, node_ptr, edge_index=edge_index)
    assert out.edge_index is edge_index
    # nodes 1 and 2 receive nothing: only the shortcut is left
    shortcut = torch.relu(block.shortcut_norm(block.shortcut(x)))
    torch.testing.assert_close(out.nodes[1:], shortcut[1:])
    with pytest.raises(ValueError, match="edge_index"):
        block(x, node_graph, node_ptr)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="aggregation"):
        EdgeConvBlock(2, aggregation="attention")
    with pytest.raises(ValueError, match="channels"):
        EdgeConvBlock(2, channels=())
    with pytest.raises(ValueError, match="k must"):
        EdgeConvBlock(2, k=0)


def test_particlenet_is_permutation_invariant_and_finds_first_neighbours_in_raw_points():
    rng = np.random.default_rng(1)
    batch = pack_graphs(_sets(rng, [6, 8], n_features=4))
    small = [(2, (8,)), (3, (8, 8))]
    net = ParticleNet(4, 2, blocks=small, fc=[(8, 0.0)], point_columns=[1, 2]).eval()
    out = net(batch)
    assert out.shape == (2, 2)
    perm = torch.cat([torch.randperm(6), 6 + torch.randperm(8)])
    permuted = pack_graphs([batch.x[perm][:6].numpy(), batch.x[perm][6:].numpy()])
    torch.testing.assert_close(net(permuted), out)
    # The first block's neighbours come from the raw (un-standardised) columns 1, 2.
    seen = {}
    net.blocks[0].register_forward_hook(lambda m, args, kw, out: seen.update(kw), with_kwargs=True)
    net.input_mean[1:3] = torch.tensor([5.0, -3.0])
    net.input_scale[1:3] = torch.tensor([2.0, 0.5])
    net(batch)
    expected = batch.x[:, 1:3] * torch.tensor([2.0, 0.5]) + torch.tensor([5.0, -3.0])
    torch.testing.assert_close(seen["points"], expected)
