"""Graph network training: sklearn-dlpp's GraphClassifier against the same network in PyG.

Both train in this one process on the same jets, one-prong QCD against three-prong top
(``make_jets``: 10 to 60 particles, 4 node features ``log_pt_fraction, delta_eta,
delta_phi, particle_type``, undirected edges to each particle's 8 nearest neighbours in
(eta, phi)), given as networkx graphs with node attribute ``x``. The network is the same
on both sides: node encoder MLP [4, 64, 64]; 3 GN blocks, each an edge MLP over
``[h_sender, h_receiver]`` [128, 64, 64], sum into the receiver, a node MLP over
``[h, aggregate]`` [128, 64, 64] and a residual; sum readout; head MLP [64, 64, 1].
Both minimise binary cross-entropy plus scikit-learn's L2 term (alpha=1e-4) with Adam
(lr 1e-3), batches of 200 graphs, node features standardised on the training graphs.

- ours: ``GraphClassifier(...).fit(graphs, y)``, timed whole: it packs the graphs
  (``pack_graphs``, also timed alone) and standardises them inside ``fit``;
- PyG: a ``MessagePassing`` layer with the same MLPs, ``global_add_pool``, and
  ``torch_geometric.loader.DataLoader`` over ``Data`` objects made once, before timing,
  by ``from_networkx`` (that conversion is timed alone; the loop time excludes it).

Prints seconds per epoch, graphs per second, test accuracy and AUC (on ``n_graphs / 5``
further jets), the speed ratio, then the latency of predicting one graph. Each training
runs ``--repeat`` times, interleaved; the best wall time is kept.

    python benchmarks/bench_gnn.py --threads 1   # the recorded table
    python benchmarks/bench_gnn.py --quick       # 1,000 graphs, 1 epoch
"""

from __future__ import annotations

import argparse
import copy
import gc
import platform
import statistics
import time
import warnings
from collections.abc import Callable

import networkx as nx
import numpy as np
import torch
import torch_geometric
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, roc_auc_score
from torch import Tensor, nn
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader
from torch_geometric.nn import MessagePassing, global_add_pool
from torch_geometric.utils import from_networkx

from sklearn_dlpp import GraphClassifier
from sklearn_dlpp.datasets import make_jets
from sklearn_dlpp.graph import pack_graphs, standardize_batch

HIDDEN = 64
N_BLOCKS = 3
BATCH_SIZE = 200
LR = 1e-3
ALPHA = 1e-4
K = 8


def mlp(n_in: int, n_out: int) -> nn.Sequential:
    """Linear -> ReLU -> Linear, the shape of every MLP of ours."""
    return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_out))


class GNConv(MessagePassing):
    r"""Our GN block written the PyG way.

    .. math:: h_i' = h_i + \phi_h([h_i, \textstyle\sum_j \phi_e([h_j, h_i])])
    """

    def __init__(self) -> None:
        super().__init__(aggr="add")
        self.edge_mlp = mlp(2 * HIDDEN, HIDDEN)
        self.node_mlp = mlp(2 * HIDDEN, HIDDEN)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        aggregate = self.propagate(edge_index, x=x)
        return x + self.node_mlp(torch.cat([x, aggregate], dim=1))

    def message(self, x_i: Tensor, x_j: Tensor) -> Tensor:
        # x_j is the sender, x_i the receiver: the order of our edge MLP's input
        return self.edge_mlp(torch.cat([x_j, x_i], dim=1))


