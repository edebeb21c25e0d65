"""Overfitting and early stopping with an 80/20 split.
===================================================

The labelled data are divided into about 80 % for training and 20 % for
validation. Every epoch lowers the training loss, J(W) = 1/n sum_i L(f(x_i; W), y_i)
over the training 80 %; a model with many more parameters than the data can
constrain (here an MLP with two layers of 256 units learning from a few hundred
electrons and photons) keeps lowering it by memorising the training events,
noise included. The loss on the 20 % it never trains on first falls with it,
then rises again: the gap between the two is overfitting, and the model
generalises worse the longer it trains.

Early stopping watches the validation set and keeps the weights of the best
epoch ("stop loss"): ``early_stopping=True, validation_fraction=0.2`` holds out
20 % (stratified), stops after ``n_iter_no_change`` epochs without improvement
and restores the best weights. The example traces both losses epoch by epoch
with ``partial_fit``, then lets early stopping do the same job, and compares the
two models on an independent test set.

    python examples/plot_early_stopping.py [--fast] [--out figures/]

Prints the best epoch and the test loss and accuracy with and without early
stopping; writes ``early_stopping.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier
from sklearn_dlpp.datasets import make_electron_photon
from sklearn_dlpp.plotting import plot_loss_curves

HIDDEN = (256, 256)


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

    epochs = 60 if args.fast else 150
    X, y = make_electron_photon(500, random_state=0)
    X_test, y_test = make_electron_photon(5000, random_state=1)
    scaler = StandardScaler().fit(X)
    X, X_test = scaler.transform(X), scaler.transform(X_test)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=0
    )

    # Epoch by epoch by hand: partial_fit is one epoch; score both sets after each.
    traced = MLPClassifier(HIDDEN, alpha=0.0, learning_rate_init=0.003, random_state=0)
    val_loss = []
    for _ in range(epochs):
        traced.partial_fit(X_train, y_train, classes=[0, 1])
        val_loss.append(log_loss(y_val, traced.predict_proba(X_val)))
    best = int(np.argmin(val_loss)) + 1
    print(
        f"traced by hand: validation loss lowest at epoch {best} ({min(val_loss):.3f}), "
        f"{val_loss[-1]:.3f} after {epochs}; training loss {traced.loss_curve_[-1]:.3f}"
    )

    # The same with early stopping; it holds out 20 % itself from the full 500 events.
    stopped = MLPClassifier(
        HIDDEN,
        alpha=0.0,
        learning_rate_init=0.003,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=10,
        max_iter=epochs,
        random_state=0,
    ).fit(X, y)
    best_es = int(np.argmax(stopped.validation_scores_)) + 1
    print(
        f"early stopping: stopped after {stopped.n_iter_} epochs, kept epoch {best_es} "
        f"(validation accuracy {stopped.best_validation_score_:.3f})"
    )
    for name, clf in (("trained to the end", traced), ("early stopping", stopped)):
        proba = clf.predict_proba(X_test)
        print(
            f"{name:>18}: test loss {log_loss(y_test, proba):.3f}, "
            f"test accuracy {clf.score(X_test, y_test):.3f}"
        )

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    ax = axes[0]
    epoch = np.arange(1, epochs + 1)
    ax.plot(epoch, traced.loss_curve_, label="training loss (80 %)")
    ax.plot(epoch, val_loss, label="validation loss (20 %)")
    ax.axvline(best, color="grey", linestyle=":", label=f"lowest validation loss (epoch {best})")
    ax.fill_between(
        epoch,
        traced.loss_curve_,
        val_loss,
        where=epoch >= best,
        alpha=0.15,
        color="C1",
        label="overfitting gap",
    )
    ax.set_xlabel("epoch")
    ax.set_ylabel("binary cross-entropy")
    ax.set_title(f"MLP {HIDDEN} on {len(X_train)} electrons and photons")
    ax.legend()

    plot_loss_curves({"early stopping": stopped}, ax=axes[1])
    axes[1].set_title("early_stopping=True, validation_fraction=0.2")
    fig.tight_layout()
    fig.savefig(args.out / "early_stopping.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'early_stopping.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
