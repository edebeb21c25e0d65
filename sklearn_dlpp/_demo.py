"""The demo: train the estimators on generated physics data and print their scores."""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPClassifier, MLPRegressor, PerceptronClassifier


def _electron_photon(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stand-in electron/photon features until the datasets module lands."""
    y = rng.integers(0, 2, n)
    energy = rng.exponential(40.0, n) + 10.0
    e_over_p = np.where(y == 1, rng.normal(1.0, 0.15, n), rng.normal(1.6, 0.6, n))
    width = np.where(y == 1, rng.normal(1.0, 0.3, n), rng.normal(1.3, 0.35, n))
    eta = rng.uniform(-2.5, 2.5, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    return np.column_stack([energy, e_over_p, width, eta, phi]), y


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sklearn_dlpp")
    parser.add_argument("command", choices=["demo"])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.random_state)
    X, y = _electron_photon(args.n_samples, rng)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    rows = []
    for name, est in [
        ("PerceptronClassifier", PerceptronClassifier(random_state=0, max_iter=30)),
        (
            "MLPClassifier",
            MLPClassifier((64, 64), random_state=0, max_iter=30, early_stopping=True),
        ),
    ]:
        start = time.perf_counter()
        model = make_pipeline(StandardScaler(), est).fit(X_tr, y_tr)
        auc = roc_auc_score(y_te, model.predict_proba(X_te)[:, 1])
        acc = model.score(X_te, y_te)
        rows.append(
            (
                name,
                "electron vs photon",
                f"acc {acc:.3f}  AUC {auc:.3f}",
                time.perf_counter() - start,
            )
        )
        print(f"trained {name}", flush=True)

    energy = X[:, 0] * rng.normal(1.0, 0.05, len(X))
    X_tr, X_te, e_tr, e_te = train_test_split(X, energy, test_size=0.2, random_state=0)
    start = time.perf_counter()
    reg = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(64, 64), random_state=0, max_iter=30, early_stopping=True),
    )
    reg.fit(X_tr, e_tr)
    r2 = r2_score(e_te, reg.predict(X_te))
    rows.append(("MLPRegressor", "energy regression", f"R2 {r2:.3f}", time.perf_counter() - start))

    print(f"\n{'estimator':<22} {'task':<20} {'score':<26} {'seconds':>7}")
    for name, task, score, seconds in rows:
        print(f"{name:<22} {task:<20} {score:<26} {seconds:7.1f}")
    return 0
