"""Train one estimator on several processes (or GPUs) with torch.distributed.
==========================================================================

A script that joins a process group and fits inside ``with data_parallel():``
trains data-parallel. Every rank passes the same data and the same
``random_state``; each takes its shard of every epoch, gradients are averaged
by DistributedDataParallel, and all ranks end with the same weights. The
optimiser steps see ``batch_size`` samples in all, as in one process.

On a node with 4 GPUs (NCCL; one process per GPU, ``LOCAL_RANK`` picks it):

    torchrun --standalone --nproc-per-node=4 examples/ddp_torchrun.py

On CPUs (gloo), e.g. 2 processes on this machine:

    torchrun --standalone --nproc-per-node=2 examples/ddp_torchrun.py --backend gloo
    python examples/ddp_torchrun.py --nproc 2      # no torchrun: spawns the ranks itself

Rank 0 then fits the same estimator in one process for comparison, prints both
and draws their loss curves into ``--out``. Runs in well under a minute on 2
CPU cores.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_dlpp import GraphClassifier, MLPClassifier, data_parallel


def data(fast: bool) -> dict:
    """The same data on every rank (each rank could also read the same files)."""
    n = 2000 if fast else 6000
    X, y = make_classification(n, n_features=20, n_informative=10, random_state=0)
    rng = np.random.default_rng(0)
    labels = np.arange(n // 4) % 2
    sizes = rng.integers(4, 12, len(labels))
    sets = [rng.normal(size=(int(s), 3)) + 0.5 * c for s, c in zip(sizes, labels, strict=True)]
    return {
        "mlp": train_test_split(X, y, random_state=0),
        "gnn": train_test_split(sets, labels, random_state=0),
    }


def estimators(fast: bool) -> dict:
    epochs = 10 if fast else 30
    return {
        "mlp": MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=epochs, random_state=0),
        "gnn": GraphClassifier(
            hidden=32, n_blocks=2, max_iter=epochs, learning_rate_init=0.005, random_state=0
        ),
    }


def fit_and_score(fast: bool) -> dict:
    results = {}
    for name, estimator in estimators(fast).items():
        X_train, X_test, y_train, y_test = data(fast)[name]
        started = time.perf_counter()
        estimator.fit(X_train, y_train)
        results[name] = {
            "seconds": time.perf_counter() - started,
            "score": estimator.score(X_test, y_test),
            "loss_curve": list(estimator.loss_curve_),
            "first_weight": next(iter(estimator.module_.parameters())).detach().cpu().clone(),
        }
    return results


def rank_main(args) -> None:
    """What each rank runs, under torchrun or spawned by :func:`spawn_ranks`."""
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    backend = args.backend
    if backend == "auto":
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        # One GPU per process; device="auto" also picks cuda:LOCAL_RANK.
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    dist.init_process_group(backend)
    try:
        with data_parallel():
            parallel = fit_and_score(args.fast)
        # Every rank holds the same weights: check it on rank 0.
        weights = [torch.empty_like(parallel["mlp"]["first_weight"]) for _ in range(world_size)]
        dist.all_gather_object(weights, parallel["mlp"]["first_weight"])
    finally:
        dist.destroy_process_group()
    if rank != 0:
        return
    assert all(torch.equal(w, weights[0]) for w in weights), "ranks diverged"
    single = fit_and_score(args.fast)
    print(f"{world_size} {backend} processes vs one process (test accuracy, fit seconds):")
    for name in parallel:
        p, s = parallel[name], single[name]
        print(
            f"  {name}: {p['score']:.3f} in {p['seconds']:.1f} s "
            f"vs {s['score']:.3f} in {s['seconds']:.1f} s"
        )
    plot(parallel, single, world_size, args.out)


def plot(parallel: dict, single: dict, world_size: int, out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no figure")
        return
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, name in zip(axes, parallel, strict=True):
        ax.plot(parallel[name]["loss_curve"], label=f"{world_size} processes (DDP)")
        ax.plot(single[name]["loss_curve"], "--", label="1 process")
        ax.set_title({"mlp": "MLPClassifier", "gnn": "GraphClassifier"}[name])
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.legend()
    fig.tight_layout()
    figure = out / "ddp_torchrun_loss_curves.png"
    fig.savefig(figure, dpi=120)
    print(f"figure: {figure}")


def _spawned(local_rank: int, world_size: int, port: int, args) -> None:
    os.environ.update(
        RANK=str(local_rank),
        LOCAL_RANK=str(local_rank),
        WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    # Keep gloo on the loopback interface: the ranks talk to no other machine.
    os.environ.setdefault("GLOO_SOCKET_IFNAME", _loopback_interface())
    rank_main(args)


def _loopback_interface() -> str:
    """The loopback interface's name: ``lo`` on Linux, ``lo0`` on macOS."""
    names = {name for _, name in socket.if_nameindex()}
    return "lo" if "lo" in names else "lo0"


def spawn_ranks(args) -> None:
    """Without torchrun: start ``--nproc`` ranks on this machine (gloo on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_spawned, args=(args.nproc, port, args), nprocs=args.nproc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto")
    parser.add_argument("--nproc", type=int, default=2, help="ranks to spawn without torchrun")
    parser.add_argument("--out", type=Path, default=Path("examples/figures"))
    parser.add_argument("--fast", action="store_true", help="less data, fewer epochs")
    args = parser.parse_args()
    # The processes share the machine's cores: one torch thread each (torchrun does the same).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if "RANK" in os.environ:
        rank_main(args)
    else:
        if args.backend == "auto":
            args.backend = "gloo"
        spawn_ranks(args)


if __name__ == "__main__":
    main()
