"""The main job (``python -m sklearn_dlpp demo``) on small data: it runs, scores and plots."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from sklearn_dlpp import _demo
from sklearn_dlpp._demo import main


def test_demo_prints_the_score_table_and_writes_the_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    argv = ["demo", "--n-samples", "3000", "--n-jets", "400", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for model in ("PerceptronClassifier", "MLPClassifier", "MLPRegressor", "GraphClassifier"):
        assert model in out
    assert "AUC" in out
    assert "R²" in out
    assert "rejection@50%" in out
    assert (tmp_path / "demo.png").stat().st_size > 10_000


def _fake_run(n_samples, n_jets, out, random_state):
    rows = [("MLPClassifier", "photon vs electron", {"AUC": 0.9}, 1.0)]
    return rows, {}


def test_demo_prints_the_table_without_matplotlib(monkeypatch, capsys, tmp_path):
    # A fresh `pip install .` has no matplotlib: the scores must still be printed.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr(_demo, "run", _fake_run)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "AUC 0.900" in out
    assert "matplotlib is not installed" in out


def test_a_failing_plot_never_costs_the_table(monkeypatch, capsys, tmp_path):
    pytest.importorskip("matplotlib")

    def broken(*args):
        raise RuntimeError("no display")

    monkeypatch.setattr(_demo, "run", _fake_run)
    monkeypatch.setattr(_demo, "_draw", broken)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.index("AUC 0.900") < out.index("no plots: RuntimeError: no display")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_energy_regression_is_a_calibration_of_photons(tmp_path):
    """The target is the generated energy of photons, which the inputs only measure:
    the network cannot beat the calorimeter's resolution by much (a target that is
    an exact function of the inputs would give a resolution near 0)."""
    from sklearn_dlpp._demo import run

    rows, _ = run(2000, 60, tmp_path, random_state=0)
    scores = {row[0]: row[2] for row in rows}["MLPRegressor"]
    assert scores["calorimeter's"] == pytest.approx(0.015, abs=0.005)
    assert scores["resolution"] > 0.5 * scores["calorimeter's"]
    assert scores["R²"] > 0.8


def test_true_energy_is_measured_with_the_documented_resolution():
    from sklearn_dlpp.datasets import make_electron_photon

    X, y, e_true = make_electron_photon(20000, return_true_energy=True, random_state=0)
    X0, y0 = make_electron_photon(20000, random_state=0)
    np.testing.assert_array_equal(X, X0)  # the option adds an output, changes nothing
    np.testing.assert_array_equal(y, y0)
    expected = np.hypot(0.10 / np.sqrt(e_true), 0.007)
    pulls = (X[:, 0] / e_true - 1.0) / expected
    assert np.std(pulls) == pytest.approx(1.0, abs=0.03)
