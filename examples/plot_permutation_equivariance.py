"""Permutation equivariance and invariance: renumbering the nodes changes nothing.
================================================================================

The nodes of a graph and the particles of a jet are numbered only because
computers need indices. Renumbering them by a permutation :math:`P` permutes the
node features, :math:`X \\to PX`, and the adjacency, :math:`A \\to PAP^\\top`; a
graph network is built so that

* its per-node outputs are *equivariant*, :math:`f(PX, PAP^\\top) = P f(X, A)`:
  renumbering the cells of a calorimeter event renumbers their predicted
  classes in the same way, and nothing else changes;
* its per-graph outputs are *invariant*, :math:`F(PX) = F(X)`: shuffling the
  particles of a jet leaves its top-tag score as it was.

Both hold by construction (the same MLP on every node and edge, then a sum, a
mean or a softmax-weighted sum over neighbours), not by training. This example
checks them on trained estimators, to float precision, and shows what happens
without them: an MLP on the flattened list of particles (sorted by pT, as
usual) gives a different score for every order of the same particles.

    python examples/plot_permutation_equivariance.py [--fast] [--out figures/]

Prints the largest change of each model's output under renumbering; writes
``permutation_equivariance.png``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_dlpp import GraphClassifier, MLPClassifier, NodeClassifier
from sklearn_dlpp.datasets import make_calorimeter, make_jets

MAX_PARTICLES = 30


def renumbered(graph: nx.Graph, order: np.ndarray) -> nx.Graph:
    """The same graph with its nodes inserted in ``order``: new node k is old node order[k]."""
    new_number = {int(old): new for new, old in enumerate(order)}
    copy = nx.Graph()
    copy.add_nodes_from((new, dict(graph.nodes[int(old)])) for new, old in enumerate(order))
    copy.add_edges_from(
        (new_number[u], new_number[v], data) for u, v, data in graph.edges(data=True)
    )
    return copy


def shuffled_particles(jets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each jet's real (non-padding) particles in a random order, padding kept at the end."""
    out = jets.copy()
    for jet, row in zip(out, jets, strict=True):
        n = int(np.any(row != 0, axis=1).sum())
        jet[:n] = row[rng.permutation(n)]
    return out


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
    rng = np.random.default_rng(0)
    epochs = 5 if args.fast else 20

    # Equivariance: a node classifier on calorimeter cells.
    graphs, labels = make_calorimeter(60 if args.fast else 300, random_state=0)
    cells = NodeClassifier(hidden=32, n_blocks=2, max_iter=epochs, random_state=0)
    cells.fit(graphs, labels)
    event = make_calorimeter(1, random_state=1)[0][0]
    order = rng.permutation(event.number_of_nodes())
    before = cells.predict_proba([event])[0]
    after = cells.predict_proba([renumbered(event, order)])[0]
    # Equivariant: the renumbered event's node k is the original node order[k].
    node_change = np.abs(after - before[order]).max()
    print(
        f"NodeClassifier, {event.number_of_nodes()} cells renumbered: "
        f"largest change of a class probability {node_change:.1e}"
    )

    # Invariance: a deep set on jets, and an MLP on the flattened particles.
    n_jets = 600 if args.fast else 3000
    jets, y = make_jets(n_jets, max_particles=MAX_PARTICLES, random_state=0)
    test_jets, _ = make_jets(300, max_particles=MAX_PARTICLES, random_state=1)
    shuffled = shuffled_particles(test_jets, rng)
    deep_set = GraphClassifier(hidden=32, n_blocks=2, block="deepset", max_iter=epochs)
    deep_set.set_params(random_state=0).fit(jets, y)
    flat = MLPClassifier((64, 64), max_iter=5 * epochs, random_state=0)
    flat.fit(jets.reshape(n_jets, -1), y)
    scores = {
        "deep set (GraphClassifier)": (
            deep_set.predict_proba(test_jets)[:, 1],
            deep_set.predict_proba(shuffled)[:, 1],
        ),
        "MLP on the particle list": (
            flat.predict_proba(test_jets.reshape(len(test_jets), -1))[:, 1],
            flat.predict_proba(shuffled.reshape(len(shuffled), -1))[:, 1],
        ),
    }
    for name, (ordered, reordered) in scores.items():
        print(
            f"{name}, particles shuffled: largest change of a jet's top score "
            f"{np.abs(ordered - reordered).max():.1e}"
        )

    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    ax = axes[0]
    for k, name in enumerate(("noise", "electromagnetic", "hadronic")):
        ax.scatter(before[order, k], after[:, k], s=12, label=name)
    ax.set_xlabel("P(class) of the cells, original numbering (permuted)")
    ax.set_ylabel("P(class) of the renumbered event")
    ax.set_title(
        f"Equivariant: node outputs follow the renumbering\n(max change {node_change:.0e})"
    )
    ax.legend(fontsize="small")
    for ax, (name, (ordered, reordered)) in zip(axes[1:], scores.items(), strict=True):
        ax.scatter(ordered, reordered, s=8, alpha=0.6)
        ax.plot([0, 1], [0, 1], "k:", linewidth=1)
        change = np.abs(ordered - reordered).max()
        ax.set_title(f"{name}\n(max change {change:.0e})")
        ax.set_xlabel("top score, particles sorted by pT")
        ax.set_ylabel("top score, same particles shuffled")
    fig.tight_layout()
    fig.savefig(args.out / "permutation_equivariance.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'permutation_equivariance.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
