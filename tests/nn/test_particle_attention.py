"""Pair interaction features, particle attention with a pair bias, the Particle Transformer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sklearn_dlpp.graph import pack_graphs
from sklearn_dlpp.nn import ParticleAttentionBlock, ParticleTransformer, pair_interactions


def _four_momenta(rng, n):
    """Massive particles, |eta| < 2, phi everywhere (pairs across phi = +-pi included)."""
    pt = rng.uniform(0.5, 100.0, n)
    eta = rng.uniform(-2.0, 2.0, n)
    phi = rng.uniform(-math.pi, math.pi, n)
    phi[:2] = [math.pi - 0.05, -math.pi + 0.05]
    mass = rng.uniform(0.0, 1.0, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return np.column_stack([px, py, pz, energy])


def _direct(p):
    """The ParT interaction features of one pair, from the textbook formulas."""
    out = np.empty((len(p), len(p), 4))
    for a in range(len(p)):
        for b in range(len(p)):
            pta, ptb = np.hypot(*p[a, :2]), np.hypot(*p[b, :2])
            ya = np.arctanh(p[a, 2] / p[a, 3])
            yb = np.arctanh(p[b, 2] / p[b, 3])
            dphi = np.angle(
                np.exp(1j * (np.arctan2(p[a, 1], p[a, 0]) - np.arctan2(p[b, 1], p[b, 0])))
            )
            delta = np.hypot(ya - yb, dphi)
            total = p[a] + p[b]
            m2 = total[3] ** 2 - total[:3] @ total[:3]
            values = [delta, min(pta, ptb) * delta, min(pta, ptb) / (pta + ptb), m2]
            out[a, b] = np.log(np.maximum(values, 1e-8))
    return out


def test_interaction_features_match_a_direct_numpy_computation():
    p = _four_momenta(np.random.default_rng(0), 7)
    got = pair_interactions(torch.tensor(p)).numpy()
    want = _direct(p)
    off_diagonal = ~np.eye(7, dtype=bool)
    np.testing.assert_allclose(got[off_diagonal], want[off_diagonal], rtol=1e-9, atol=1e-9)
    # a particle with itself: Delta = k_T = 0 are floored at eps, z = 1/2, m^2 = 4 m^2
    np.testing.assert_allclose(np.diagonal(got, axis1=0, axis2=1)[:2], math.log(1e-8))
    np.testing.assert_allclose(np.diagonal(got, axis1=0, axis2=1)[2], math.log(0.5))
    # the pair across phi = +-pi is 0.1 apart in phi, not 2 pi - 0.1
    d_y = np.arctanh(p[0, 2] / p[0, 3]) - np.arctanh(p[1, 2] / p[1, 3])
    assert got[0, 1, 0] == pytest.approx(0.5 * math.log(d_y**2 + 0.1**2))


def test_interaction_features_in_float32_and_batched():
    p = np.stack([_four_momenta(np.random.default_rng(s), 5) for s in (1, 2)])
    got = pair_interactions(torch.tensor(p, dtype=torch.float32))
    assert got.shape == (2, 5, 5, 4)
    assert got.dtype == torch.float32
    off = ~np.eye(5, dtype=bool)
    np.testing.assert_allclose(got[1].numpy()[off], _direct(p[1])[off], rtol=1e-3, atol=1e-3)


def test_block_is_permutation_equivariant_with_the_bias_permuted_alike():
    torch.manual_seed(0)
    block = ParticleAttentionBlock(16, n_heads=4).eval()
    x, bias = torch.randn(1, 6, 16), torch.randn(1, 4, 6, 6)
    mask = torch.ones(1, 6, dtype=torch.bool)
    out, attention = block(x, mask, bias)
    perm = torch.randperm(6)
    permuted, _ = block(x[:, perm], mask, bias[:, :, perm][:, :, :, perm])
    torch.testing.assert_close(permuted, out[:, perm])
    torch.testing.assert_close(attention.sum(-1), torch.ones(1, 4, 6))


def test_the_pair_bias_steers_the_attention_and_padding_gets_none():
    block = ParticleAttentionBlock(8, n_heads=2).eval()
    x = torch.randn(1, 4, 8)
    mask = torch.tensor([[True, True, True, False]])
    bias = torch.zeros(1, 2, 4, 4)
    bias[:, :, :, 1] = 50.0  # every particle should look at particle 1
    bias[:, :, :, 3] = 100.0  # but never at the padded slot, however large its bias
    _, attention = block(x, mask, bias)
    torch.testing.assert_close(attention[0, :, :3, 1], torch.ones(2, 3))
    assert (attention[..., 3] == 0).all()
    # a padded slot's content does not reach the real particles
    changed = x.clone()
    changed[0, 3] = 1e3
    torch.testing.assert_close(block(changed, mask, bias)[0][0, :3], block(x, mask, bias)[0][0, :3])


def test_class_attention_updates_only_the_token_and_ignores_the_order():
    block = ParticleAttentionBlock(8, n_heads=2).eval()
    x, cls = torch.randn(1, 5, 8), torch.randn(1, 1, 8)
    mask = torch.ones(1, 5, dtype=torch.bool)
    out, attention = block(x, mask, cls=cls)
    assert out.shape == (1, 1, 8)
    assert attention.shape == (1, 2, 1, 6)
    torch.testing.assert_close(block(x[:, torch.randperm(5)], mask, cls=cls)[0], out)


def _jets(rng, sizes):
    """Particle sets with columns (feature, px, py, pz, E)."""
    return [
        np.column_stack([rng.normal(size=n), _four_momenta(rng, n)]).astype(np.float32)
        for n in sizes
    ]


def test_particle_transformer_is_invariant_and_independent_of_the_batch():
    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    jets = _jets(rng, [4, 7, 5])
    net = ParticleTransformer(
        5,
        3,
        embed=(16,),
        pair_embed=(8,),
        n_heads=2,
        n_blocks=2,
        n_class_blocks=1,
        four_momentum_columns=[1, 2, 3, 4],
    ).eval()
    out = net(pack_graphs(jets))
    assert out.shape == (3, 3)
    shuffled = [jet[rng.permutation(len(jet))] for jet in jets]
    torch.testing.assert_close(net(pack_graphs(shuffled)), out)
    torch.testing.assert_close(net(pack_graphs(jets[1:2])), out[1:2])
    weights = net.attention_weights(pack_graphs(jets))
    assert len(weights) == 2
    assert weights[0].shape == (3, 7, 7)
    torch.testing.assert_close(weights[0][0, :4, :4].sum(-1), torch.ones(4))
    assert (weights[0][0, 4:] == 0).all()


def test_pair_bias_comes_from_the_raw_four_momenta():
    """The estimator standardises x; the bias must undo that for the four-momentum columns."""
    torch.manual_seed(0)
    jets = _jets(np.random.default_rng(4), [5])
    raw = pack_graphs(jets)
    net = ParticleTransformer(
        5,
        1,
        embed=(8,),
        pair_embed=(8,),
        n_heads=2,
        n_blocks=1,
        n_class_blocks=1,
        four_momentum_columns=[1, 2, 3, 4],
    ).eval()
    mask = torch.ones(1, 5, dtype=torch.bool)
    want = net.pair_bias(raw.x, raw.node_graph, raw.node_ptr, mask)
    mean, scale = (
        torch.tensor([0.0, 3.0, -2.0, 1.0, 20.0]),
        torch.tensor([1.0, 2.0, 4.0, 3.0, 10.0]),
    )
    net.input_mean.copy_(mean)
    net.input_scale.copy_(scale)
    got = net.pair_bias((raw.x - mean) / scale, raw.node_graph, raw.node_ptr, mask)
    # off the diagonal: a particle's own ln m^2 is float32 rounding of E^2 - p^2
    pairs = ~torch.eye(5, dtype=torch.bool)
    torch.testing.assert_close(got[..., pairs], want[..., pairs], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="px, py, pz, E"):
        ParticleTransformer(5, 1, four_momentum_columns=[1, 2, 3])
    with pytest.raises(ValueError, match="divide"):
        ParticleAttentionBlock(10, n_heads=3)
