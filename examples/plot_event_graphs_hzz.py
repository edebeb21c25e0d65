"""Event graphs from a ROOT file: jets, muons, electrons and photons as typed nodes.
=================================================================================

Each collision event of ``uproot-HZZ.root`` (the small CMS-like sample that
scikit-hep-testdata 0.3.12 ships in its wheel; read with uproot, no network)
becomes one graph whose nodes are its reconstructed objects, each kind with its
own features:

* jets: (px, py, pz, E, b-tag score),
* muons and electrons: (px, py, pz, E, charge, isolation),
* photons: (px, py, pz, E, isolation).

An :class:`~sklearn_dlpp.graph.EventSet` holds the per-kind awkward arrays; a
:class:`~sklearn_dlpp.GraphRegressor` encodes every kind with its own MLP plus
a learned kind embedding, passes messages between all objects of the event
(``set_edges="full"``) and sums them into the event's representation. The
target is the missing transverse momentum (MET_px, MET_py), what the visible
objects do not balance: the physics baseline is the negative vector sum of the
visible objects' transverse momenta (summed with scikit-hep's ``vector`` on the
awkward arrays), which misses the unclustered energy and
the mismeasurement of each kind. Targets are standardised by wrapping the
regressor in scikit-learn's ``TransformedTargetRegressor``.

    python examples/plot_event_graphs_hzz.py [--fast] [--out figures/]

Needs ``pip install "sklearn-dlpp[root]"`` (uproot, awkward, vector, scikit-hep-testdata).
Prints the resolution of both estimates; writes ``event_graphs_hzz.png``.
"""

from __future__ import annotations

import argparse
import functools
import operator
import time
import warnings
from pathlib import Path

import awkward as ak
import matplotlib.pyplot as plt
import numpy as np
import skhep_testdata
import uproot
import vector
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import GraphRegressor
from sklearn_dlpp.graph import EventSet

vector.register_awkward()

KINDS = {
    "jet": ("Jet", ["Px", "Py", "Pz", "E", "btag"]),
    "muon": ("Muon", ["Px", "Py", "Pz", "E", "Charge", "Iso"]),
    "electron": ("Electron", ["Px", "Py", "Pz", "E", "Charge", "Iso"]),
    "photon": ("Photon", ["Px", "Py", "Pz", "E", "Iso"]),
}


def read_events(path: str) -> tuple[dict, np.ndarray]:
    """Per kind, an awkward array of object records per event; and (MET_px, MET_py)."""
    tree = uproot.open(path)["events"]
    branches = [f"{prefix}_{name}" for prefix, names in KINDS.values() for name in names]
    arrays = tree.arrays([*branches, "MET_px", "MET_py"])
    objects = {
        kind: ak.zip({name.lower(): arrays[f"{prefix}_{name}"] for name in names})
        for kind, (prefix, names) in KINDS.items()
    }
    met = np.column_stack([ak.to_numpy(arrays["MET_px"]), ak.to_numpy(arrays["MET_py"])])
    return objects, met.astype(np.float64)


def visible_recoil(objects: dict[str, ak.Array]) -> np.ndarray:
    """Minus the vector sum of the visible transverse momenta, per event: (px, py)."""
    per_kind = [ak.sum(vector.zip({"px": a.px, "py": a.py}), axis=1) for a in objects.values()]
    total = functools.reduce(operator.add, per_kind)
    return np.column_stack([ak.to_numpy(-total.px), ak.to_numpy(-total.py)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fast", action="store_true", help="less training (CI)")
    parser.add_argument("--out", type=Path, default=Path("figures"))
    # Known arguments only: a notebook kernel adds its own.
    args, _ = parser.parse_known_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    objects, met = read_events(skhep_testdata.data_path("uproot-HZZ.root"))
    try:
        EventSet(objects)
    except ValueError as error:  # a few events hold no reconstructed object at all
        print(f"EventSet refuses the raw file: {error}")
    n_objects = sum(ak.to_numpy(ak.num(array, axis=1)) for array in objects.values())
    keep = n_objects > 0
    events = EventSet({kind: array[keep] for kind, array in objects.items()})
    met = met[keep]
    print(f"{len(events)} events with objects ({int((~keep).sum())} without dropped); {events}")

    rng = np.random.default_rng(0)
    order = rng.permutation(len(events))
    n_test = len(events) // 3
    test, train = np.sort(order[:n_test]), np.sort(order[n_test:])

    network = GraphRegressor(
        hidden=32,
        n_blocks=1,
        set_edges="full",
        readout="sum",
        learning_rate_init=0.003,
        alpha=0.01,
        max_iter=40 if args.fast else 200,  # stops earlier once the loss levels off
        random_state=0,
    )
    model = TransformedTargetRegressor(regressor=network, transformer=StandardScaler())
    fit_started = time.perf_counter()
    model.fit(events[train], met[train])
    fitted = model.regressor_
    print(
        f"GraphRegressor: {fitted.n_iter_} epochs in {time.perf_counter() - fit_started:.1f} s; "
        f"kinds_ = {fitted.kinds_.tolist()}, features per kind {fitted.n_kind_features_.tolist()}"
    )

    estimates = {
        "graph network": model.predict(events[test]),
        "visible recoil": visible_recoil(
            {kind: array[keep][test] for kind, array in objects.items()}
        ),
    }
    truth = met[test]
    print(f"{len(train)} training and {len(test)} test events")
    print(f"{'':>16} {'R2 (px, py)':>16} {'resolution (GeV)':>18}")
    for name, estimate in estimates.items():
        r2 = r2_score(truth, estimate, multioutput="raw_values")
        resolution = np.std(estimate - truth, axis=0).mean()
        print(f"{name:>16} {r2[0]:7.3f} {r2[1]:7.3f} {resolution:18.1f}")

    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    limit = np.percentile(np.abs(truth), 99)
    for component, ax in enumerate(axes[:2]):
        for (name, estimate), colour in zip(estimates.items(), ("C0", "C1"), strict=True):
            ax.scatter(
                truth[:, component],
                estimate[:, component],
                s=6,
                alpha=0.5,
                color=colour,
                label=name,
            )
        ax.plot([-limit, limit], [-limit, limit], color="k", lw=1)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        axis = "xy"[component]
        ax.set_xlabel(f"true MET_p{axis} (GeV)")
        ax.set_ylabel(f"predicted MET_p{axis} (GeV)")
        ax.legend(loc="upper left")
    fig.suptitle("Missing transverse momentum of HZZ events from their visible objects")
    bins = np.linspace(-80, 80, 41)
    for name, estimate in estimates.items():
        axes[2].hist((estimate - truth).ravel(), bins=bins, histtype="step", lw=2, label=name)
    axes[2].set_xlabel("predicted - true (GeV), both components")
    axes[2].set_ylabel("test events")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(args.out / "event_graphs_hzz.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'event_graphs_hzz.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
