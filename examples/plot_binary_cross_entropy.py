"""Binary cross-entropy: classification as maximum likelihood.
===========================================================

Pass or fail is a binary target, y = 1 or 0. A classifier with a sigmoid output
gives p_hat = P(y = 1 | x); the probability it assigns to what happened is the
Bernoulli distribution

    P(y | x) = p_hat^y (1 - p_hat)^(1 - y),

and maximising the log-likelihood of the data is minimising the binary
cross-entropy (BCE), averaged over the students:

    BCE(y, p_hat) = -y log p_hat - (1 - y) log(1 - p_hat),   L(w) = 1/n sum_i BCE_i.

A confident wrong answer costs without bound (-log p_hat -> infinity as
p_hat -> 0), a confident right one nothing. Because the loss is a likelihood,
the trained p_hat is a calibrated probability: among students given p_hat = 0.8,
about 80 % pass. The example trains an MLP on the pass-the-class toy, checks
that its final training loss is the BCE computed by hand (and by scikit-learn's
log_loss), and draws the loss, the probability map and the calibration.

    python examples/plot_binary_cross_entropy.py [--fast] [--out figures/]

Prints the BCE three ways, the accuracy and the calibration; writes
``binary_cross_entropy.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier
from sklearn_dlpp.datasets import make_pass_class


def bce(y: np.ndarray, p_hat: np.ndarray) -> float:
    """The mean binary cross-entropy, written out."""
    return float(np.mean(-y * np.log(p_hat) - (1 - y) * np.log(1 - p_hat)))


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

    X, y = make_pass_class(1000 if args.fast else 20000, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    scaler = StandardScaler().fit(X_train)
    # Full-batch training with alpha=0: the last epoch's loss is exactly the BCE
    # of the weights before the last step.
    clf = MLPClassifier(
        (16, 16),
        alpha=0.0,
        batch_size=len(X_train),
        learning_rate_init=0.02,
        max_iter=150 if args.fast else 400,
        random_state=0,
    ).fit(scaler.transform(X_train), y_train)

    p_train = clf.predict_proba(scaler.transform(X_train))[:, 1]
    p_test = clf.predict_proba(scaler.transform(X_test))[:, 1]
    print(
        f"training BCE: by hand {bce(y_train, p_train):.4f}, sklearn log_loss "
        f"{log_loss(y_train, p_train):.4f}, the estimator's last loss {clf.loss_:.4f}"
    )
    accuracy = clf.score(scaler.transform(X_test), y_test)
    print(f"test BCE {bce(y_test, p_test):.4f}, test accuracy {accuracy:.3f}")
    frac_pass, mean_p = calibration_curve(y_test, p_test, n_bins=5)
    for p, f in zip(mean_p, frac_pass, strict=True):
        print(f"  students with p_hat ~ {p:.2f}: {f:.2f} passed")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    p = np.linspace(1e-3, 1 - 1e-3, 400)
    ax.plot(p, -np.log(p), label="y = 1: -log p_hat")
    ax.plot(p, -np.log(1 - p), label="y = 0: -log(1 - p_hat)")
    ax.set_ylim(0, 5)
    ax.set_xlabel("predicted probability to pass p_hat")
    ax.set_ylabel("BCE(y, p_hat)")
    ax.set_title("Binary cross-entropy")
    ax.legend()

    ax = axes[1]
    x1 = np.linspace(0, X[:, 0].max() + 1, 150)
    x2 = np.linspace(0, np.percentile(X[:, 1], 99), 150)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(x1, x2)])
    proba = clf.predict_proba(scaler.transform(grid))[:, 1].reshape(len(x2), len(x1))
    shade = ax.contourf(x1, x2, proba, levels=np.linspace(0, 1, 11), cmap="RdBu")
    fig.colorbar(shade, ax=ax, label="p_hat = P(pass | x)")
    shown, passed = X_test[:500], y_test[:500] == 1  # enough points to see, not to hide
    ax.scatter(*shown[passed].T, s=5, c="navy", label="passed")
    ax.scatter(*shown[~passed].T, s=5, c="darkred", marker="x", label="failed")
    ax.set_xlim(x1[0], x1[-1])
    ax.set_ylim(x2[0], x2[-1])
    ax.set_xlabel("x1: lectures attended")
    ax.set_ylabel("x2: hours on the final project")
    ax.set_title("The learnt probability")
    ax.legend(loc="upper right", fontsize="small")

    ax = axes[2]
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfectly calibrated")
    ax.plot(mean_p, frac_pass, "o-", label="MLP on the test set")
    ax.set_xlabel("mean predicted p_hat (bin)")
    ax.set_ylabel("fraction that passed")
    ax.set_title("Minimising BCE gives calibrated probabilities")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out / "binary_cross_entropy.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'binary_cross_entropy.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
