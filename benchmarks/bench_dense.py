"""Dense MLP training and prediction: scikit-learn vs a plain PyTorch loop vs sklearn-dlpp.

Every competitor runs in this one process on the same data, interleaved, and
each measurement is repeated (``--repeats``): the tables give the median and,
in brackets, the fastest and slowest run, so that a machine shared with other
work shows as spread rather than as a wrong ratio. Ratios are the competitor's
time over ours (above 1, ours is faster): medians over medians, and in brackets
best run over best run, the pair least disturbed by other load.

1. Minibatch training, ``--n-samples`` x 20, hidden (64, 64), Adam,
   alpha=1e-4, ``--epochs`` epochs at each of ``--batch-sizes``. All minimise
   the same objective (binary cross-entropy plus scikit-learn's L2 term).
   Competitors: sklearn-dlpp, sklearn-dlpp with its written-out training step
   switched off (autograd), a plain PyTorch loop with fused Adam, scikit-learn.
2. The default fit: ``MLPClassifier()`` with default parameters (batch 'auto'
   = 200, up to 200 epochs with scikit-learn's stopping rule) on 5,000 x 20.
3. ``predict_proba`` on 1, 1,000 and 1,000,000 rows.
4. Where a training step's time goes (``--overhead``): the written-out step
   alone, batching, and skorch's per-batch bookkeeping.

Each part runs once per entry of ``--threads`` (torch's threads and
scikit-learn's BLAS threads both set to it).

    python benchmarks/bench_dense.py                 # the recorded table
    python benchmarks/bench_dense.py --quick         # a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

from sklearn_dlpp import MLPClassifier, _dense_kernel
from sklearn_dlpp._engine import TrainingData

HIDDEN = (64, 64)
ALPHA = 1e-4
LR = 1e-3


def plain_torch_fit(X, y, *, batch_size, epochs, seed=0):
    """What a physicist writes by hand: tensors, randperm, slicing, fused Adam."""
    torch.manual_seed(seed)
    Xt = torch.as_tensor(X)
    yt = torch.as_tensor(y, dtype=torch.float32)[:, None]
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], HIDDEN[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[1], 1),
    )
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = perm[start : start + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(Xt[idx]), yt[idx])
            penalty = torch.stack([(w * w).sum() for w in weights]).sum()
            loss = loss + 0.5 * ALPHA * penalty / len(idx)
            loss.backward()
            opt.step()
            loss.item()  # the per-step loss a training log records
    return model


class _PlainModel:
    def __init__(self, model):
        self.model = model

    def predict(self, X):
        with torch.no_grad():
            return (self.model(torch.as_tensor(X)).numpy().ravel() > 0).astype(int)


def ours(kernel: bool, **params):
    def fit(X, y):
        _dense_kernel.enabled = kernel
        try:
            return MLPClassifier(**params).fit(X, y)
        finally:
            _dense_kernel.enabled = True

    return fit


def timed(fn, *args):
    """Result, wall seconds and this process's CPU seconds (all threads)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - start, time.process_time() - cpu


def summary(times: list[float], scale: float = 1.0) -> str:
    t = [x * scale for x in times]
    return f"{statistics.median(t):.3f} [{min(t):.3f}-{max(t):.3f}]"


def ratio(theirs: list[float], mine: list[float]) -> str:
    """Median over median, and best run over best run (the least disturbed by other load)."""
    return (
        f"{statistics.median(theirs) / statistics.median(mine):.2f}x "
        f"(best {min(theirs) / min(mine):.2f}x)"
    )


def cpu_ratio(theirs: list[float], mine: list[float]) -> str:
    return f"{statistics.median(theirs) / statistics.median(mine):.2f}x"


