"""GN block against a direct per-node computation, and its attention weights."""

from __future__ import annotations

import math

import pytest
import torch
from _nn_batches import graphs, pack
from hypothesis import given, settings

from sklearn_dlpp.nn import GNBlock, segment_sum

AGGREGATIONS = ["sum", "mean", "max", "attention", "keyquery"]


def reference(block: GNBlock, x, edge_index, edge_attr=None):
    """The block's update rule, written out node by node."""
    sender, receiver = edge_index
    parts = [x[sender], x[receiver]] + ([edge_attr] if edge_attr is not None else [])
    concat = torch.cat(parts, dim=1)
    messages = block.edge_mlp(concat)
    nodes = []
    for i in range(x.shape[0]):
        incoming = (receiver == i).nonzero().flatten()
        m = messages[incoming]
        if len(incoming) == 0:
            agg = x.new_zeros(block.hidden)
        elif block.aggregation == "sum":
            agg = m.sum(0)
        elif block.aggregation == "mean":
            agg = m.mean(0)
        elif block.aggregation == "max":
            agg = m.max(0).values
        else:
            if block.aggregation == "attention":
                scores = block.score(block.edge_mlp[:-1](concat[incoming])).flatten()
            else:
                keys = block.key_mlp(x[sender[incoming]])
                query = block.query_mlp(x[i])
                scores = keys @ query / math.sqrt(block.hidden)
            agg = torch.softmax(scores, 0) @ m
        nodes.append(block.node_mlp(torch.cat([x[i], agg])) + (x[i] if block.residual else 0))
    return torch.stack(nodes), messages


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
@pytest.mark.parametrize("n_edge_features", [0, 2])
def test_block_follows_its_update_rule(aggregation, n_edge_features):
    torch.manual_seed(0)
    block = GNBlock(3, n_edge_features, hidden=3, aggregation=aggregation, residual=True)
    block = block.double()
    x = torch.randn(5, 3, dtype=torch.float64)
    # node 4 receives nothing, node 1 receives three messages, one of them twice
    edge_index = torch.tensor([[0, 2, 3, 3, 1, 4], [1, 1, 1, 1, 0, 2]])
    attr = torch.randn(6, n_edge_features, dtype=torch.float64) if n_edge_features else None
    nodes, edges, attention = block(x, edge_index, attr)
    expected_nodes, expected_edges = reference(block, x, edge_index, attr)
    torch.testing.assert_close(nodes, expected_nodes)
    torch.testing.assert_close(edges, expected_edges)
    assert (attention is None) == (aggregation in {"sum", "mean", "max"})
    nodes_only = block(x, edge_index, attr, return_edges=False)
    assert nodes_only.edges is None or aggregation == "max"
    torch.testing.assert_close(nodes_only.nodes, nodes)


@pytest.mark.parametrize("aggregation", ["attention", "keyquery"])
@settings(max_examples=15, deadline=None)
@given(graph=graphs(n_features=3, max_nodes=7))
def test_attention_sums_to_one_over_incoming_edges(aggregation, graph):
    torch.manual_seed(1)
    batch = pack([graph])
    block = GNBlock(3, hidden=4, aggregation=aggregation).double()
    _, _, attention = block(batch.x, batch.edge_index)
    n = batch.x.shape[0]
    receiver = batch.edge_index[1]
    assert (attention >= 0).all()
    totals = segment_sum(attention, receiver, n)
    has_incoming = torch.bincount(receiver, minlength=n) > 0
    torch.testing.assert_close(totals[has_incoming], torch.ones_like(totals[has_incoming]))


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_without_edges_the_aggregate_is_zero(aggregation):
    torch.manual_seed(0)
    block = GNBlock(2, hidden=4, aggregation=aggregation)
    x = torch.randn(3, 2)
    nodes, edges, attention = block(x, torch.zeros(2, 0, dtype=torch.long))
    torch.testing.assert_close(nodes, block.node_mlp(torch.cat([x, torch.zeros(3, 4)], 1)))
    assert edges.shape == (0, 4)
    assert attention is None or attention.shape == (0,)


@pytest.mark.parametrize("aggregation", ["attention", "keyquery", "max"])
def test_gradients_are_exact(aggregation):
    torch.manual_seed(0)
    block = GNBlock(2, 1, hidden=3, aggregation=aggregation).double()
    x = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
    attr = torch.randn(5, 1, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 2, 3, 1, 0], [1, 1, 1, 0, 3]])
    assert torch.autograd.gradcheck(lambda x, a: block(x, edge_index, a).nodes, (x, attr))


def test_invalid_parameters_raise():
    with pytest.raises(ValueError, match="aggregation"):
        GNBlock(2, aggregation="median")
    with pytest.raises(ValueError, match="residual"):
        GNBlock(2, hidden=4, residual=True)
    with pytest.raises(ValueError, match="inputs per edge"):
        GNBlock(2, 1, hidden=4)(torch.randn(2, 2), torch.tensor([[0], [1]]))


def test_reset_parameters_redraws_every_weight():
    block = GNBlock(2, hidden=4, aggregation="keyquery")
    before = [p.detach().clone() for p in block.parameters()]
    block.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, block.parameters(), strict=True))
