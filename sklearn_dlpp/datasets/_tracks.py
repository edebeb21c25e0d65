"""Hits of charged-particle tracks in a barrel tracker, as graphs of candidate hit pairs."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from sklearn_dlpp._compat import Interval
from sklearn_dlpp.datasets._graphs import draw_counts, edge_labels, to_graph
from sklearn_dlpp.datasets._validation import POSITIVE_INT, validate_generator

_LAYER_RADII = np.array([0.032, 0.072, 0.116, 0.172, 0.260, 0.360, 0.500, 0.660])  # m
_HALF_LENGTH = 1.0  # m, half length of every barrel layer
_FIELD = 2.0  # T
_ETA_MAX = 1.5
_BEAM_SPOT_Z = 0.05  # m, spread of the collision point along the beam
_EFFICIENCY = 0.97  # probability that a layer records a crossing track
_SIGMA_RPHI = 30e-6  # m
_SIGMA_Z = 100e-6  # m
_JET_TRACKS = 0.7  # fraction of the tracks in a collimated jet
_JET_WIDTH = 0.06  # spread of a jet's tracks in phi and eta
_Z0_MAX = 0.3  # m, candidate pairs must point back to within this of the origin
_WINDOW_MARGIN = 1.5  # loosening of the phi window beyond the curvature of pt_min


@validate_generator(
    n_tracks=[POSITIVE_INT, tuple],
    noise_fraction=[Interval(Real, 0, 1, closed="left")],
    pt_min=[Interval(Real, 0.2, None, closed="left")],
)
def make_tracks(
    n_samples=100,
    *,
    n_tracks=10,
    noise_fraction=0.1,
    pt_min=0.5,
    random_state=None,
):
    """Events of tracker hits as graphs whose edges are candidate hit pairs.

    Parameters
    ----------
    n_samples : int, default=100
        Number of events (graphs).
    n_tracks : int or tuple (low, high), default=10
        Charged particles per event, fixed or drawn uniformly in ``[low, high]``.
    noise_fraction : float in [0, 1), default=0.1
        Fraction of the hits of an event that are noise (electronic noise,
        low-momentum loopers), spread uniformly over the layers.
    pt_min : float, default=0.5
        Lowest transverse momentum of a track, GeV (at least 0.2, so that every
        track reaches the outer layer). It also sets the ``phi`` window of the
        candidate pairs.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator, as in scikit-learn.

    Returns
    -------
    X : list of networkx.Graph
        One graph per event. Nodes are hits ``0 .. n - 1`` sorted by layer then
        ``phi``, with attributes ``x`` (float32 array ``(r, phi, z)``, metres and
        radians), ``layer`` (0-7) and ``particle`` (index of the track in its event,
        -1 for noise). Edges join hits on adjacent layers that pass the candidate
        selection; edge attribute ``y`` is 1 when both hits belong to the same track.
    y : list of ndarray of int64
        Per graph, the edge labels in ``G.edges()`` order.

    Notes
    -----
    A particle of charge ``q = +-1`` and transverse momentum ``pT`` in the
    solenoid field ``B = 2`` T moves on a helix: a circle through the origin
    of radius ``R = pT / (0.3 B)`` (metres, GeV, tesla) in the transverse plane,
    and a straight line in ``(s, z)``, ``s`` the transverse arc length. It
    crosses a barrel layer of radius ``r`` at

    .. math:: \\phi(r) = \\phi_0 - q \\arcsin\\frac{r}{2R}, \\qquad
              z(r) = z_0 + 2R \\arcsin\\frac{r}{2R} \\,\\sinh\\eta ,

    nearly a straight line in ``(r, z)``. Eight layers sit at ``r`` = 3.2 to 66
    cm, each 2 m long, so forward tracks leave the barrel early. ``pT`` follows
    ``pt_min * (1 + Pareto(2))``, ``eta`` is uniform in ``|eta| < 1.5``, the
    vertex ``z_0`` spreads by 5 cm, and 70 % of the tracks of an event fly in a
    jet (a normal spread of 0.06 in ``phi`` and ``eta`` around its axis), so
    hits crowd. A layer records a crossing with probability 0.97, with
    resolutions 30 um in ``r phi`` and 100 um in ``z``.

    Candidate edges join hits ``1`` (inner) and ``2`` (outer) on adjacent layers
    with ``|phi_2 - phi_1| <= 1.5 * 0.3 B (r_2 - r_1) / (2 pt_min)`` (the bending
    of the softest track, loosened) and a line through them that meets the beam
    within ``|z_0| < 30`` cm. Pairs from different tracks in a jet pass these
    cuts too; telling them apart needs the curvature and the ``z`` slope to be
    consistent along the track, which is what the neighbouring hits of a graph
    network provide. A missed layer breaks a track in two: hits two layers
    apart are never a candidate pair. With the defaults an event has ~85 hits
    and ~145 candidate edges, 45 % of them true; the best single pair feature
    (the ``z_0`` of the pair) reaches a ROC AUC of 0.80, a gradient-boosted
    classifier on the two hits and their ``Delta phi / Delta r`` and ``z_0`` about 0.91.

    Examples
    --------
    >>> from sklearn_dlpp.datasets import make_tracks
    >>> graphs, y = make_tracks(2, n_tracks=5, random_state=0)
    >>> g = graphs[0]
    >>> g.nodes[0]["x"].dtype.name, len(y[0]) == g.number_of_edges()
    ('float32', True)
    """
    rng = check_random_state(random_state)
    n_events = n_samples
    tracks_per_event = draw_counts(n_tracks, n_events, rng, "n_tracks")
    n_all = int(tracks_per_event.sum())
    event = np.repeat(np.arange(n_events), tracks_per_event)
    offsets = np.cumsum(tracks_per_event) - tracks_per_event
    particle = np.arange(n_all) - np.repeat(offsets, tracks_per_event)

    # Track parameters; jet-like tracks share their event's jet direction.
    jet_phi = rng.uniform(-np.pi, np.pi, n_events)[event]
    jet_eta = rng.uniform(-1.0, 1.0, n_events)[event]
    in_jet = rng.random_sample(n_all) < _JET_TRACKS
    spread = _JET_WIDTH * rng.standard_normal((2, n_all))
    phi0 = np.where(in_jet, jet_phi + spread[0], rng.uniform(-np.pi, np.pi, n_all))
    eta = np.where(in_jet, jet_eta + spread[1], rng.uniform(-_ETA_MAX, _ETA_MAX, n_all))
    pt = pt_min * (1.0 + rng.pareto(2.0, n_all))
    charge = rng.choice([-1.0, 1.0], n_all)
    z0 = _BEAM_SPOT_Z * rng.standard_normal(n_all)

    radius = pt / (0.3 * _FIELD)
    bend = np.arcsin(_LAYER_RADII[None, :] / (2.0 * radius[:, None]))
    hit_phi = phi0[:, None] - charge[:, None] * bend
    hit_z = z0[:, None] + 2.0 * radius[:, None] * bend * np.sinh(eta)[:, None]
    shape = hit_phi.shape
    hit_phi += _SIGMA_RPHI / _LAYER_RADII * rng.standard_normal(shape)
    hit_z += _SIGMA_Z * rng.standard_normal(shape)
    seen = (np.abs(hit_z) <= _HALF_LENGTH) & (rng.random_sample(shape) < _EFFICIENCY)
    t_idx, layer = np.nonzero(seen)

    # Noise hits: a share noise_fraction of each event's hits.
    track_hits = np.bincount(event[t_idx], minlength=n_events)
    n_noise = np.round(noise_fraction / (1.0 - noise_fraction) * track_hits).astype(np.int64)
    noise_event = np.repeat(np.arange(n_events), n_noise)
    n_noise_all = noise_event.size

    hits_event = np.concatenate([event[t_idx], noise_event])
    hits_layer = np.concatenate([layer, rng.randint(0, _LAYER_RADII.size, n_noise_all)])
    hits_phi = np.concatenate([hit_phi[t_idx, layer], rng.uniform(-np.pi, np.pi, n_noise_all)])
    hits_z = np.concatenate(
        [hit_z[t_idx, layer], rng.uniform(-_HALF_LENGTH, _HALF_LENGTH, n_noise_all)]
    )
    hits_particle = np.concatenate([particle[t_idx], np.full(n_noise_all, -1)])
    hits_phi = np.angle(np.exp(1j * hits_phi))  # wrap to (-pi, pi]
    hits_r = _LAYER_RADII[hits_layer]

    order = np.lexsort((hits_phi, hits_layer, hits_event))
    starts = np.searchsorted(hits_event[order], np.arange(n_events + 1))
    features = np.column_stack([hits_r, hits_phi, hits_z]).astype(np.float32)
    window = _WINDOW_MARGIN * 0.3 * _FIELD / (2.0 * pt_min)
    graphs, labels = [], []
    for e in range(n_events):
        idx = order[starts[e] : starts[e + 1]]
        pairs = _candidate_pairs(hits_layer[idx], hits_r[idx], hits_phi[idx], hits_z[idx], window)
        part = hits_particle[idx]
        same = (part[pairs[:, 0]] == part[pairs[:, 1]]) & (part[pairs[:, 0]] >= 0)
        graph = to_graph(
            features[idx],
            pairs,
            node_attrs={"layer": hits_layer[idx].tolist(), "particle": part.tolist()},
            edge_attrs={"y": same.astype(np.int64).tolist()},
        )
        graphs.append(graph)
        labels.append(edge_labels(graph))
    return graphs, labels


def _candidate_pairs(layer, r, phi, z, window: float) -> np.ndarray:
    """(inner, outer) index pairs of hits on adjacent layers inside the phi and z0 windows."""
    inner, outer = np.nonzero(layer[None, :] == layer[:, None] + 1)
    dr = r[outer] - r[inner]
    dphi = np.angle(np.exp(1j * (phi[outer] - phi[inner])))
    z0 = z[inner] - r[inner] * (z[outer] - z[inner]) / dr
    keep = (np.abs(dphi) <= window * dr) & (np.abs(z0) <= _Z0_MAX)
    return np.column_stack([inner[keep], outer[keep]])