def run_competitors(competitors, data, repeats):
    """Fit every competitor ``repeats`` times, interleaved; times, accuracies and fitted models."""
    X_tr, y_tr, X_te, y_te = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # batch_size clipped
        for fit in competitors.values():
            fit(X_tr[:500], y_tr[:500])  # warm up: first calls, allocator
    times = {name: [] for name in competitors}
    cpu = {name: [] for name in competitors}
    results = {}
    for _ in range(repeats):
        for name, fit in competitors.items():
            model, seconds, cpu_seconds = timed(fit, X_tr, y_tr)
            times[name].append(seconds)
            cpu[name].append(cpu_seconds)
            results[name] = (model, accuracy_score(y_te, model.predict(X_te)))
    return times, cpu, results


def training_table(data, args):
    print(
        "\n| batch | competitor | s / epoch, median [range] | CPU s / epoch | test accuracy "
        "| ours faster by: wall | CPU |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    fitted = None
    for batch in args.batch_sizes:
        common = {
            "hidden_layer_sizes": HIDDEN,
            "batch_size": batch,
            "max_iter": args.epochs,
            "alpha": ALPHA,
            "learning_rate_init": LR,
            "n_iter_no_change": args.epochs + 1,
            "random_state": 0,
        }
        competitors = {
            "sklearn-dlpp": ours(True, **common),
            "sklearn-dlpp, autograd step": ours(False, **common),
            "plain PyTorch loop, fused Adam": lambda X, y, batch=batch: _PlainModel(
                plain_torch_fit(X, y, batch_size=batch, epochs=args.epochs)
            ),
            "scikit-learn": lambda X, y, common=common: SkMLPClassifier(**common).fit(X, y),
        }
        times, cpu, results = run_competitors(competitors, data, args.repeats)
        for name in competitors:
            mine = name == "sklearn-dlpp"
            faster = "" if mine else ratio(times[name], times["sklearn-dlpp"])
            faster_cpu = "" if mine else cpu_ratio(cpu[name], cpu["sklearn-dlpp"])
            print(
                f"| {batch} | {name} | {summary(times[name], 1 / args.epochs)} | "
                f"{statistics.median(cpu[name]) / args.epochs:.3f} | "
                f"{results[name][1]:.4f} | {faster} | {faster_cpu} |"
            )
        if fitted is None:
            fitted = {k: results[k][0] for k in ("sklearn-dlpp", "scikit-learn")}
    return fitted


def default_table(args):
    X, y = make_classification(
        n_samples=6_250, n_features=20, n_informative=12, flip_y=0.05, random_state=1
    )
    data = (X[:5000], y[:5000], X[5000:], y[5000:])
    competitors = {
        "sklearn-dlpp": ours(True, random_state=0),
        "sklearn-dlpp, autograd step": ours(False, random_state=0),
        "scikit-learn": lambda X, y: SkMLPClassifier(random_state=0).fit(X, y),
    }
    times, cpu, results = run_competitors(competitors, data, args.repeats)
    print(
        "\n| default fit, 5,000 x 20 | s, median [range] | CPU s | epochs | test accuracy "
        "| ours faster by: wall | CPU |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in competitors:
        model, acc = results[name]
        mine = name == "sklearn-dlpp"
        faster = "" if mine else ratio(times[name], times["sklearn-dlpp"])
        faster_cpu = "" if mine else cpu_ratio(cpu[name], cpu["sklearn-dlpp"])
        print(
            f"| {name} | {summary(times[name])} | {statistics.median(cpu[name]):.3f} | "
            f"{model.n_iter_} | {acc:.4f} | {faster} | {faster_cpu} |"
        )


def predict_table(fitted, X_te, args):
    print(
        "\n| rows | scikit-learn predict_proba, ms | sklearn-dlpp predict_proba, ms "
        "| ours faster by |"
    )
    print("| ---: | ---: | ---: | ---: |")
    big = np.repeat(X_te, -(-1_000_000 // len(X_te)), axis=0)[:1_000_000]
    for rows, repeat in [(1, 2000), (1000, 200), (1_000_000, 1)]:
        batch_X = big[:rows]
        times = {"scikit-learn": [], "sklearn-dlpp": []}
        for name in times:
            fitted[name].predict_proba(batch_X)  # warm up
        for _ in range(max(3, args.repeats)):
            for name in times:
                start = time.perf_counter()
                for _ in range(repeat):
                    fitted[name].predict_proba(batch_X)
                times[name].append((time.perf_counter() - start) / repeat)
        print(
            f"| {rows:,} | {summary(times['scikit-learn'], 1e3)} | "
            f"{summary(times['sklearn-dlpp'], 1e3)} | "
            f"{ratio(times['scikit-learn'], times['sklearn-dlpp'])} |"
        )


def overhead_table(fitted, data, args):
    """Per-step time of the written-out step, of batching, and of skorch's bookkeeping."""
    X_tr, y_tr = data[0], data[1]
    est = fitted["sklearn-dlpp"]
    net, kernel = est.net_, est.net_.kernel_
    batch = min(256, len(X_tr))
    Xb = torch.from_numpy(np.ascontiguousarray(X_tr[:batch]))
    yb = torch.from_numpy(y_tr[:batch, None].astype(np.float32))
    train = TrainingData(torch.from_numpy(X_tr), torch.from_numpy(y_tr[:, None].astype(np.float32)))
    step_batch = (Xb, (yb, None))

    def per_call(fn, n=500):
        fn()
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - start) / n * 1e6

    def bookkeeping():
        net.notify("on_batch_begin", batch=step_batch, training=True)
        net.history.record_batch("train_loss", 0.0)
        net.history.record_batch("train_batch_size", batch)
        net.notify("on_batch_end", batch=step_batch, training=True, loss=None, y_pred=None)

    def iterate():
        for _ in net.get_iterator(train, training=True):
            pass

    net.history.new_epoch()
    net.history.new_batch()
    steps = -(-len(train) // batch)
    rows = {
        "forward + backward + L2 (kernel)": per_call(
            lambda: kernel.loss_and_gradients(Xb, yb, None)
        ),
        "Adam update (kernel)": per_call(kernel.update),
        "Net.train_step (kernel + checks)": per_call(lambda: net.train_step(step_batch)),
        "batching (SliceBatches, per batch)": per_call(iterate, n=3) / steps,
        "skorch per-batch bookkeeping": per_call(bookkeeping),
    }
    print(f"\n| where a step goes, batch {batch} | us, median of 1 run |")
    print("| --- | ---: |")
    for name, us in rows.items():
        print(f"| {name} | {us:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 2048])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], choices=["train", "default", "predict"])
    parser.add_argument("--overhead", action="store_true", help="time a step's parts")
    parser.add_argument("--quick", action="store_true", help="20k samples, 2 epochs, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.n_samples, args.epochs, args.repeats = 20_000, 2, 1
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, y = make_classification(
        n_samples=int(args.n_samples * 1.25),
        n_features=20,
        n_informative=12,
        flip_y=0.05,
        random_state=0,
    )
    X = X.astype(np.float32)  # scikit-learn fed float32 too: the same arithmetic
    n_train = args.n_samples
    data = (X[:n_train], y[:n_train], X[n_train:], y[n_train:])
    for threads in args.threads:
        torch.set_num_threads(threads)
        with threadpool_limits(threads):
            print(
                f"\n## {threads} thread(s): {n_train} x {X.shape[1]}, hidden {HIDDEN}, "
                f"{args.epochs} epochs, {args.repeats} repeats, torch {torch.__version__}"
            )
            fitted = None
            if "train" not in args.skip or "predict" not in args.skip or args.overhead:
                fitted = training_table(data, args)
            if "default" not in args.skip:
                default_table(args)
            if "predict" not in args.skip:
                predict_table(fitted, data[2], args)
            if args.overhead:
                overhead_table(fitted, data, args)


if __name__ == "__main__":
    main()
