"""Toy collision events with jets, electrons, muons and photons: typed objects, two classes."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from sklearn_dlpp._compat import Interval
from sklearn_dlpp.datasets._validation import validate_generator
from sklearn_dlpp.graph import EventSet

FOUR_VECTOR = ("pt", "eta", "phi", "energy")
EVENT_FEATURES = {
    "electron": (*FOUR_VECTOR, "charge", "isolation"),
    "jet": (*FOUR_VECTOR, "btag"),
    "muon": (*FOUR_VECTOR, "charge", "isolation"),
    "photon": FOUR_VECTOR,
}

_ETA_MAX = 2.5  # tracker acceptance
_B_TAG_EFFICIENCY = 0.8  # a true b jet looks b-like this often
_B_FAKE_RATE = 0.25  # a background jet looks b-like this often (some are real b jets)
_NON_ISOLATED = (0.1, 0.5)  # chance a lepton sits inside a jet: signal, background


def _four_vectors(n: int, pt_min: float, pt_scale: float, rng) -> np.ndarray:
    """(n, 4) massless objects: pT above a threshold, flat in eta and phi."""
    pt = pt_min + rng.exponential(pt_scale, n)
    eta = rng.uniform(-_ETA_MAX, _ETA_MAX, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    return np.column_stack([pt, eta, phi, pt * np.cosh(eta)])


def _b_tag(b_like: np.ndarray, rng) -> np.ndarray:
    """A b-tag score in [0, 1]: high for b-like jets, low for light ones."""
    return np.where(b_like, rng.beta(6.0, 1.5, b_like.shape), rng.beta(1.2, 6.0, b_like.shape))


def _split(values: np.ndarray, owner: np.ndarray, n: int) -> list[np.ndarray]:
    """Rows grouped by event (``owner`` sorted), each event's rows by decreasing pT."""
    order = np.lexsort((-values[:, 0], owner))
    values, owner = values[order], owner[order]
    return np.split(values, np.cumsum(np.bincount(owner, minlength=n))[:-1])


