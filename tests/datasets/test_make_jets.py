"""make_jets: padded particle sets and kNN graphs of QCD and top jets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_dlpp.datasets import make_jets


@pytest.fixture(scope="module")
def jets():
    return make_jets(3000, random_state=0)


def _real(X: np.ndarray) -> np.ndarray:
    return (X != 0).any(axis=-1)


def test_layout(jets):
    X, y = jets
    assert X.shape == (3000, 60, 3)
    assert X.dtype == np.float32
    assert y.shape == (3000,)
    assert y.dtype == np.int64
    assert y.sum() == 1500
    assert np.isfinite(X).all()


def test_padding_rows_are_zero_and_real_rows_never_are(jets):
    X, _ = jets
    real = _real(X)
    n = real.sum(1)
    # Real particles first, padding after: the mask is a prefix.
    np.testing.assert_array_equal(real, np.arange(60)[None, :] < n[:, None])
    assert (X[real][:, 0] < 0).all()  # log of a momentum fraction below one
    assert (X[~real] == 0).all()
    assert n.min() >= 10
    assert n.max() <= 60


def test_particles_are_sorted_and_centred(jets):
    X, _ = jets
    real = _real(X)
    # real is a prefix, so real[:, 1:] marks pairs of consecutive real particles.
    assert (np.diff(X[:, :, 0], axis=1)[real[:, 1:]] <= 0).all()
    fraction = np.exp(X[:, :, 0]) * real
    np.testing.assert_allclose(fraction.sum(1), 1.0, rtol=1e-4)
    # The axis is the pT-weighted centroid of the constituents.
    centroid = (fraction[:, :, None] * X[:, :, 1:3]).sum(1)
    np.testing.assert_allclose(centroid, 0.0, atol=1e-5)
    assert np.median(np.hypot(X[real][:, 1], X[real][:, 2])) < 0.3


def test_max_particles_keeps_the_hardest():
    full, y_full = make_jets(50, random_state=1)
    short, y_short = make_jets(50, max_particles=15, random_state=1)
    assert short.shape == (50, 15, 3)
    np.testing.assert_array_equal(y_full, y_short)
    np.testing.assert_array_equal(short, full[:, :15])
    long, _ = make_jets(50, max_particles=80, random_state=1)
    np.testing.assert_array_equal(long[:, :60], full)
    assert (long[:, 60:] == 0).all()


def test_particle_type_column():
    plain, _ = make_jets(40, random_state=2)
    typed, _ = make_jets(40, particle_type=True, random_state=2)
    assert typed.shape == (40, 60, 4)
    np.testing.assert_array_equal(typed[..., :3], plain)
    real = _real(plain)
    assert set(np.unique(typed[real][:, 3]).tolist()) == {0.0, 1.0, 2.0}
    assert (typed[~real] == 0).all()


@pytest.mark.parametrize("k", [1, 4, 8])
def test_graphs_are_the_padded_sets_with_knn_edges(k):
    X, y = make_jets(12, random_state=3)
    graphs, y_graphs = make_jets(12, as_graphs=True, k=k, random_state=3)
    np.testing.assert_array_equal(y, y_graphs)
    for sample, graph, label in zip(X, graphs, y, strict=True):
        points = sample[_real(sample)]
        assert graph.graph["y"] == label
        assert graph.number_of_nodes() == len(points)
        np.testing.assert_array_equal(np.stack([x for _, x in graph.nodes(data="x")]), points)
        dist = np.hypot(*(points[:, None, 1:3] - points[None, :, 1:3]).transpose(2, 0, 1))
        np.fill_diagonal(dist, np.inf)
        expected = set()
        for i, row in enumerate(dist):
            for j in np.argsort(row, kind="stable")[:k]:
                expected.add((min(i, int(j)), max(i, int(j))))
        assert {(min(u, v), max(u, v)) for u, v in graph.edges()} == expected


def _jet_level(X: np.ndarray) -> np.ndarray:
    """Multiplicity and mass over pT, m^2 = sum_{i<j} z_i z_j dR_ij^2."""
    real = _real(X)
    z = np.exp(X[:, :, 0].astype(np.float64)) * real
    d2 = sum((X[:, :, None, c] - X[:, None, :, c]).astype(np.float64) ** 2 for c in (1, 2))
    mass = np.sqrt(0.5 * np.einsum("ni,nj,nij->n", z, z, d2))
    return np.column_stack([real.sum(1), mass])


def _three_subjets(X: np.ndarray) -> np.ndarray:
    """Momentum shares and pairwise masses of three subjets seeded by the hardest particles."""
    real = _real(X)
    z = np.exp(X[:, :, 0].astype(np.float64)) * real
    pos = X[:, :, 1:3].astype(np.float64)
    nearest = ((pos[:, :, None] - pos[:, None, :3]) ** 2).sum(-1).argmin(-1)
    member = (nearest[..., None] == np.arange(3)) * real[..., None]
    share = np.einsum("nik,ni->nk", member, z)
    centre = np.einsum("nik,ni,nid->nkd", member, z, pos) / share[..., None]
    pair_mass = [
        np.sqrt(share[:, a] * share[:, b] * ((centre[:, a] - centre[:, b]) ** 2).sum(-1))
        for a, b in ((0, 1), (0, 2), (1, 2))
    ]
    return np.column_stack([np.sort(share, 1), np.sort(np.column_stack(pair_mass), 1)])


def _auc(features: np.ndarray, y: np.ndarray) -> float:
    X_train, X_test, y_train, y_test = train_test_split(features, y, random_state=0)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X_train, y_train)
    return roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])


def test_jet_level_features_help_but_the_constituents_help_more(jets):
    X, y = jets
    jet_level = _jet_level(X)
    multiplicity_auc = roc_auc_score(y, jet_level[:, 0])
    mass_auc = roc_auc_score(y, jet_level[:, 1])
    assert 0.52 < multiplicity_auc < 0.7
    assert 0.75 < mass_auc < 0.92
    auc_jet = _auc(jet_level, y)
    auc_substructure = _auc(np.column_stack([jet_level, _three_subjets(X)]), y)
    assert 0.8 < auc_jet < 0.93
    assert auc_substructure > auc_jet + 0.02
