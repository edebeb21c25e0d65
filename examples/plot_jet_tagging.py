"""Jet tagging: a graph network and a deep set with attention tell top jets from QCD jets.
=======================================================================================

A jet is a variable-size set of particles, each with features (here
log(pT / pT_jet), delta_eta, delta_phi to the jet axis); their order means
nothing. A boosted top quark decays into three hard prongs (t -> b W, W -> q q'),
a QCD jet into one hard core with soft emissions. Two permutation-equivariant
architectures of the course learn from the particles directly:

* a graph network: each particle is joined to its k = 8 nearest neighbours in
  (eta, phi); a GN block forms a message m_ji = phi_e([h_j, h_i]) on every edge
  and aggregates them with attention, a_i = sum_j alpha_ji m_ji with
  alpha_ji = softmax_j(s_ji), then updates h_i' = phi_h([h_i, a_i]); stacking
  two blocks widens each particle's receptive field. Two scores s_ji are
  compared: a learnt linear score of the edge's own representation,
  s_ji = w . z_ji (``aggregation="attention"``), and key-query attention,
  s_ji = <q_i, k_j> / sqrt(d) with the receiver's query and the sender's key from
  two MLPs (``aggregation="keyquery"``);
* a deep set with key-query attention: no edges; every particle attends to all
  others of its jet, alpha_ij = softmax_j(<q_i, k_j> / sqrt(d)) with queries and
  keys from two MLPs, a_i = sum_j alpha_ij v_j.

A sum over the particles (a permutation-invariant readout) and an MLP give the
jet's score. The baseline is one physics variable, the jet mass over pT from
the constituents, m^2 / pT^2 = sum_{i<j} z_i z_j dR_ij^2. The ROC curves show
background (QCD) rejection against top-tagging efficiency, in the CMS style of
``mplhep`` (``--style`` picks another experiment's, ``--style none`` keeps
matplotlib's; without mplhep installed the plots keep matplotlib's style); the
second figure draws the attention each network puts between the particles of
one top jet.

    python examples/plot_jet_tagging.py [--fast] [--out figures/] [--style CMS]

Prints the AUC and the QCD rejection at 30 % and 50 % top efficiency of each;
writes ``jet_tagging_roc.png`` and ``jet_tagging_attention.png``.
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

from sklearn_dlpp import GraphClassifier
from sklearn_dlpp.datasets import make_jets
from sklearn_dlpp.metrics import background_rejection
from sklearn_dlpp.plotting import HEP_STYLES, hep_style, plot_graph_attention, plot_roc

MAX_PARTICLES = 40
K = 8


def mass_over_pt(jets: np.ndarray) -> np.ndarray:
    """m / pT of each padded jet: sqrt(sum_{i<j} z_i z_j dR_ij^2) (small-angle limit)."""
    real = np.any(jets != 0, axis=2)
    z = np.where(real, np.exp(jets[:, :, 0]), 0.0)
    d_eta = jets[:, :, None, 1] - jets[:, None, :, 1]
    d_phi = jets[:, :, None, 2] - jets[:, None, :, 2]
    pairs = z[:, :, None] * z[:, None, :] * (d_eta**2 + d_phi**2)
    return np.sqrt(pairs.sum(axis=(1, 2)) / 2.0)  # each pair counted twice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fast", action="store_true", help="less data and training (CI)")
    parser.add_argument("--out", type=Path, default=Path("figures"))
    parser.add_argument("--style", default="CMS", choices=[*HEP_STYLES, "none"])
    # Known arguments only: a notebook kernel adds its own.
    args, _ = parser.parse_known_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    n_train, n_test = (600, 600) if args.fast else (2500, 2500)
    epochs = 6 if args.fast else 25
    # The same jets twice: as padded particle arrays and as k-nearest-neighbour graphs.
    jets, y = make_jets(n_train, max_particles=MAX_PARTICLES, random_state=0)
    graphs, _ = make_jets(n_train, max_particles=MAX_PARTICLES, as_graphs=True, k=K, random_state=0)
    test_jets, y_test = make_jets(n_test, max_particles=MAX_PARTICLES, random_state=1)
    test_graphs, _ = make_jets(
        n_test, max_particles=MAX_PARTICLES, as_graphs=True, k=K, random_state=1
    )

    training = {"learning_rate_init": 0.005, "max_iter": epochs, "random_state": 0}
    models = {
        "GNN, attention": (
            GraphClassifier(hidden=32, n_blocks=2, aggregation="attention", **training),
            graphs,
            test_graphs,
        ),
        "GNN, key-query": (
            GraphClassifier(hidden=32, n_blocks=2, aggregation="keyquery", **training),
            graphs,
            test_graphs,
        ),
        "deep set, key-query": (
            GraphClassifier(hidden=32, n_blocks=2, block="deepset", **training),
            jets,
            test_jets,
        ),
    }
    scores = {"jet mass m/pT": mass_over_pt(test_jets)}
    for name, (clf, X_train, X_test) in models.items():
        fit_started = time.perf_counter()
        clf.fit(X_train, y)
        scores[name] = clf.predict_proba(X_test)[:, 1]
        print(f"{name}: {clf.n_iter_} epochs in {time.perf_counter() - fit_started:.1f} s")

    print(f"{n_train} training and {n_test} test jets; signal = top jets")
    print(f"{'':>20} {'AUC':>6} {'1/eps_B @ 30%':>14} {'1/eps_B @ 50%':>14}")
    for name, score in scores.items():
        auc = roc_auc_score(y_test, score)
        r30 = background_rejection(y_test, score, signal_efficiency=0.3)
        r50 = background_rejection(y_test, score, signal_efficiency=0.5)
        print(f"{name:>20} {auc:6.3f} {r30:14.1f} {r50:14.1f}")

    style = None if args.style == "none" else args.style
    with hep_style(style):
        fig, ax = plt.subplots()  # the style's figure size
        for name, score in scores.items():
            plot_roc(y_test, score, ax=ax, label=name)
        ax.legend(loc="upper right", fontsize="small", title="top vs QCD jets")
        fig.tight_layout()
        fig.savefig(args.out / "jet_tagging_roc.png", dpi=100)
        plt.close(fig)

    # One top jet of the test set; particle marker areas follow their momentum share.
    fig, axes = plt.subplots(1, 3, figsize=(18, 5))
    top = int(np.flatnonzero(y_test == 1)[0])
    share = np.exp(test_jets[top, : test_graphs[top].number_of_nodes(), 0])
    sizes = 15 + 600 * share
    for ax, (name, (clf, _, X_test)) in zip(axes, models.items(), strict=True):
        plot_graph_attention(clf, X_test[top], ax=ax, pos_features=(1, 2), node_size=sizes)
        ax.set_xlabel("delta eta")
        ax.set_ylabel("delta phi")
        ax.set_title(f"{name}: attention in one top jet")
    fig.tight_layout()
    fig.savefig(args.out / "jet_tagging_attention.png", dpi=100)
    plt.close(fig)
    print(f"figures written to {args.out}: jet_tagging_roc.png, jet_tagging_attention.png")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
