"""skorch's callback protocol on every estimator: skorch's own callbacks work unchanged."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    LRScheduler,
    ProgressBar,
)

from sklearn_dlpp import (
    GraphClassifier,
    MLPClassifier,
    MLPRegressor,
    NodeClassifier,
    PerceptronClassifier,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def dense(n: int = 120):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] > 0).astype(int)


def sets(n: int = 40):
    rng = np.random.RandomState(0)
    y = np.arange(n) % 2
    X = [
        rng.normal(size=(int(k), 2)) + label
        for k, label in zip(rng.randint(3, 7, n), y, strict=True)
    ]
    return X, y


def nodes(n: int = 16):
    X, _ = sets(n)
    return X, [(x[:, 0] > 0.5).astype(int) for x in X]


ESTIMATORS = {
    "MLPClassifier": (lambda **p: MLPClassifier(hidden_layer_sizes=(8,), **p), dense),
    "MLPRegressor": (
        lambda **p: MLPRegressor(hidden_layer_sizes=(8,), **p),
        lambda: (dense()[0], dense()[0][:, 0]),
    ),
    "PerceptronClassifier": (lambda **p: PerceptronClassifier(**p), dense),
    "GraphClassifier": (lambda **p: GraphClassifier(hidden=8, n_blocks=1, **p), sets),
    "NodeClassifier": (lambda **p: NodeClassifier(hidden=8, n_blocks=1, **p), nodes),
}
CLASSIFIERS = [n for n in ESTIMATORS if n != "MLPRegressor"]


def make(name: str, **params):
    build, data = ESTIMATORS[name]
    return build(random_state=0, max_iter=4, batch_size=8, **params), *data()


class Events(Callback):
    """Records the protocol: which events came, and what they carried."""

    def initialize(self):
        self.events = []
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.events.append(("train_begin", X is not None, y is not None))

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.events.append(("epoch_begin", dataset_train is not None))

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        self.events.append(("batch_end", training, "loss" in kwargs, "y_pred" in kwargs))

    def on_epoch_end(self, net, **kwargs):
        self.events.append(("epoch_end", "train_loss" in net.history[-1]))

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self.events.append(("train_end", X is not None, y is not None))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_the_whole_protocol_is_sent(name):
    events = Events()
    est, X, y = make(name, callbacks=[events])
    est.fit(X, y)
    seen = events.events
    assert seen[0] == ("train_begin", True, True)
    assert seen[-1] == ("train_end", True, True)
    assert [e for e in seen if e[0] == "epoch_end"] == [("epoch_end", True)] * 4
    assert [e for e in seen if e[0] == "epoch_begin"] == [("epoch_begin", True)] * 4
    batches = [e for e in seen if e[0] == "batch_end"]
    assert batches
    assert all(b == ("batch_end", True, True, True) for b in batches)
    # The history holds the epoch's training loss, equal to the estimator's.
    assert est.net_.history[-1, "train_loss"] == pytest.approx(est.loss_)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_epoch_and_batch_scoring(name):
    scores = EpochScoring("accuracy", on_train=True, name="train_acc", lower_is_better=False)
    batch_scores = BatchScoring("accuracy", on_train=True, name="batch_acc")
    est, X, y = make(name, callbacks=[scores, batch_scores])
    est.fit(X, y)
    history = est.net_.history
    accuracies = history[:, "train_acc"]
    assert len(accuracies) == 4
    assert all(0.0 <= a <= 1.0 for a in accuracies)
    assert all(0.0 <= a <= 1.0 for a in history[:, "batch_acc"])
    # The last epoch's training accuracy is the estimator's accuracy on the
    # rows it trained on (in the epoch's order, before the last step's update
    # for the batches' own predictions): same ballpark as score.
    assert abs(accuracies[-1] - est.score(X, y)) < 0.2


def test_epoch_scoring_on_validation_data():
    scores = EpochScoring("accuracy", name="valid_acc", lower_is_better=False)
    est, X, y = make("MLPClassifier", callbacks=[scores], early_stopping=True)
    est.fit(X, y)
    history = est.net_.history
    # skorch's validation score is computed on the estimator's validation split.
    np.testing.assert_allclose(history[:, "valid_acc"], est.validation_scores_)
    assert all(np.isfinite(history[:, "valid_loss"]))


@pytest.mark.parametrize("name", ["MLPClassifier", "GraphClassifier"])
def test_skorch_early_stopping_on_train_loss(name):
    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=10.0, sink=lambda *_: None)
    est, X, y = make(name, callbacks=[stop])
    est.set_params(max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a callback's stop is not an interrupt
        est.fit(X, y)
    # threshold=10: no epoch improves enough, so it stops after patience + 1 epochs.
    assert est.n_iter_ == 2
    assert len(est.net_.history) == 2


def test_checkpoint_on_train_loss_best(tmp_path):
    checkpoint = Checkpoint(monitor="train_loss_best", dirname=str(tmp_path))
    est, X, y = make("MLPClassifier", callbacks=[checkpoint])
    est.fit(X, y)
    assert (tmp_path / "params.pt").exists()
    assert any(est.net_.history[:, "event_cp"])


def test_lr_scheduler_changes_the_learning_rate():
    from torch.optim.lr_scheduler import StepLR

    scheduler = LRScheduler(policy=StepLR, step_size=1, gamma=0.5)
    est, X, y = make("MLPClassifier", callbacks=[scheduler], learning_rate_init=0.01)
    est.fit(X, y)
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(0.01 * 0.5**4)


@pytest.mark.parametrize("name", ["MLPClassifier", "GraphClassifier"])
def test_progress_bar_counts_the_batches(name):
    pytest.importorskip("tqdm")
    bar = ProgressBar()
    est, X, y = make(name, callbacks=[bar])
    est.fit(X, y)
    n_batches = est.net_.history[-1, "train_batch_count"]
    assert bar.pbar_.total == n_batches
    assert bar.pbar_.n == n_batches  # every batch counted, the last epoch's bar full


def test_lbfgs_sends_the_protocol_too():
    events = Events()
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, callbacks=[events])
    X, _ = dense()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, X[:, 0])
    kinds = [e[0] for e in events.events]
    assert kinds[0] == "train_begin"
    assert kinds[-1] == "train_end"
    assert "epoch_end" in kinds
