"""Boosted jets as sets of particles: one-prong QCD jets and three-prong top jets."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from sklearn_dlpp._compat import Interval, StrOptions
from sklearn_dlpp.datasets._graphs import to_graph, undirected_knn_pairs
from sklearn_dlpp.datasets._validation import POSITIVE_INT, validate_generator

_M_TOP = 173.0  # GeV
_M_W = 80.4  # GeV
_PT_RANGE = (500.0, 1000.0)  # GeV, jet transverse momentum
_RADIUS = 0.8  # jet radius R, where the underlying event is spread
_PT_FLOOR = 0.5  # GeV, the softest particle the detector keeps
_N_MIN = 10  # fewest particles in a jet
_N_CAP = 60  # most particles generated in a jet
_PARTICLE_TYPES = (0.60, 0.28, 0.12)  # charged hadron, photon, neutral hadron
_JET_ETA = 1.5  # jets uniform in |eta| < 1.5 (only seen in the four-momenta)
# difficulty="hard": QCD jets with a top-like mass and a third prong, more soft particles
_HARD_QCD_MASS = (90.0, 180.0)  # GeV
_HARD_UE = 12.0  # mean soft particles (underlying event and pile-up) per jet


@validate_generator(
    max_particles=[POSITIVE_INT],
    particle_type=["boolean"],
    as_graphs=["boolean"],
    k=[POSITIVE_INT],
    top_fraction=[Interval(Real, 0, 1, closed="both")],
    four_momenta=["boolean"],
    difficulty=[StrOptions({"standard", "hard"})],
)
def make_jets(
    n_samples=1000,
    *,
    max_particles=60,
    particle_type=False,
    as_graphs=False,
    k=8,
    top_fraction=0.5,
    four_momenta=False,
    difficulty="standard",
    random_state=None,
):
    """Jets as sets of particles, QCD (``y = 0``) or top quark (``y = 1``).

    Parameters
    ----------
    n_samples : int, default=1000
        Number of jets.
    max_particles : int, default=60
        Length of the particle axis of the padded array. Jets hold 10 to 60
        particles; a jet with more than ``max_particles`` keeps its hardest ones.
    particle_type : bool, default=False
        Add a fourth column, the particle type: 0 charged hadron, 1 photon, 2
        neutral hadron (the same mixture in both classes).
    as_graphs : bool, default=False
        Return a list of ``networkx.Graph`` instead of the padded array.
    k : int, default=8
        With ``as_graphs``: each particle is joined to its ``k`` nearest
        neighbours in ``(delta_eta, delta_phi)``; the graph is undirected.
    top_fraction : float in [0, 1], default=0.5
        Fraction of top jets (rounded, so exact).
    four_momenta : bool, default=False
        Add four columns, each particle's four-momentum ``px, py, pz, energy``
        in GeV (massless particles; the jet flies at a pseudorapidity uniform in
        [-1.5, 1.5] and an azimuth uniform in [-pi, pi), drawn after everything
        else, so the other columns do not change). With them the pairwise
        interaction features of the Particle Transformer can be computed
        (``pair_features=[-4, -3, -2, -1]``).
    difficulty : {"standard", "hard"}, default="standard"
        "hard": QCD jets whose first emission gives them a top-like mass (90
        to 180 GeV) and a harder second emission (a third prong), and 12 soft
        particles per jet on average instead of 4 (underlying event and
        pile-up). The jet mass then separates the classes far less, and what
        is left is the substructure: a W-mass pair among three prongs.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator, as in scikit-learn.

    Returns
    -------
    X : ndarray of shape (n_samples, max_particles, n_features), float32, or list of Graph
        Particles sorted by decreasing ``pT``, with columns ``log_pt_fraction``
        (and, with ``four_momenta``, ``px, py, pz, energy`` after all others)
        (``log(pT / pT_jet)``, always < 0), ``delta_eta`` and ``delta_phi`` (to the
        ``pT``-weighted jet axis) and optionally the particle type. Rows after the
        last particle are zero; a real particle is never an all-zero row. As graphs:
        nodes ``0 .. n - 1`` in the same order with attribute ``x`` (the row, a 1-D
        float32 array) and ``G.graph["y"]`` the label.
    y : ndarray of shape (n_samples,), int64
        1 for top jets, 0 for QCD jets.

    Notes
    -----
    Every jet has ``pT`` uniform in 500-1000 GeV. The features are dimensionless
    (momentum fractions and angles), so the jet ``pT``, and with it the absolute
    mass scale, is not given: the top mass appears as ``m / pT`` between 0.17
    and 0.35. The partons are made in the collinear (small-angle) limit, where a
    splitting into momentum fractions ``z`` and ``1 - z`` at opening angle
    ``theta`` gives the pair an invariant mass

    .. math:: m^2 = \\frac{m_1^2}{z} + \\frac{m_2^2}{1 - z} + z (1 - z)\\, p_T^2 \\theta^2 .

    - Top jets: ``t -> b W`` with ``z_b`` uniform in [0.02, 0.78] (isotropic decay
      of a boosted top) and ``theta`` fixed by ``m_t = 173`` GeV, then
      ``W -> q q'`` with ``z`` uniform in [0.05, 0.95] and ``theta`` fixed by
      ``m_W = 80.4`` GeV: three hard prongs about ``2 m_t / pT`` apart, two of them
      making the W mass. A prong whose axis falls outside ``Delta R = 0.8`` is
      lost, which leaves some top jets with a W-like or lower mass.
    - QCD jets: one hard parton with two emissions in the soft-collinear limit,
      ``dP ~ dz / z * dtheta / theta``: a first one with ``z`` in [0.05, 0.5] and
      ``theta`` in [0.05, 0.8], which gives a falling mass spectrum reaching the
      top mass, and a softer one (``z`` in [0.01, 0.2]) at a smaller angle
      (angular ordering). A QCD jet of top-like mass is two-pronged.

    Each prong fragments into ``1 + Poisson(2.2 ln(1 + pT / 5 GeV))`` particles,
    ``pT`` the prong's transverse momentum, sharing it as Gamma(0.8) variates
    and spread around the prong axis by ``0.03 / sqrt(relative share)`` (soft
    particles wider). The underlying event adds Poisson(4) particles (``pT ~ 0.5
    + Exp(1)`` GeV, more when a jet would have fewer than 10 particles) spread
    over ``Delta R < 0.8``. Particles below
    0.5 GeV are raised to it. Three particle types are drawn independently of
    the class, so the type column carries no information here.

    Jet-level features separate the classes only in part: with the
    multiplicity and the mass ``m^2 = sum_{i<j} pT_i pT_j Delta R_ij^2`` a
    gradient-boosted classifier reaches a ROC AUC of about 0.89 (mass alone
    0.86, multiplicity alone 0.58). The three-prong pattern in the constituents
    is what a deep set or a graph network can add: even crude three-subjet
    features (momentum shares, pairwise masses) raise the AUC to about 0.94.

    With ``difficulty="hard"`` the mass alone reaches an AUC of 0.58 and a
    gradient-boosted classifier on mass and multiplicity 0.62 (6,000 jets,
    3-fold cross-validated predictions); the constituents' substructure is
    what is left to learn (docs/benchmarks.md compares the taggers on it).

    Examples
    --------
    >>> from sklearn_dlpp.datasets import make_jets
    >>> X, y = make_jets(20, random_state=0)
    >>> X.shape, X.dtype.name, y.shape
    ((20, 60, 3), 'float32', (20,))
    >>> graphs, y = make_jets(3, as_graphs=True, k=4, random_state=0)
    >>> graphs[0].nodes[0]["x"].shape
    (3,)
    """
    rng = check_random_state(random_state)
    n = n_samples
    y = np.zeros(n, dtype=np.int64)
    y[: round(top_fraction * n)] = 1
    rng.shuffle(y)
    jet_pt = rng.uniform(*_PT_RANGE, n)

    z_top, pos_top = _top_prongs(jet_pt, rng)
    z_qcd, pos_qcd = _qcd_prongs(jet_pt, rng, hard=difficulty == "hard")
    top = (y == 1)[:, None]
    z = np.where(top, z_top, z_qcd)
    prong_pos = np.where(top[:, :, None], pos_top, pos_qcd)

    # Particles per prong, then the underlying event; at least _N_MIN in all.
    per_prong = 1 + rng.poisson(2.2 * np.log1p(z * jet_pt[:, None] / 5.0))
    # A prong whose axis falls outside the jet radius is lost from the jet.
    per_prong[np.hypot(prong_pos[..., 0], prong_pos[..., 1]) > _RADIUS] = 0
    n_ue = rng.poisson(_HARD_UE if difficulty == "hard" else 4.0, n)
    n_ue += np.maximum(_N_MIN - per_prong.sum(1) - n_ue, 0)
    counts = np.column_stack([per_prong, n_ue])
    n_total = counts.sum(1)
    width = int(n_total.max())
    slot = np.arange(width)
    boundaries = np.cumsum(counts, axis=1)
    source = (slot[None, :, None] >= boundaries[:, None, :]).sum(-1)  # 0-2 prong, 3 UE
    real = slot[None, :] < n_total[:, None]

    share = rng.gamma(0.8, 1.0, (n, width))
    in_prong = (source[:, :, None] == np.arange(3)) & real[:, :, None]
    share_sum = (share[:, :, None] * in_prong).sum(1)  # (n, 3)
    share_sum[share_sum == 0] = 1.0  # a lost prong: no particle divides by it
    own_sum = np.take_along_axis(share_sum, np.minimum(source, 2), axis=1)
    share = share / own_sum
    own_z = np.take_along_axis(z, np.minimum(source, 2), axis=1)
    ue_pt = 0.5 + rng.exponential(1.0, share.shape)
    pt = np.where(source < 3, own_z * jet_pt[:, None] * share, ue_pt)
    pt = np.maximum(pt, _PT_FLOOR)

    # Relative share (1 on average in the prong): soft particles fly wider.
    relative = share * np.take_along_axis(counts, np.minimum(source, 2), axis=1)
    sigma = np.clip(0.03 / np.sqrt(np.maximum(relative, 1e-12)), 0.005, 0.3)
    axis = np.take_along_axis(prong_pos, np.minimum(source, 2)[:, :, None], axis=1)
    pos = axis + sigma[:, :, None] * rng.standard_normal((n, width, 2))
    ue_r = _RADIUS * np.sqrt(rng.random_sample((n, width)))
    ue_angle = rng.uniform(-np.pi, np.pi, (n, width))
    ue_pos = np.stack([ue_r * np.cos(ue_angle), ue_r * np.sin(ue_angle)], axis=-1)
    pos = np.where((source == 3)[:, :, None], ue_pos, pos)
    kind = rng.choice(len(_PARTICLE_TYPES), size=(n, width), p=_PARTICLE_TYPES)

    pt = np.where(real, pt, 0.0)
    total = pt.sum(1, keepdims=True)
    centre = (pt[:, :, None] * pos).sum(1) / total
    order = np.argsort(-pt, axis=1, kind="stable")
    keep = min(max_particles, width, _N_CAP)
    order = order[:, :keep]
    n_kept = np.minimum(n_total, keep)
    kept = slot[None, :keep] < n_kept[:, None]
    kept_pt = np.where(kept, np.take_along_axis(pt, order, 1), total)
    columns = [
        np.log(kept_pt / total),
        *np.moveaxis(np.take_along_axis(pos, order[:, :, None], 1) - centre[:, None, :], -1, 0),
    ]
    if particle_type:
        columns.append(np.take_along_axis(kind, order, 1).astype(np.float64))
    if four_momenta:
        columns += _four_momenta(np.exp(columns[0]) * total, columns[1], columns[2], rng)
    X = np.zeros((n, max_particles, len(columns)), dtype=np.float32)
    X[:, :keep] = np.stack(columns, axis=-1) * kept[:, :, None]
    if not as_graphs:
        return X, y
    edges = undirected_knn_pairs(X[:, :, 1:3], n_kept, k)
    graphs = [
        to_graph(X[j, : n_kept[j]].copy(), edges[j], graph_attrs={"y": int(y[j])}) for j in range(n)
    ]
    return graphs, y


def _top_prongs(jet_pt: np.ndarray, rng: np.random.RandomState):
    """Momentum fractions (n, 3) and positions (n, 3, 2) of b, q, q' in a top jet."""
    n = jet_pt.size
    z_b = rng.uniform(0.02, 0.78, n)
    theta_bw = (
        np.sqrt(np.maximum(_M_TOP**2 - _M_W**2 / (1.0 - z_b), 0.0) / (z_b * (1.0 - z_b))) / jet_pt
    )
    z_q = rng.uniform(0.05, 0.95, n)
    theta_qq = _M_W / ((1.0 - z_b) * jet_pt * np.sqrt(z_q * (1.0 - z_q)))
    u1, u2 = _unit_vectors(rng, n), _unit_vectors(rng, n)
    b = (1.0 - z_b)[:, None] * theta_bw[:, None] * u1
    w = -z_b[:, None] * theta_bw[:, None] * u1
    q = w + (1.0 - z_q)[:, None] * theta_qq[:, None] * u2
    q_bar = w - z_q[:, None] * theta_qq[:, None] * u2
    z = np.column_stack([z_b, (1.0 - z_b) * z_q, (1.0 - z_b) * (1.0 - z_q)])
    return z, np.stack([b, q, q_bar], axis=1)


