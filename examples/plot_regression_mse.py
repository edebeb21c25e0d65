"""Regression with the mean squared error: predict the grade.
==========================================================

When the target is a real number, here the grade of the pass-the-class toy
(x1 = lectures attended, x2 = hours on the final project), the network's output
is left linear and training minimises the mean squared error over the data,

    L(w) = 1/n sum_i (y_i - y_hat_i)^2.

The grade grows with diminishing returns in both features and needs both,
g = 100 (1 - exp(-x1/6)) (1 - exp(-x2/5)) + noise, so a linear model (a straight
plane) cannot follow it, while an MLP can approximate it (the universal
approximation theorem). No model can beat the noise: the best possible
prediction is the mean grade at x, and its MSE is the variance of the grade
around it. With a noise of 6 grade points that would be 6^2 = 36, but grades
are clipped to [0, 100], which narrows the noise near both ends: averaged over
the students the floor is about 35.1, computed exactly below from the normal
distribution clipped at 0 and 100.

    python examples/plot_regression_mse.py [--fast] [--out figures/]

Prints the test MSE, RMSE and R^2 of a linear fit and of the MLP; writes
``regression_mse.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPRegressor
from sklearn_dlpp.datasets import make_pass_class

NOISE = 6.0


def mean_grade(X: np.ndarray) -> np.ndarray:
    """The grade without noise, 100 (1 - exp(-x1/6)) (1 - exp(-x2/5))."""
    return 100 * (1 - np.exp(-X[:, 0] / 6)) * (1 - np.exp(-X[:, 1] / 5))


def irreducible_mse(X: np.ndarray, noise: float) -> float:
    """Mean variance of the clipped grade clip(g + noise Z, 0, 100) at the rows of X.

    The MSE of the best possible prediction, E[grade | x]. For Y = clip(g + s Z)
    with a = -g/s and b = (100 - g)/s, the moments follow from the normal's
    density phi and distribution Phi over the unclipped part plus the mass at
    the two ends.
    """
    g = mean_grade(X)
    a, b = (0.0 - g) / noise, (100.0 - g) / noise
    inside = norm.cdf(b) - norm.cdf(a)
    first = g * inside + noise * (norm.pdf(a) - norm.pdf(b)) + 100.0 * norm.sf(b)
    second = (
        (g**2 + noise**2) * inside
        + noise * (g * norm.pdf(a) - (g + 100.0) * norm.pdf(b))
        + 100.0**2 * norm.sf(b)
    )
    return float(np.mean(second - first**2))


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

    X, grade = make_pass_class(
        800 if args.fast else 4000, target="grade", noise=NOISE, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(X, grade, test_size=0.25, random_state=0)

    linear = make_pipeline(StandardScaler(), LinearRegression()).fit(X_train, y_train)
    mlp = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(32, 32),
            learning_rate_init=0.01,
            max_iter=200,
            random_state=0,
        ),
    ).fit(X_train, y_train)

    floor = irreducible_mse(X_test, NOISE)
    print(f"irreducible noise: MSE >= {floor:.1f} (grade points^2; {NOISE:.0f}^2 before clipping)")
    results = {}
    for name, model in (("linear", linear), ("MLP (32, 32)", mlp)):
        pred = model.predict(X_test)
        mse = mean_squared_error(y_test, pred)
        results[name] = pred
        print(
            f"{name:>13}: test MSE {mse:7.1f}  RMSE {np.sqrt(mse):5.2f}  "
            f"R^2 {r2_score(y_test, pred):.3f}"
        )
    # MLPRegressor minimises half the squared error (plus a tiny L2 term).
    print(f"MLP training loss L/2 after {mlp[-1].n_iter_} epochs: {mlp[-1].loss_:.1f}")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    ax = axes[0]
    for name, pred in results.items():
        ax.scatter(y_test, pred, s=6, alpha=0.5, label=name)
    ax.plot([0, 100], [0, 100], "k--", linewidth=1, label="y_hat = y")
    ax.set_xlabel("true grade y")
    ax.set_ylabel("predicted grade y_hat")
    ax.set_title("Predictions on the test set")
    ax.legend(fontsize="small")

    ax = axes[1]
    bins = np.linspace(-40, 40, 41)
    for name, pred in results.items():
        ax.hist(pred - y_test, bins=bins, histtype="step", linewidth=1.5, label=name)
    ax.axvline(0, color="k", linewidth=0.8)
    ax.set_xlabel("residual y_hat - y (grade points)")
    ax.set_ylabel("students")
    ax.set_title(f"Residuals (noise sigma = {NOISE:.0f})")
    ax.legend(fontsize="small")

    ax = axes[2]
    lectures = np.arange(0, 25)
    for hours, color in ((2, "tab:red"), (6, "tab:purple"), (15, "tab:green")):
        grid = np.column_stack([lectures, np.full(lectures.shape, hours)])
        truth = mean_grade(grid)
        ax.plot(lectures, truth, ":", color=color)
        ax.plot(lectures, mlp.predict(grid), "-", color=color, label=f"{hours} h on project")
        ax.plot(lectures, linear.predict(grid), "--", color=color, alpha=0.5)
    ax.plot([], [], "k:", label="true mean grade")
    ax.plot([], [], "k-", label="MLP")
    ax.plot([], [], "k--", alpha=0.5, label="linear")
    ax.set_xlabel("x1: lectures attended")
    ax.set_ylabel("grade")
    ax.set_title("Learnt function vs the truth")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(args.out / "regression_mse.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'regression_mse.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
