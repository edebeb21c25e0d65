"""The main job, ``python -m sklearn_dlpp demo``: train the estimators on generated physics data.

A perceptron and an MLP tell photons from electrons, an MLP regressor calibrates
photons' energy (the generated energy from the measured pT, direction and shower
shapes, next to the calorimeter's own resolution), and a graph network tags
top-quark jets from their constituents. Prints a table of scores (accuracy, ROC
AUC, background rejection, R², relative energy resolution) and writes the plots.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import GraphClassifier, MLPClassifier, MLPRegressor, PerceptronClassifier
from sklearn_dlpp.datasets import make_electron_photon, make_jets
from sklearn_dlpp.metrics import background_rejection


def _classification_scores(y_true, score) -> dict[str, float]:
    return {
        "accuracy": float(np.mean((score > 0.5) == y_true)),
        "AUC": roc_auc_score(y_true, score),
        "rejection@50%": background_rejection(y_true, score, signal_efficiency=0.5),
    }


def _step(index: int, total: int, text: str) -> float:
    print(f"[{index}/{total}] {text} ...", flush=True)
    return time.perf_counter()


def run(n_samples: int, n_jets: int, out: Path, random_state: int = 0) -> list[tuple]:
    """Train the four models; return table rows (model, task, scores, seconds)."""
    rows = []
    fitted = {}
    X, y, true_energy = make_electron_photon(
        n_samples, return_true_energy=True, random_state=random_state
    )
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=random_state)

    start = _step(1, 4, f"PerceptronClassifier: photon vs electron, {len(X_tr):,} candidates")
    perceptron = make_pipeline(
        StandardScaler(), PerceptronClassifier(max_iter=30, random_state=random_state)
    ).fit(X_tr, y_tr)
    scores = _classification_scores(y_te, perceptron.predict_proba(X_te)[:, 1])
    rows.append(("PerceptronClassifier", "photon vs electron", scores, time.perf_counter() - start))

    start = _step(2, 4, "MLPClassifier (64, 64) with early stopping, same data")
    mlp = make_pipeline(
        StandardScaler(),
        MLPClassifier((64, 64), early_stopping=True, max_iter=60, random_state=random_state),
    ).fit(X_tr, y_tr)
    scores = _classification_scores(y_te, mlp.predict_proba(X_te)[:, 1])
    rows.append(("MLPClassifier", "photon vs electron", scores, time.perf_counter() - start))
    fitted["MLPClassifier"] = (mlp[-1], y_te, mlp.predict_proba(X_te)[:, 1])

    # Photon energy calibration: the generated energy from the measured features of
    # photons (pT, eta and the shower shapes; not the measured E itself). The
    # calorimeter's resolution is the floor: the network should reach it.
    start = _step(3, 4, "MLPRegressor: photon energy from pT, eta and shower shapes")
    photons = y == 1
    # log pT: the falling spectrum spans decades, and log E = log pT + log cosh(eta).
    X_ph = np.column_stack([np.log(X[photons][:, 1]), X[photons][:, 2:]])
    e_true = true_energy[photons]
    P_tr, P_te, e_tr, e_te, _, m_te = train_test_split(
        X_ph, e_true, X[photons][:, 0], test_size=0.2, random_state=random_state
    )
    reg = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(64, 64),
            learning_rate_init=0.01,
            early_stopping=True,
            max_iter=60,
            random_state=random_state,
        ),
    ).fit(P_tr, np.log(e_tr))
    predicted = np.exp(reg.predict(P_te))
    scores = {
        "R²": r2_score(e_te, predicted),
        "resolution": float(np.std(predicted / e_te - 1.0)),
        "calorimeter's": float(np.std(m_te / e_te - 1.0)),
    }
    rows.append(("MLPRegressor", "photon energy", scores, time.perf_counter() - start))

    start = _step(4, 4, f"GraphClassifier: top vs QCD jets, {n_jets:,} jets as kNN graphs")
    jets, labels = make_jets(n_jets, random_state=random_state)
    J_tr, J_te, l_tr, l_te = train_test_split(
        jets, labels, test_size=0.2, random_state=random_state
    )
    gnn = GraphClassifier(
        hidden=32,
        n_blocks=2,
        set_edges="knn",
        k=8,
        knn_features=[1, 2],
        learning_rate_init=0.003,
        max_iter=30,
        early_stopping=True,
        random_state=random_state,
        verbose=True,  # the longest step: one line per epoch
    ).fit(J_tr, l_tr)
    scores = _classification_scores(l_te, gnn.predict_proba(J_te)[:, 1])
    rows.append(("GraphClassifier", "top vs QCD jets", scores, time.perf_counter() - start))
    fitted["GraphClassifier"] = (gnn, l_te, gnn.predict_proba(J_te)[:, 1])

    return rows, fitted


def _plots(fitted: dict, out: Path) -> None:
    """The demo's figure; the scores are printed before, whatever happens here."""
    # sklearn_dlpp.plotting imports without matplotlib (it imports it in each
    # function), so the optional extra is looked for directly.
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plots (pip install 'sklearn-dlpp[plot]')")
        return
    try:
        _draw(fitted, out, matplotlib)
    except Exception as error:  # a figure must never cost the scores
        print(f"no plots: {type(error).__name__}: {error}")


def _draw(fitted: dict, out: Path, matplotlib) -> None:
    from sklearn_dlpp import plotting

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    plotting.plot_loss_curves([model for model, _, _ in fitted.values()], ax=axes[0])
    for name, (_, y_true, score) in fitted.items():
        plotting.plot_roc(y_true, score, ax=axes[1], label=name)
    fig.tight_layout()
    path = out / "demo.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def _table(rows: list[tuple]) -> str:
    lines = [f"{'model':<22}{'task':<20}{'scores':<58}{'seconds':>8}"]
    for model, task, scores, seconds in rows:
        text = "  ".join(f"{k} {v:,.3f}" for k, v in scores.items())
        lines.append(f"{model:<22}{task:<20}{text:<58}{seconds:8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sklearn_dlpp", description=__doc__)
    parser.add_argument("command", choices=["demo"])
    parser.add_argument("--n-samples", type=int, default=40_000, help="electron/photon candidates")
    parser.add_argument("--n-jets", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("demo_output"), help="folder for plots")
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Early stopping caps are part of the demo's time budget.
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows, fitted = run(args.n_samples, args.n_jets, args.out, args.random_state)
    print()
    print(_table(rows))
    _plots(fitted, args.out)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0
