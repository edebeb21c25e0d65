"""Electron or photon? Supervised learning with the figures of merit of the field.
===============================================================================

The course's supervised-learning example: each electromagnetic object is a
feature vector x = (E, pT, eta, phi, p/E, n_tracks, R_phi, w_eta2, R_had), and
simulation tells whether it came from an electron (y = 0) or a photon (y = 1).
A network f_phi: R^d -> R is trained on the pairs {x_i, y_i} to output the
probability of a photon; a cut on it selects photons.

A cut keeping a fraction eps_S of the signal (photons) keeps a fraction eps_B of
the background (electrons). Particle physicists quote the background rejection
1 / eps_B at a fixed signal efficiency (the working point), e.g. 30 % or 50 %:
a rejection of 100 means one electron in a hundred passes. The example compares
a cut on the single best variable (p/E: photons have no track of their own), a
perceptron (a linear cut in the nine features) and an MLP.

    python examples/plot_electron_photon.py [--fast] [--out figures/]

Prints the ROC AUC and the background rejection at 30 % and 50 % photon
efficiency of each; writes ``electron_photon.png``.
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
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier, PerceptronClassifier
from sklearn_dlpp.datasets import make_electron_photon
from sklearn_dlpp.metrics import background_rejection
from sklearn_dlpp.plotting import plot_roc


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

    X, y, names = make_electron_photon(
        4000 if args.fast else 40000, return_feature_names=True, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5 if args.fast else 0.25, stratify=y, random_state=0
    )
    perceptron = make_pipeline(
        StandardScaler(), PerceptronClassifier(max_iter=50, random_state=0)
    ).fit(X_train, y_train)
    mlp = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            (64, 64),
            learning_rate_init=0.003,
            early_stopping=True,
            validation_fraction=0.2,
            max_iter=40 if args.fast else 150,
            random_state=0,
        ),
    ).fit(X_train, y_train)

    p_over_e = names.index("p_over_E")
    scores = {
        # A photon has no track: a low p/E is photon-like, so the score is -p/E.
        "cut on p/E": -X_test[:, p_over_e],
        "perceptron": perceptron.predict_proba(X_test)[:, 1],
        "MLP (64, 64)": mlp.predict_proba(X_test)[:, 1],
    }
    print(f"{len(X_train)} training and {len(X_test)} test objects; signal = photons")
    print(f"{'':>14} {'AUC':>6} {'1/eps_B @ 30%':>14} {'1/eps_B @ 50%':>14}")
    for name, score in scores.items():
        auc = roc_auc_score(y_test, score)
        r30 = background_rejection(y_test, score, signal_efficiency=0.3)
        r50 = background_rejection(y_test, score, signal_efficiency=0.5)
        print(f"{name:>14} {auc:6.3f} {r30:14.1f} {r50:14.1f}")

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    bins = np.linspace(0, 1.5, 61)
    for label, name in ((0, "electrons"), (1, "photons")):
        ax.hist(
            X_test[y_test == label, p_over_e],
            bins=bins,
            histtype="step",
            linewidth=1.5,
            density=True,
            label=name,
        )
    ax.set_yscale("log")
    ax.set_xlabel("p / E (track momentum over cluster energy; 0: no track)")
    ax.set_ylabel("density")
    ax.set_title("The best single variable")
    ax.legend()

    ax = axes[1]
    for name, score in scores.items():
        plot_roc(y_test, score, ax=ax, label=name)
    for efficiency in (0.3, 0.5):
        ax.axvline(efficiency, color="grey", linewidth=0.8, linestyle="--")
    ax.set_title("Photon selection: background rejection vs efficiency")
    fig.tight_layout()
    fig.savefig(args.out / "electron_photon.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'electron_photon.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
