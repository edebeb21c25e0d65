"""Jet taggers: ParticleNet training throughput, and the taggers' quality on hard jets.

Two parts, each running its competitors side by side in this one process:

1. **Throughput**: training steps (forward, backward, Adam step) of the ParticleNet
   preset (:class:`sklearn_dlpp.nn.ParticleNet`, packed particles, kNN per jet) against
   the same network in plain PyTorch (PyTorch Geometric's ``DynamicEdgeConv``
   needs torch-cluster for its kNN, which ships as source only and is not
   installed here), written as the usual dense implementation: particles padded
   to ``(batch, channels, particles)``, neighbours from ``cdist`` + ``topk``, 1x1
   convolutions on ``(batch, channels, particles, k)``, padded particles pushed
   far away (the layout of the ParticleNet authors' code).
   Both have the same layers and the same number of weights. Prints jets per
   second and the ratio (ours / reference), interleaved repeats, median.

2. **Quality**: on ``make_jets(difficulty="hard", four_momenta=True)`` (the hardest
   ``--max-particles`` particles per jet), train on ``--n-train`` jets and report on
   ``--n-test`` others the ROC AUC and the background rejection ``1 / eps_B`` at
   30 % and 50 % signal efficiency of

   - the jet mass ``m / pT`` as the score (a mass cut; from the four-momenta);
   - ``HistGradientBoostingClassifier`` on jet mass and multiplicity;
   - ``GraphClassifier()`` with its defaults on kNN graphs (``set_edges='knn'``,
     ``k=8`` in delta_eta, delta_phi; early stopping 'auto');
   - ``GraphClassifier(preset='particlenet', knn_features=[1, 2])``;
   - ``GraphClassifier(preset='part', pair_features=[3, 4, 5, 6],
     learning_rate_init=2e-4)``;

   the two presets with ``max_iter=--epochs`` (early stopping 'auto' on top).

    OMP_NUM_THREADS=1 python benchmarks/bench_taggers.py [--only throughput|quality]
        [--n-train 2000] [--n-test 2000] [--max-particles 30] [--epochs 8]
        [--models part]

A 2-core CPU is far from where these networks are trained (a GPU, a million jets,
tens of epochs): the quality table shows what each reaches on small data in minutes.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score, roc_curve
from torch import nn

from sklearn_dlpp import GraphClassifier
from sklearn_dlpp.datasets import make_jets
from sklearn_dlpp.graph import pack_graphs
from sklearn_dlpp.nn import ParticleNet
from sklearn_dlpp.nn._edgeconv import PARTICLENET_BLOCKS, PARTICLENET_FC


# ------------------------------------------------------------ the reference
class DenseEdgeConv(nn.Module):
    """EdgeConv on padded particles (B, C, P): cdist + topk, 1x1 convolutions."""

    def __init__(self, k: int, in_features: int, channels: tuple[int, ...]) -> None:
        super().__init__()
        self.k = k
        widths = (2 * in_features, *channels)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 1, bias=False) for a, b in itertools.pairwise(widths)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(c) for c in channels)
        self.shortcut = None
        if in_features != channels[-1]:
            self.shortcut = nn.Sequential(
                nn.Conv1d(in_features, channels[-1], 1, bias=False), nn.BatchNorm1d(channels[-1])
            )

    def forward(self, points: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        # points (B, D, P), features (B, C, P)
        with torch.no_grad():
            distance = torch.cdist(points.transpose(1, 2), points.transpose(1, 2))
            index = distance.topk(self.k + 1, dim=-1, largest=False)[1][:, :, 1:]  # (B, P, k)
        batch, channels, n = features.shape
        flat = features.transpose(1, 2).reshape(batch * n, channels)
        offset = torch.arange(batch, device=features.device).view(-1, 1, 1) * n
        neighbours = flat[(index + offset).reshape(-1)].view(batch, n, self.k, channels)
        center = features.transpose(1, 2).unsqueeze(2).expand(-1, -1, self.k, -1)
        x = torch.cat([center, neighbours - center], dim=-1).permute(0, 3, 1, 2)  # (B, 2C, P, k)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = torch.relu(norm(conv(x)))
        shortcut = features if self.shortcut is None else self.shortcut(features)
        return torch.relu(x.mean(-1) + shortcut)


class DenseParticleNet(nn.Module):
    """ParticleNet as its authors wrote it: padded tensors, masked mean pooling."""

    def __init__(self, n_features: int, n_outputs: int, point_columns: list[int]) -> None:
        super().__init__()
        self.point_columns = point_columns
        self.input_norm = nn.BatchNorm1d(n_features)
        self.blocks = nn.ModuleList()
        width = n_features
        for k, channels in PARTICLENET_BLOCKS:
            self.blocks.append(DenseEdgeConv(k, width, channels))
            width = channels[-1]
        layers: list[nn.Module] = []
        for units, dropout in PARTICLENET_FC:
            layers += [nn.Linear(width, units), nn.ReLU(), nn.Dropout(dropout)]
            width = units
        layers.append(nn.Linear(width, n_outputs))
        self.head = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x (B, P, F), padded particles all-zero
        mask = (x.abs().sum(-1) > 0).unsqueeze(1).float()  # (B, 1, P)
        features = x.transpose(1, 2)
        points = features[:, self.point_columns] + (1 - mask) * 1e9  # padding far away
        h = self.input_norm(features) * mask
        for block in self.blocks:
            h = block(points, h) * mask
            points = h + (1 - mask) * 1e9
        pooled = h.sum(-1) / mask.sum(-1).clamp(min=1)
        return self.head(pooled)


def _train_steps(model, inputs, target, n_steps: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    start = time.perf_counter()
    for _ in range(n_steps):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), target)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def throughput(args) -> None:
    X, y = make_jets(
        args.batch, max_particles=args.max_particles, difficulty="hard", random_state=0
    )
    target = torch.as_tensor(y)
    torch.manual_seed(0)
    ours = ParticleNet(X.shape[2], 2, point_columns=[1, 2])
    # PyG's DynamicEdgeConv finds neighbours with torch-cluster, which ships as
    # source only and is not installed here: the reference is plain PyTorch.
    cluster = importlib.util.find_spec("torch_cluster") is not None
    reference_name = "plain PyTorch ParticleNet (dense, cdist + topk)"
    reference = DenseParticleNet(X.shape[2], 2, point_columns=[1, 2])
    n_ours = sum(p.numel() for p in ours.parameters())
    n_reference = sum(p.numel() for p in reference.parameters())
    batch = pack_graphs(X)
    dense = torch.as_tensor(X)
    print(f"## ParticleNet training throughput: ours vs {reference_name}")
    print(
        f"batch of {args.batch} hard jets, up to {args.max_particles} particles "
        f"({int(batch.node_ptr[-1])} real), {args.steps} steps per timing, "
        f"{n_ours:,} vs {n_reference:,} weights, {torch.get_num_threads()} thread(s); "
        f"torch-cluster (PyG's DynamicEdgeConv) {'found' if cluster else 'not installed'}\n"
    )
    _train_steps(ours, batch, target, 1)  # warm-up
    _train_steps(reference, dense, target, 1)
    times = {"ours": [], "reference": []}
    for _ in range(args.repeats):
        times["ours"].append(_train_steps(ours, batch, target, args.steps))
        times["reference"].append(_train_steps(reference, dense, target, args.steps))
    jets_per_s = {
        name: args.batch * args.steps / statistics.median(values) for name, values in times.items()
    }
    print("| network | jets / s (training) |")
    print("|---|---|")
    print(f"| sklearn-dlpp ParticleNet (packed) | {jets_per_s['ours']:.0f} |")
    print(f"| {reference_name} | {jets_per_s['reference']:.0f} |")
    print(f"\nratio ours / reference: {jets_per_s['ours'] / jets_per_s['reference']:.2f}\n")


# ------------------------------------------------------------------ quality
def _rejection(y, score, efficiency: float) -> float:
    fpr, tpr, _ = roc_curve(y, score)
    eps_b = np.interp(efficiency, tpr, fpr)
    return 1.0 / eps_b if eps_b > 0 else np.inf


def _jet_observables(X: np.ndarray) -> np.ndarray:
    p = X[:, :, 3:7].astype(np.float64).sum(1)
    mass = np.sqrt(np.maximum(p[:, 3] ** 2 - (p[:, :3] ** 2).sum(1), 0.0))
    mass_over_pt = mass / np.hypot(p[:, 0], p[:, 1])
    multiplicity = (np.abs(X).sum(-1) > 0).sum(1)
    return np.column_stack([mass_over_pt, multiplicity])


def quality(args) -> None:
    n = args.n_train + args.n_test
    X, y = make_jets(
        n,
        max_particles=args.max_particles,
        four_momenta=True,
        difficulty="hard",
        random_state=0,
    )
    X_train, X_test, y_train, y_test = (
        X[: args.n_train],
        X[args.n_train :],
        y[: args.n_train],
        y[args.n_train :],
    )
    observables_train, observables_test = _jet_observables(X_train), _jet_observables(X_test)
    models = {
        "jet mass m / pT (cut)": None,
        "HistGradientBoosting (mass, multiplicity)": HistGradientBoostingClassifier(random_state=0),
        "GraphClassifier() defaults, kNN graphs": GraphClassifier(
            set_edges="knn", knn_features=[1, 2], random_state=0
        ),
        "ParticleNet preset": GraphClassifier(
            preset="particlenet", knn_features=[1, 2], max_iter=args.epochs, random_state=0
        ),
        # 2.1M weights with Adam at the default 1e-3 stay at chance here (measured);
        # 2e-4 trains.
        "ParT preset": GraphClassifier(
            preset="part",
            pair_features=[3, 4, 5, 6],
            learning_rate_init=2e-4,
            max_iter=args.epochs,
            random_state=0,
        ),
    }
    print(
        f"## Taggers on hard jets: {args.n_train} training, {args.n_test} test jets, "
        f"up to {args.max_particles} particles, presets {args.epochs} epochs at most\n"
    )
    print("| tagger | weights | epochs | fit s | ROC AUC | 1/eps_B at 30 % | 1/eps_B at 50 % |")
    print("|---|---|---|---|---|---|---|")
    for name, model in models.items():
        if args.models and not any(word.lower() in name.lower() for word in args.models):
            continue
        start = time.perf_counter()
        weights = epochs = "-"
        if model is None:
            score = observables_test[:, 0]
        elif isinstance(model, HistGradientBoostingClassifier):
            score = model.fit(observables_train, y_train).predict_proba(observables_test)[:, 1]
        else:
            model.fit(X_train, y_train)
            score = model.predict_proba(X_test)[:, 1]
            weights = f"{sum(p.numel() for p in model.module_.parameters()):,}"
            epochs = model.n_iter_
        seconds = time.perf_counter() - start
        print(
            f"| {name} | {weights} | {epochs} | {seconds:.0f} | {roc_auc_score(y_test, score):.3f}"
            f" | {_rejection(y_test, score, 0.3):.1f} | {_rejection(y_test, score, 0.5):.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["throughput", "quality"])
    parser.add_argument("--batch", type=int, default=64, help="jets per throughput step")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--max-particles", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--models", nargs="*", help="only taggers whose names hold a word")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if args.only in (None, "throughput"):
        throughput(args)
    if args.only in (None, "quality"):
        quality(args)


if __name__ == "__main__":
    main()
