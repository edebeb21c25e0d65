"""Every script under examples/ runs in its fast mode, prints its numbers and writes its figures.

The numbers it prints must bear out what its docstring teaches: ``CLAIMS`` maps
every example to a check of its printed output (the MLP beats the perceptron,
the sigmoid stack's first-layer gradient vanishes while ReLU's does not, ...),
with thresholds loose enough for the fast mode's small, seeded trainings but
tight enough that breaking the teaching point fails the test.

Each example runs in its own interpreter, as a user runs it
(``python examples/x.py --fast --out DIR``), from a temporary working directory
so that nothing lands in the checkout. An example whose imports are not
installed (the optional extras: uproot, dask-jobqueue ...) is skipped, naming
what is missing.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
# The fast modes take seconds; this only catches a hang.
TIMEOUT_S = 300


def _required_modules(source: str) -> set[str]:
    """Top-level packages the script imports outside ``try`` blocks (those are optional)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Try):
            return
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    names.discard("__future__")
    return names


def test_examples_are_found():
    names = {script.name for script in EXAMPLES}
    assert "plot_perceptron.py" in names
    assert len(names) >= 12


def test_required_modules_ignore_optional_imports():
    source = "import a.b\nfrom c import d\ntry:\n    import e\nexcept ImportError:\n    pass\n"
    source += "def f():\n    import g\n"
    assert _required_modules(source) == {"a", "c", "g"}


# --- What each example's printed numbers must show -------------------------------------------

_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def _find(pattern: str, text: str) -> tuple[float, ...]:
    """The numbers captured by ``pattern`` (``{n}`` stands for a number) in ``text``."""
    match = re.search(pattern.replace("{n}", _NUMBER), text, re.MULTILINE)
    assert match, f"no line matching {pattern!r} in the output"
    return tuple(float(group) for group in match.groups())


def _one(pattern: str, text: str) -> float:
    (value,) = _find(pattern, text)
    return value


def _perceptron(out: str) -> None:
    # One hidden layer bends the boundary: the MLP is at least as accurate as the
    # straight line, and the line itself has learnt (far below chance, log 2).
    perceptron, mlp = _find(r"test accuracy: perceptron {n}, MLP with one hidden layer {n}", out)
    assert mlp >= perceptron, (perceptron, mlp)
    assert perceptron > 0.8, perceptron
    assert _one(r"final cross-entropy {n}", out) < 0.5


def _binary_cross_entropy(out: str) -> None:
    hand, sklearn, estimator = _find(
        r"training BCE: by hand {n}, sklearn log_loss {n}, the estimator's last loss {n}", out
    )
    # The loss is the BCE: the same number three ways.
    assert hand == pytest.approx(sklearn, abs=2e-4), (hand, sklearn)
    assert estimator == pytest.approx(hand, abs=5e-3), (hand, estimator)
    test_bce, accuracy = _find(r"test BCE {n}, test accuracy {n}", out)
    assert test_bce < 0.3 < np.log(2), test_bce
    assert accuracy > 0.85, accuracy
    # Calibrated: the share that passed follows p_hat (the fast mode's bins hold few students).
    bins = np.array(re.findall(rf"p_hat ~ {_NUMBER}: {_NUMBER} passed", out), dtype=float)
    assert len(bins) >= 4, out
    predicted, passed = bins.T
    assert np.abs(passed - predicted).mean() < 0.15, bins
    assert np.abs(passed - predicted).max() < 0.3, bins
    assert np.all(np.diff(passed) > -0.1), bins


def _regression_mse(out: str) -> None:
    floor = _one(r"irreducible noise: MSE >= {n}", out)
    assert 34 < floor < 36, floor  # below 6^2 = 36: the clipping narrows the noise
    lin_mse, _, lin_r2 = _find(r"linear: test MSE +{n} +RMSE +{n} +R\^2 {n}", out)
    mlp_mse, mlp_rmse, mlp_r2 = _find(r"MLP \(32, 32\): test MSE +{n} +RMSE +{n} +R\^2 {n}", out)
    # The MLP follows the curved grade, the plane cannot; nothing beats the noise.
    assert mlp_mse < 0.5 * lin_mse, (mlp_mse, lin_mse)
    assert mlp_r2 > lin_r2 + 0.1, (mlp_r2, lin_r2)
    assert 0.9 * floor < mlp_mse < 1.5 * floor, (mlp_mse, floor)
    assert mlp_rmse == pytest.approx(np.sqrt(mlp_mse), abs=0.01)


