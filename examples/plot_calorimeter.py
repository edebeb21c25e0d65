"""Calorimeter cells as node classification: what kind of shower lit each cell?
============================================================================

Particles entering a calorimeter shower: an electron or photon makes a short,
narrow electromagnetic shower, a charged pion a deeper, wider and more
fluctuating hadronic one. The course's segmentation assigns each read-out cell
to the shower that put its energy there, or to noise. This example solves the
coarser task the labels of ``make_calorimeter`` pose: the *kind* of shower that
put most energy into each cell, 0 noise, 1 electromagnetic, 2 hadronic (two
overlapping showers of one kind share a label; the index of the individual
shower is in each node's ``shower`` attribute, for the full segmentation). As a
graph: every cell is a node with features (eta, phi, layer, log E), edges join
cells that touch (in a layer and to the cell behind), and a GNN labels every node.

A cell's own depth and energy tell the classes apart only on average; its
neighbourhood tells much more (a narrow core or a broad deposit, energy in the
layer behind). A GN block aggregates messages from the neighbours,
a_i = sum_j phi_e([h_j, h_i]), and updates h_i' = phi_h([h_i, a_i]); stacking
T blocks gives every cell a receptive field of T hops. The example compares the
same NodeClassifier with no blocks (each cell alone) and with three.

The GNN is also cross-validated by event with scikit-learn's ``cross_validate``,
scoring every cell of the test events (``make_flat_scorer``): the one-vs-rest
ROC AUC of the three classes, and the rejection of noise cells when 90 % of the
shower cells are kept (cell cleaning), a background rejection on nodes.

    python examples/plot_calorimeter.py [--fast] [--out figures/]

Prints the cell accuracy and per-class recall with and without message
passing, and the cross-validated cell AUC and noise rejection; writes
``calorimeter.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import confusion_matrix, make_scorer
from sklearn.model_selection import cross_validate

from sklearn_dlpp import NodeClassifier
from sklearn_dlpp.datasets import make_calorimeter
from sklearn_dlpp.metrics import background_rejection, make_flat_scorer

CLASSES = ("noise", "electromagnetic", "hadronic")
COLORS = ListedColormap(["lightgrey", "tab:blue", "tab:red"])


def noise_rejection(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Noise cells rejected when a cut on P(shower) keeps 90% of the shower cells."""
    return background_rejection(y_true != 0, 1.0 - proba[:, 0], signal_efficiency=0.9)


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

    n_train, epochs = (100, 12) if args.fast else (500, 40)
    graphs, y = make_calorimeter(n_train, random_state=0)
    test_graphs, y_test = make_calorimeter(50 if args.fast else 200, random_state=1)
    cells = np.concatenate(y)
    shares = ", ".join(f"{c} {np.mean(cells == k):.0%}" for k, c in enumerate(CLASSES))
    print(f"{n_train} training events, {cells.size} cells: {shares}")

    common = {"hidden": 32, "learning_rate_init": 0.005, "max_iter": epochs, "random_state": 0}
    models = {
        "each cell alone (0 blocks)": NodeClassifier(n_blocks=0, **common),
        "GNN, 3 GN blocks": NodeClassifier(n_blocks=3, **common),
    }
    truth = np.concatenate(y_test)
    predictions = {}
    for name, clf in models.items():
        clf.fit(graphs, y)
        predictions[name] = clf.predict(test_graphs)
        matrix = confusion_matrix(truth, np.concatenate(predictions[name]), labels=[0, 1, 2])
        recall = matrix.diagonal() / matrix.sum(axis=1)
        print(
            f"{name:>27}: accuracy {clf.score(test_graphs, y_test):.3f}; recall "
            + ", ".join(f"{c} {r:.2f}" for c, r in zip(CLASSES, recall, strict=True))
        )

    # Cross-validation by event, every cell of the test events scored.
    cv = cross_validate(
        NodeClassifier(n_blocks=3, **common),
        graphs,
        y,
        cv=3 if args.fast else 5,
        scoring={
            "auc": make_flat_scorer("roc_auc_ovr"),
            "rejection": make_flat_scorer(
                make_scorer(noise_rejection, response_method="predict_proba")
            ),
        },
    )
    print(
        f"cross-validated GNN, per cell: one-vs-rest AUC {cv['test_auc'].mean():.3f} "
        f"+- {cv['test_auc'].std():.3f}; noise rejected at 90% shower-cell efficiency: "
        f"{cv['test_rejection'].mean():.1f} +- {cv['test_rejection'].std():.1f}"
    )

    # One test event, layer by layer (rows) as truth and as each model labels it.
    event = test_graphs[0]
    features = np.array([event.nodes[n]["x"] for n in event])
    layer = features[:, 2].astype(int)
    size = 15 + 40 * np.log1p(np.exp(features[:, 3]))
    panels = {"truth": y_test[0]} | {name: p[0] for name, p in predictions.items()}
    fig, axes = plt.subplots(3, 3, figsize=(14, 13), sharex=True, sharey=True)
    for column, (title, labels) in enumerate(panels.items()):
        correct = np.mean(labels == y_test[0])
        axes[0, column].set_title(
            title if column == 0 else f"{title}\n{correct:.0%} of cells right"
        )
        for row, layer_name in enumerate(("EM layer 1", "EM layer 2", "hadronic layer")):
            ax = axes[row, column]
            here = layer == row
            ax.scatter(
                features[here, 0],
                features[here, 1],
                c=labels[here],
                cmap=COLORS,
                vmin=0,
                vmax=2,
                s=size[here],
                marker="s",
                edgecolors="k",
                linewidths=0.3,
            )
            ax.set_aspect("equal")
            if column == 0:
                ax.set_ylabel(f"{layer_name}\nphi")
            if row == 2:
                ax.set_xlabel("eta")
    for k, name in enumerate(CLASSES):
        axes[0, 0].scatter([], [], c=[COLORS(k)], marker="s", edgecolors="k", label=name)
    axes[0, 0].legend(loc="lower left", fontsize="small", title="cell class")
    fig.suptitle("One test event (marker area ~ log energy)")
    fig.tight_layout()
    fig.savefig(args.out / "calorimeter.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'calorimeter.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
