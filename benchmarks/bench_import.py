"""What ``import sklearn_dlpp`` costs beyond torch and scikit-learn, and a tiny parallel search.

Each import runs in a fresh interpreter; the baseline (torch and scikit-learn's
MLP module) and the package alternate, so a busy machine slows both alike.
The target (issue 11): at most 0.3 s over the baseline, torch_geometric
installed or not. Prints medians and the spread of the differences.

    python benchmarks/bench_import.py --repeat 7
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import subprocess
import sys
import time

BASELINE = "import torch, sklearn.neural_network, sklearn.model_selection"
PACKAGE = "import torch, sklearn.neural_network, sklearn.model_selection, sklearn_dlpp"
HEAVY = ("skorch", "torch_geometric", "networkx", "onnx", "onnxruntime", "matplotlib", "dask")


def seconds(statement: str) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of a fresh interpreter running ``statement``.

    CPU seconds barely move when other processes load the machine; wall seconds do.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def imported_with_package() -> list[str]:
    probe = f"{PACKAGE}; import sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return [m for m in out.stdout.strip().split(",") if m]


def search_seconds(n_jobs: int) -> float:
    """A GridSearchCV of 4 candidates x 3 folds on 300 rows, in a fresh interpreter."""
    script = f"""
import time
started = time.perf_counter()
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn_dlpp import MLPClassifier
rng = np.random.RandomState(0)
X = rng.normal(size=(300, 5)); y = (X[:, 0] > 0).astype(int)
grid = {{"alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(8,), (16,)]}}
search = GridSearchCV(MLPClassifier(max_iter=5, random_state=0), grid, cv=3, n_jobs={n_jobs})
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    search.fit(X, y)
print(time.perf_counter() - started)
"""
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    seconds(PACKAGE)  # warm the file cache once
    base, package = [], []
    for _ in range(args.repeat):
        base.append(seconds(BASELINE))
        package.append(seconds(PACKAGE))
    pyg = importlib.util.find_spec("torch_geometric") is not None
    print(f"torch_geometric installed: {pyg}; imported by the package: {imported_with_package()}")
    for i, what in enumerate(("wall", "CPU")):
        b = [t[i] for t in base]
        p = [t[i] for t in package]
        extra = [x - y for x, y in zip(p, b, strict=True)]
        print(
            f"{what:>4}: torch + scikit-learn {statistics.median(b):.2f} s, with sklearn_dlpp "
            f"{statistics.median(p):.2f} s; the package's own cost "
            f"{statistics.median(extra):+.2f} s "
            f"(min {min(extra):+.2f}, max {max(extra):+.2f}, {args.repeat} pairs; target <= 0.30 s)"
        )
    sequential, parallel = search_seconds(1), search_seconds(2)
    print(f"tiny GridSearchCV, n_jobs=1: {sequential:.1f} s; n_jobs=2: {parallel:.1f} s")


if __name__ == "__main__":
    main()
