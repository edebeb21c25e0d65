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
3. ``predict_proba`` on 1, 1,000 and 1,000,000 rows (each timed call after a
   pause, see ``PAUSE``); then one-row ``predict``
   and ``predict_proba`` of the default networks (``MLPClassifier()`` and
   ``MLPRegressor()``, hidden (100,), trained briefly on 5,000 x 20).
4. Where the time goes (``--overhead``): a training step (the written-out step
   alone, batching, and skorch's per-batch bookkeeping), and a 1,000,000-row
   ``predict_proba`` (input check, matrix products, bias and activations,
   output activation) against scikit-learn's whole call and the float32
   matrix-product rate of the cores.

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
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from threadpoolctl import threadpool_limits

from sklearn_dlpp import MLPClassifier, MLPRegressor, _dense_kernel, _dense_layers
from sklearn_dlpp._dense import _CPU_PREDICT_ROWS, _predict_input
from sklearn_dlpp._engine import TrainingData
from sklearn_dlpp._parallel import share

HIDDEN = (64, 64)
# Seconds between two timed predictions: OpenBLAS's threads (scikit-learn's
# matrix products) busy-wait ~0.1 s after each call, and a prediction timed
# right after one shared a core with them (1,000,000 rows with two threads:
# 135 ms instead of 89 ms).
PAUSE = 0.3
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
                time.sleep(PAUSE)
                start = time.perf_counter()
                for _ in range(repeat):
                    fitted[name].predict_proba(batch_X)
                times[name].append((time.perf_counter() - start) / repeat)
        print(
            f"| {rows:,} | {summary(times['scikit-learn'], 1e3)} | "
            f"{summary(times['sklearn-dlpp'], 1e3)} | "
            f"{ratio(times['scikit-learn'], times['sklearn-dlpp'])} |"
        )


def latency_table(args):
    """One-row predict and predict_proba of the default networks, interleaved."""
    X, y = make_classification(n_samples=5_000, n_features=20, random_state=2)
    X = X.astype(np.float32)
    target = X[:, :3].sum(1)
    default = {"max_iter": 20, "random_state": 0}
    models = {
        "MLPClassifier": (SkMLPClassifier(**default).fit(X, y), MLPClassifier(**default).fit(X, y)),
        "MLPRegressor": (
            SkMLPRegressor(**default).fit(X, target),
            MLPRegressor(**default).fit(X, target),
        ),
    }
    row = X[:1]
    calls = [
        (name, method, pair)
        for name, pair in models.items()
        for method in ("predict", "predict_proba")
        if hasattr(pair[0], method)
    ]
    times = {(name, method): ([], []) for name, method, _ in calls}

    def per_call(fn, n=1000):
        start = time.perf_counter()
        for _ in range(n):
            fn(row)
        return (time.perf_counter() - start) / n

    for _, method, pair in calls:
        for model in pair:
            getattr(model, method)(row)  # warm up
    for _ in range(max(5, args.repeats)):
        for name, method, pair in calls:
            for model, record in zip(pair, times[name, method], strict=True):
                time.sleep(PAUSE)
                record.append(per_call(getattr(model, method)))
    print(
        "\n| one row, default network (100,) | scikit-learn, us | sklearn-dlpp, us "
        "| ours faster by |"
    )
    print("| --- | ---: | ---: | ---: |")
    for (name, method), (theirs, mine) in times.items():
        print(
            f"| {name}.{method} | {summary(theirs, 1e6)} | {summary(mine, 1e6)} | "
            f"{ratio(theirs, mine)} |"
        )


def predict_split_table(fitted, X_te, args):
    """Where a 1,000,000-row predict_proba goes, against scikit-learn's whole call."""
    big = np.ascontiguousarray(np.repeat(X_te, -(-1_000_000 // len(X_te)), axis=0)[:1_000_000])
    ours_model, theirs = fitted["sklearn-dlpp"], fitted["scikit-learn"]
    module = ours_model.module_
    layers = [(m.weight.detach(), m.bias.detach()) for m in ours_model._linears()]
    X = torch.from_numpy(big)
    rows, threads = _CPU_PREDICT_ROWS, torch.get_num_threads()
    chunks = range(-(-len(big) // rows))
    flop = 2 * len(big) * sum(w.numel() for w, _ in layers)
    raw = ours_model._raw(big)

    def products(bias_and_relu):
        out = X.new_empty((len(big), layers[-1][0].shape[0]))

        def work(pieces):
            buffers = [X.new_empty((rows, w.shape[0])) for w, _ in layers[:-1]]
            with torch.inference_mode():
                for chunk in pieces:
                    start, stop = chunk * rows, min(len(big), (chunk + 1) * rows)
                    h = X[start:stop]
                    for i, (w, b) in enumerate(layers):
                        last = i == len(layers) - 1
                        target = out[start:stop] if last else buffers[i][: stop - start]
                        if bias_and_relu:
                            torch.addmm(b, h, w.t(), out=target)
                            if not last:
                                target.relu_()
                        else:
                            torch.mm(h, w.t(), out=target)
                        h = target

        torch.set_num_threads(1)
        try:
            share(threads, work, chunks)
        finally:
            torch.set_num_threads(threads)

    square = torch.randn(1024, 1024)

    def peak():
        torch.set_num_threads(1)
        try:
            share(threads, lambda pieces: [torch.mm(square, square) for _ in pieces], range(8))
        finally:
            torch.set_num_threads(threads)

    parts = {
        "scikit-learn predict_proba (whole call)": lambda: theirs.predict_proba(big),
        "sklearn-dlpp predict_proba (whole call)": lambda: ours_model.predict_proba(big),
        "  input check (finite sums of X)": lambda: _predict_input(ours_model, big),
        "  matrix products alone (mm)": lambda: products(False),
        "  products + bias + relu (the forward)": lambda: products(True),
        "  forward as predict runs it (predict_raw)": lambda: _forward(module, X),
        "  output: expit + [1 - p, p]": lambda: ours_model._proba_from_raw(raw),
        "float32 sgemm 1024^3 on each thread": peak,
    }
    times = {name: [] for name in parts}
    for fn in parts.values():
        fn()
    for _ in range(max(5, args.repeats)):
        for name, fn in parts.items():
            time.sleep(PAUSE)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    print(
        f"\n| 1,000,000 rows, {threads} thread(s): where it goes | ms, median [range] "
        "| GFLOP/s (best) |"
    )
    print("| --- | ---: | ---: |")
    for name, record in times.items():
        rate = ""
        if "products" in name or "forward" in name:
            rate = f"{flop / min(record) / 1e9:.0f}"
        elif "sgemm" in name:
            rate = f"{8 * 2 * 1024**3 / min(record) / 1e9:.0f}"
        print(f"| {name} | {summary(record, 1e3)} | {rate} |")


def _forward(module, X):
    with torch.inference_mode():
        return _dense_layers.predict_raw(module, X, _CPU_PREDICT_ROWS)


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
                latency_table(args)
            if args.overhead:
                overhead_table(fitted, data, args)
                predict_split_table(fitted, data[2], args)


if __name__ == "__main__":
    main()