class PygGraphNetwork(nn.Module):
    """Encoder, GN blocks, sum readout and head, as GraphClassifier builds them."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.encoder = mlp(n_features, HIDDEN)
        self.blocks = nn.ModuleList(GNConv() for _ in range(N_BLOCKS))
        self.head = mlp(HIDDEN, 1)

    def forward(self, data: Batch) -> Tensor:
        x = self.encoder(data.x)
        for block in self.blocks:
            x = block(x, data.edge_index)
        return self.head(global_add_pool(x, data.batch, size=data.num_graphs))


def to_pyg(graphs: list[nx.Graph], y: np.ndarray, mean: Tensor, scale: Tensor) -> list[Data]:
    """``from_networkx`` per graph, standardised features and a (1, 1) float label."""
    data_list = []
    with warnings.catch_warnings():
        # from_networkx warns that stacking a list of numpy arrays is slow: it is its own path.
        warnings.simplefilter("ignore", UserWarning)
        for graph, label in zip(graphs, y, strict=True):
            data = from_networkx(graph)
            data.x = (data.x - mean) / scale
            data.y = torch.tensor([[float(label)]])
            data_list.append(data)
    return data_list


def train_pyg(
    train: list[Data], n_features: int, epochs: int, device: str = "cpu"
) -> PygGraphNetwork:
    """The loop a PyG user writes: DataLoader batches, Adam, BCE plus the L2 term of ours."""
    torch.manual_seed(0)
    model = PygGraphNetwork(n_features).to(device)
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loader = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True)
    model.train()
    for _ in range(epochs):
        for batch in loader:
            batch = batch.to(device)
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model(batch), batch.y)
            penalty = torch.stack([(w * w).sum() for w in weights]).sum()
            loss = loss + 0.5 * ALPHA * penalty / batch.num_graphs
            loss.backward()
            optimizer.step()
            loss.item()  # the per-step loss a training log records (ours records it too)
    return model.eval()


def pyg_scores(model: PygGraphNetwork, data: list[Data], device: str = "cpu") -> np.ndarray:
    with torch.inference_mode():
        logits = [model(batch.to(device)) for batch in DataLoader(data, batch_size=1024)]
    return torch.cat(logits).cpu().numpy().ravel()


def timed(fn: Callable[[], object]) -> tuple[object, float, float]:
    """Result, wall seconds and CPU seconds of ``fn()``."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def latency_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of ``fn()`` after a warm-up; the median shrugs off other jobs."""
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def n_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def same_function(ours: GraphClassifier, graphs: list[nx.Graph], data: list[Data]) -> float:
    """Largest logit difference, in float64, once the PyG network holds our trained weights.

    In float64 the summation orders of the two implementations no longer show: a
    difference of order 1e-15 proves that they compute the same function, on the same edges
    (PyG's own conversion), so the timings compare implementations of one architecture.
    """
    state = {
        name.replace("node_encoder.", "encoder."): value.double()
        for name, value in ours.module_.state_dict().items()
    }
    twin = PygGraphNetwork(ours.n_node_features_).double().eval()
    network = copy.deepcopy(ours.module_).cpu().double().eval()
    twin.load_state_dict({k: v.cpu() for k, v in state.items()})  # strict: all weights
    packed = pack_graphs(graphs, dtype=torch.float64)
    packed = standardize_batch(packed, ours.node_mean_, ours.node_scale_)
    batch = Batch.from_data_list(data)
    batch.x = packed.x  # from_networkx keeps the graphs' node order, as pack_graphs does
    with torch.inference_mode():
        return float((network(packed) - twin(batch)).abs().max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-graphs", type=int, default=10_000, help="training graphs")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--repeat", type=int, default=3, help="trainings per competitor")
    parser.add_argument("--quick", action="store_true", help="1,000 graphs, 1 epoch")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N")
    args = parser.parse_args()
    if args.quick:
        args.n_graphs, args.epochs = 1_000, 1
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of epochs, on purpose

    n_train, epochs, device = args.n_graphs, args.epochs, args.device
    graphs, y = make_jets(
        n_train + n_train // 5, particle_type=True, as_graphs=True, k=K, random_state=0
    )
    train_graphs, test_graphs = graphs[:n_train], graphs[n_train:]
    y_train, y_test = y[:n_train], y[n_train:]

    # PyG's data set is made once, before timing, and standardised as ours is inside fit.
    x_train = np.concatenate([[graph.nodes[i]["x"] for i in graph] for graph in train_graphs])
    mean = torch.as_tensor(x_train.mean(0), dtype=torch.float32)
    scale = torch.as_tensor(x_train.std(0), dtype=torch.float32)
    pyg_train, pyg_convert, _ = timed(lambda: to_pyg(train_graphs, y_train, mean, scale))
    pyg_test = to_pyg(test_graphs, y_test, mean, scale)
    # Millions of small Python objects (graphs, Data): out of the collector's sight, for
    # both alike, so that neither pays for scanning them in the middle of its epochs.
    gc.collect()
    gc.freeze()

    packed = pack_graphs(train_graphs)
    n_nodes, n_edges = packed.x.shape[0], packed.edge_index.shape[1]
    pyg_edges = sum(data.edge_index.shape[1] for data in pyg_train)
    if pyg_edges != n_edges:
        print(f"warning: message edges differ: PyG {pyg_edges:,}, ours {n_edges:,}")
    pack_seconds = min(timed(lambda: pack_graphs(train_graphs))[1] for _ in range(args.repeat))

    def fit_ours() -> GraphClassifier:
        return GraphClassifier(
            hidden=HIDDEN,
            n_blocks=N_BLOCKS,
            block="gn",
            aggregation="sum",
            readout="sum",
            alpha=ALPHA,
            learning_rate_init=LR,
            batch_size=BATCH_SIZE,
            max_iter=epochs,
            n_iter_no_change=epochs + 1,
            random_state=0,
            device=device,
        ).fit(train_graphs, y_train)

    # Wall and CPU seconds, each the least over the repeats: on a shared machine wall time
    # also counts waiting for a core, CPU time does not.
    best: dict[str, np.ndarray] = {}
    models: dict[str, object] = {}
    for _ in range(args.repeat):
        # Interleaved, so that a burst of load from other jobs hits both alike.
        for name, fn in (
            ("ours", fit_ours),
            ("pyg", lambda: train_pyg(pyg_train, packed.x.shape[1], epochs, device)),
        ):
            models[name], wall, cpu = timed(fn)
            best[name] = np.minimum(best.get(name, np.inf), (wall, cpu))
    ours, pyg = models["ours"], models["pyg"]
    # Where PyG's epoch goes: its DataLoader collates Data objects into a Batch per step.
    collate = min(
        timed(lambda: [None for _ in DataLoader(pyg_train, BATCH_SIZE, shuffle=True)])[1]
        for _ in range(args.repeat)
    )

    ours_proba = ours.predict_proba(test_graphs)[:, 1]
    pyg_logits = pyg_scores(pyg, pyg_test, device)
    quality = {
        "ours": (
            accuracy_score(y_test, ours.predict(test_graphs)),
            roc_auc_score(y_test, ours_proba),
        ),
        "pyg": (accuracy_score(y_test, pyg_logits > 0), roc_auc_score(y_test, pyg_logits)),
    }
    params = {"ours": n_parameters(ours.module_), "pyg": n_parameters(pyg)}

    print(
        f"# {n_train:,} training jets ({n_nodes:,} nodes, {n_edges:,} message edges), "
        f"{len(test_graphs):,} test jets, {epochs} epoch(s), best of {args.repeat}; "
        f"python {platform.python_version()}, torch {torch.__version__} with "
        f"{torch.get_num_threads()} thread(s), torch_geometric {torch_geometric.__version__}"
    )
    labels = {
        "ours": "sklearn-dlpp `GraphClassifier.fit` (packing included)",
        "pyg": "PyG `MessagePassing` + `DataLoader` (conversion excluded)",
    }
    print("\n| competitor | parameters | s / epoch | CPU s / epoch | graphs / s ", end="")
    print("| test accuracy | test AUC | speed vs PyG, wall | speed vs PyG, CPU |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, label in labels.items():
        wall, cpu = best[name]
        speed_up = best["pyg"] / best[name]
        accuracy, auc = quality[name]
        print(
            f"| {label} | {params[name]:,} | {wall / epochs:.2f} | {cpu / epochs:.2f} | "
            f"{n_train * epochs / wall:,.0f} | {accuracy:.3f} | {auc:.3f} | "
            f"{speed_up[0]:.2f}x | {speed_up[1]:.2f}x |"
        )
    print(
        "\nsame architecture: with our trained weights, the PyG network's test logits "
        f"differ from ours by at most {same_function(ours, test_graphs, pyg_test):.1e} (float64)"
    )
    print(f"\nof PyG's epoch, collating the batches in its DataLoader alone takes {collate:.2f} s")
    print(f"\n| converting the {n_train:,} training graphs, once per fit | s |")
    print("| --- | ---: |")
    print(f"| ours: `pack_graphs` (inside the fit above) | {pack_seconds:.2f} |")
    print(f"| PyG: `from_networkx` + standardisation (before its loop) | {pyg_convert:.2f} |")

    one_graph = test_graphs[:1]
    one_packed = standardize_batch(pack_graphs(one_graph), ours.node_mean_, ours.node_scale_)
    one_packed = one_packed.to(device)
    one_data = pyg_test[0]
    one_batch = Batch.from_data_list([one_data]).to(device)

    def ours_forward() -> Tensor:
        with torch.inference_mode():
            return ours.module_(one_packed)

    def pyg_forward() -> Tensor:
        with torch.inference_mode():
            return pyg(one_batch)

    def pyg_convert_forward() -> Tensor:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            data = from_networkx(one_graph[0])
            data.x = (data.x - mean) / scale
            return pyg(Batch.from_data_list([data]).to(device))

    n_one = one_packed.x.shape[0]
    rows = [
        (
            "ours: `GraphClassifier.predict([G])` (pack, standardise, forward, label)",
            lambda: ours.predict(one_graph),
        ),
        ("ours: network forward on the packed graph", ours_forward),
        ("PyG: `from_networkx`, standardise, `Batch`, forward", pyg_convert_forward),
        ("PyG: model forward on the converted `Batch`", pyg_forward),
    ]
    print(f"\n| predict one graph ({n_one} nodes) | median ms |")
    print("| --- | ---: |")
    for label, fn in rows:
        print(f"| {label} | {latency_ms(fn, 300):.2f} |")


if __name__ == "__main__":
    main()
