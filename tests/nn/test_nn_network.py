"""GraphNetwork: symmetries, batching independence, receptive field, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _nn_batches import Graph, graph_lists, pack, path, undirected
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_dlpp.nn import GraphNetwork, segment_sum

LEVELS = ["graph", "node", "edge"]
# every aggregation, readout and block type appears at least once
CONFIGS = [
    {"aggregation": "sum", "readout": "sum"},
    {"aggregation": "mean", "readout": "mean"},
    {"aggregation": "max", "readout": "max"},
    {"aggregation": "attention", "readout": "attention"},
    {"aggregation": "keyquery", "readout": "sum"},
    {"block": "deepset", "readout": "mean"},
]
CONFIG_IDS = [c.get("block") or c["aggregation"] for c in CONFIGS]


def network(level: str, config: dict, n_edge_features: int = 1, **kwargs) -> GraphNetwork:
    torch.manual_seed(0)
    options = {"hidden": 6, "n_blocks": 2, **config, **kwargs}
    return GraphNetwork(3, n_edge_features, 2, level=level, **options).double().eval()


def split(out: torch.Tensor, ptr: torch.Tensor) -> list[torch.Tensor]:
    return [out[a:b] for a, b in zip(ptr[:-1].tolist(), ptr[1:].tolist(), strict=True)]


def relabel(graphs: list[Graph], seed: int):
    """Shuffle the graphs, the nodes and message edges inside each, and the labelled edges.

    Returns the new graphs and, per new graph, (old graph, node perm, labelled-edge perm):
    new node i is old node p[i], new labelled edge j is old r[j].
    """
    rng = np.random.default_rng(seed)
    new, maps = [], []
    for k in rng.permutation(len(graphs)):
        g = graphs[k]
        p = rng.permutation(g.x.shape[0])
        q = rng.permutation(g.edge_index.shape[1])
        r = rng.permutation(g.n_targets)
        edge_index = np.argsort(p)[g.edge_index[:, q]]
        edge_target = np.argsort(r)[g.targets()[q]]
        attr = None if g.edge_attr is None else g.edge_attr[q]
        new.append(Graph(g.x[p], edge_index.reshape(2, -1), attr, edge_target))
        maps.append((k, p, r))
    return new, maps


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@settings(max_examples=15, deadline=None)
@given(graphs=graph_lists(n_features=3, n_edge_features=1), seed=st.integers(0, 2**32 - 1))
def test_invariant_and_equivariant_under_relabelling(config, graphs, seed):
    batch = pack(graphs)
    new_graphs, maps = relabel(graphs, seed)
    new_batch = pack(new_graphs)
    for level in LEVELS:
        net = network(level, config)
        with torch.no_grad():
            out, new_out = net(batch), net(new_batch)
        if level == "graph":
            expected = out[[k for k, _, _ in maps]]
        elif level == "node":
            parts = split(out, batch.node_ptr)
            expected = torch.cat([parts[k][p] for k, p, _ in maps])
        else:
            parts = split(out, batch.target_ptr)
            expected = torch.cat([parts[k][r] for k, _, r in maps])
        torch.testing.assert_close(new_out, expected, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@settings(max_examples=15, deadline=None)
@given(graphs=graph_lists(n_features=3, n_edge_features=1))
def test_a_graph_alone_equals_the_graph_in_a_batch(config, graphs):
    batch = pack(graphs)
    for level in LEVELS:
        net = network(level, config)
        with torch.no_grad():
            together = net(batch)
            alone = torch.cat([net(pack([g])) for g in graphs])
        torch.testing.assert_close(together, alone, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("aggregation", ["sum", "mean", "max", "attention", "keyquery"])
@pytest.mark.parametrize("n_blocks", [1, 2, 3])
def test_receptive_field_is_n_blocks_hops(aggregation, n_blocks):
    graph = path(8, 3, np.random.default_rng(0))
    batch = pack([graph])
    net = network("node", {"aggregation": aggregation}, n_edge_features=0, n_blocks=n_blocks)
    x = batch.x.clone().requires_grad_()
    out = net(type(batch)(**{**batch.__dict__, "x": x}))
    (grad,) = torch.autograd.grad(out[0].sum(), x)
    depends = grad.abs().sum(1) > 0
    assert depends.tolist() == [i <= n_blocks for i in range(8)]
    # and moving the first node out of reach changes nothing at node 0, exactly
    far = batch.x.clone()
    far[n_blocks + 1] += 10.0
    with torch.no_grad():
        moved = net(type(batch)(**{**batch.__dict__, "x": far}))
    assert torch.equal(moved[0], out[0].detach())


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("level", LEVELS)
def test_edgeless_and_empty_graphs(config, level):
    rng = np.random.default_rng(0)
    no_edges = np.zeros((2, 0), dtype=np.int64)
    lonely = [Graph(rng.normal(size=(n, 3)), no_edges, np.zeros((0, 1))) for n in (1, 4)]
    net = network(level, config)
    with torch.no_grad():
        out = net(pack(lonely))
    expected_rows = {"graph": 2, "node": 5, "edge": 0}[level]
    assert out.shape == (expected_rows, 2)
    assert torch.isfinite(out).all()
    # an empty graph in the batch changes nothing for the others
    some = [undirected(rng.normal(size=(3, 3)), [(0, 1), (1, 2)], rng.normal(size=(2, 1)))]
    empty = Graph(np.zeros((0, 3)), no_edges, np.zeros((0, 1)))
    with torch.no_grad():
        without, with_empty = net(pack(some + lonely)), net(pack([some[0], empty, *lonely]))
    if level == "graph":
        with_empty = with_empty[[0, 2, 3]]
    torch.testing.assert_close(with_empty, without)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
def test_edge_output_is_the_mean_over_both_directions(config):
    rng = np.random.default_rng(0)
    graph = undirected(rng.normal(size=(4, 3)), [(0, 1), (1, 2), (1, 3)], rng.normal(size=(3, 1)))
    directed = Graph(graph.x, graph.edge_index, graph.edge_attr)  # each message edge labelled
    net = network("edge", config)
    with torch.no_grad():
        shared, per_direction = net(pack([graph])), net(pack([directed]))
    torch.testing.assert_close(shared, (per_direction[:3] + per_direction[3:]) / 2)


@pytest.mark.parametrize("config", CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("level", LEVELS)
def test_every_parameter_is_trained(config, level):
    rng = np.random.default_rng(0)
    graphs = []
    for n in (4, 7, 9):
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.5]
        attr = rng.normal(size=(len(pairs), 1))
        graphs.append(undirected(rng.normal(size=(n, 3)) * 3, pairs, attr))
    net = network(level, config).train()
    net(pack(graphs)).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None, name
        # well above rounding: a parameter the output ignores has a gradient of ~1e-17
        assert p.grad.abs().max() > 1e-8, name


def test_attention_weights_for_plotting():
    rng = np.random.default_rng(0)
    batch = pack([path(5, 3, rng), path(3, 3, rng)])
    net = network("graph", {"aggregation": "attention"}, n_edge_features=0, n_blocks=3)
    weights = net.attention_weights(batch)
    assert len(weights) == 3
    for w in weights:
        totals = segment_sum(w, batch.edge_index[1], 8)
        torch.testing.assert_close(totals, torch.ones_like(totals))
    assert network("graph", {}, 0).attention_weights(batch) == [None, None]
    deepset = network("graph", {"block": "deepset"}, 0).attention_weights(batch)
    assert [tuple(w.shape) for w in deepset] == [(2, 5, 5)] * 2


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("block", ["gn", "deepset"])
def test_shapes_without_blocks_and_with_dropout(level, block):
    rng = np.random.default_rng(0)
    graphs = [path(4, 3, rng), path(2, 3, rng)]
    batch = pack(graphs)
    rows = {"graph": 2, "node": 6, "edge": 4}[level]
    flat = network(level, {"block": block}, n_edge_features=0, n_blocks=0)
    assert flat(batch).shape == (rows, 2)
    dropped = network(level, {"block": block}, n_edge_features=0, dropout=0.5).train()
    assert not torch.equal(dropped(batch), dropped(batch))
    dropped.eval()
    assert torch.equal(dropped(batch), dropped(batch))


def test_invalid_parameters_and_inputs_raise():
    for bad in ({"level": "pixel"}, {"block": "cnn"}, {"n_blocks": -1}, {"readout": "median"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            GraphNetwork(3, 0, 1, **bad)
    with pytest.raises(ValueError, match="aggregation"):
        GraphNetwork(3, 0, 1, aggregation="median")
    batch = pack([path(3, 3, np.random.default_rng(0))])
    with pytest.raises(ValueError, match="x of shape"):
        GraphNetwork(2, 0, 1).double()(batch)
    with pytest.raises(ValueError, match="edge features"):
        GraphNetwork(3, 1, 1).double()(batch)


def test_reset_parameters_redraws_every_weight():
    net = GraphNetwork(3, 1, 2, hidden=4, aggregation="keyquery", readout="attention")
    before = [p.detach().clone() for p in net.parameters()]
    net.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
