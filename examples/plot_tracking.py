"""Tracking as edge classification: which hit pairs belong to the same particle?
=============================================================================

A charged particle crossing the barrel layers of a tracker leaves one hit per
layer along a helix. Track finding clusters the hits into tracks. As a graph
problem: every hit is a node (features r, phi, z); every pair of hits on
adjacent layers that could come from one track is a candidate edge; a GNN
classifies each edge as "same track" (1) or not (0), and the tracks are the
chains of edges it keeps.

The two hits of a pair alone say little in a dense jet: a wrong pair from two
neighbouring tracks has a plausible bending and slope too. What tells them apart
is consistency along the track: the same curvature and the same z slope at the
next hits. A GN block sends messages along the edges, m_ji = phi_e([h_j, h_i, e_ji]),
aggregates them into each hit, a_i = sum_j m_ji, and updates h_i' = phi_h([h_i, a_i]);
after T blocks each hit has seen the hits T layers away. The edge head then
scores each pair from its two updated hits. Each edge carries the pair's
geometry as features (bending dphi/dr, slope dz/dr and the z0 where the line
through the hits meets the beam), and the same classifier with no blocks
(n_blocks=0: each pair on its own) is the baseline.

Figures of merit: the edge efficiency (true edges kept / all true edges) and the
purity (true edges kept / all edges kept) at a cut on the score. The GNN is
also cross-validated by event (5 folds) with scikit-learn's ``cross_validate``,
scoring every candidate edge of the test events: ROC AUC and the rejection of
false edges at 90 % edge efficiency, through ``make_flat_scorer``. The events
are packed once (``pack_graphs``), not again for every fold.

    python examples/plot_tracking.py [--fast] [--out figures/]

Prints AUC, efficiency and purity with and without message passing, and the
cross-validated edge AUC and rejection; writes ``tracking.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_validate

from sklearn_dlpp import EdgeClassifier
from sklearn_dlpp.datasets import make_tracks
from sklearn_dlpp.graph import pack_graphs
from sklearn_dlpp.metrics import make_background_rejection_scorer, make_flat_scorer
from sklearn_dlpp.plotting import plot_roc

CUT = 0.5


def add_pair_geometry(graphs: list[nx.Graph]) -> None:
    """Store (dphi/dr, dz/dr, z0) of every candidate pair as its edge attribute "geometry"."""
    for graph in graphs:
        for u, v, data in graph.edges(data=True):
            (r1, phi1, z1), (r2, phi2, z2) = sorted(
                (graph.nodes[u]["x"], graph.nodes[v]["x"]), key=lambda hit: hit[0]
            )
            dr = r2 - r1
            dphi = np.angle(np.exp(1j * (phi2 - phi1)))  # wrapped to (-pi, pi]
            slope = (z2 - z1) / dr
            data["geometry"] = np.array([dphi / dr, slope, z1 - r1 * slope], dtype=np.float32)


def efficiency_purity(y: np.ndarray, score: np.ndarray, cut: float) -> tuple[float, float]:
    kept = score > cut
    true_kept = np.count_nonzero(kept & (y == 1))
    return true_kept / np.count_nonzero(y == 1), true_kept / max(np.count_nonzero(kept), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fast", action="store_true", help="less data and training (CI)")
    parser.add_argument("--out", type=Path, default=Path("figures"))
    # Known arguments only: a notebook kernel adds its own.
    args, _ = parser.parse_known_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    n_train, epochs = (100, 15) if args.fast else (400, 60)
    graphs, y = make_tracks(n_train, random_state=0)
    test_graphs, y_test = make_tracks(50 if args.fast else 200, random_state=1)
    add_pair_geometry(graphs)
    add_pair_geometry(test_graphs)
    n_edges = sum(len(labels) for labels in y)
    true_share = np.concatenate(y).mean()
    print(f"{n_train} training events, {n_edges} candidate edges, {true_share:.0%} true")

    common = {
        "hidden": 32,
        "edge_features": "geometry",
        "learning_rate_init": 0.005,
        "max_iter": epochs,
        "random_state": 0,
    }
    models = {
        "each pair alone (0 blocks)": EdgeClassifier(n_blocks=0, **common),
        "GNN, 3 GN blocks": EdgeClassifier(n_blocks=3, **common),
    }
    truth = np.concatenate(y_test)
    scores = {}
    for name, clf in models.items():
        clf.fit(graphs, y)
        per_event = clf.predict_proba(test_graphs)
        scores[name] = np.concatenate([p[:, 1] for p in per_event])
        efficiency, purity = efficiency_purity(truth, scores[name], CUT)
        print(
            f"{name:>27}: AUC {roc_auc_score(truth, scores[name]):.3f}, at score > {CUT}: "
            f"edge efficiency {efficiency:.3f}, purity {purity:.3f}"
        )

    # Cross-validation by event, every candidate edge of the test events scored.
    events = pack_graphs(graphs, edge_features="geometry")  # once for all folds
    network = {k: v for k, v in common.items() if k != "edge_features"}
    cv = cross_validate(
        EdgeClassifier(n_blocks=3, **network),
        events,
        y,
        cv=3 if args.fast else 5,
        scoring={
            "auc": make_flat_scorer("roc_auc"),
            "rejection": make_flat_scorer(make_background_rejection_scorer(signal_efficiency=0.9)),
        },
    )
    print(
        f"cross-validated GNN, per edge: AUC {cv['test_auc'].mean():.3f} "
        f"+- {cv['test_auc'].std():.3f}; false edges rejected at 90% edge efficiency: "
        f"{cv['test_rejection'].mean():.1f} +- {cv['test_rejection'].std():.1f}"
    )

    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    # One test event in the transverse plane, edges as the GNN judges them.
    event, gnn = test_graphs[0], models["GNN, 3 GN blocks"]
    hits = np.array([event.nodes[n]["x"] for n in event])
    xy = np.column_stack([hits[:, 0] * np.cos(hits[:, 1]), hits[:, 0] * np.sin(hits[:, 1])])
    score = gnn.predict_proba([event])[0][:, 1]
    ax = axes[0]
    for (u, v), label, s in zip(event.edges(), y_test[0], score, strict=True):
        kept = s > CUT
        if not (kept or label):
            continue
        style = {
            (True, 1): ("tab:green", "-"),
            (True, 0): ("tab:red", "-"),
            (False, 1): ("tab:orange", "--"),
        }[(kept, int(label))]
        ax.plot(*xy[[u, v]].T, color=style[0], linestyle=style[1], linewidth=1)
    noise = np.array([event.nodes[n]["particle"] < 0 for n in event])
    ax.scatter(*xy[~noise].T, s=8, c="k", zorder=3, label="hits of tracks")
    ax.scatter(*xy[noise].T, s=8, c="grey", marker="x", zorder=3, label="noise hits")
    ax.plot([], [], color="tab:green", label="true edge, kept")
    ax.plot([], [], color="tab:red", label="fake edge, kept")
    ax.plot([], [], color="tab:orange", linestyle="--", label="true edge, lost")
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title("One event: the GNN's edges at score > 0.5")
    ax.legend(fontsize="small", loc="lower left")

    ax = axes[1]
    cuts = np.linspace(0.02, 0.98, 49)
    for (name, s), color in zip(scores.items(), ("C0", "C1"), strict=True):
        curves = np.array([efficiency_purity(truth, s, c) for c in cuts])
        ax.plot(cuts, curves[:, 0], color=color, label=f"{name}: efficiency")
        ax.plot(cuts, curves[:, 1], color=color, linestyle="--", label=f"{name}: purity")
    ax.set_xlabel("cut on the edge score")
    ax.set_ylabel("edge efficiency, purity")
    ax.set_ylim(0, 1.02)
    ax.set_title("Efficiency and purity")
    ax.legend(fontsize="small")

    for name, s in scores.items():
        plot_roc(truth, s, ax=axes[2], label=name)
    axes[2].set_xlabel("edge efficiency (true edges kept)")
    axes[2].set_ylabel("fake-edge rejection 1 / (fraction of fake edges kept)")
    axes[2].set_title("Fake-edge rejection vs edge efficiency")
    fig.tight_layout()
    fig.savefig(args.out / "tracking.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'tracking.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
