"""Data-parallel claims that two identical single-process fits would also satisfy.

``tests/test_distributed.py`` checks that the ranks end identical; two ranks that
each fit all the data alone, with one seed, end identical too. These tests look
at what each rank trained on (its shard of every global batch), compare the
data-parallel weights with a single-process fit taking the same steps, and check
that the validation split of early stopping is the same on every rank with
``random_state=None`` (it used to come from numpy's global state on rank 0 only).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch.distributed as dist
from _ranks import WORLD_SIZE, run_on_ranks
from sklearn.datasets import make_classification
from skorch.callbacks import Callback

from sklearn_dlpp import data_parallel

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(not dist.is_available(), reason="torch built without torch.distributed"),
]

N_SAMPLES = 600  # divisible by the world size: no sample is seen twice per epoch
BATCH_SIZE = 200
EPOCHS = 3


class BatchIds(Callback):
    """Records the ids (column 0 of X) of every training batch."""

    def initialize(self):
        self.batches_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.batches_.append(batch[0][:, 0].round().long().tolist())


def _dense_data():
    X, y = make_classification(n_samples=N_SAMPLES, n_features=6, random_state=0)
    X[:, 0] = np.arange(N_SAMPLES)  # the sample's id, read back by BatchIds
    return X, y


def _sgd_fit():
    from sklearn_dlpp import MLPClassifier

    X, y = _dense_data()
    recorder = BatchIds()
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1e-4,
        alpha=1e-2,
        batch_size=BATCH_SIZE,
        max_iter=EPOCHS,
        dtype="float64",
        random_state=0,
        callbacks=[recorder],
    ).fit(X, y)
    return {
        "batches": clf.net_.callbacks_[-1][1].batches_,
        "weights": {k: v.clone() for k, v in clf.module_.state_dict().items()},
        "loss_curve": list(clf.loss_curve_),
    }


def _validation_rows(fit) -> list[list[int]]:
    """The validation rows drawn by each ``train_test_split`` call during ``fit()``."""
    import sklearn_dlpp._dense as dense
    import sklearn_dlpp._graph_base as graph_base

    drawn = []

    def spy(original):
        def split(*arrays, **kwargs):
            parts = original(np.arange(len(arrays[0])), *arrays, **kwargs)
            drawn.append(sorted(parts[1].tolist()))
            return parts[2:]

        return split

    saved = dense.train_test_split, graph_base.train_test_split
    dense.train_test_split = spy(saved[0])
    graph_base.train_test_split = spy(saved[1])
    try:
        fit()
    finally:
        dense.train_test_split, graph_base.train_test_split = saved
    return drawn


def _split_fits():
    from sklearn_dlpp import GraphClassifier, MLPClassifier

    X, y = _dense_data()
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 2
    particles = [rng.normal(size=(int(rng.integers(2, 6)), 2)) + c for c in labels]
    kw = {"early_stopping": True, "max_iter": 1, "random_state": None}
    scored = MLPClassifier(hidden_layer_sizes=(4,), early_stopping=True, max_iter=3, random_state=0)
    rows = _validation_rows(lambda: scored.fit(X, y))[0]
    return {
        # The best validation score (averaged over the ranks) and the score of the
        # restored weights on this rank's validation rows: the same split and weights
        # on every rank, so the mean over ranks is this rank's own score.
        "validation_score": (
            float(scored.best_validation_score_),
            float(scored.score(X[rows], y[rows])),
        ),
        "dense": _validation_rows(lambda: MLPClassifier(hidden_layer_sizes=(4,), **kw).fit(X, y)),
        "graph": _validation_rows(
            lambda: GraphClassifier(hidden=4, n_blocks=1, **kw).fit(particles, labels)
        ),
    }


def _rank_work(rank: int) -> dict:
    # Each rank's global numpy state differs, as in separate processes started by torchrun.
    np.random.seed(1000 + rank)  # noqa: NPY002 (the global state is the point)
    with data_parallel():
        return {"sgd": _sgd_fit(), "splits": _split_fits()}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_on_ranks(_rank_work, tmp_path_factory.mktemp("ddp_claims"))


def test_each_rank_trains_on_its_half_of_every_global_batch(ranks):
    single = _sgd_fit()["batches"]
    per_rank = [r["sgd"]["batches"] for r in ranks]
    steps_per_epoch = N_SAMPLES // BATCH_SIZE
    assert len(single) == EPOCHS * steps_per_epoch
    for batches in per_rank:
        assert len(batches) == len(single)  # as many optimiser steps as one process
        assert {len(b) for b in batches} == {BATCH_SIZE // WORLD_SIZE}
    for step, global_batch in enumerate(single):
        first, second = per_rank[0][step], per_rank[1][step]
        assert not set(first) & set(second), f"step {step}: the ranks share rows"
        assert sorted(first + second) == sorted(global_batch), step


def test_data_parallel_weights_equal_the_single_process_fit(ranks):
    # Averaged half-batch gradients (and the L2 penalty scaled to the global batch)
    # are the single-process gradient: float64 fits agree to rounding.
    single = _sgd_fit()
    for rank in ranks:
        np.testing.assert_allclose(rank["sgd"]["loss_curve"], single["loss_curve"], rtol=1e-9)
        for key, value in single["weights"].items():
            np.testing.assert_allclose(
                rank["sgd"]["weights"][key].numpy(), value.numpy(), rtol=1e-7, atol=1e-10
            )


@pytest.mark.parametrize("kind", ["dense", "graph"])
def test_validation_split_is_rank_zeros_on_every_rank(ranks, kind):
    first, second = (r["splits"][kind] for r in ranks)
    assert len(first) == len(second) == 1
    assert first == second


def test_without_process_group_the_estimator_keeps_its_own_state():
    from sklearn_dlpp._distributed import shared_seed_and_state

    assert shared_seed_and_state(7) == (7, None)


def test_validation_scores_are_the_mean_over_ranks_not_the_sum(ranks):
    for rank in ranks:
        averaged, own = rank["splits"]["validation_score"]
        # Few-row predictions take the float64 numpy path: a borderline row may flip.
        assert averaged == pytest.approx(own, abs=0.035)
