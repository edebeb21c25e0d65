"""What the user guide and the docstrings state in numbers holds in the code.

Each test names the page or docstring whose statement it checks: the weighted
loss of the training guide, and the windows, spreads and class fractions of the
data-set generators.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta

from sklearn_dlpp import MLPClassifier, MLPRegressor
from sklearn_dlpp.datasets import make_calorimeter, make_events, make_jets, make_tracks

# ------------------------------------------------ weighted loss (training.md)
X_TINY = np.array([[0.0, 1.0], [1.0, -1.0], [2.0, 0.5]])
NLO_WEIGHTS = np.array([2.0, -1.0, 1.0])  # a negative weight, total 2, sum |w| 4


def _one_frozen_step(estimator, y, **params):
    """Fit one full batch with a negligible step: the reported loss is at the final weights."""
    return estimator.set_params(
        solver="sgd",
        learning_rate_init=1e-12,
        momentum=0.0,
        max_iter=1,
        batch_size=3,
        shuffle=False,
        dtype="float64",
        random_state=0,
        **params,
    ).fit(X_TINY, y, sample_weight=NLO_WEIGHTS)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_weighted_squared_error_is_normalised_by_the_sum_of_absolute_weights(alpha):
    y = np.array([1.0, -0.5, 2.0])
    reg = _one_frozen_step(MLPRegressor(hidden_layer_sizes=(4,)), y, alpha=alpha)
    losses = 0.5 * (y - reg.predict(X_TINY)) ** 2
    penalty = 0.5 * alpha * sum((W**2).sum() for W in reg.coefs_)
    documented = ((NLO_WEIGHTS * losses).sum() + penalty) / np.abs(NLO_WEIGHTS).sum()
    assert reg.loss_curve_[0] == pytest.approx(documented, rel=1e-9)
    # Not the weighted mean over sum(w), which is twice as large here.
    weighted_mean = ((NLO_WEIGHTS * losses).sum() + penalty) / NLO_WEIGHTS.sum()
    assert reg.loss_curve_[0] == pytest.approx(weighted_mean / 2, rel=1e-9)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_weighted_cross_entropy_is_normalised_by_the_sum_of_absolute_weights():
    y = np.array([1, 0, 1])
    clf = _one_frozen_step(MLPClassifier(hidden_layer_sizes=(4,)), y, alpha=0.0)
    p = clf.predict_proba(X_TINY)[:, 1]
    losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    expected = (NLO_WEIGHTS * losses).sum() / np.abs(NLO_WEIGHTS).sum()
    assert clf.loss_curve_[0] == pytest.approx(expected, rel=1e-9)


# ------------------------------------------------------------ make_tracks
def _hits(graph):
    x = np.array([graph.nodes[i]["x"] for i in graph.nodes], dtype=np.float64)
    particle = np.array([graph.nodes[i]["particle"] for i in graph.nodes])
    layer = np.array([graph.nodes[i]["layer"] for i in graph.nodes])
    return x, particle, layer


def test_make_tracks_candidate_phi_window_is_one_and_a_half_times_the_softest_bend():
    """Docstring: ``|phi_2 - phi_1| <= 1.5 * 0.3 B (r_2 - r_1) / (2 pt_min)``."""
    pt_min, field = 0.5, 2.0
    graphs, _ = make_tracks(30, n_tracks=20, pt_min=pt_min, random_state=0)
    ratios = []
    for graph in graphs:
        x, _, _ = _hits(graph)
        pairs = np.array(graph.edges())
        dr = np.abs(x[pairs[:, 1], 0] - x[pairs[:, 0], 0])
        dphi = np.abs(np.angle(np.exp(1j * (x[pairs[:, 1], 1] - x[pairs[:, 0], 1]))))
        ratios.append(dphi / (0.3 * field * dr / (2 * pt_min)))
    ratios = np.concatenate(ratios)
    assert ratios.max() <= 1.5 + 1e-4  # float32 hit coordinates
    assert ratios.max() > 1.4  # the window is used up to its edge, not at 1.2


def test_make_tracks_jet_tracks_spread_by_006_around_their_axis():
    """Docstring: 70 % of the tracks fly in a jet, a normal spread of 0.06 in phi and eta."""
    # Stiff tracks, so that the innermost hits point along the track direction.
    graphs, _ = make_tracks(6, n_tracks=300, noise_fraction=0.0, pt_min=20.0, random_state=0)
    in_jet, offsets = [], []
    for graph in graphs:
        x, particle, layer = _hits(graph)
        # Direction of each track from its hits on the two innermost layers.
        first = {p: i for i, p in enumerate(particle) if layer[i] == 0}
        second = {p: i for i, p in enumerate(particle) if layer[i] == 1}
        tracks = sorted(set(first) & set(second))
        i0 = np.array([first[p] for p in tracks])
        i1 = np.array([second[p] for p in tracks])
        phi = x[i0, 1]
        eta = np.arcsinh((x[i1, 2] - x[i0, 2]) / (x[i1, 0] - x[i0, 0]))
        # The jet axis: the densest track's neighbourhood, then its mean.
        d_phi = np.angle(np.exp(1j * (phi[:, None] - phi[None, :])))
        close = (np.abs(d_phi) < 0.2) & (np.abs(eta[:, None] - eta[None, :]) < 0.2)
        seed = int(close.sum(1).argmax())
        for _ in range(3):
            near = (np.abs(np.angle(np.exp(1j * (phi - phi[seed])))) < 0.3) & (
                np.abs(eta - eta[seed]) < 0.3
            )
            axis_phi = np.angle(np.exp(1j * phi[near]).mean())
            axis_eta = eta[near].mean()
        d_phi = np.angle(np.exp(1j * (phi - axis_phi)))
        d_eta = eta - axis_eta
        near = (np.abs(d_phi) < 0.3) & (np.abs(d_eta) < 0.3)  # 5 sigma
        in_jet.append(near.mean())
        offsets.append(np.column_stack([d_phi[near], d_eta[near]]))
    assert np.mean(in_jet) == pytest.approx(0.70, abs=0.03)
    spread = np.concatenate(offsets).std(axis=0)
    np.testing.assert_allclose(spread, [0.06, 0.06], atol=0.006)


# --------------------------------------------------------------- make_jets
def test_make_jets_top_fraction_is_exact():
    _, y = make_jets(101, top_fraction=0.3, max_particles=20, random_state=0)
    assert y.sum() == round(0.3 * 101)


# ------------------------------------------------------------- make_events
@pytest.fixture(scope="module")
def events():
    return make_events(4000, signal_fraction=0.5, random_state=0)


def _lepton_pairs(X):
    """Per event: flavour (1 muon), charge and four-vector (pt, eta, phi, E) of its two leptons."""
    flavour, charge, p4 = [], [], []
    for event in X:
        leptons = np.vstack([event["electron"], event["muon"]])
        flavour.append([0] * len(event["electron"]) + [1] * len(event["muon"]))
        charge.append(leptons[:, 4])
        p4.append(leptons[:, :4])
    return np.array(flavour), np.array(charge), np.array(p4)


def test_make_events_class_fractions_and_lepton_pairs(events):
    """Docstring: signal pairs share a flavour with opposite charges; background ones
    have independent flavours and charges (same sign and same flavour in half)."""
    X, y = events
    assert y.sum() == 2000
    flavour, charge, _ = _lepton_pairs(X)
    same_flavour = flavour[:, 0] == flavour[:, 1]
    opposite = charge[:, 0] != charge[:, 1]
    signal = y == 1
    assert same_flavour[signal].all()
    assert opposite[signal].all()
    assert same_flavour[~signal].mean() == pytest.approx(0.5, abs=0.04)
    assert opposite[~signal].mean() == pytest.approx(0.5, abs=0.04)


def test_make_events_b_like_jets(events):
    """Docstring: background jets b-like with probability 0.25, the signal's two b jets 0.8."""
    X, y = events
    b_score = beta(6.0, 1.5).sf(0.5)  # a b-like jet's b-tag above 0.5
    light_score = beta(1.2, 6.0).sf(0.5)
    jets = [event["jet"][:, 4] for event in X]
    background = np.concatenate([b for b, s in zip(jets, y, strict=True) if not s])
    expected = 0.25 * b_score + 0.75 * light_score
    assert (background > 0.5).mean() == pytest.approx(expected, abs=0.02)
    # Signal: the two b jets and Poisson(0.8) light ones, 0.8 * 2 / 2.8 b-like on average.
    signal = np.concatenate([b for b, s in zip(jets, y, strict=True) if s])
    b_fraction = 0.8 * 2 / 2.8
    expected = b_fraction * b_score + (1 - b_fraction) * light_score
    assert (signal > 0.5).mean() == pytest.approx(expected, abs=0.02)


