"""Files written by an earlier sklearn_dlpp still load and predict the same (format version 1).

``tests/data/persist_v1/`` holds one small fitted estimator of every class,
saved with format version 1, and ``expected.json`` the predictions they made
when saved. Regenerate only when the format version changes, and then keep the
old directory: ``python tests/test_persist_golden.py tests/data/persist_vN``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sklearn_dlpp import (
    EdgeClassifier,
    GraphClassifier,
    GraphRegressor,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
    _persist,
    load,
    save,
)

pytest.importorskip("safetensors.torch")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DIRECTORY = Path(__file__).parent / "data" / "persist_v1"
GRAPH = {"hidden": 4, "n_blocks": 1, "max_iter": 3, "random_state": 0, "device": "cpu"}
DENSE = {"max_iter": 5, "random_state": 0, "device": "cpu"}


def _dense(n: int = 24) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(n, 3))


def _sets(n: int = 10) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.normal(size=(int(k), 2)) for k in rng.integers(2, 5, n)]


def _events(n: int = 10) -> list[dict]:
    rng = np.random.default_rng(2)
    return [
        {"jet": rng.normal(size=(int(a) + 1, 3)), "muon": rng.normal(size=(int(b), 2))}
        for a, b in rng.integers(0, 3, (n, 2))
    ]


def _graphs(n: int = 8) -> list[nx.Graph]:
    rng = np.random.default_rng(3)
    graphs = []
    for n_nodes in rng.integers(3, 6, n):
        G = nx.path_graph(int(n_nodes))
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=2)
            G.nodes[node]["y"] = int(node % 2)
        for u, v in G.edges():
            G.edges[u, v]["w"] = rng.normal(size=1)
            G.edges[u, v]["y"] = int((u + v) % 3 == 0)
        graphs.append(G)
    return graphs


def _labels(n: int, names: tuple = ("b", "c", "light")) -> np.ndarray:
    return np.array(names)[np.arange(n) % len(names)]


# name -> (fit the estimator, the samples it predicts)
CASES = {
    "PerceptronClassifier": (
        lambda: PerceptronClassifier(**DENSE).fit(_dense(), _labels(24, ("no", "yes"))),
        _dense,
    ),
    "MLPClassifier": (
        lambda: MLPClassifier((5,), **DENSE).fit(_dense(), _labels(24)),
        _dense,
    ),
    "MLPRegressor": (
        lambda: MLPRegressor((4,), dtype="float64", **DENSE).fit(_dense(), _dense()[:, :2]),
        _dense,
    ),
    "GraphClassifier": (
        lambda: GraphClassifier(set_edges="full", **GRAPH).fit(_sets(), _labels(10, (0, 1))),
        _sets,
    ),
    "GraphClassifier_typed": (
        lambda: GraphClassifier(**GRAPH).fit(_events(), _labels(10, ("s", "b"))),
        _events,
    ),
    "GraphRegressor": (
        lambda: GraphRegressor(edge_features="w", **GRAPH).fit(_graphs(), np.arange(8.0)),
        _graphs,
    ),
    "NodeClassifier": (lambda: NodeClassifier(**GRAPH).fit(_graphs()), _graphs),
    "EdgeClassifier": (
        lambda: EdgeClassifier(edge_features="w", **GRAPH).fit(_graphs()),
        _graphs,
    ),
}


def _predictions(estimator, X) -> dict[str, list]:
    """predict and (for classifiers) predict_proba, per-graph lists concatenated."""
    out = {}
    for method in ("predict", "predict_proba"):
        if hasattr(estimator, method):
            result = getattr(estimator, method)(X)
            if isinstance(result, list):
                result = np.concatenate(result)
            out[method] = np.asarray(result).tolist()
    return out


def write(directory: Path) -> None:
    """Fit every case, save it into ``directory`` and record its predictions."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = {"format_version": _persist.FORMAT_VERSION}
    for name, (make, samples) in CASES.items():
        estimator = make()
        save(estimator, directory / f"{name}.safetensors", key=False)
        expected[name] = _predictions(estimator, samples())
    (directory / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((DIRECTORY / "expected.json").read_text())


def test_the_files_are_of_the_version_this_package_writes(expected):
    # A new format version keeps these files (they must still load) and adds a directory.
    assert expected["format_version"] == _persist.FORMAT_VERSION == 1


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_file_of_format_version_1_loads_and_predicts_the_same(name, expected):
    loaded = load(DIRECTORY / f"{name}.safetensors", key=False)
    assert type(loaded).__name__ == name.split("_")[0]
    got = _predictions(loaded, CASES[name][1]())
    assert sorted(got) == sorted(expected[name])
    for method, want in expected[name].items():
        want = np.asarray(want)
        value = np.asarray(got[method])
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-7, err_msg=method)
        else:
            np.testing.assert_array_equal(value, want, err_msg=method)


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else DIRECTORY)
