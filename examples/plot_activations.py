"""Activation functions: the sigmoid saturates and kills gradients, ReLU does not.
===============================================================================

The sigmoid g(z) = 1 / (1 + exp(-z)) has the derivative g'(z) = g(z) (1 - g(z)),
at most 1/4 (at z = 0) and close to 0 as soon as :math:`|z|` is a few units: the unit
saturates. Backpropagation multiplies one such factor per layer on the way from
the loss back to the first layer,

    dL/dW1 = dL/dy_hat * g'(z_L) W_L * ... * g'(z_2) W_2 * g'(z_1) x,

so in a deep stack of sigmoid layers the gradient reaching the first layers
shrinks geometrically (the vanishing gradient) and they barely learn. The
rectified linear unit g(z) = max(0, z) has g'(z) = 1 for z > 0 and 0 otherwise:
an active unit passes the gradient on unchanged. Hence the usual choice: ReLU
in all hidden layers, a sigmoid only at the output, where it turns a score into
a probability.

This example draws both functions and their derivatives, measures the gradient
norm of every layer of a deep (8 hidden layers) network of each kind by
backpropagation, after one epoch of training (close to the initialisation: the
estimator builds its network when it is fitted), and trains both on the
pass-the-class toy with the same optimiser: the loss curves show the sigmoid
network stuck on its plateau.

    python examples/plot_activations.py [--fast] [--out figures/]

Prints the gradient norms of the first and last layers and the final losses;
writes ``activations.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier
from sklearn_dlpp.datasets import make_pass_class
from sklearn_dlpp.plotting import plot_loss_curves

DEPTH = (32,) * 8


def layer_gradient_norms(clf: MLPClassifier, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Norm of dL/dW of every linear layer, first to last, by backpropagation."""
    module = clf.module_
    module.zero_grad()
    dtype = next(module.parameters()).dtype  # the precision the network trained in
    inputs = torch.as_tensor(X, dtype=dtype)
    logits = module(inputs).squeeze(1)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, torch.as_tensor(y, dtype=dtype)
    )
    loss.backward()
    norms = [m.weight.grad.norm().item() for m in module if isinstance(m, torch.nn.Linear)]
    module.zero_grad()
    return np.array(norms)


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

    X, y = make_pass_class(800 if args.fast else 3000, random_state=0)
    X = StandardScaler().fit_transform(X)
    epochs = 25 if args.fast else 80

    # Plain SGD with momentum, the same for both: only the activation differs.
    common = {
        "solver": "sgd",
        "learning_rate_init": 0.02,
        "batch_size": 64,
        "max_iter": epochs,
        "n_iter_no_change": epochs,
        "random_state": 0,
    }
    gradients, fits = {}, {}
    for activation in ("logistic", "relu"):
        # The gradients of a network trained for one epoch only (fitting is what
        # builds the network): still close to its initialisation.
        fresh = MLPClassifier(DEPTH, activation=activation, **{**common, "max_iter": 1})
        gradients[activation] = layer_gradient_norms(fresh.fit(X, y), X, y)
        fits[activation] = MLPClassifier(DEPTH, activation=activation, **common).fit(X, y)

    for activation, norms in gradients.items():
        print(
            f"{activation:>8}: |dL/dW| first layer {norms[0]:.2e}, last layer {norms[-1]:.2e}, "
            f"ratio {norms[0] / norms[-1]:.1e}"
        )
    # The loss of a network that ignores x and always answers the pass rate p.
    p = y.mean()
    baseline = -(p * np.log(p) + (1 - p) * np.log(1 - p))
    for activation, clf in fits.items():
        print(
            f"{activation:>8}: loss after {clf.n_iter_} epochs {clf.loss_curve_[-1]:.4f} "
            f"(ignoring x gives {baseline:.4f}), training accuracy {clf.score(X, y):.3f}"
        )

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    z = np.linspace(-6, 6, 400)
    sigmoid = 1 / (1 + np.exp(-z))
    ax = axes[0]
    ax.plot(z, sigmoid, color="tab:blue", label="sigmoid g(z)")
    ax.plot(z, sigmoid * (1 - sigmoid), "--", color="tab:blue", label="g'(z) = g (1 - g)")
    ax.plot(z, np.maximum(z, 0) / 6, color="tab:orange", label="ReLU max(0, z) (scaled 1/6)")
    ax.plot(z, (z > 0).astype(float), "--", color="tab:orange", label="ReLU'(z)")
    ax.axhline(0.25, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xlabel("z")
    ax.set_ylabel("g(z), g'(z)")
    ax.set_title("Sigmoid saturates: g' <= 1/4, ~0 for |z| > 4")
    ax.legend(fontsize="small")

    ax = axes[1]
    for activation, color in (("logistic", "tab:blue"), ("relu", "tab:orange")):
        norms = gradients[activation]
        ax.semilogy(np.arange(1, len(norms) + 1), norms, "o-", color=color, label=activation)
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel(r"$|\partial L / \partial W|$ after one epoch")
    ax.set_title(f"Gradients through {len(DEPTH)} hidden layers")
    ax.legend()

    plot_loss_curves(fits, ax=axes[2])  # the colour cycle: logistic blue, relu orange
    axes[2].set_title("Training with the same SGD")
    fig.tight_layout()
    fig.savefig(args.out / "activations.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'activations.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
