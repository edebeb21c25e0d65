r"""Real data from a ROOT file: learn the dimuon invariant mass from the muons.
===========================================================================

Collider data come in ROOT files. ``uproot`` reads them in Python without ROOT,
into awkward or numpy arrays. The file here is ``uproot-Zmumu.root``, shipped
inside the ``scikit-hep-testdata`` package (no download): 2304 events of CMS
open data with two reconstructed muons each, their energy, momentum (px, py,
pz, pT, eta, phi), charge, and the invariant mass M of the pair, which peaks at
the Z boson (91 GeV).

The mass is a fixed non-linear function of the two four-momenta,

.. math::

    M^2 = (E_1 + E_2)^2 - |\vec p_1 + \vec p_2|^2
        = 2 p_{T1} p_{T2} (\cosh(\eta_1 - \eta_2) - \cos(\phi_1 - \phi_2))

for massless muons. An MLP regressor trained with the mean squared error on
the measured muon kinematics has to approximate it (the universal approximation
theorem), and the representation of the data decides how easily: the same
network learns from (pT, eta, phi) of both muons, and from a representation that
states the physics, (log pT1, log pT2, delta eta, delta phi) with delta phi
wrapped into (-pi, pi]. The muons are scikit-hep ``vector`` arrays, which know
these quantities (``mu1.deltaphi(mu2)``, ``(mu1 + mu2).mass``); the formula
above, computed by ``vector`` from the massless muons, is the physics baseline
the networks are compared with. The target is log M, since the masses span 2-120 GeV.

    pip install uproot awkward vector scikit-hep-testdata==0.3.12
    python examples/plot_uproot_dimuon_mass.py [--fast] [--out figures/]

Prints the events read, R^2 and the mass resolution of each representation;
writes ``uproot_dimuon_mass.png``.
"""

# requires: uproot, awkward, vector, skhep_testdata

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import vector
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import MLPRegressor

BRANCHES = ["pt1", "eta1", "phi1", "pt2", "eta2", "phi2", "M"]


def read_events() -> dict[str, np.ndarray]:
    """The dimuon tree of the test file, as numpy arrays per branch."""
    import awkward as ak
    import skhep_testdata
    import uproot

    path = skhep_testdata.data_path("uproot-Zmumu.root")  # shipped in the wheel
    with uproot.open(path) as root_file:
        tree = root_file["events"]
        events = tree.arrays(BRANCHES, library="ak")
    return {name: ak.to_numpy(events[name]).astype(np.float64) for name in BRANCHES}


def muons(ev: dict[str, np.ndarray]) -> tuple[vector.VectorNumpy4D, vector.VectorNumpy4D]:
    """The two muons of every event as massless four-vectors."""
    return tuple(
        vector.array(
            {
                "pt": ev[f"pt{k}"],
                "eta": ev[f"eta{k}"],
                "phi": ev[f"phi{k}"],
                "mass": 0.0 * ev[f"pt{k}"],
            }
        )
        for k in (1, 2)
    )


def physics_features(mu1, mu2) -> np.ndarray:
    """(log pT1, log pT2, delta eta, delta phi), delta phi wrapped into [-pi, pi)."""
    return np.column_stack([np.log(mu1.pt), np.log(mu2.pt), mu1.deltaeta(mu2), mu1.deltaphi(mu2)])


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

    ev = read_events()
    print(f"read {len(ev['M'])} dimuon events, branches {', '.join(BRANCHES)}")
    mu1, mu2 = muons(ev)
    representations = {
        "(pT, eta, phi) x 2": np.column_stack(
            [ev["pt1"], ev["eta1"], ev["phi1"], ev["pt2"], ev["eta2"], ev["phi2"]]
        ),
        "(log pT1, log pT2, d_eta, d_phi)": physics_features(mu1, mu2),
    }
    target = np.log(ev["M"])
    split = train_test_split(np.arange(len(target)), test_size=0.25, random_state=0)
    train, test = split
    mass_test = ev["M"][test]
    predictions = {}
    for name, X in representations.items():
        model = make_pipeline(
            StandardScaler(),
            MLPRegressor(
                hidden_layer_sizes=(64, 64),
                learning_rate_init=0.003,
                # the fit keeps improving slowly: a small tol lets it go on
                tol=1e-6,
                n_iter_no_change=30,
                max_iter=100 if args.fast else 600,
                random_state=0,
            ),
        ).fit(X[train], target[train])
        predictions[name] = np.exp(model.predict(X[test]))
        peak = (mass_test > 80) & (mass_test < 100)
        resolution = np.std(predictions[name][peak] / mass_test[peak] - 1)
        print(
            f"{name:>33}: R^2(log M) {r2_score(target[test], np.log(predictions[name])):.3f}, "
            f"resolution near the Z peak {resolution:.1%}"
        )
    # The physics baseline: the invariant mass of the two muons, computed by vector.
    formula = (mu1 + mu2).mass[test]
    resolution = np.std(formula[peak] / mass_test[peak] - 1)
    print(f"{'formula (mu1 + mu2).mass':>33}: resolution near the Z peak {resolution:.1%}")

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    bins = np.linspace(60, 120, 61)
    ax.hist(
        mass_test,
        bins=bins,
        histtype="stepfilled",
        color="lightgrey",
        label="measured M (test events)",
    )
    for name, predicted in predictions.items():
        ax.hist(predicted, bins=bins, histtype="step", linewidth=1.5, label=f"MLP on {name}")
    ax.hist(
        formula, bins=bins, histtype="step", linestyle="--", color="k", label="(mu1 + mu2).mass"
    )
    ax.axvline(91.19, color="k", linestyle=":", linewidth=1, label="Z mass 91.19 GeV")
    ax.set_xlabel("dimuon invariant mass (GeV)")
    ax.set_ylabel("events / GeV")
    ax.set_title("CMS open data, uproot-Zmumu.root")
    ax.legend(fontsize="small")

    ax = axes[1]
    for name, predicted in predictions.items():
        ax.scatter(mass_test, predicted, s=5, alpha=0.5, label=name)
    ax.plot([0.5, 150], [0.5, 150], "k--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("measured M (GeV)")
    ax.set_ylabel("MLP prediction (GeV)")
    ax.set_title("Regression of log M with the MSE loss")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(args.out / "uproot_dimuon_mass.png", dpi=100)
    plt.close(fig)
    print(f"figure written to {args.out / 'uproot_dimuon_mass.png'}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    main()
