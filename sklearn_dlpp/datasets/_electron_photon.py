"""Electrons and photons in a calorimeter and a tracker, as feature vectors."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from sklearn_dlpp._compat import Interval
from sklearn_dlpp.datasets._validation import validate_generator

ELECTRON_PHOTON_FEATURES = (
    "E",
    "pT",
    "eta",
    "phi",
    "p_over_E",
    "n_tracks",
    "R_phi",
    "w_eta2",
    "R_had",
)

_ETA_MAX = 2.47  # edge of the precision electromagnetic calorimeter
_PT_MIN = 20.0  # GeV
_TRACK_LOSS = 0.04  # electrons whose track is not reconstructed
_CHANCE_MATCH = 0.08  # photons matched to an unrelated pile-up track
_PILEUP_TRACKS = 0.25  # mean number of unrelated tracks in the cone


@validate_generator(
    photon_fraction=[Interval(Real, 0, 1, closed="both")],
    conversion_probability=[Interval(Real, 0, 1, closed="both")],
    return_feature_names=["boolean"],
)
def make_electron_photon(
    n_samples=1000,
    *,
    photon_fraction=0.5,
    conversion_probability=0.35,
    return_feature_names=False,
    return_true_energy=False,
    random_state=None,
):
    """Electron and photon candidates as feature vectors, for binary classification.

    The course's supervised-learning example: from the measured features
    ``x = (E, pT, eta, phi, ...)`` of an electromagnetic object, tell an electron
    (``y = 0``) from a photon (``y = 1``), with the labels of the course.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of candidates.
    photon_fraction : float in [0, 1], default=0.5
        Fraction of photons; the count is rounded, so the classes are balanced exactly.
    conversion_probability : float in [0, 1], default=0.35
        Probability that a photon converts to an electron-positron pair in the
        tracker material; converted photons are the ones that look like electrons.
    return_feature_names : bool, default=False
        Also return the names of the columns of ``X``.
    return_true_energy : bool, default=False
        Also return each candidate's generated energy (before the calorimeter's
        resolution), the target of an energy calibration.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator, as in scikit-learn.

    Returns
    -------
    X : ndarray of shape (n_samples, 9), float64
        Columns ``E`` (GeV), ``pT`` (GeV), ``eta``, ``phi``, ``p_over_E``,
        ``n_tracks``, ``R_phi``, ``w_eta2``, ``R_had``.
    y : ndarray of shape (n_samples,), int64
        0 for electrons, 1 for photons.
    feature_names : tuple of str
        Only when ``return_feature_names`` is True.
    true_energy : ndarray of shape (n_samples,), float64
        Only when ``return_true_energy`` is True: the generated energy (GeV);
        the column ``E`` is its measurement. Returned last.

    Notes
    -----
    Both species are produced with the same falling spectrum
    ``dN/dpT ~ pT^-4`` above 20 GeV, flat in ``|eta| < 2.47`` and in ``phi``, so
    ``E = pT cosh(eta)``, ``pT``, ``eta`` and ``phi`` carry no information on
    their own. The calorimeter measures the energy with a resolution
    ``sigma_E / E = 10 % / sqrt(E / GeV) (+) 0.7 %``.

    The information is in how the particle interacts on the way:

    - ``p_over_E``: momentum of the track matched to the cluster over the cluster
      energy, 0 when no track is matched. An electron leaves a track but radiates
      a fraction ``f_brem`` of its energy as bremsstrahlung in the tracker, so
      ``p / E ~ 1 - f_brem`` with ``f_brem ~ Beta(0.5, 2.5)`` (a tail to low
      values); its track is lost 4 % of the time. An unconverted photon has no
      track of its own, but 8 % are matched to a soft pile-up track (small
      ``p / E``). A converted photon
      ``gamma -> e+ e-`` leaves the harder conversion track, with ``p / E`` the
      share of the harder leg, flat in [0.5, 1].
    - ``n_tracks``: tracks in a cone around the cluster: 1 for an electron (2
      when a bremsstrahlung photon converts), 2 for a conversion (1 when a leg
      is too soft, 30 %), plus Poisson(0.25) unrelated pile-up tracks for everyone.
    - ``R_phi``: energy in 3x3 over 3x7 cells of the middle calorimeter layer. The
      solenoid bends charged particles in ``phi``, so electrons (in proportion to
      ``f_brem``) and conversions have wider showers in ``phi`` (lower ``R_phi``)
      than unconverted photons.
    - ``w_eta2``: shower width in ``eta``; the same electromagnetic shower for
      both, only slightly wider for electrons.
    - ``R_had``: hadronic leakage ``E_T^had / E_T``; small and alike for both
      (it separates electromagnetic objects from jets, not from each other).

    Unconverted photons are easy to tell from electrons; converted photons and
    electrons that lost their track are not, which caps the separation: a
    gradient-boosted classifier reaches a ROC AUC of about 0.94, a logistic
    regression on the standardised features about 0.88 (``p_over_E`` alone 0.87).

    Examples
    --------
    >>> from sklearn_dlpp.datasets import make_electron_photon
    >>> X, y, names = make_electron_photon(100, random_state=0, return_feature_names=True)
    >>> X.shape, y.shape, int(y.sum())
    ((100, 9), (100,), 50)
    >>> names[:4]
    ('E', 'pT', 'eta', 'phi')
    """
    rng = check_random_state(random_state)
    n = n_samples
    n_photons = round(photon_fraction * n)
    y = np.zeros(n, dtype=np.int64)
    y[:n_photons] = 1
    rng.shuffle(y)
    photon = y == 1
    electron = ~photon
    converted = photon & (rng.random_sample(n) < conversion_probability)
    unconverted = photon & ~converted

    # Kinematics: the same spectrum for both species.
    pt_true = _PT_MIN * (1.0 + rng.pareto(3.0, n))
    eta = rng.uniform(-_ETA_MAX, _ETA_MAX, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    e_true = pt_true * np.cosh(eta)
    resolution = np.hypot(0.10 / np.sqrt(e_true), 0.007)
    energy = e_true * (1.0 + resolution * rng.standard_normal(n))
    pt = energy / np.cosh(eta)

    # Tracks. Bethe-Heitler energy loss: f_brem piles up near 0 with a long tail.
    f_brem = rng.beta(0.5, 2.5, n)
    track_p = np.zeros(n)
    track_p[electron] = e_true[electron] * (1.0 - f_brem[electron])
    track_p[electron & (rng.random_sample(n) < _TRACK_LOSS)] = 0.0
    harder_leg = rng.uniform(0.5, 1.0, n)
    track_p[converted] = e_true[converted] * harder_leg[converted]
    chance = unconverted & (rng.random_sample(n) < _CHANCE_MATCH)
    track_p[chance] = 1.0 + rng.exponential(3.0, n)[chance]
    track_p *= 1.0 + np.hypot(0.01, 3e-4 * pt_true) * rng.standard_normal(n)
    p_over_e = np.clip(track_p / energy, 0.0, None)

    n_tracks = rng.poisson(_PILEUP_TRACKS, n)
    n_tracks += electron & (p_over_e > 0)
    n_tracks += electron & (rng.random_sample(n) < 0.10)
    n_tracks += converted * (1 + (rng.random_sample(n) < 0.7))
    n_tracks += chance & (n_tracks == 0)

    # Shower shapes.
    spread = np.where(electron, 0.12 * f_brem + 0.004, 0.0)
    spread = np.where(converted, 0.08 * (1.3 - harder_leg), spread)
    r_phi = 0.955 - spread - np.abs(0.012 * rng.standard_normal(n))
    r_phi = np.clip(r_phi + 0.01 * rng.standard_normal(n), 0.5, 1.0)
    w_eta2 = 0.0100 + 0.0002 * electron + 0.0009 * rng.standard_normal(n)
    r_had = rng.exponential(0.006, n) - 0.002 * rng.random_sample(n)

    X = np.column_stack([energy, pt, eta, phi, p_over_e, n_tracks, r_phi, w_eta2, r_had])
    out = (X, y)
    if return_feature_names:
        out += (ELECTRON_PHOTON_FEATURES,)
    if return_true_energy:
        out += (e_true,)
    return out
