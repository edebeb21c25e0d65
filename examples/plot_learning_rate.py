"""Gradient descent and the learning rate: too small, good, too large.
===================================================================

Training looks for the weights that minimise the loss, W* = argmin_W L(W).
Gradient descent starts from random weights and repeats

    w -> w - eta * dL/dw

until the loss stops falling: a step against the gradient, the direction of
steepest ascent, of a size set by the learning rate eta. On the parabola
L(w) = (w - w*)^2 one step multiplies the distance to the minimum by
(1 - 2 eta): a tiny eta crawls, eta near 1/2 lands at once, and eta > 1
overshoots further at every step and diverges.

The same happens to a network: an MLP is trained on the pass-the-class toy by
full-batch gradient descent (``solver='sgd'``, ``momentum=0``, one batch = the
whole data set, so one epoch is one step) with three learning rates.

    python examples/plot_learning_rate.py [--fast] [--out figures/]

Prints the loss reached with each learning rate; writes ``learning_rate.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier, TrainingDivergedWarning
from sklearn_dlpp.datasets import make_pass_class
from sklearn_dlpp.plotting import plot_loss_curves

PARABOLA_RATES = {"too small": 0.05, "good": 0.4, "too large": 1.05}
NETWORK_RATES = {"too small": 0.005, "good": 0.5, "too large": 40.0}


def descend(eta: float, w0: float, steps: int, w_star: float = 2.0) -> np.ndarray:
    """Gradient descent on L(w) = (w - w_star)^2; returns every w visited."""
    w = [w0]
    for _ in range(steps):
        w.append(w[-1] - eta * 2.0 * (w[-1] - w_star))
    return np.array(w)


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

    X, y = make_pass_class(1000 if args.fast else 4000, random_state=0)
    X = StandardScaler().fit_transform(X)
    steps = 100 if args.fast else 300
    fits = {}
    for name, eta in NETWORK_RATES.items():
        clf = MLPClassifier(
            (16,),
            solver="sgd",
            momentum=0.0,
            batch_size=len(X),
            learning_rate_init=eta,
            max_iter=steps,
            n_iter_no_change=steps,
            random_state=0,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrainingDivergedWarning)
            clf.fit(X, y)
        diverged = any(issubclass(w.category, TrainingDivergedWarning) for w in caught)
        fits[f"eta = {eta:g} ({name})"] = clf
        curve = np.array(clf.loss_curve_)
        note = " - diverged to NaN, training stopped" if diverged else ""
        print(
            f"eta = {eta:<6g} ({name:>9}): loss {curve[0]:.3g} -> {curve[-1]:.3g} "
            f"after {len(curve)} steps, lowest {curve.min():.3g}, "
            f"accuracy {clf.score(X, y):.3f}{note}"
        )

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ax = axes[0]
    w = np.linspace(-4.0, 8.0, 200)
    ax.plot(w, (w - 2.0) ** 2, color="grey", linewidth=1)
    for (name, eta), color in zip(PARABOLA_RATES.items(), ("C0", "C1", "C2"), strict=True):
        path = descend(eta, w0=-1.0, steps=8)
        ax.plot(path, (path - 2.0) ** 2, "o-", color=color, markersize=4, label=f"eta = {eta}")
        print(f"parabola, eta = {eta} ({name}): |w - w*| after 8 steps = {abs(path[-1] - 2):.3f}")
    ax.set_ylim(-0.5, 20)
    ax.set_xlabel("weight w")
    ax.set_ylabel("L(w) = (w - 2)^2")
    ax.set_title("w -> w - eta dL/dw on a parabola")
    ax.legend()

    plot_loss_curves(fits, ax=axes[1])
    axes[1].set_yscale("log")
    axes[1].set_ylim(0.1, 10)  # the diverging run leaves through the top
    axes[1].set_xlabel("epoch = one gradient step (full batch)")
    axes[1].set_title("An MLP trained by full-batch gradient descent")
    fig.tight_layout()
    fig.savefig(args.out / "learning_rate.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'learning_rate.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
