"""Data-parallel training with torch.distributed: two gloo processes on the loopback interface."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
import torch.distributed as dist
from _ranks import run_on_ranks
from sklearn.base import clone
from sklearn.datasets import make_classification

from sklearn_dlpp import GraphClassifier, MLPClassifier, data_parallel
from sklearn_dlpp import _distributed as distributed_module
from sklearn_dlpp._batches import SliceBatches, TrainingData
from sklearn_dlpp._runtime import resolve_device

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(not dist.is_available(), reason="torch built without torch.distributed"),
]

# A score this much below the single-process fit's still counts as the same quality.
SCORE_TOLERANCE = 0.03


# ------------------------------------------------------------ fits to compare
def _dense_data():
    return make_classification(n_samples=600, n_features=10, n_informative=6, random_state=0)


def _particle_data():
    rng = np.random.default_rng(0)
    y = np.arange(200) % 2
    X = [
        rng.normal(size=(int(n), 2)) + label
        for n, label in zip(rng.integers(3, 8, 200), y, strict=True)
    ]
    return X, y


def _estimators() -> dict:
    return {
        "adam": (
            MLPClassifier(hidden_layer_sizes=(32,), max_iter=20, alpha=1e-3, random_state=0),
            _dense_data,
        ),
        # random_state=None: the ranks must agree on rank 0's draw (validation split, batches).
        "early_stopping": (
            MLPClassifier(
                hidden_layer_sizes=(32,), max_iter=40, early_stopping=True, random_state=None
            ),
            _dense_data,
        ),
        "lbfgs": (
            MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=40, random_state=0),
            _dense_data,
        ),
        "graph": (
            # Message passing along k-nearest-neighbour edges, through DistributedDataParallel.
            GraphClassifier(
                hidden=16,
                n_blocks=2,
                set_edges="knn",
                k=3,
                max_iter=10,
                learning_rate_init=0.01,
                random_state=0,
            ),
            _particle_data,
        ),
    }


def _fit_all() -> dict:
    results = {}
    for name, (estimator, data) in _estimators().items():
        X, y = data()
        # A process group alone changes nothing: outside data_parallel() each
        # rank fits all the data by itself.
        local = clone(estimator).set_params(max_iter=1).fit(X, y)
        with data_parallel() if dist.is_initialized() else contextlib.nullcontext():
            estimator.fit(X, y)
        results[name] = {
            "rows_per_epoch": _rows_per_epoch(estimator),
            "local_rows_per_epoch": _rows_per_epoch(local),
            "n_samples": len(y),
            "score": estimator.score(X, y),
            "n_iter": estimator.n_iter_,
            "loss": float(estimator.loss_),
            "weights": {k: v.clone() for k, v in estimator.module_.state_dict().items()},
            "plain_module": type(estimator.module_).__name__,
        }
    return results


def _rows_per_epoch(estimator) -> int:
    """Samples this process trained on in the last epoch (from skorch's history)."""
    return sum(b["train_batch_size"] for b in estimator.net_.history[-1, "batches"])


def _rank_work(rank: int) -> dict:
    return _fit_all()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_on_ranks(_rank_work, tmp_path_factory.mktemp("ddp"))


@pytest.fixture(scope="module")
def single():
    return _fit_all()


@pytest.mark.parametrize("name", ["adam", "early_stopping", "lbfgs", "graph"])
def test_ranks_end_with_identical_weights(ranks, name):
    first, second = (r[name] for r in ranks)
    assert first["n_iter"] == second["n_iter"]
    assert first["loss"] == second["loss"]
    assert first["weights"].keys() == second["weights"].keys()
    for key, value in first["weights"].items():
        assert torch.equal(value, second["weights"][key]), key
    # module_ stays the plain module: no DistributedDataParallel wrapper leaks out.
    assert first["plain_module"] != "DistributedDataParallel"


@pytest.mark.parametrize("name", ["adam", "early_stopping", "lbfgs", "graph"])
def test_only_fits_inside_data_parallel_are_sharded(ranks, single, name):
    for rank in ranks:
        # Inside data_parallel(): a shard of each epoch (padded to equal lengths).
        assert rank[name]["rows_per_epoch"] == -(-rank[name]["local_rows_per_epoch"] // 2)
        # Outside it, with the process group up: every row, as in one process.
        assert rank[name]["local_rows_per_epoch"] == single[name]["local_rows_per_epoch"]


def test_data_parallel_needs_a_process_group():
    with pytest.raises(ValueError, match="init_process_group"), data_parallel():
        pass


# early_stopping is left out: with random_state=None the two fits start from different draws.
@pytest.mark.parametrize("name", ["adam", "lbfgs", "graph"])
def test_data_parallel_fit_is_as_good_as_single_process(ranks, single, name):
    assert ranks[0][name]["score"] >= single[name]["score"] - SCORE_TOLERANCE


# ------------------------------------------------------- the pieces, in-process
def test_shards_cover_each_epoch_and_have_one_length():
    order = torch.randperm(11, generator=torch.Generator().manual_seed(0))
    shards = [distributed_module.shard(order, r, 3) for r in range(3)]
    assert {len(s) for s in shards} == {4}
    assert set(torch.cat(shards).tolist()) == set(range(11))


def test_shard_batches_split_the_global_batches():
    data = TrainingData(torch.arange(10.0)[:, None], torch.arange(10.0)[:, None])

    def batches(ranks):
        generator = torch.Generator().manual_seed(3)
        iterator = SliceBatches(data, 4, shuffle=True, generator=generator, ranks=ranks)
        found = [X[:, 0].tolist() for X, _ in iterator]
        assert len(found) == len(iterator)
        return found

    whole = batches(None)
    per_rank = [batches((r, 2)) for r in range(2)]
    assert len(per_rank[0]) == len(per_rank[1]) == len(whole)
    # Step k of the two ranks together is step k of a single process.
    for k, global_batch in enumerate(whole):
        assert sorted(per_rank[0][k] + per_rank[1][k]) == sorted(global_batch)


def test_without_process_group_nothing_changes():
    assert distributed_module.process_group() is None
    assert distributed_module.shared_seed(7) == 7
    assert distributed_module.mean_over_ranks(0.25) == 0.25
    assert distributed_module.wrap_for_data_parallel(torch.nn.Linear(2, 1)) is None


def test_auto_device_is_the_gpu_of_the_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert resolve_device("auto") == torch.device("cuda")  # no process group: the current GPU
    monkeypatch.setattr(distributed_module, "process_group", lambda: (1, 2))
    assert resolve_device("auto") == torch.device("cuda", 1)
    assert resolve_device("cuda") == torch.device("cuda", 1)
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