def _four_momenta(pt, delta_eta, delta_phi, rng):
    """px, py, pz, E (massless) of particles at (delta_eta, delta_phi) from a random jet axis."""
    n = pt.shape[0]
    eta = rng.uniform(-_JET_ETA, _JET_ETA, (n, 1)) + delta_eta
    phi = rng.uniform(-np.pi, np.pi, (n, 1)) + delta_phi
    return [pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)]


def _qcd_prongs(jet_pt: np.ndarray, rng: np.random.RandomState, *, hard: bool = False):
    """Momentum fractions (n, 3) and positions (n, 3, 2) of a parton and two emissions."""
    n = jet_pt.size
    if hard:
        # a first emission at the angle that gives the pair a top-like mass
        z1 = rng.uniform(0.1, 0.5, n)
        mass = rng.uniform(*_HARD_QCD_MASS, n)
        theta1 = np.minimum(mass / (jet_pt * np.sqrt(z1 * (1.0 - z1))), 0.75)
        z2 = rng.uniform(0.05, 0.3, n)
        theta2 = theta1 * rng.uniform(0.2, 1.0, n)
    else:
        z1 = _log_uniform(rng, 0.05, 0.5, n)
        theta1 = _log_uniform(rng, 0.05, _RADIUS, n)
        z2 = _log_uniform(rng, 0.01, 0.2, n)
        theta2 = theta1 * _log_uniform(rng, 0.05, 1.0, n)  # angular ordering
    u1, u2 = _unit_vectors(rng, n), _unit_vectors(rng, n)
    hard = z1[:, None] * theta1[:, None] * u1
    soft1 = -(1.0 - z1)[:, None] * theta1[:, None] * u1
    soft2 = hard - (1.0 - z2)[:, None] * theta2[:, None] * u2
    hard = hard + z2[:, None] * theta2[:, None] * u2
    z = np.column_stack([(1.0 - z1) * (1.0 - z2), z1, (1.0 - z1) * z2])
    return z, np.stack([hard, soft1, soft2], axis=1)


def _log_uniform(rng: np.random.RandomState, low: float, high: float, size: int) -> np.ndarray:
    """Samples with density proportional to 1 / x on [low, high]."""
    return low * (high / low) ** rng.random_sample(size)


def _unit_vectors(rng: np.random.RandomState, size: int) -> np.ndarray:
    """Random directions in the (eta, phi) plane, shape (size, 2)."""
    angle = rng.uniform(-np.pi, np.pi, size)
    return np.column_stack([np.cos(angle), np.sin(angle)])
