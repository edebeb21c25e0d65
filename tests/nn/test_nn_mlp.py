"""MLP: layers, activations, and the edge shortcut that avoids concatenations."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sklearn_dlpp.nn import MLP


@pytest.mark.parametrize(
    ("activation", "kind"),
    [("identity", nn.Identity), ("logistic", nn.Sigmoid), ("tanh", nn.Tanh), ("relu", nn.ReLU)],
)
def test_layers_follow_the_sizes_and_activation(activation, kind):
    mlp = MLP([3, 5, 7, 2], activation=activation, dropout=0.2, final_activation="logistic")
    linears = [m for m in mlp if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(3, 5), (5, 7), (7, 2)]
    assert sum(isinstance(m, kind) for m in mlp) == 2 + (kind is nn.Sigmoid)
    assert sum(isinstance(m, nn.Dropout) for m in mlp) == 2
    assert isinstance(mlp[-1], nn.Sigmoid)
    out = mlp.eval()(torch.randn(4, 3))
    assert out.shape == (4, 2)
    assert ((out > 0) & (out < 1)).all()


def test_single_layer_is_linear():
    mlp = MLP([3, 2])
    assert len(mlp) == 1
    assert isinstance(mlp[0], nn.Linear)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sizes": [3]},
        {"sizes": [3, -1]},
        {"sizes": [3, 2], "activation": "gelu"},
        {"sizes": [3, 2], "dropout": 1.0},
    ],
)
def test_invalid_parameters_raise(kwargs):
    with pytest.raises(ValueError, match=r"sizes|activation|dropout"):
        MLP(**kwargs)


def test_reset_parameters_redraws_weights():
    torch.manual_seed(0)
    mlp = MLP([3, 4, 2])
    before = [p.detach().clone() for p in mlp.parameters()]
    mlp.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, mlp.parameters(), strict=True))


def test_gradients_are_exact_through_in_place_relu():
    torch.manual_seed(0)
    mlp = MLP([3, 4, 4, 2]).double()
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(mlp, (x,))


@pytest.mark.parametrize("n_edge_features", [0, 3])
@pytest.mark.parametrize("stop_before_last", [False, True])
def test_forward_on_edges_equals_mlp_of_concatenation(n_edge_features, stop_before_last):
    torch.manual_seed(0)
    mlp = MLP([2 * 4 + n_edge_features, 6, 5], activation="tanh").double()
    x = torch.randn(7, 4, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 6, 6, 3], [1, 0, 2, 2, 3]])
    attr = torch.randn(5, n_edge_features, dtype=torch.float64) if n_edge_features else None
    parts = [x[edge_index[0]], x[edge_index[1]]] + ([attr] if attr is not None else [])
    concat = torch.cat(parts, dim=1)
    expected = mlp[:-1](concat) if stop_before_last else mlp(concat)
    got = mlp.forward_on_edges(x, edge_index, attr, stop_before_last=stop_before_last)
    torch.testing.assert_close(got, expected)
    no_edges = mlp.forward_on_edges(x, edge_index[:, :0], None if attr is None else attr[:0])
    assert no_edges.shape == (0, 5)


def test_forward_on_edges_checks_the_widths():
    mlp = MLP([2 * 4 + 3, 5])
    x = torch.randn(3, 4)
    edge_index = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="inputs per edge"):
        mlp.forward_on_edges(x, edge_index)
    with pytest.raises(ValueError, match="inputs per edge"):
        mlp.forward_on_edges(x, edge_index, torch.randn(1, 2))
    with pytest.raises(ValueError, match="hidden layer"):
        mlp.forward_on_edges(x, edge_index, torch.randn(1, 3), stop_before_last=True)
