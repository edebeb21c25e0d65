"""Readout: pooling per graph against a loop, empty graphs, invariance."""

from __future__ import annotations

import pytest
import torch

from sklearn_dlpp.nn import Readout

POOLINGS = ["sum", "mean", "max", "attention"]


def reference(readout: Readout, x, node_graph, n_graphs):
    out = x.new_zeros(n_graphs, x.shape[1])
    for g in range(n_graphs):
        rows = x[node_graph == g]
        if len(rows) == 0:
            continue
        if readout.pooling == "sum":
            out[g] = rows.sum(0)
        elif readout.pooling == "mean":
            out[g] = rows.mean(0)
        elif readout.pooling == "max":
            out[g] = rows.max(0).values
        else:
            gate = torch.tanh(readout.attention_v(rows)) * torch.sigmoid(readout.attention_u(rows))
            out[g] = torch.softmax(readout.attention_w(gate).flatten(), 0) @ rows
    return out


@pytest.mark.parametrize("pooling", POOLINGS)
def test_pooling_matches_a_loop_and_is_invariant(pooling):
    torch.manual_seed(0)
    readout = Readout(3, pooling).double()
    x = torch.randn(7, 3, dtype=torch.float64) - 2  # all-negative rows test the max
    node_graph = torch.tensor([0, 0, 0, 2, 2, 3, 0])  # graph 1 has no nodes
    pooled = readout(x, node_graph, 4)
    torch.testing.assert_close(pooled, reference(readout, x, node_graph, 4))
    assert (pooled[1] == 0).all()
    perm = torch.randperm(7)
    torch.testing.assert_close(readout(x[perm], node_graph[perm], 4), pooled)


def test_attention_weights_sum_to_one_per_graph():
    torch.manual_seed(0)
    readout = Readout(3, "attention")
    node_graph = torch.tensor([0, 0, 1, 0, 1])
    weights = readout.attention(torch.randn(5, 3), node_graph, 2)
    sums = torch.zeros(2).index_add_(0, node_graph, weights)
    torch.testing.assert_close(sums, torch.ones(2))


def test_invalid_pooling_and_weights_without_attention_raise():
    with pytest.raises(ValueError, match="pooling"):
        Readout(3, "median")
    with pytest.raises(ValueError, match="attention"):
        Readout(3, "sum").attention(torch.randn(2, 3), torch.tensor([0, 0]), 1)
