"""The jet taggers as estimators: EdgeConv and particle-attention blocks, presets, jet data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score

from sklearn_dlpp import GraphClassifier, NodeClassifier
from sklearn_dlpp.datasets import make_jets
from sklearn_dlpp.nn import ParticleNet, ParticleTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden": 8, "n_blocks": 1, "max_iter": 2, "random_state": 0}
FOUR_MOMENTA = [-4, -3, -2, -1]  # make_jets(four_momenta=True): px, py, pz, E last


def _n_weights(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def jets():
    return make_jets(40, max_particles=12, four_momenta=True, random_state=0)


# ---------------------------------------------------------------- presets
@pytest.mark.parametrize(
    ("network", "published"),
    [
        # ParticleNet paper (top tagging: 7 features, 2 classes): 366k
        (lambda: ParticleNet(7, 2), 366_000),
        # ParT paper (JetClass: 17 features, 10 classes, 4 pair features): 2.14M
        (lambda: ParticleTransformer(17, 10, four_momentum_columns=[0, 1, 2, 3]), 2_140_000),
    ],
    ids=["particlenet", "part"],
)
def test_presets_have_the_published_number_of_weights(network, published):
    assert abs(_n_weights(network()) / published - 1) < 0.05


def test_presets_build_the_papers_networks(jets):
    X, y = jets
    n_features = X.shape[2]
    particlenet = GraphClassifier(preset="particlenet", knn_features=[1, 2], max_iter=1)
    particlenet.fit(X[:8], y[:8])
    assert isinstance(particlenet.module_, ParticleNet)
    assert particlenet.module_.point_columns == [1, 2]
    assert _n_weights(particlenet.module_) == _n_weights(ParticleNet(n_features, 1))
    part = GraphClassifier(preset="part", pair_features=FOUR_MOMENTA, max_iter=1)
    part.fit(X[:8], y[:8])
    assert isinstance(part.module_, ParticleTransformer)
    assert part.module_.four_momentum_columns == [3, 4, 5, 6]
    expected = ParticleTransformer(n_features, 1, four_momentum_columns=[3, 4, 5, 6])
    assert _n_weights(part.module_) == _n_weights(expected)
    # the pair bias reads the raw four-momenta: the module undoes the standardisation
    np.testing.assert_allclose(part.module_.input_mean.numpy(), part.node_mean_, rtol=1e-6)
    np.testing.assert_allclose(part.module_.input_scale.numpy(), part.node_scale_, rtol=1e-6)


def test_presets_are_graph_level_only():
    graphs, _ = make_jets(4, as_graphs=True, k=2, random_state=0)
    for graph in graphs:
        for node in graph:
            graph.nodes[node]["y"] = node % 2
    with pytest.raises(ValueError, match="graph-level tagger"):
        NodeClassifier(preset="particlenet", max_iter=1).fit(graphs)


# ------------------------------------------------------------ the blocks
def test_dynamic_edgeconv_ignores_the_given_edges_and_static_uses_them(jets):
    X, y = jets

    def proba(**params):
        clf = GraphClassifier(block="edgeconv", k=3, aggregation="mean", **SMALL, **params)
        return clf.fit(X, y).predict_proba(X)

    dynamic = proba(set_edges="none")
    np.testing.assert_array_equal(proba(set_edges="full"), dynamic)
    static_full = proba(set_edges="full", dynamic=False)
    static_knn = proba(set_edges="knn", knn_features=[1, 2], dynamic=False)
    assert not np.allclose(static_full, static_knn)
    assert not np.allclose(static_full, dynamic)


def test_edgeconv_first_neighbours_come_from_knn_features(jets):
    X, y = jets
    clf = GraphClassifier(block="edgeconv", knn_features=["a", "b"], **SMALL)
    with pytest.raises(ValueError, match="knn_features entry 'a'"):
        clf.fit(X, y)
    clf = GraphClassifier(block="edgeconv", knn_features=[1, 2], **SMALL).fit(X, y)
    assert clf.module_.knn_columns == [1, 2]


def test_transformer_pair_features_bias_the_attention(jets):
    X, y = jets
    with_pairs = GraphClassifier(
        block="transformer", n_heads=2, pair_features=FOUR_MOMENTA, **SMALL
    )
    without = clone(with_pairs).set_params(pair_features=None)
    with_pairs.fit(X, y)
    without.fit(X, y)
    assert with_pairs.module_.pair_embedding is not None
    assert without.module_.pair_embedding is None
    assert not np.allclose(with_pairs.predict_proba(X), without.predict_proba(X))
    (attention,) = with_pairs.attention_weights(X[:1])
    n = int((np.abs(X[0]).sum(1) > 0).sum())
    assert attention.shape == (n, n)
    np.testing.assert_allclose(attention.sum(1), 1.0, rtol=1e-5)


def test_transformer_estimator_is_invariant_to_the_particle_order(jets):
    X, y = jets
    clf = GraphClassifier(block="transformer", n_heads=2, pair_features=FOUR_MOMENTA, **SMALL)
    clf.fit(X, y)
    shuffled = X[:, np.random.default_rng(0).permutation(X.shape[1])]  # padding moves too
    np.testing.assert_allclose(clf.predict_proba(shuffled), clf.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"block": "edgeconv", "aggregation": "attention"}, "block='edgeconv' aggregates"),
        ({"block": "transformer", "pair_features": [0, 1, 2]}, "pair_features names the 4"),
        ({"block": "transformer", "pair_features": [0, 1, 2, 99]}, "pair_features entry 99"),
        ({"block": "transformer", "hidden": 10, "n_heads": 4}, "n_heads"),
    ],
)
def test_bad_options_get_a_clear_error(jets, params, match):
    X, y = jets
    with pytest.raises(ValueError, match=match):
        GraphClassifier(**{**SMALL, **params}).fit(X, y)


def test_taggers_go_into_cross_validation(jets):
    X, y = jets
    for block in ("edgeconv", "transformer"):
        clf = GraphClassifier(block=block, k=3, n_heads=2, **SMALL)
        assert cross_val_score(clf, X, y, cv=2).shape == (2,)


# ------------------------------------------------------------------ data
def test_make_jets_four_momenta_match_the_other_columns():
    plain, y_plain = make_jets(30, random_state=1)
    X, y = make_jets(30, four_momenta=True, random_state=1)
    np.testing.assert_array_equal(X[:, :, :3], plain)
    np.testing.assert_array_equal(y, y_plain)
    real = np.abs(plain).sum(-1) > 0
    px, py, pz, energy = np.moveaxis(X[:, :, 3:].astype(np.float64), -1, 0)
    pt = np.hypot(px, py)
    assert (energy[real] > 0).all()
    assert (X[~real] == 0).all()
    # massless, and pT shares as in log_pt_fraction (the jet pT includes dropped particles)
    np.testing.assert_allclose(energy**2, pt**2 + pz**2, rtol=1e-4)
    share = pt / pt.sum(1, keepdims=True)
    np.testing.assert_allclose(np.log(share[real]), plain[real][:, 0], atol=1e-4)
    # the eta and phi differences between particles are the delta columns'
    eta, phi = np.arcsinh(pz / np.maximum(pt, 1e-12)), np.arctan2(py, px)
    d_eta = eta[:, 1] - eta[:, 0]
    d_phi = np.angle(np.exp(1j * (phi[:, 1] - phi[:, 0])))
    np.testing.assert_allclose(d_eta, plain[:, 1, 1] - plain[:, 0, 1], atol=1e-4)
    np.testing.assert_allclose(d_phi, plain[:, 1, 2] - plain[:, 0, 2], atol=1e-4)


def test_hard_jets_hide_the_mass_and_add_soft_particles():
    def mass_auc_and_multiplicity(difficulty):
        X, y = make_jets(2000, four_momenta=True, difficulty=difficulty, random_state=0)
        p = X[:, :, 3:].astype(np.float64).sum(1)
        mass = np.sqrt(np.maximum(p[:, 3] ** 2 - (p[:, :3] ** 2).sum(1), 0))
        over_pt = mass / np.hypot(p[:, 0], p[:, 1])
        return roc_auc_score(y, over_pt), (np.abs(X).sum(-1) > 0).sum(1).mean()

    auc, multiplicity = mass_auc_and_multiplicity("standard")
    hard_auc, hard_multiplicity = mass_auc_and_multiplicity("hard")
    assert auc > 0.8
    assert hard_auc < 0.65
    assert hard_multiplicity > multiplicity + 5
