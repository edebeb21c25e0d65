"""An analysis with a Pipeline and GridSearchCV: event weights and the physics figure of merit.
============================================================================================

A real selection is tuned the scikit-learn way: a Pipeline (standardise the
features, then the network) so that the scaling is learnt on the training folds
only, and a grid search over the network's shape and its L2 penalty alpha with
k-fold cross-validation. Two things make it a physics analysis:

* Event weights. Simulated events carry weights w_i (cross-section,
  luminosity, reweighting of a generator spectrum); every sum over events is a
  weighted sum. Here the photons and electrons are reweighted to a harder pT
  spectrum, w = sqrt(pT / 20 GeV). The weights must reach the training loss,
  L = sum_i w_i BCE_i / sum_i w_i, the standardisation, and the score of every
  fold; scikit-learn's metadata routing passes them
  (``set_fit_request`` / ``set_score_request``).
* The figure of merit. The model is chosen for its background rejection
  1 / eps_B at 50 % signal efficiency (with eps_S and eps_B counted with event
  weights), the number the analysis will quote, rather than accuracy; the
  weighted ROC AUC is recorded alongside.

    python examples/plot_grid_search.py [--fast] [--out figures/]

Prints the cross-validated scores of every setting, the best one and its
weighted test AUC and rejection; writes ``grid_search.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer, roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier
from sklearn_dlpp.datasets import make_electron_photon
from sklearn_dlpp.metrics import background_rejection, make_background_rejection_scorer
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
        2000 if args.fast else 12000, return_feature_names=True, random_state=0
    )
    weight = np.sqrt(X[:, names.index("pT")] / 20.0)
    X_train, X_test, y_train, y_test, w_train, w_test = train_test_split(
        X, y, weight, test_size=0.3, stratify=y, random_state=0
    )
    grid = {
        "mlp__hidden_layer_sizes": [(16,), (64, 64)],
        "mlp__alpha": [1e-4] if args.fast else [1e-4, 1e-1],
    }
    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=True)),
                (
                    "mlp",
                    MLPClassifier(
                        learning_rate_init=0.003,
                        max_iter=15 if args.fast else 60,
                        early_stopping=True,
                        random_state=0,
                    ).set_fit_request(sample_weight=True),
                ),
            ]
        )
        scoring = {
            "rejection": make_background_rejection_scorer(signal_efficiency=0.5),
            "auc": get_scorer("roc_auc"),
        }
        for scorer in scoring.values():
            scorer.set_score_request(sample_weight=True)
        search = GridSearchCV(
            pipeline, grid, scoring=scoring, refit="rejection", cv=2 if args.fast else 3
        )
        search.fit(X_train, y_train, sample_weight=w_train)

    results = search.cv_results_
    print(f"{len(X_train)} weighted training events, {search.n_splits_}-fold cross-validation")
    print(f"{'hidden layers':>14} {'alpha':>7} {'1/eps_B @ 50%':>14} {'AUC':>6}")
    for i, params in enumerate(results["params"]):
        print(
            f"{params['mlp__hidden_layer_sizes']!s:>14} {params['mlp__alpha']:7.0e} "
            f"{results['mean_test_rejection'][i]:9.1f} +- {results['std_test_rejection'][i]:3.1f}"
            f" {results['mean_test_auc'][i]:6.3f}"
        )
    print(f"best: {search.best_params_}")
    score = search.predict_proba(X_test)[:, 1]
    auc = roc_auc_score(y_test, score, sample_weight=w_test)
    rejection = background_rejection(y_test, score, signal_efficiency=0.5, sample_weight=w_test)
    print(f"weighted test set: AUC {auc:.3f}, background rejection at 50 % {rejection:.1f}")
    plain = background_rejection(y_test, score, signal_efficiency=0.5)
    print(
        f"the same without weights: AUC {roc_auc_score(y_test, score):.3f}, rejection {plain:.1f}"
    )

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    labels = [
        f"{p['mlp__hidden_layer_sizes']}\nalpha={p['mlp__alpha']:g}" for p in results["params"]
    ]
    positions = np.arange(len(labels))
    bars = ax.bar(
        positions,
        results["mean_test_rejection"],
        yerr=results["std_test_rejection"],
        color="C0",
        capsize=4,
    )
    bars[search.best_index_].set_color("C1")
    ax.set_xticks(positions, labels)
    ax.set_ylabel("CV background rejection at 50 % efficiency")
    ax.set_title("Grid search (best in orange)")

    ax = axes[1]
    plot_roc(y_test, score, sample_weight=w_test, ax=ax, label="best, weighted")
    plot_roc(y_test, score, ax=ax, label="best, unweighted")
    ax.axvline(0.5, color="grey", linewidth=0.8, linestyle="--")
    ax.set_title("Test set, with and without the event weights")
    fig.tight_layout()
    fig.savefig(args.out / "grid_search.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'grid_search.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
