"""Train on a data set larger than memory: partial_fit over chunks.
================================================================

A jet data set that would not fit in memory is read one chunk at a time; each
chunk is one ``partial_fit`` call (one epoch over the chunk, the optimiser state
kept), and the stream is read ``--passes`` times. Two models learn from the same
stream: an MLP on jet-level features and a deep-set GraphClassifier on the
particles themselves. The test accuracy is recorded as the chunks go by.

If ``uproot`` is installed the same stream is also written to a ROOT file and
read back with ``uproot.iterate``, the way a real analysis reads its ntuples
(``pip install uproot``; without it that part is skipped).

    python examples/streaming_partial_fit.py [--fast] [--out examples/figures/]

Runs in well under a minute on 2 CPU cores; the figure goes to ``--out``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn_dlpp import GraphClassifier, MLPClassifier

CLASSES = np.array([0, 1])
LABELS = {"mlp": "MLPClassifier, jet features", "gnn": "GraphClassifier, particles"}


def jet_chunks(n_chunks: int, chunk_size: int, seed: int) -> Iterator[tuple[list, np.ndarray]]:
    """Yield ``(particles, labels)`` chunks of toy jets, generated on the fly.

    Each jet is an array of particles (rows: log pt, delta eta, delta phi).
    Signal jets (label 1) are narrower and share their momentum among fewer,
    harder particles than background jets. Nothing but the current chunk is in
    memory, as with a reader of a large file.
    """
    rng = np.random.default_rng(seed)
    for _ in range(n_chunks):
        labels = rng.integers(0, 2, chunk_size)
        particles = []
        for label in labels:
            n = int(rng.poisson(8 if label else 14)) + 2
            width = 0.15 if label else 0.3
            log_pt = rng.normal(1.0 if label else 0.6, 0.8, n)
            position = rng.normal(0.0, width, (n, 2))
            particles.append(np.column_stack([log_pt, position]))
        yield particles, labels


def jet_features(particles: list) -> np.ndarray:
    """High-level jet observables: multiplicity, pt-weighted width, leading pt fraction."""
    rows = []
    for p in particles:
        pt = np.exp(p[:, 0])
        r = np.hypot(p[:, 1], p[:, 2])
        rows.append([len(p), (pt * r).sum() / pt.sum(), pt.max() / pt.sum(), np.log(pt.sum())])
    return np.array(rows)


def stream_and_score(models, chunks, test, every: int) -> dict[str, list[float]]:
    """partial_fit every model on every chunk; test accuracy every ``every`` chunks."""
    X_test_particles, y_test = test
    X_test = {"mlp": jet_features(X_test_particles), "gnn": X_test_particles}
    curves = {name: [] for name in models}
    for i, (particles, y) in enumerate(chunks, start=1):
        inputs = {"mlp": jet_features(particles), "gnn": particles}
        for name, model in models.items():
            model.partial_fit(inputs[name], y, classes=CLASSES)
        if i % every == 0:
            for name, model in models.items():
                curves[name].append(model.score(X_test[name], y_test))
    return curves


FIELDS = ["logpt", "deta", "dphi"]


def as_records(particles: list):
    """Jets as an awkward array of particle records, the form uproot reads back."""
    import awkward as ak

    counts = [len(p) for p in particles]
    flat = np.concatenate(particles)
    return ak.zip({name: ak.unflatten(flat[:, i], counts) for i, name in enumerate(FIELDS)})


def from_root_file(args, test) -> float | None:
    """Write the stream to a ROOT file, then train from ``uproot.iterate`` chunks."""
    try:
        import awkward as ak
        import uproot
    except ImportError:
        print("uproot (or awkward) not installed: skipping the ROOT-file stream")
        return None
    model = GraphClassifier(
        hidden=16,
        n_blocks=1,
        batch_size=64,
        learning_rate_init=0.01,
        node_features=FIELDS,
        random_state=0,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "jets.root"
        with uproot.recreate(path) as file:
            for i, (particles, labels) in enumerate(jet_chunks(args.chunks, args.chunk_size, 1)):
                jets = {"part": as_records(particles), "label": labels}
                if i == 0:
                    file["events"] = jets
                else:
                    file["events"].extend(jets)
        for _ in range(args.passes):
            # Only step_size events are in memory at a time; uproot rebuilds the records.
            for arrays in uproot.iterate(
                f"{path}:events", filter_name=["part*", "label"], step_size=args.chunk_size
            ):
                labels = ak.to_numpy(arrays["label"])
                model.partial_fit(arrays["part"], labels, classes=CLASSES)
    X_test, y_test = test
    return model.score(as_records(X_test), y_test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("examples/figures"))
    parser.add_argument("--fast", action="store_true", help="fewer and smaller chunks")
    args = parser.parse_args()
    args.chunks, args.chunk_size, args.passes = (8, 200, 2) if args.fast else (12, 500, 2)
    args.out.mkdir(parents=True, exist_ok=True)
    # Small networks gain nothing from more torch threads, and on a busy machine
    # they were measured 10x slower: the package's thread budget, unless set.
    os.environ.setdefault("SKLEARN_DLPP_NUM_THREADS", "1")
    # One epoch per chunk never "converges": that warning says nothing here.
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    test = next(jet_chunks(1, 1000, seed=12345))
    models = {
        "mlp": MLPClassifier(
            hidden_layer_sizes=(32, 16), batch_size=64, learning_rate_init=0.01, random_state=0
        ),
        # Standardisation is fitted on the first chunk: it must look like the rest.
        "gnn": GraphClassifier(
            hidden=16, n_blocks=1, batch_size=64, learning_rate_init=0.01, random_state=0
        ),
    }
    started = time.perf_counter()
    curves = {name: [] for name in models}
    every = max(1, args.chunks // 4)
    for _ in range(args.passes):
        chunks = jet_chunks(args.chunks, args.chunk_size, seed=1)  # the same stream each pass
        for name, values in stream_and_score(models, chunks, test, every).items():
            curves[name].extend(values)
    seen = args.chunk_size * every * np.arange(1, len(curves["mlp"]) + 1)
    print(
        f"streamed {args.passes} x {args.chunks} chunks of {args.chunk_size} jets "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for name, values in curves.items():
        print(f"  {name}: test accuracy {values[-1]:.3f}")

    root_score = from_root_file(args, test)
    if root_score is not None:
        print(f"  gnn from uproot.iterate: test accuracy {root_score:.3f}")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no figure")
        return
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, values in curves.items():
        ax.plot(seen, values, marker="o", label=LABELS[name])
    ax.set_xlabel("jets streamed through partial_fit")
    ax.set_ylabel("test accuracy")
    ax.legend()
    fig.tight_layout()
    figure = args.out / "streaming_partial_fit.png"
    fig.savefig(figure, dpi=120)
    print(f"figure: {figure}")


if __name__ == "__main__":
    main()
