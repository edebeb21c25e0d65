"""pack_graphs on particle sets: padding, masks, lists, awkward, and built edges."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _graph_samples import N_FEATURES, assert_batches_equal, assert_same_input, jets, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_dlpp.graph import _set_edges, pack_graphs

FAST = settings(max_examples=40, deadline=None)


def _real_rows(X: np.ndarray) -> list[np.ndarray]:
    return [sample[(sample != 0).any(axis=1)] for sample in X]


def _brute_force_knn(points: np.ndarray, k: int) -> list[tuple[int, int]]:
    """(sender, receiver) pairs: for each receiver, its k nearest others by distance."""
    pairs = []
    for i, point in enumerate(points):
        dist = np.sqrt(((points - point) ** 2).sum(axis=1))
        dist[i] = np.inf
        order = np.argsort(dist, kind="stable")[: min(k, len(points) - 1)]
        pairs.extend((int(j), i) for j in order)
    return pairs


def _local_pairs(batch, graph: int) -> list[tuple[int, int]]:
    lo, hi = batch.edge_ptr[graph], batch.edge_ptr[graph + 1]
    offset = int(batch.node_ptr[graph])
    senders, receivers = (batch.edge_index[:, lo:hi] - offset).tolist()
    return list(zip(senders, receivers, strict=True))


@pytest.mark.parametrize("set_edges", ["none", "full", "knn"])
def test_padded_list_and_masked_forms_agree(set_edges):
    X = jets(12, 9, seed=1)
    rows = _real_rows(X)
    masked = np.ma.MaskedArray(X, mask=np.broadcast_to((X == 0).all(axis=2)[..., None], X.shape))
    explicit = (X != 0).any(axis=2)
    before = [snapshot(X), snapshot(rows), snapshot(masked)]
    options = {"set_edges": set_edges, "k": 3}
    reference = pack_graphs(rows, **options)
    assert_batches_equal(pack_graphs(X, **options), reference)
    assert_batches_equal(pack_graphs(masked, **options), reference)
    assert_batches_equal(pack_graphs(X, mask=explicit, **options), reference)
    assert_batches_equal(pack_graphs(X, mask=explicit.astype(int), **options), reference)
    for old, new in zip(before, [X, rows, masked], strict=True):
        assert_same_input(old, new)
    assert reference.n_nodes.tolist() == [len(r) for r in rows]
    torch.testing.assert_close(reference.x, torch.tensor(np.concatenate(rows), dtype=torch.float32))
    assert reference.edge_attr is None
    assert torch.equal(reference.edge_target, torch.arange(reference.edge_index.shape[1]))


def test_masked_padding_need_not_be_zero_and_zero_rows_can_be_real():
    X = np.ones((2, 3, 2))
    X[0, 1] = 0.0  # a real particle at the origin
    padding = np.zeros((2, 3, 2), dtype=bool)
    padding[1, 2] = True  # padding holding junk (even NaN) is ignored
    X[1, 2] = np.nan
    batch = pack_graphs(np.ma.MaskedArray(X, mask=padding))
    assert batch.n_nodes.tolist() == [3, 2]


@FAST
@given(st.integers(1, 12), st.integers(1, 9), st.integers(0, 10_000))
def test_full_edges_match_brute_force(n_sets, max_particles, seed):
    rows = _real_rows(jets(n_sets, max_particles, seed=seed))
    batch = pack_graphs(rows, set_edges="full")
    for g, points in enumerate(rows):
        n = len(points)
        expected = [(j, i) for i in range(n) for j in range(n) if i != j]
        assert _local_pairs(batch, g) == expected


@FAST
@given(st.integers(1, 12), st.integers(1, 14), st.integers(1, 6), st.integers(0, 10_000))
def test_knn_edges_match_brute_force(n_sets, max_particles, k, seed):
    rows = _real_rows(jets(n_sets, max_particles, seed=seed))
    columns = [0, 2]
    batch = pack_graphs(rows, set_edges="knn", k=k, knn_features=columns)
    for g, points in enumerate(rows):
        assert _local_pairs(batch, g) == _brute_force_knn(points[:, columns], k)


def test_knn_blocks_do_not_change_the_result(monkeypatch):
    rows = _real_rows(jets(30, 12, seed=3))
    whole = pack_graphs(rows, set_edges="knn", k=4)
    monkeypatch.setattr(_set_edges, "_BLOCK_ENTRIES", 1)
    assert_batches_equal(pack_graphs(rows, set_edges="knn", k=4), whole)


def test_small_sets_get_fewer_neighbours_and_a_single_particle_none():
    rows = [np.array([[0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0], [3.0, 3.0]])]
    batch = pack_graphs(rows, set_edges="knn", k=8)
    assert batch.n_edges.tolist() == [0, 6]


@FAST
@given(st.integers(1, 10), st.data())
def test_select_equals_packing_the_selection(n_sets, data):
    X = jets(n_sets, 8, seed=n_sets)
    index = data.draw(st.lists(st.integers(0, n_sets - 1), min_size=1, max_size=10))
    for set_edges in ("none", "full", "knn"):
        batch = pack_graphs(X, set_edges=set_edges, k=3)
        picked = pack_graphs(X[index], set_edges=set_edges, k=3)
        assert_batches_equal(batch.select(torch.tensor(index)), picked)


def test_torch_tensor_and_object_array_inputs():
    X = jets(4, 5)
    reference = pack_graphs(X)
    assert_batches_equal(pack_graphs(torch.from_numpy(X)), reference)
    ragged = np.empty(4, dtype=object)
    ragged[:] = _real_rows(X)
    assert_batches_equal(pack_graphs(ragged), reference)


def test_awkward_records_and_lists():
    ak = pytest.importorskip("awkward")
    rows = _real_rows(jets(6, 7, seed=5))
    names = ["pt", "eta", "phi"]
    records = ak.Array([[dict(zip(names, p.tolist(), strict=True)) for p in r] for r in rows])
    before = snapshot(records.to_list())
    reference = pack_graphs(rows, set_edges="knn", k=2, knn_features=[1, 2])
    assert_batches_equal(
        pack_graphs(records, set_edges="knn", k=2, knn_features=["eta", "phi"]), reference
    )
    assert records.to_list() == before
    swapped = pack_graphs(records, node_features=["phi", "pt"])
    expected = np.concatenate(rows)[:, [2, 0]].astype(np.float32)
    np.testing.assert_array_equal(swapped.x.numpy(), expected)
    numbers = ak.Array([r.tolist() for r in rows])
    assert_batches_equal(pack_graphs(numbers), pack_graphs(rows))
    one_by_one = pack_graphs([records[i] for i in range(len(rows))])
    assert_batches_equal(one_by_one, pack_graphs(rows))


def test_awkward_missing_values_are_named():
    ak = pytest.importorskip("awkward")
    records = ak.Array([[{"pt": 1.0}], [{"pt": 2.0}, {"pt": None}]])
    with pytest.raises(ValueError, match=r"Sample 1: particle 1 has NaN or infinite"):
        pack_graphs(records)


def test_knn_features_by_index_and_negative_index():
    rows = _real_rows(jets(5, 6, seed=7))
    a = pack_graphs(rows, set_edges="knn", k=2, knn_features=[N_FEATURES - 1])
    b = pack_graphs(rows, set_edges="knn", k=2, knn_features=-1)
    assert_batches_equal(a, b)
