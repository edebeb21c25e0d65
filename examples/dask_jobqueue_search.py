"""A hyperparameter search on a batch cluster through dask-jobqueue (or on this machine).
======================================================================================

scikit-learn's GridSearchCV hands its fits to joblib; under
``joblib.parallel_config(backend="dask")`` they become tasks of a dask cluster.
With dask-jobqueue the cluster's workers are batch jobs (HTCondor, Slurm, PBS,
...); nothing else changes. The estimators are cheap to pickle (parameters only,
no tensors), so each task ships a few kilobytes plus its share of the data.

    python examples/dask_jobqueue_search.py                     # LocalCluster on 127.0.0.1
    python examples/dask_jobqueue_search.py --cluster slurm --jobs 8
    python examples/dask_jobqueue_search.py --cluster htcondor --jobs 8 --gpus

One worker process per job, one thread per worker: torch then uses one thread
(dask's nanny sets ``OMP_NUM_THREADS=1``; the estimators also keep to the
worker's ``nthreads``). With ``--gpus`` each job asks for one GPU and its worker
sees only that one (``CUDA_VISIBLE_DEVICES``), so ``device="auto"`` trains on it.

Needs ``pip install "sklearn-dlpp[dask]"`` (and ``dask-jobqueue`` for a batch
cluster). Runs in well under a minute on 2 CPU cores with the local cluster;
the figure goes to ``--out``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import joblib
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from sklearn_dlpp import MLPClassifier


def make_cluster(args):
    """The dask cluster: local processes, or batch jobs through dask-jobqueue."""
    if args.cluster == "local":
        from dask.distributed import LocalCluster

        # Loopback only: nothing outside this machine can reach the workers.
        return LocalCluster(
            n_workers=args.jobs,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    import dask_jobqueue

    # One job = one worker process with one thread (and one GPU with --gpus).
    common = {"cores": 1, "processes": 1, "memory": "4GB", "walltime": "01:00:00"}
    if args.cluster == "slurm":
        extra = ["--gres=gpu:1"] if args.gpus else []
        cluster = dask_jobqueue.SLURMCluster(**common, job_extra_directives=extra)
    else:
        extra = {"request_gpus": "1"} if args.gpus else {}
        cluster = dask_jobqueue.HTCondorCluster(**common, disk="1GB", job_extra_directives=extra)
    print(cluster.job_script())
    cluster.scale(jobs=args.jobs)
    return cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cluster", choices=["local", "slurm", "htcondor"], default="local")
    parser.add_argument("--jobs", type=int, default=2, help="dask workers (batch jobs)")
    parser.add_argument("--gpus", action="store_true", help="one GPU per batch job")
    parser.add_argument("--out", type=Path, default=Path("examples/figures"))
    parser.add_argument("--fast", action="store_true", help="a smaller grid and data set")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from dask.distributed import Client

    n_samples = 800 if args.fast else 2000
    X, y = make_classification(
        n_samples=n_samples, n_features=12, n_informative=8, class_sep=0.8, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    grid = {
        "hidden_layer_sizes": [(16,), (64,)],
        "alpha": [1e-4, 1e-2] if args.fast else [1e-4, 1e-3, 1e-2],
    }
    estimator = MLPClassifier(max_iter=20, random_state=0)
    search = GridSearchCV(estimator, grid, cv=3, n_jobs=-1)
    # Short fits on purpose: their "not converged" warnings are noise here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    with make_cluster(args) as cluster, Client(cluster) as client:
        client.wait_for_workers(1)
        started = time.perf_counter()
        with joblib.parallel_config(backend="dask"):
            search.fit(X_train, y_train)
        seconds = time.perf_counter() - started
    print(f"{len(search.cv_results_['params']) * 3} fits on the cluster in {seconds:.1f} s")
    print(
        f"best {search.best_params_}: cv accuracy {search.best_score_:.3f}, "
        f"test accuracy {search.score(X_test, y_test):.3f}"
    )

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no figure")
        return
    results = search.cv_results_
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for sizes in grid["hidden_layer_sizes"]:
        rows = [i for i, p in enumerate(results["params"]) if p["hidden_layer_sizes"] == sizes]
        ax.errorbar(
            [results["params"][i]["alpha"] for i in rows],
            results["mean_test_score"][rows],
            yerr=results["std_test_score"][rows],
            marker="o",
            capsize=3,
            label=f"hidden_layer_sizes={sizes}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("alpha")
    ax.set_ylabel("cross-validated accuracy")
    ax.legend()
    fig.tight_layout()
    figure = args.out / "dask_jobqueue_search.png"
    fig.savefig(figure, dpi=120)
    print(f"figure: {figure}")


if __name__ == "__main__":
    main()