def test_make_events_has_no_z_peak(events):
    """Docstring: no m_ll peak at the Z mass, the leptons are drawn independently."""
    vector = pytest.importorskip("vector")
    X, y = events
    _, _, p4 = _lepton_pairs(X)
    first, second = (
        vector.array({"pt": p[:, 0], "eta": p[:, 1], "phi": p[:, 2], "E": p[:, 3]})
        for p in (p4[:, 0], p4[:, 1])
    )
    m_ll = (first + second).mass
    in_window = (np.abs(m_ll - 91.19) < 10).astype(float)
    signal = y == 1
    # A real Z -> l l signal would put most pairs in the window.
    assert in_window[signal].mean() < 0.15
    assert in_window[signal].mean() == pytest.approx(in_window[~signal].mean(), abs=0.04)


# --------------------------------------------------------- make_calorimeter
def test_make_calorimeter_labels_are_shower_kinds_and_shower_indices_are_attributes():
    """Docstring: ``y`` is 0 noise, 1 electromagnetic, 2 hadronic; ``shower`` the
    index of the shower in the event, -1 for noise."""
    graphs, labels = make_calorimeter(10, n_showers=3, random_state=0)
    for graph, y in zip(graphs, labels, strict=True):
        shower = np.array([graph.nodes[i]["shower"] for i in graph.nodes])
        assert set(np.unique(y)) <= {0, 1, 2}
        np.testing.assert_array_equal(shower == -1, y == 0)
        assert shower.max() < 3
        # One label per kind, not per shower: each shower's cells share their kind.
        for index in np.unique(shower[shower >= 0]):
            assert len(np.unique(y[shower == index])) == 1
