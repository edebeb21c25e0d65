"""Graph estimators' defaults against the old ones and a small search, on generated and real data.

Each data set is split once into training and test graphs; every model is fitted
on the training graphs and scored on the test graphs:

* ``before``: the defaults before ``early_stopping='auto'`` (``early_stopping=False``:
  ``max_iter=100`` epochs on all training graphs, the last weights kept);
* ``default``: the estimator as it comes (``early_stopping='auto'``);
* ``tuned``: ``GridSearchCV`` over ``hidden`` and ``n_blocks`` with
  ``early_stopping=True``, choosing on one validation split (a quarter of the
  training graphs), refitted on all training graphs.

Data sets (the options that describe the data, such as ``set_edges``, are the same
for every model):

* ``jets``: generated top/QCD jets (:func:`sklearn_dlpp.datasets.make_jets`), the
  10 hardest particles, complete graphs;
* ``Zmumu``: the 2,304 dimuon events of ``uproot-Zmumu.root`` (CMS open data in
  scikit-hep-testdata), each muon a node (pT, eta, phi, charge), complete graphs;
  the target: is the pair's invariant mass within 10 GeV of the Z mass;
* ``HZZ MET``: the events of ``uproot-HZZ.root`` as typed object graphs (jets,
  muons, electrons, photons), regressing the missing transverse momentum
  (targets standardised by ``TransformedTargetRegressor``);
* ``tracks``: generated tracker events (:func:`sklearn_dlpp.datasets.make_tracks`),
  ``EdgeClassifier`` on hit pairs.

    OMP_NUM_THREADS=1 python benchmarks/bench_graph_defaults.py [--only jets] [--no-search]

Prints one markdown row per data set and model: training graphs, test score (ROC AUC
or R^2 on the held-out quarter), epochs of the final fit, seconds, early stopping used.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, ShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import EdgeClassifier, GraphClassifier, GraphRegressor
from sklearn_dlpp.metrics import make_flat_scorer

GRID = {"hidden": [16, 64], "n_blocks": [1, 3]}
Z_MASS = 91.19


def jets(n: int) -> dict:
    from sklearn_dlpp.datasets import make_jets

    X, y = make_jets(n, max_particles=10, random_state=0)
    return {"X": X, "y": y, "estimator": GraphClassifier, "options": {"set_edges": "full"}}


def zmumu(n: int) -> dict:
    import skhep_testdata
    import uproot

    tree = uproot.open(skhep_testdata.data_path("uproot-Zmumu.root"))["events"]
    a = tree.arrays(library="np")
    muons = [
        np.column_stack([np.log(a[f"pt{i}"]), a[f"eta{i}"], a[f"phi{i}"], a[f"Q{i}"]])
        for i in (1, 2)
    ]
    X = np.stack(muons, axis=1)[:n]
    y = (np.abs(a["M"] - Z_MASS) < 10).astype(int)[:n]
    return {"X": X, "y": y, "estimator": GraphClassifier, "options": {"set_edges": "full"}}


def hzz_met(n: int) -> dict:
    import awkward as ak
    import skhep_testdata
    import uproot

    from sklearn_dlpp.graph import EventSet

    kinds = {
        "jet": ("Jet", ["Px", "Py", "Pz", "E", "btag"]),
        "muon": ("Muon", ["Px", "Py", "Pz", "E", "Charge", "Iso"]),
        "electron": ("Electron", ["Px", "Py", "Pz", "E", "Charge", "Iso"]),
        "photon": ("Photon", ["Px", "Py", "Pz", "E", "Iso"]),
    }
    tree = uproot.open(skhep_testdata.data_path("uproot-HZZ.root"))["events"]
    branches = [f"{prefix}_{name}" for prefix, names in kinds.values() for name in names]
    arrays = tree.arrays([*branches, "MET_px", "MET_py"])
    objects = {
        kind: ak.zip({name.lower(): arrays[f"{prefix}_{name}"] for name in names})
        for kind, (prefix, names) in kinds.items()
    }
    met = np.column_stack([ak.to_numpy(arrays["MET_px"]), ak.to_numpy(arrays["MET_py"])])
    keep = sum(ak.to_numpy(ak.num(array, axis=1)) for array in objects.values()) > 0
    events = EventSet({kind: array[keep] for kind, array in objects.items()})
    return {
        "X": events[:n],
        "y": met[keep][:n].astype(np.float64),
        "estimator": GraphRegressor,
        "options": {"set_edges": "full"},
    }


def tracks(n: int) -> dict:
    from sklearn_dlpp.datasets import make_tracks

    graphs, y = make_tracks(n, random_state=0)
    return {"X": graphs, "y": y, "estimator": EdgeClassifier, "options": {}}


DATA = {"jets": jets, "Zmumu": zmumu, "HZZ MET": hzz_met, "tracks": tracks}
SIZES = {"jets": 3000, "Zmumu": 2304, "HZZ MET": 2421, "tracks": 200}


def _index(X, index):
    if isinstance(X, np.ndarray):
        return X[index]
    if isinstance(X, list):
        return [X[i] for i in index]
    return X[index]


def _wrap(estimator):
    if isinstance(estimator, GraphRegressor):
        return TransformedTargetRegressor(regressor=estimator, transformer=StandardScaler())
    return estimator


def _fitted(model):
    inner = model.best_estimator_ if hasattr(model, "best_estimator_") else model
    return inner.regressor_ if hasattr(inner, "regressor_") else inner


def _score(data, model, X, y) -> float:
    if data["estimator"] is GraphRegressor:
        return r2_score(y, model.predict(X))
    if data["estimator"] is EdgeClassifier:
        return make_flat_scorer("roc_auc")(model, X, y)
    return roc_auc_score(y, model.predict_proba(X)[:, 1])


def run(name: str, search: bool) -> None:
    data = DATA[name](SIZES[name])
    X, y = data["X"], data["y"]
    train, test = train_test_split(np.arange(len(y)), test_size=0.25, random_state=0)
    X_train, X_test = _index(X, train), _index(X, test)
    y_train, y_test = _index(y, train), _index(y, test)
    make = data["estimator"]
    models = {
        "before": _wrap(make(**data["options"], early_stopping=False, random_state=0)),
        "default": _wrap(make(**data["options"], random_state=0)),
    }
    if search:
        grid = GRID
        if make is GraphRegressor:
            grid = {f"regressor__{k}": v for k, v in GRID.items()}
        scoring = make_flat_scorer("roc_auc") if make is EdgeClassifier else None
        base = _wrap(make(**data["options"], early_stopping=True, random_state=0))
        # One validation split (a quarter of the training graphs): 4 fits and a refit.
        split = ShuffleSplit(1, test_size=0.25, random_state=0)
        models["tuned"] = GridSearchCV(base, grid, cv=split, scoring=scoring)
    metric = "R2" if make is GraphRegressor else "AUC"
    for label, model in models.items():
        started = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - started
        fitted = _fitted(model)
        chosen = ""
        if hasattr(model, "best_params_"):
            chosen = ", ".join(f"{k.split('__')[-1]}={v}" for k, v in model.best_params_.items())
        score = _score(data, model, X_test, y_test)
        print(
            f"| {name} | {len(train)} | {label} {chosen} | {metric} {score:.3f} | "
            f"{fitted.n_iter_} | {seconds:.1f} | {fitted.early_stopping_} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(DATA), action="append")
    parser.add_argument("--no-search", action="store_true", help="skip the tuned column")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    for name in args.only or list(DATA):
        run(name, search=not args.no_search)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
