"""``import sklearn_dlpp`` stays light: heavy or optional modules load when first used."""

from __future__ import annotations

import subprocess
import sys

# skorch (it imports torch_geometric when that is installed: seconds), networkx
# (graph inputs only) and every optional extra wait for their first use.
DEFERRED = ("skorch", "torch_geometric", "networkx", "onnx", "onnxruntime", "matplotlib", "dask")


def test_import_defers_heavy_modules():
    probe = (
        f"import sys, sklearn_dlpp; print(','.join(m for m in {DEFERRED!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == ""


def test_a_fit_loads_the_engine_then():
    probe = (
        "import sys, numpy as np; from sklearn_dlpp import MLPClassifier; "
        "X = np.random.RandomState(0).normal(size=(20, 2)); "
        "MLPClassifier(hidden_layer_sizes=(2,), max_iter=1).fit(X, X[:, 0] > 0); "
        "print('skorch' in sys.modules)"
    )
    run = [sys.executable, "-W", "ignore", "-c", probe]
    out = subprocess.run(run, check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "True"
