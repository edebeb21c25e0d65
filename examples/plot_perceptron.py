"""The perceptron and its decision boundary: will I pass this class?
=================================================================

The basic unit of deep learning is the perceptron: a weighted sum of the inputs
plus a bias, passed through a non-linear activation,

    y_hat = g(w0 + x^T w),   g(z) = sigmoid(z) = 1 / (1 + exp(-z)).

It predicts "pass" where y_hat > 1/2, that is where w0 + x^T w > 0: its decision
boundary is the straight line w0 + w1 x1 + w2 x2 = 0, whatever g is. The
students of the toy problem (x1 = lectures attended, x2 = hours on the final
project) pass on a curved boundary (the grade has diminishing returns in both
and needs both), so the perceptron can only draw the best straight line through
it. One hidden layer of perceptrons, z_i = g(w0_i + x^T w_i), y_hat = g(v0 + z^T v),
bends the boundary: non-linear activations give non-linear decision boundaries.

    python examples/plot_perceptron.py [--fast] [--out figures/]

Prints the learnt weights, the boundary line and the test accuracy of both models;
writes ``perceptron_boundary.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier, PerceptronClassifier
from sklearn_dlpp.datasets import make_pass_class


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
    # A fixed budget of epochs is part of the lesson; no need to warn about it.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    n_samples = 600 if args.fast else 3000
    X, y = make_pass_class(n_samples, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)

    perceptron = make_pipeline(
        StandardScaler(),
        PerceptronClassifier(learning_rate_init=0.05, max_iter=300, random_state=0),
    ).fit(X_train, y_train)
    mlp = make_pipeline(
        StandardScaler(),
        MLPClassifier((16,), learning_rate_init=0.01, max_iter=300, random_state=0),
    ).fit(X_train, y_train)

    # The boundary w0 + x^T w = 0 in the units of the data: undo the standardisation.
    scaler, unit = perceptron[0], perceptron[-1]
    w = unit.coef_.ravel() / scaler.scale_
    w0 = unit.intercept_[0] - np.dot(w, scaler.mean_)
    print(f"perceptron: y_hat = sigmoid({w0:+.3f} {w[0]:+.3f} x1 {w[1]:+.3f} x2)")
    print(f"  boundary: x2 = {-w0 / w[1]:.2f} {-w[0] / w[1]:+.3f} x1 (hours vs lectures)")
    print(f"  epochs run: {unit.n_iter_}, final cross-entropy {unit.loss_:.4f}")
    acc_p = perceptron.score(X_test, y_test)
    acc_m = mlp.score(X_test, y_test)
    print(f"test accuracy: perceptron {acc_p:.3f}, MLP with one hidden layer {acc_m:.3f}")

    fig, ax = plt.subplots(figsize=(6.5, 5))
    x1 = np.linspace(0, X[:, 0].max() + 1, 200)
    x2 = np.linspace(0, np.percentile(X[:, 1], 99), 200)
    grid = np.column_stack([a.ravel() for a in np.meshgrid(x1, x2)])
    proba = mlp.predict_proba(grid)[:, 1].reshape(len(x2), len(x1))
    shade = ax.contourf(x1, x2, proba, levels=np.linspace(0, 1, 11), cmap="RdBu", alpha=0.35)
    fig.colorbar(shade, ax=ax, label="MLP: P(pass)")
    ax.contour(x1, x2, proba, levels=[0.5], colors="navy", linewidths=2)
    ax.plot(x1, -(w0 + w[0] * x1) / w[1], "k--", linewidth=2)
    ax.scatter(*X_test[y_test == 1].T, s=10, c="tab:blue", label="passed")
    ax.scatter(*X_test[y_test == 0].T, s=10, c="tab:red", marker="x", label="failed")
    ax.plot([], [], "k--", label=f"perceptron boundary (acc {acc_p:.2f})")
    ax.plot([], [], color="navy", label=f"MLP boundary (acc {acc_m:.2f})")
    ax.set_xlim(x1[0], x1[-1])
    ax.set_ylim(x2[0], x2[-1])
    ax.set_xlabel("x1: lectures attended")
    ax.set_ylabel("x2: hours on the final project")
    ax.set_title("A perceptron draws a line; a hidden layer bends it")
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    fig.savefig(args.out / "perceptron_boundary.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'perceptron_boundary.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
