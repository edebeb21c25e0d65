"""The main job (``python -m sklearn_dlpp demo``) on small data: it runs, scores and plots."""

from __future__ import annotations

import sys

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
