"""Pack once, search many: a 5-fold x 4-candidate GridSearchCV on jets, unpacked against packed.

The same search (``GraphClassifier``, 5 folds, 4 candidates, refit: 21 fits and 20
scorings) runs twice in one process on the same jets:

- ``unpacked``: X is the jets themselves (networkx graphs, or padded particle
  arrays with ``set_edges='knn'``); every fit and every scoring packs its
  graphs again (conversion, kNN edges);
- ``packed``: X is ``pack_graphs(jets)``, packed once before the search
  (included in its time); scikit-learn splits the batch by graph.

The networks are kept small and trained for one epoch, so that the time the
packing takes is visible next to the training; with longer trainings the
saving per fit is the same number of seconds. The two searches must agree
score for score (checked).

    OMP_NUM_THREADS=1 python benchmarks/bench_graph_search.py            # 10,000 jets
    OMP_NUM_THREADS=1 python benchmarks/bench_graph_search.py --quick    # 1,000 jets
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_dlpp import GraphClassifier
from sklearn_dlpp.datasets import make_jets
from sklearn_dlpp.graph import pack_graphs

GRID = {"hidden": [8, 16], "learning_rate_init": [1e-3, 1e-2]}
TRAINING = {"n_blocks": 1, "max_iter": 1, "batch_size": 500, "random_state": 0}


def search(X, y, options: dict) -> tuple[float, np.ndarray]:
    """Seconds of one search (packing included when X must be packed), and its scores."""
    started = time.perf_counter()
    if options.pop("pack", False):
        X = pack_graphs(X, **options)
        options = {}
    grid = GridSearchCV(
        GraphClassifier(**TRAINING, **options),
        GRID,
        cv=KFold(5, shuffle=True, random_state=0),
        error_score="raise",
    )
    grid.fit(X, y)
    return time.perf_counter() - started, grid.cv_results_["mean_test_score"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 jets instead of 10,000")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    n = 1000 if args.quick else 10_000
    padded, y = make_jets(n, max_particles=30, random_state=0)
    graphs, _ = make_jets(n, max_particles=30, as_graphs=True, k=8, random_state=0)
    knn = {"set_edges": "knn", "k": 8, "knn_features": [1, 2]}
    forms = {
        "networkx graphs (k=8 nearest neighbours)": (graphs, {}),
        "padded arrays, set_edges='knn'": (padded, knn),
    }
    print(f"{n} jets, up to 30 particles; 5 folds x 4 candidates + refit = 21 fits")
    print("| X | unpacked (s) | packed once (s) | packed / unpacked |")
    print("| --- | ---: | ---: | ---: |")
    for name, (X, options) in forms.items():
        unpacked, scores = search(X, y, dict(options))
        packed, packed_scores = search(X, y, {**options, "pack": True})
        np.testing.assert_array_equal(scores, packed_scores)
        print(f"| {name} | {unpacked:.1f} | {packed:.1f} | {packed / unpacked:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
