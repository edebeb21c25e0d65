"""Dense MLP training and prediction: scikit-learn vs a plain PyTorch loop vs sklearn-dlpp.

All three run in this one process on the same data (200k x 20, hidden (64, 64),
10 epochs, Adam, alpha=1e-4) and minimise the same objective: binary
cross-entropy plus scikit-learn's L2 term. Prints seconds per epoch, test
accuracy and ratios, then predict latency for 1, 1,000 and 1,000,000 rows.

    python benchmarks/bench_dense.py                 # the recorded table
    python benchmarks/bench_dense.py --quick         # a smoke run
    python benchmarks/bench_dense.py --device cuda   # ours and the plain loop on a GPU
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from sklearn_dlpp import MLPClassifier

HIDDEN = (64, 64)
ALPHA = 1e-4
LR = 1e-3


def plain_torch_fit(X, y, *, batch_size, epochs, device, fused, seed=0):
    """What a physicist writes by hand: tensors on the device, randperm, slicing."""
    torch.manual_seed(seed)
    Xt = torch.as_tensor(X, device=device)
    yt = torch.as_tensor(y, dtype=torch.float32, device=device)[:, None]
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], HIDDEN[0]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[0], HIDDEN[1]),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN[1], 1),
    ).to(device)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.Adam(model.parameters(), lr=LR, fused=fused or None)
    n = len(Xt)
    for _ in range(epochs):
        perm = torch.randperm(n, device=device)
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


def timed(fn):
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def latency(fn, X, repeat):
    fn(X)  # warm up
    start = time.perf_counter()
    for _ in range(repeat):
        fn(X)
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 2048])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--quick", action="store_true", help="20k samples, 2 epochs")
    args = parser.parse_args()
    if args.quick:
        args.n_samples, args.epochs = 20_000, 2
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)

    X, y = make_classification(
        n_samples=int(args.n_samples * 1.25),
        n_features=20,
        n_informative=12,
        flip_y=0.05,
        random_state=0,
    )
    X = X.astype(np.float32)
    n_train = args.n_samples
    X_tr, y_tr, X_te, y_te = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    device = args.device
    print(
        f"# {n_train} x {X.shape[1]}, hidden {HIDDEN}, {args.epochs} epochs, device {device}, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads"
    )
    print("\n| batch | competitor | s / epoch | samples / s | test accuracy | ours vs it |")
    print("| ---: | --- | ---: | ---: | ---: | ---: |")
    fitted = {}
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
        rows = {}
        ours, t_ours = timed(
            lambda common=common: MLPClassifier(device=device, **common).fit(X_tr, y_tr)
        )
        rows["sklearn-dlpp"] = (t_ours, accuracy_score(y_te, ours.predict(X_te)))
        fitted["sklearn-dlpp"] = ours
        for fused in (False, True):
            model, t = timed(
                lambda fused=fused, batch=batch: plain_torch_fit(
                    X_tr, y_tr, batch_size=batch, epochs=args.epochs, device=device, fused=fused
                )
            )
            with torch.no_grad():
                logits = model(torch.as_tensor(X_te, device=device)).cpu().numpy().ravel()
            name = "plain PyTorch loop" + (", fused Adam" if fused else "")
            rows[name] = (t, accuracy_score(y_te, (logits > 0).astype(int)))
        sk, t_sk = timed(lambda common=common: SkMLPClassifier(**common).fit(X_tr, y_tr))
        rows["scikit-learn"] = (t_sk, accuracy_score(y_te, sk.predict(X_te)))
        fitted["scikit-learn"] = sk
        for name, (seconds, acc) in rows.items():
            per_epoch = seconds / args.epochs
            ratio = "" if name == "sklearn-dlpp" else f"{t_ours / seconds:.2f}x the time"
            print(
                f"| {batch} | {name} | {per_epoch:.3f} | {n_train / per_epoch:,.0f} | "
                f"{acc:.4f} | {ratio} |"
            )

    print("\n| rows | scikit-learn predict_proba | sklearn-dlpp predict_proba | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    big = np.repeat(X_te, -(-1_000_000 // len(X_te)), axis=0)[:1_000_000]
    for rows_n, repeat in [(1, 2000), (1000, 200), (1_000_000, 2)]:
        batch_X = big[:rows_n]
        t_sk = latency(fitted["scikit-learn"].predict_proba, batch_X, repeat)
        t_ours = latency(fitted["sklearn-dlpp"].predict_proba, batch_X, repeat)
        print(
            f"| {rows_n:,} | {t_sk * 1e3:.3f} ms | {t_ours * 1e3:.3f} ms | {t_ours / t_sk:.2f}x |"
        )


if __name__ == "__main__":
    main()
