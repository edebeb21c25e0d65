"""DeepSetBlock: set self-attention inside each graph, padding never leaking."""

from __future__ import annotations

import math

import pytest
import torch

from sklearn_dlpp.nn import DeepSetBlock


def reference(block: DeepSetBlock, x: torch.Tensor) -> torch.Tensor:
    """The update rule for one set, with plain dense attention."""
    keys, queries, values = block.key_mlp(x), block.query_mlp(x), block.value_mlp(x)
    attention = torch.softmax(queries @ keys.T / math.sqrt(block.hidden), dim=1)
    nodes = block.node_mlp(torch.cat([x, attention @ values], dim=1))
    return nodes + x if block.residual else nodes


def packed(sizes: list[int], n_features: int = 3):
    node_ptr = torch.tensor([0, *torch.tensor(sizes).cumsum(0).tolist()])
    node_graph = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return torch.randn(sum(sizes), n_features, dtype=torch.float64), node_graph, node_ptr


@pytest.mark.parametrize("residual", [False, True])
def test_each_set_attends_only_to_itself(residual):
    torch.manual_seed(0)
    block = DeepSetBlock(3, hidden=3, residual=residual).double()
    sizes = [3, 1, 0, 5, 2]  # a single node and an empty set among them
    x, node_graph, node_ptr = packed(sizes)
    nodes, attention = block(x, node_graph, node_ptr)
    assert nodes.shape == (11, 3)
    assert attention.shape == (5, 5, 5)
    for g, n in enumerate(sizes):
        rows = slice(int(node_ptr[g]), int(node_ptr[g + 1]))
        torch.testing.assert_close(nodes[rows], reference(block, x[rows]))
        # padding neither gives nor receives weight, real rows sum to 1
        assert (attention[g, n:] == 0).all()
        assert (attention[g, :, n:] == 0).all()
        torch.testing.assert_close(attention[g, :n].sum(1), torch.ones(n, dtype=torch.float64))
    assert attention[1, 0, 0] == 1.0


def test_permuting_a_set_permutes_its_outputs():
    torch.manual_seed(0)
    block = DeepSetBlock(3, hidden=4).double()
    x, node_graph, node_ptr = packed([6])
    perm = torch.randperm(6)
    nodes = block(x, node_graph, node_ptr).nodes
    torch.testing.assert_close(block(x[perm], node_graph, node_ptr).nodes, nodes[perm])


def test_gradients_are_finite_and_exact_with_padding_and_empty_sets():
    torch.manual_seed(0)
    block = DeepSetBlock(2, hidden=3).double()
    x, node_graph, node_ptr = packed([2, 0, 3], n_features=2)
    x.requires_grad_()
    assert torch.autograd.gradcheck(lambda x: block(x, node_graph, node_ptr).nodes, (x,))
    block(x, node_graph, node_ptr).nodes.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in block.parameters())


def test_an_empty_batch_works():
    block = DeepSetBlock(2, hidden=3)
    nodes, attention = block(
        torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), torch.zeros(1, dtype=torch.long)
    )
    assert nodes.shape == (0, 3)
    assert attention.shape == (0, 0, 0)


def test_residual_needs_equal_widths():
    with pytest.raises(ValueError, match="residual"):
        DeepSetBlock(2, hidden=3, residual=True)
