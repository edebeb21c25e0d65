"""The main job (``python -m sklearn_dlpp demo``) on small data: it runs, scores and plots."""

from __future__ import annotations

import pytest

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