def _activations(out: str) -> None:
    _, _, sig_ratio = _find(r"logistic: \|dL/dW\| first layer {n}, last layer {n}, ratio {n}", out)
    _, _, relu_ratio = _find(r"relu: \|dL/dW\| first layer {n}, last layer {n}, ratio {n}", out)
    # The sigmoid's gradient vanishes on its way back through 8 layers, ReLU's does not.
    assert sig_ratio < 1e-3, sig_ratio
    assert relu_ratio > 1e-2, relu_ratio
    assert sig_ratio < 1e-2 * relu_ratio, (sig_ratio, relu_ratio)
    sig_loss, baseline = _find(r"logistic: loss after \d+ epochs {n} \(ignoring x gives {n}\)", out)
    relu_loss, relu_baseline, relu_acc = _find(
        r"relu: loss after \d+ epochs {n} \(ignoring x gives {n}\), training accuracy {n}", out
    )
    # The sigmoid stack stays on the plateau of ignoring x; ReLU learns.
    assert baseline == relu_baseline
    assert sig_loss > 0.9 * baseline, (sig_loss, baseline)
    assert relu_loss < 0.5 * baseline, (relu_loss, baseline)
    assert relu_acc > 0.85, relu_acc


def _learning_rate(out: str) -> None:
    rows = {
        name: _find(
            rf"\( *{name}\): loss {{n}} -> {{n}} after \d+ steps, lowest {{n}}, accuracy {{n}}",
            out,
        )
        for name in ("too small", "good", "too large")
    }
    small, good, large = rows["too small"], rows["good"], rows["too large"]
    # The good rate ends lowest; the tiny one crawls (still above the good one's
    # loss); the huge one diverges, ending above where it started.
    assert good[1] < 0.5 * small[1], rows
    assert good[1] < 0.4, rows
    assert small[1] < small[0], rows
    assert large[1] > large[0], rows
    assert good[3] > max(small[3], large[3]), rows
    # The parabola: eta near 1/2 lands, a tiny eta crawls, eta > 1 overshoots.
    parabola = {
        name: _one(rf"\({name}\): \|w - w\*\| after 8 steps = {{n}}", out)
        for name in ("too small", "good", "too large")
    }
    assert parabola["good"] < 1e-2 < parabola["too small"] < 2, parabola
    assert parabola["too large"] > 2, parabola  # started at distance 2


def _early_stopping(out: str) -> None:
    best, lowest, last, epochs, _ = _find(
        r"validation loss lowest at epoch (\d+) \({n}\), {n} after (\d+); training loss {n}", out
    )
    # Overfitting: the validation loss rises again after its minimum.
    assert best < epochs, (best, epochs)
    assert last > 1.5 * lowest, (lowest, last)
    stopped, kept = _find(r"stopped after (\d+) epochs, kept epoch (\d+)", out)
    assert kept < stopped < epochs, (kept, stopped, epochs)
    end_loss, end_acc = _find(r"trained to the end: test loss {n}, test accuracy {n}", out)
    es_loss, es_acc = _find(r"early stopping: test loss {n}, test accuracy {n}", out)
    assert es_loss < 0.8 * end_loss, (es_loss, end_loss)
    assert es_acc > end_acc - 0.03, (es_acc, end_acc)


def _rejection_table(out: str, names: list[str], min_auc: float) -> dict[str, tuple]:
    """Rows ``name AUC r30 r50``: every AUC above ``min_auc``, rejection at 30 % >= at 50 %."""
    rows = {}
    for name in names:
        auc, r30, r50 = _find(rf"{re.escape(name)} +{{n}} +{{n}} +{{n}}", out)
        assert min_auc < auc <= 1, (name, auc)
        # A tighter working point keeps less background: a larger rejection.
        assert r30 >= r50 > 1, (name, r30, r50)
        rows[name] = (auc, r30, r50)
    return rows


def _electron_photon(out: str) -> None:
    rows = _rejection_table(out, ["cut on p/E", "perceptron", "MLP (64, 64)"], 0.8)
    # Nine features beat the best single one, and the MLP beats the linear cut.
    assert rows["MLP (64, 64)"][0] > rows["perceptron"][0] > rows["cut on p/E"][0], rows
    assert rows["MLP (64, 64)"][2] > rows["cut on p/E"][2], rows


