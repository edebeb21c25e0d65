"""Convert jet-like networkx graphs to one packed batch: sklearn-dlpp against PyTorch Geometric.

Each graph is a jet of 10 to 60 particles with 4 node features (pt, eta, phi, E) in the
node attribute ``x`` and undirected edges to each particle's 8 nearest neighbours in
(eta, phi). Both paths start from the same list of networkx graphs and end with one
block-diagonal batch holding node features and message edges (both directions):

- PyG: ``torch_geometric.utils.from_networkx`` per graph, then ``Batch.from_data_list``;
- ours: ``sklearn_dlpp.graph.pack_graphs``.

A second, larger run of ours shows how the time grows with the number of graphs.

    python benchmarks/bench_graph_data.py                 # 10,000 vs PyG, then 100,000
    python benchmarks/bench_graph_data.py --quick         # 1,000 vs PyG, then 10,000
"""

from __future__ import annotations

import argparse
import gc
import platform
import time
import warnings

import networkx as nx
import numpy as np
import torch

from sklearn_dlpp.graph import pack_graphs


def make_jets(n_graphs: int, seed: int) -> list[nx.Graph]:
    """Jet-like graphs; edges from k=8 nearest neighbours in (eta, phi), as networkx graphs."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(10, 61, size=n_graphs)
    particles = []
    for n in sizes:
        pt = rng.exponential(20.0, size=n)
        eta, phi = rng.normal(0.0, 0.4, size=(2, n))
        particles.append(np.column_stack([pt, eta, phi, pt * np.cosh(eta)]).astype(np.float32))
    # Our knn builder finds the neighbours; the graphs are then plain networkx graphs.
    knn = pack_graphs(particles, set_edges="knn", k=8, knn_features=[1, 2])
    senders, receivers = knn.edge_index.numpy()
    graphs = []
    for g, rows in enumerate(particles):
        lo, hi = int(knn.edge_ptr[g]), int(knn.edge_ptr[g + 1])
        offset = int(knn.node_ptr[g])
        graph = nx.Graph()
        graph.add_nodes_from((i, {"x": row}) for i, row in enumerate(rows))
        local = (np.stack([senders[lo:hi], receivers[lo:hi]], axis=1) - offset).tolist()
        graph.add_edges_from(local)
        graphs.append(graph)
    return graphs


def time_ours(graphs: list[nx.Graph], repeat: int) -> tuple[tuple[float, float], tuple[int, int]]:
    """Best (wall, CPU) seconds of ``repeat`` runs, and the batch's node and edge counts."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        batch = pack_graphs(graphs)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best, (batch.x.shape[0], batch.edge_index.shape[1])


def time_pyg(graphs: list[nx.Graph]) -> tuple[tuple[float, float], tuple[int, int]]:
    """(wall, CPU) seconds of one run, and the batch's node and edge counts."""
    from torch_geometric.data import Batch
    from torch_geometric.utils import from_networkx

    gc.collect()
    with warnings.catch_warnings():
        # from_networkx warns that a list of numpy arrays is slow to convert; it is its own path.
        warnings.simplefilter("ignore", UserWarning)
        wall, cpu = time.perf_counter(), time.process_time()
        batch = Batch.from_data_list([from_networkx(graph) for graph in graphs])
        elapsed = (time.perf_counter() - wall, time.process_time() - cpu)
    return elapsed, (batch.x.shape[0], batch.edge_index.shape[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-graphs", type=int, default=10_000, help="graphs for the comparison")
    parser.add_argument(
        "--scaling-graphs", type=int, default=100_000, help="graphs for ours alone (0: skip)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours; the best is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 graphs")
    args = parser.parse_args()
    if args.quick:
        args.n_graphs, args.scaling_graphs = 1_000, 10_000

    print(f"python {platform.python_version()}, torch {torch.__version__}, ", end="")
    print(f"{torch.get_num_threads()} torch threads, networkx {nx.__version__}")
    graphs = make_jets(args.n_graphs, args.seed)
    # Move the input graphs out of the garbage collector's sight, for both contestants alike.
    gc.collect()
    gc.freeze()
    ours, ours_shape = time_ours(graphs, args.repeat)
    try:
        pyg, pyg_shape = time_pyg(graphs)
    except ImportError:
        pyg, pyg_shape = None, None
    rows = [("sklearn-dlpp pack_graphs", args.n_graphs, ours, ours_shape)]
    if pyg is not None:
        rows.append(("PyG from_networkx + Batch", args.n_graphs, pyg, pyg_shape))
        if pyg_shape != ours_shape:
            print(f"warning: batches differ: PyG {pyg_shape}, ours {ours_shape}")
    del graphs
    gc.unfreeze()
    if args.scaling_graphs:
        gc.collect()
        big = make_jets(args.scaling_graphs, args.seed + 1)
        gc.collect()
        gc.freeze()
        big_time, big_shape = time_ours(big, args.repeat)
        rows.append(("sklearn-dlpp pack_graphs", args.scaling_graphs, big_time, big_shape))

    # CPU time is shown too: on a shared machine, wall time also counts waiting for a core.
    print("| path | graphs | nodes | message edges | wall s | CPU s | CPU us per graph |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, n, (wall, cpu), (n_nodes, n_edges) in rows:
        print(f"| {name} | {n:,} | {n_nodes:,} | {n_edges:,} | {wall:.3f} | {cpu:.3f} | ", end="")
        print(f"{1e6 * cpu / n:.1f} |")
    if pyg is not None:
        print(f"speed-up over PyG at {args.n_graphs:,} graphs: ", end="")
        print(f"{pyg[0] / ours[0]:.1f}x wall, {pyg[1] / ours[1]:.1f}x CPU")
    if args.scaling_graphs:
        per_small, per_big = ours[1] / args.n_graphs, big_time[1] / args.scaling_graphs
        print(f"CPU time per graph at {args.scaling_graphs:,} / at {args.n_graphs:,}: ", end="")
        print(f"{per_big / per_small:.2f} (1.0 = linear)")


if __name__ == "__main__":
    main()
