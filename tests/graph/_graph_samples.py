"""Random graphs and particle sets, and slow obviously-correct references, for tests/graph."""

from __future__ import annotations

import copy
from dataclasses import fields

import networkx as nx
import numpy as np
import torch
from hypothesis import strategies as st

from sklearn_dlpp.graph import GraphBatch

N_FEATURES = 3

# Node ids of several hashable types, so that nothing may assume integer ids.
_IDS = st.one_of(
    st.integers(-1000, 1000),
    st.text(min_size=1, max_size=3),
    st.tuples(st.integers(0, 9), st.text(max_size=2)),
)


@st.composite
def graphs(draw, *, multigraph: bool = False) -> nx.Graph:
    """A random (di/multi)graph with node attribute ``x`` (unique rows) and edge attribute ``w``."""
    n = draw(st.integers(1, 7))
    ids = draw(st.lists(_IDS, min_size=n, max_size=n, unique=True))
    directed = draw(st.booleans())
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))
    if multigraph:
        graph = nx.MultiDiGraph() if directed else nx.MultiGraph()
    else:
        graph = nx.DiGraph() if directed else nx.Graph()
    order = draw(st.permutations(range(n)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    for position in order:
        graph.add_node(ids[position], x=rng.normal(size=N_FEATURES))
    for a, b in pairs:
        graph.add_edge(ids[a], ids[b], w=rng.normal(size=2))
    return graph


def relabelled(graph: nx.Graph, seed: int) -> nx.Graph:
    """The same graph with new node ids and shuffled node and edge insertion orders."""
    rng = np.random.default_rng(seed)
    nodes = list(graph)
    new_id = {node: f"n{rng.integers(1 << 30)}-{i}" for i, node in enumerate(nodes)}
    out = graph.__class__()
    for i in rng.permutation(len(nodes)):
        out.add_node(new_id[nodes[i]], **graph.nodes[nodes[i]])
    edges = list(graph.edges(data=True))
    for i in rng.permutation(len(edges)):
        u, v, data = edges[i]
        out.add_edge(new_id[u], new_id[v], **data)
    return out


def jets(n_samples: int, max_particles: int, seed: int = 0) -> np.ndarray:
    """Zero-padded particle sets (n_samples, max_particles, N_FEATURES), 1 to max real each."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n_samples, max_particles, N_FEATURES))
    for i, n in enumerate(rng.integers(1, max_particles + 1, size=n_samples)):
        X[i, :n] = rng.normal(size=(n, N_FEATURES))
    return X


def snapshot(X: object) -> object:
    """A deep copy that compares equal to X only if X was not modified (graph order too)."""
    return copy.deepcopy(X)


def assert_same_input(before: object, after: object) -> None:
    if isinstance(before, np.ndarray):
        np.testing.assert_array_equal(np.ma.getdata(before), np.ma.getdata(after))
        np.testing.assert_array_equal(np.ma.getmaskarray(before), np.ma.getmaskarray(after))
        return
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        if isinstance(old, nx.Graph):
            assert list(old.nodes) == list(new.nodes)
            assert list(old.edges) == list(new.edges)
            for (_, a), (_, b) in zip(old.nodes(data=True), new.nodes(data=True), strict=True):
                assert a.keys() == b.keys()
                for key in a:
                    np.testing.assert_array_equal(a[key], b[key])
            for a, b in zip(old.edges(data=True), new.edges(data=True), strict=True):
                assert a[2].keys() == b[2].keys()
                for key in a[2]:
                    np.testing.assert_array_equal(a[2][key], b[2][key])
        else:
            np.testing.assert_array_equal(np.asarray(old), np.asarray(new))


def reference_pack(
    graphs: list[nx.Graph], edge_features: str | None = None, n_edge_features: int = 2
) -> GraphBatch:
    """A per-edge Python loop that packs graphs as documented, to compare against."""
    x, messages, node_ptr, edge_ptr, target_ptr = [], [], [0], [0], [0]
    for graph in graphs:
        position = {node: node_ptr[-1] + i for i, node in enumerate(graph)}
        x.extend(np.atleast_1d(data["x"]) for _, data in graph.nodes(data=True))
        label = target_ptr[-1]
        for u, v, data in graph.edges(data=True):
            attr = data.get(edge_features) if edge_features else None
            messages.append((position[u], position[v], label, attr))
            if not graph.is_directed() and u != v:
                messages.append((position[v], position[u], label, attr))
            label += 1
        node_ptr.append(node_ptr[-1] + len(graph))
        edge_ptr.append(len(messages))
        target_ptr.append(label)
    long = torch.long
    senders = [m[0] for m in messages]
    receivers = [m[1] for m in messages]
    n_nodes = np.diff(node_ptr)
    return GraphBatch(
        x=torch.tensor(np.array(x), dtype=torch.float32),
        edge_index=torch.tensor([senders, receivers], dtype=long).reshape(2, -1),
        edge_attr=(
            torch.tensor(
                np.array([np.atleast_1d(m[3]) for m in messages]).reshape(-1, n_edge_features),
                dtype=torch.float32,
            )
            if edge_features
            else None
        ),
        node_graph=torch.repeat_interleave(torch.arange(len(graphs)), torch.tensor(n_nodes)),
        node_ptr=torch.tensor(node_ptr, dtype=long),
        edge_ptr=torch.tensor(edge_ptr, dtype=long),
        edge_target=torch.tensor([m[2] for m in messages], dtype=long),
        target_ptr=torch.tensor(target_ptr, dtype=long),
    )


def assert_batches_equal(actual: GraphBatch, expected: GraphBatch) -> None:
    """Field by field, exact for integer tensors."""
    for field in fields(GraphBatch):
        a, b = getattr(actual, field.name), getattr(expected, field.name)
        if b is None or a is None:
            assert a is None, field.name
            assert b is None, field.name
            continue
        assert a.dtype == b.dtype, field.name
        assert a.shape == b.shape, (field.name, a.shape, b.shape)
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=field.name)