def _jet_tagging(out: str) -> None:
    # In the fast mode (600 jets, 6 epochs) the networks do not yet beat the
    # jet-mass baseline; they must still have learnt well above chance.
    _rejection_table(
        out, ["jet mass m/pT", "GNN, attention", "GNN, key-query", "deep set, key-query"], 0.65
    )


def _grid_search(out: str) -> None:
    rows = re.findall(
        rf"^ *(\([\d, ]*\)) +{_NUMBER} +{_NUMBER} \+- {_NUMBER} +{_NUMBER}$", out, re.MULTILINE
    )
    assert len(rows) >= 2, out
    # The model is chosen for its rejection at 50 %: the best row of the table
    # (any of those tied at the printed precision).
    top = max(float(row[2]) for row in rows)
    best = re.search(
        r"best: \{'mlp__alpha': (\S+), 'mlp__hidden_layer_sizes': (\([\d, ]*\))\}", out
    )
    assert best, out
    chosen = (best.group(2), float(best.group(1)))
    winners = [(row[0], float(row[1])) for row in rows if float(row[2]) == top]
    assert any(
        layers == chosen[0] and alpha == pytest.approx(chosen[1]) for layers, alpha in winners
    ), (best.group(0), rows)
    auc, test_rejection = _find(
        r"weighted test set: AUC {n}, background rejection at 50 % {n}", out
    )
    assert auc > 0.8, auc
    assert test_rejection > 5, test_rejection


def _calorimeter(out: str) -> None:
    alone = _find(r"each cell alone \(0 blocks\): accuracy {n}; recall noise {n}", out)
    gnn = _find(r"GNN, 3 GN blocks: accuracy {n}; recall noise {n}", out)
    # The neighbourhood tells more than the cell alone.
    assert gnn[0] > alone[0], (alone, gnn)
    assert gnn[0] > 0.6, gnn
    auc, _, rejection, _ = _find(
        r"one-vs-rest AUC {n} \+- {n}; noise rejected at 90% shower-cell efficiency: {n} \+- {n}",
        out,
    )
    assert auc > 0.8, auc
    assert rejection > 2, rejection


def _tracking(out: str) -> None:
    rest = r"AUC {n}, at score > 0.5: edge efficiency {n}, purity {n}"
    alone = _find(r"each pair alone \(0 blocks\): " + rest, out)
    gnn = _find(r"GNN, 3 GN blocks: " + rest, out)
    assert all(0 <= value <= 1 for value in alone + gnn), (alone, gnn)
    # Consistency along the track: message passing separates the pairs better.
    assert gnn[0] > alone[0] + 0.02, (alone, gnn)
    assert gnn[0] > 0.7, gnn
    cv_auc, _, rejection, _ = _find(
        r"per edge: AUC {n} \+- {n}; false edges rejected at 90% edge efficiency: {n} \+- {n}", out
    )
    assert cv_auc > 0.7, cv_auc
    assert rejection > 1, rejection


def _uproot_dimuon_mass(out: str) -> None:
    assert _one(r"read {n} dimuon events", out) == 2304
    rest = r": R\^2\(log M\) {n}, resolution near the Z peak {n}%"
    raw_r2, raw_res = _find(r"\(pT, eta, phi\) x 2" + rest, out)
    phys_r2, phys_res = _find(r"\(log pT1, log pT2, d_eta, d_phi\)" + rest, out)
    formula = _one(r"formula \(mu1 \+ mu2\).mass: resolution near the Z peak {n}%", out)
    # The representation that states the physics is learnt more easily; the
    # formula itself is (nearly) exact.
    assert phys_r2 > raw_r2 > 0.8, (raw_r2, phys_r2)
    assert phys_res < raw_res, (raw_res, phys_res)
    assert formula < 1.0, formula


def _event_graphs_hzz(out: str) -> None:
    graph = _find(r"graph network +{n} +{n} +{n}", out)
    recoil = _find(r"visible recoil +{n} +{n} +{n}", out)
    # The graph network learns what the visible objects' vector sum misses.
    assert min(graph[:2]) > max(recoil[:2]) + 0.1, (graph, recoil)
    assert graph[2] < recoil[2], (graph, recoil)