@validate_generator(
    signal_fraction=[Interval(Real, 0, 1, closed="both")],
    as_graphs=["boolean"],
)
def make_events(n_samples=1000, *, signal_fraction=0.5, as_graphs=False, random_state=None):
    """Toy collision events with four kinds of objects, for typed graph networks.

    Every event holds jets, electrons, muons and photons, each kind with its own
    features. The first four columns of every kind are the common four-vector
    ``(pt, eta, phi, energy)``; jets add a b-tag score, leptons their charge and
    isolation. The signal's labels follow ZH -> l l b b (a same-flavour,
    opposite-charge lepton pair, two b-like jets, isolated leptons), but no
    kinematics of a decay is generated: every object is drawn on its own, so
    there is no ``m_ll`` peak at the Z mass and no ``m_bb`` peak at the Higgs
    mass, and the background is no particular process (not a model of top pairs:
    its leptons have independent flavours and charges and only a quarter of its
    jets look like b jets). The classes differ in the kind-specific features and
    in the lepton flavours (the kinds themselves), hardly in the four-vectors: a
    model that sees only the four-vectors of untyped objects does little better
    than chance, a model with one encoder per kind separates them well.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of events.
    signal_fraction : float in [0, 1], default=0.5
        Fraction of signal events (rounded, so exact).
    as_graphs : bool, default=False
        Return fully connected networkx graphs (``EventSet.to_graphs()``): nodes
        with attributes ``kind`` and ``x``; fit them with ``node_kind="kind"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator, as in scikit-learn.

    Returns
    -------
    X : EventSet or list of networkx.Graph
        The events; ``X.feature_names`` names the columns of every kind, and
        ``X.as_sets(4)`` gives the untyped four-vectors.
    y : ndarray of shape (n_samples,), int64
        1 for signal, 0 for background.

    Notes
    -----
    Objects are massless with ``pT = pT_min + Exp(scale)`` (leptons 20 + Exp(30)
    GeV, jets 25 + Exp(40) GeV, photons 15 + Exp(20) GeV), eta flat in
    [-2.5, 2.5] and phi flat, in both classes; signal leptons and jets are 10 %
    harder (the only four-vector difference). Photons: Poisson(0.4) per event.

    - Signal (labelled after ``ZH``, ``Z -> l+ l-``, ``H -> b b``): two leptons
      of one flavour (electrons or muons, half each) and opposite charges; two
      b jets, each b-like (b-tag ~ Beta(6, 1.5)) with probability 0.8, else
      light (Beta(1.2, 6)); Poisson(0.8) light jets.
    - Background: two leptons of independent flavours and charges (same-sign
      pairs in half the events, same flavour in half); 2 + Poisson(0.8) jets,
      each b-like with probability 0.25.

    A lepton's isolation (the energy around it, relative to its pT) is
    Exp(0.03) when isolated and Exp(0.3) inside a jet, which happens to 10 % of
    signal and 50 % of background leptons.

    Examples
    --------
    >>> from sklearn_dlpp.datasets import make_events
    >>> X, y = make_events(10, random_state=0)
    >>> X.kinds
    ('electron', 'jet', 'muon', 'photon')
    >>> X.feature_names["jet"]
    ['pt', 'eta', 'phi', 'energy', 'btag']
    >>> sorted(X[0])
    ['electron', 'jet', 'muon', 'photon']
    """
    rng = check_random_state(random_state)
    n = n_samples
    y = np.zeros(n, dtype=np.int64)
    y[: round(signal_fraction * n)] = 1
    rng.shuffle(y)
    signal = y == 1
    hardness = np.where(signal, 1.1, 1.0)

    # Leptons: two per event; signal pairs share a flavour and have opposite charges.
    first_muon = rng.random_sample(n) < 0.5
    second_muon = np.where(signal, first_muon, rng.random_sample(n) < 0.5)
    first_charge = rng.choice([-1.0, 1.0], n)
    second_charge = np.where(signal, -first_charge, rng.choice([-1.0, 1.0], n))
    lepton_owner = np.repeat(np.arange(n), 2)
    lepton_p4 = _four_vectors(2 * n, 20.0, 30.0, rng)
    lepton_p4[:, [0, 3]] *= hardness[lepton_owner, None]
    in_jet = rng.random_sample(2 * n) < np.where(signal, *_NON_ISOLATED)[lepton_owner]
    isolation = rng.exponential(np.where(in_jet, 0.3, 0.03))
    charge = np.column_stack([first_charge, second_charge]).ravel()
    muon = np.column_stack([first_muon, second_muon]).ravel()
    leptons = np.column_stack([lepton_p4, charge, isolation])

    # Jets: signal has two b jets plus light ones, background 2+ jets of any flavour.
    n_jets = 2 + rng.poisson(0.8, n)
    jet_owner = np.repeat(np.arange(n), n_jets)
    slot = np.arange(len(jet_owner)) - np.repeat(np.cumsum(n_jets) - n_jets, n_jets)
    b_like = np.where(
        signal[jet_owner],
        (slot < 2) & (rng.random_sample(len(jet_owner)) < _B_TAG_EFFICIENCY),
        rng.random_sample(len(jet_owner)) < _B_FAKE_RATE,
    )
    jet_p4 = _four_vectors(len(jet_owner), 25.0, 40.0, rng)
    jet_p4[:, [0, 3]] *= hardness[jet_owner, None]
    jets = np.column_stack([jet_p4, _b_tag(b_like, rng)])

    photon_owner = np.repeat(np.arange(n), rng.poisson(0.4, n))
    photons = _four_vectors(len(photon_owner), 15.0, 20.0, rng)

    events = EventSet(
        {
            "electron": _split(leptons[~muon], lepton_owner[~muon], n),
            "jet": _split(jets, jet_owner, n),
            "muon": _split(leptons[muon], lepton_owner[muon], n),
            "photon": _split(photons, photon_owner, n),
        },
        feature_names=EVENT_FEATURES,
    )
    if as_graphs:
        return events.to_graphs(), y
    return events, y
