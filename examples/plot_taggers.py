"""Jet taggers of today as estimators: ParticleNet and the Particle Transformer.
==============================================================================

The taggers physicists compare against descend from the blocks of the course:

* **ParticleNet** (Qu & Gouskos 2020) stacks EdgeConv blocks. Each particle
  ``i`` forms a message ``phi([h_i, h_j - h_i])`` with each of its k = 16
  nearest neighbours ``j`` and averages them; the neighbours of the first block
  are nearest in (delta_eta, delta_phi), those of later blocks in the features
  the previous block learned (a *dynamic* graph). ``preset="particlenet"``:
  three blocks with 64, 128 and 256 channels, 366k weights as in the paper.
* **ParT**, the Particle Transformer (Qu, Li & Qian 2022), is key-query
  self-attention among the particles whose logits get a bias per head from
  the pair's interaction features ln Delta, ln k_T, ln z, ln m^2, computed from
  the two four-momenta; a class token then attends to the particles.
  ``preset="part"``: 8 particle-attention and 2 class-attention blocks, 8
  heads, 2.1M weights as in the paper.

Both are ``GraphClassifier`` estimators, so they go into a ``Pipeline``,
``GridSearchCV`` or ``cross_val_score``. They are trained here on the hard
generated jets (``make_jets(difficulty="hard")``: QCD jets with a top-like mass
and a third prong), beside the jet mass alone and the default graph network.
Their place is a GPU and a million jets; on a laptop CPU and a few thousand
jets for a few epochs, the figure shows where each stands after minutes (the
gallery runs ``--fast``: 300 jets, one epoch for the presets, which leaves them
near chance; docs/benchmarks.md has the full run's numbers).

    python examples/plot_taggers.py [--fast] [--out figures/] [--style CMS]

Prints the AUC and the QCD rejection at 30 % and 50 % top efficiency of each;
writes ``taggers_roc.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

from sklearn_dlpp import GraphClassifier
from sklearn_dlpp.datasets import make_jets
from sklearn_dlpp.metrics import background_rejection
from sklearn_dlpp.plotting import HEP_STYLES, hep_style, plot_roc

# make_jets(four_momenta=True) columns
DELTA_ETA_PHI = [1, 2]
FOUR_MOMENTUM = [3, 4, 5, 6]  # px, py, pz, E


def mass_over_pt(jets: np.ndarray) -> np.ndarray:
    """m / pT of each padded jet from the sum of its particles' four-momenta."""
    p = jets[:, :, FOUR_MOMENTUM].astype(np.float64).sum(axis=1)
    mass = np.sqrt(np.maximum(p[:, 3] ** 2 - (p[:, :3] ** 2).sum(axis=1), 0.0))
    return mass / np.hypot(p[:, 0], p[:, 1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fast", action="store_true", help="less data and training (CI)")
    parser.add_argument("--out", type=Path, default=Path("figures"))
    parser.add_argument("--style", default="CMS", choices=[*HEP_STYLES, "none"])
    # Known arguments only: a notebook kernel adds its own.
    args, _ = parser.parse_known_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    n_train, n_test = (300, 300) if args.fast else (2000, 2000)
    max_particles = 20 if args.fast else 30
    epochs = 1 if args.fast else 8
    options = {"four_momenta": True, "difficulty": "hard", "max_particles": max_particles}
    jets, y = make_jets(n_train, random_state=0, **options)
    test_jets, y_test = make_jets(n_test, random_state=1, **options)

    models = {
        "GN default (kNN graphs)": GraphClassifier(
            set_edges="knn",
            knn_features=DELTA_ETA_PHI,
            max_iter=10 if args.fast else 100,
            random_state=0,
        ),
        "ParticleNet": GraphClassifier(
            preset="particlenet", knn_features=DELTA_ETA_PHI, max_iter=epochs, random_state=0
        ),
        # 2.1M weights: Adam's default step 1e-3 is too large for it here
        "ParT": GraphClassifier(
            preset="part",
            pair_features=FOUR_MOMENTUM,
            learning_rate_init=2e-4,
            max_iter=epochs,
            random_state=0,
        ),
    }
    scores = {"jet mass m/pT": mass_over_pt(test_jets)}
    for name, clf in models.items():
        fit_started = time.perf_counter()
        clf.fit(jets, y)
        scores[name] = clf.predict_proba(test_jets)[:, 1]
        n_weights = sum(p.numel() for p in clf.module_.parameters())
        print(
            f"{name}: {n_weights:,} weights, {clf.n_iter_} epochs in "
            f"{time.perf_counter() - fit_started:.1f} s"
        )

    print(f"{n_train} training and {n_test} test hard jets; signal = top jets")
    print(f"{'':>24} {'AUC':>6} {'1/eps_B @ 30%':>14} {'1/eps_B @ 50%':>14}")
    for name, score in scores.items():
        auc = roc_auc_score(y_test, score)
        r30 = background_rejection(y_test, score, signal_efficiency=0.3)
        r50 = background_rejection(y_test, score, signal_efficiency=0.5)
        print(f"{name:>24} {auc:6.3f} {r30:14.1f} {r50:14.1f}")

    style = None if args.style == "none" else args.style
    with hep_style(style):
        fig, ax = plt.subplots()  # the style's figure size
        for name, score in scores.items():
            plot_roc(y_test, score, ax=ax, label=name)
        ax.legend(loc="upper right", fontsize="small", title="top vs QCD, hard jets")
        fig.tight_layout()
        fig.savefig(args.out / "taggers_roc.png", dpi=100)
        plt.close(fig)
    print(f"figure written to {args.out}: taggers_roc.png")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