def _permutation_equivariance(out: str) -> None:
    node = _one(r"NodeClassifier, \d+ cells renumbered: largest change .* {n}$", out)
    jet = r", particles shuffled: largest change of a jet's top score {n}$"
    deep_set = _one(r"deep set \(GraphClassifier\)" + jet, out)
    mlp = _one(r"MLP on the particle list" + jet, out)
    # Equivariant and invariant to float precision; the flat MLP is not.
    assert node < 1e-5, node
    assert deep_set < 1e-5, deep_set
    assert mlp > 0.05, mlp


def _streaming_partial_fit(out: str) -> None:
    accuracies = re.findall(rf"^ +(.+): test accuracy {_NUMBER}$", out, re.MULTILINE)
    names = {name for name, _ in accuracies}
    assert {"mlp", "gnn"} <= names, out
    # Learnt from the stream of chunks: well above the chance of balanced classes.
    assert all(float(value) > 0.7 for _, value in accuracies), accuracies


def _dask_jobqueue_search(out: str) -> None:
    fits = _one(r"^{n} fits on the cluster", out)
    assert fits >= 2, fits
    cv, test = _find(r"^best \{.*\}: cv accuracy {n}, test accuracy {n}", out)
    assert cv > 0.7, cv
    assert test > 0.7, test


def _ddp_torchrun(out: str) -> None:
    # Data-parallel training is the same training as in one process.
    for name in ("mlp", "gnn"):
        parallel, _, single, _ = _find(rf"{name}: {{n}} in {{n}} s vs {{n}} in {{n}} s", out)
        assert parallel == pytest.approx(single, abs=0.03), (name, parallel, single)
        assert single > 0.7, (name, single)


def _taggers(out: str) -> None:
    # The presets are the papers' networks: their weight counts (366k, 2.14M).
    particlenet = _one(r"ParticleNet: {n} weights", out.replace(",", ""))
    part = _one(r"ParT: {n} weights", out.replace(",", ""))
    assert particlenet == pytest.approx(366_000, rel=0.05), particlenet
    assert part == pytest.approx(2_140_000, rel=0.05), part
    # Every tagger's row: an AUC, and rejection falling as the efficiency rises.
    for name in ("jet mass m/pT", "GN default \\(kNN graphs\\)", "ParticleNet", "ParT"):
        auc, at30, at50 = _find(rf"^\s*{name}\s+{{n}}\s+{{n}}\s+{{n}}$", out)
        assert 0.0 <= auc <= 1.0, (name, auc)
        assert at30 >= at50 >= 1.0, (name, at30, at50)
    # The hard setting hides the jet mass (about 0.86 on the standard jets).
    assert _one(r"^\s*jet mass m/pT\s+{n}", out) < 0.75


CLAIMS: dict[str, Callable[[str], None]] = {
    "dask_jobqueue_search": _dask_jobqueue_search,
    "ddp_torchrun": _ddp_torchrun,
    "plot_activations": _activations,
    "plot_binary_cross_entropy": _binary_cross_entropy,
    "plot_calorimeter": _calorimeter,
    "plot_early_stopping": _early_stopping,
    "plot_electron_photon": _electron_photon,
    "plot_event_graphs_hzz": _event_graphs_hzz,
    "plot_grid_search": _grid_search,
    "plot_jet_tagging": _jet_tagging,
    "plot_learning_rate": _learning_rate,
    "plot_perceptron": _perceptron,
    "plot_taggers": _taggers,
    "plot_permutation_equivariance": _permutation_equivariance,
    "plot_regression_mse": _regression_mse,
    "plot_tracking": _tracking,
    "plot_uproot_dimuon_mass": _uproot_dimuon_mass,
    "streaming_partial_fit": _streaming_partial_fit,
}


