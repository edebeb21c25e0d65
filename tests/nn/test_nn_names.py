"""The names the nn modules share: renamed width keywords and the option sets."""

from __future__ import annotations

import inspect
import warnings

import pytest
import torch

from sklearn_dlpp import nn as dlnn
from sklearn_dlpp.nn import DeepSetBlock, EdgeConvBlock, GNBlock, GraphNetwork, Readout

# (class, old keywords, the same arguments under the new names)
RENAMED = [
    (
        GNBlock,
        {"node_features": 3, "edge_features": 2},
        {"n_node_features": 3, "n_edge_features": 2},
    ),
    (DeepSetBlock, {"node_features": 3}, {"n_node_features": 3}),
    (EdgeConvBlock, {"node_features": 3}, {"n_node_features": 3}),
    (Readout, {"features": 3, "pooling": "attention"}, {"n_features": 3, "pooling": "attention"}),
]


@pytest.mark.parametrize(("cls", "old", "new"), RENAMED, ids=lambda v: getattr(v, "__name__", ""))
def test_old_width_keywords_work_for_one_release_with_a_future_warning(cls, old, new):
    torch.manual_seed(0)
    with pytest.warns(FutureWarning, match=r"is renamed n_"):
        before = cls(**old)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.manual_seed(0)
        after = cls(**new)
    for name, value in new.items():
        assert getattr(after, name) == value
        assert getattr(before, name) == value
    # the same module, weight for weight
    one, two = before.state_dict(), after.state_dict()
    assert one.keys() == two.keys()
    assert all(torch.equal(one[key], two[key]) for key in one)
    # the signature shows the new names only
    assert set(new) <= set(inspect.signature(cls).parameters)
    assert not set(old) - set(new) & set(inspect.signature(cls).parameters)


def test_old_and_new_keyword_together_is_an_error():
    with pytest.raises(TypeError, match="both node_features= and its new name"):
        GNBlock(node_features=3, n_node_features=3)


def test_one_option_set_per_idea():
    assert dlnn.AGGREGATIONS == ("sum", "mean", "max", "attention", "keyquery")
    assert dlnn.POOLINGS == ("sum", "mean", "max", "attention")
    assert set(dlnn.EDGECONV_AGGREGATIONS) < set(dlnn.AGGREGATIONS)
    # every option each set names is taken, and nothing else
    for aggregation in dlnn.AGGREGATIONS:
        GNBlock(2, aggregation=aggregation)
    for pooling in dlnn.POOLINGS:
        GraphNetwork(2, 0, 1, hidden=4, readout=pooling)
    for block in dlnn.BLOCKS:
        aggregation = "mean" if block == "edgeconv" else "sum"
        GraphNetwork(2, 0, 1, hidden=4, block=block, n_heads=2, aggregation=aggregation)
    for level in dlnn.LEVELS:
        GraphNetwork(2, 0, 1, hidden=4, level=level)
    with pytest.raises(ValueError, match="aggregation must be one of"):
        GNBlock(2, aggregation="median")
    with pytest.raises(ValueError, match="pooling must be one of"):
        Readout(2, "median")


def test_dense_and_graph_estimators_share_the_activations():
    from sklearn_dlpp._dense import ACTIVATIONS

    assert ACTIVATIONS is dlnn.ACTIVATIONS
    assert sorted(ACTIVATIONS) == ["identity", "logistic", "relu", "tanh"]
