"""PerceptronClassifier's defaults against early stopping and a small search (generated, real data).

The perceptron's defaults are ours to choose (issue 13): this measures whether
early stopping or other defaults would serve a first try better. Data:

* ``electron/photon``: ``make_electron_photon`` (generated shower shapes);
* ``Zmumu``: the dimuon events of ``uproot-Zmumu.root`` (CMS open data, from
  scikit-hep-testdata), both muons' log pT, eta, phi and charge, labelled by
  whether the pair's mass is within 10 GeV of the Z's (a non-linear task: a
  linear unit is the baseline it sets).

Each fit is scored by ROC AUC on a held-out quarter (stratified), standardised inputs.

    python benchmarks/bench_perceptron_defaults.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import PerceptronClassifier
from sklearn_dlpp.datasets import make_electron_photon

Z_MASS = 91.19


def electron_photon() -> tuple[np.ndarray, np.ndarray]:
    return make_electron_photon(20000, random_state=0)


def zmumu() -> tuple[np.ndarray, np.ndarray]:
    import skhep_testdata
    import uproot

    tree = uproot.open(skhep_testdata.data_path("uproot-Zmumu.root"))["events"]
    a = tree.arrays(library="np")
    columns = [
        f(a[f"{name}{i}"])
        for i in (1, 2)
        for name, f in (("pt", np.log), ("eta", np.asarray), ("phi", np.asarray), ("Q", np.asarray))
    ]
    return np.column_stack(columns), (np.abs(a["M"] - Z_MASS) < 10).astype(int)


def auc(model, X, y) -> float:
    return roc_auc_score(y, model.predict_proba(X)[:, 1])


def main() -> None:
    print(f"{'data':<16} {'default':>16} {'early_stopping':>16} {'tuned (grid)':>22}")
    for name, load in (("electron/photon", electron_photon), ("Zmumu", zmumu)):
        X, y = load()
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=0
        )
        cells = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for params in ({}, {"early_stopping": True}):
                started = time.perf_counter()
                model = make_pipeline(
                    StandardScaler(), PerceptronClassifier(random_state=0, **params)
                ).fit(X_train, y_train)
                epochs = model[-1].n_iter_
                seconds = time.perf_counter() - started
                cells.append(f"{auc(model, X_test, y_test):.4f} ({epochs} ep, {seconds:.0f} s)")
            grid = {
                "perceptronclassifier__learning_rate_init": [0.001, 0.01, 0.1],
                "perceptronclassifier__alpha": [1e-4, 1e-2],
            }
            search = GridSearchCV(
                make_pipeline(StandardScaler(), PerceptronClassifier(random_state=0)),
                grid,
                scoring="roc_auc",
                cv=3,
            ).fit(X_train, y_train)
            best = {k.split("__")[1]: v for k, v in search.best_params_.items()}
            cells.append(f"{auc(search, X_test, y_test):.4f} {best}")
        print(f"{name:<16} {cells[0]:>16} {cells[1]:>16} {cells[2]:>22}")


if __name__ == "__main__":
    main()