def test_every_example_has_claims():
    """A new example comes with the check of what it prints."""
    assert {script.stem for script in EXAMPLES} == set(CLAIMS)


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_claims_do_not_pass_on_missing_output(name: str):
    """A check that finds none of its lines fails: no claim passes vacuously."""
    with pytest.raises(AssertionError):
        CLAIMS[name]("done in 1.0 s\n")


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.name)
def test_example_runs_in_fast_mode(script: Path, tmp_path: Path):
    source = script.read_text(encoding="utf-8")
    missing = sorted(
        name for name in _required_modules(source) if importlib.util.find_spec(name) is None
    )
    if missing:
        pytest.skip(f"{script.name} needs {', '.join(missing)}")
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"{script.name} has no module docstring saying what it teaches"

    out = tmp_path / "figures"
    # One torch thread, as in conftest.py; warnings print, they do not fail a user's run.
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": ""}
    result = subprocess.run(
        [sys.executable, str(script), "--fast", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    report = f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    assert result.returncode == 0, report
    assert result.stdout.strip(), f"{script.name} printed nothing\n{report}"
    if "savefig" in source:
        figures = sorted(out.glob("*.png"))
        assert figures, f"{script.name} wrote no PNG into --out\n{report}"
        assert all(f.stat().st_size > 1000 for f in figures), figures
    try:
        CLAIMS[script.stem](result.stdout)
    except AssertionError as error:
        raise AssertionError(f"{script.name}: {error}\n{report}") from error


def _load(name: str):
    """An example script as a module (its ``main`` is not run)."""
    path = next(script for script in EXAMPLES if script.stem == name)
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Where scikit-hep's vector replaced hand-written four-vector code, it gives the
# same numbers as the formulas it replaced.
def test_dimuon_features_from_vector_equal_the_hand_written_formulas():
    for name in ("uproot", "awkward", "vector", "skhep_testdata"):
        pytest.importorskip(name)
    example = _load("plot_uproot_dimuon_mass")
    rng = np.random.default_rng(0)
    n = 1000
    ev = {
        f"{q}{k}": values
        for k in (1, 2)
        for q, values in (
            ("pt", rng.uniform(5, 80, n)),
            ("eta", rng.uniform(-2.4, 2.4, n)),
            ("phi", rng.uniform(-np.pi, np.pi, n)),
        )
    }
    mu1, mu2 = example.muons(ev)
    d_phi = np.angle(np.exp(1j * (ev["phi1"] - ev["phi2"])))  # the replaced code
    d_eta = ev["eta1"] - ev["eta2"]
    hand = np.column_stack([np.log(ev["pt1"]), np.log(ev["pt2"]), d_eta, d_phi])
    np.testing.assert_allclose(example.physics_features(mu1, mu2), hand, rtol=1e-12, atol=1e-12)
    # The docstring's mass formula for massless muons.
    mass = np.sqrt(2 * ev["pt1"] * ev["pt2"] * (np.cosh(d_eta) - np.cos(d_phi)))
    np.testing.assert_allclose((mu1 + mu2).mass, mass, rtol=1e-9)


def test_hzz_visible_recoil_from_vector_equals_the_sum_over_objects():
    for name in ("uproot", "awkward", "vector", "skhep_testdata"):
        pytest.importorskip(name)
    import awkward as ak

    example = _load("plot_event_graphs_hzz")
    rng = np.random.default_rng(0)
    objects, per_event = {}, []
    counts = {kind: rng.integers(0, 4, 50) for kind in ("jet", "muon", "photon")}
    for kind, n in counts.items():
        px, py = rng.normal(0, 30, n.sum()), rng.normal(0, 30, n.sum())
        objects[kind] = ak.unflatten(ak.zip({"px": px, "py": py, "e": np.hypot(px, py)}), n)
        per_event.append(np.split(np.column_stack([px, py]), np.cumsum(n)[:-1]))
    # The replaced code: minus the sum of every kind's (px, py), event by event.
    hand = np.array([-sum(rows.sum(0) for rows in kinds) for kinds in zip(*per_event, strict=True)])
    np.testing.assert_allclose(example.visible_recoil(objects), hand, rtol=1e-12, atol=1e-9)


def test_regression_floor_is_the_variance_of_the_clipped_grade():
    """plot_regression_mse's floor: below noise^2 = 36, as a Monte Carlo of the clipped noise."""
    example = _load("plot_regression_mse")
    from sklearn_dlpp.datasets import make_pass_class

    X, _ = make_pass_class(300, target="grade", noise=example.NOISE, random_state=0)
    draws = np.random.default_rng(0).standard_normal((X.shape[0], 4000))
    grades = np.clip(example.mean_grade(X)[:, None] + example.NOISE * draws, 0.0, 100.0)
    floor = example.irreducible_mse(X, example.NOISE)
    assert floor == pytest.approx(grades.var(axis=1).mean(), rel=0.01)
    assert floor < example.NOISE**2
