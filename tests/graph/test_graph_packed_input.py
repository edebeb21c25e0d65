"""Pack once, search many: estimators take a GraphBatch and scikit-learn splits it by graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from _graph_samples import assert_batches_equal, jets
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.utils import _safe_indexing

from sklearn_dlpp import EdgeClassifier, GraphClassifier, NodeClassifier
from sklearn_dlpp.graph import edge_targets, node_targets, pack_graphs, split_nodes
from sklearn_dlpp.metrics import make_flat_scorer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden": 8, "n_blocks": 1, "max_iter": 3, "learning_rate_init": 0.01, "random_state": 0}
FOLDS = KFold(3, shuffle=True, random_state=0)
SETS = jets(30, 6, seed=3)
LABELS = np.arange(30) % 2
KNN = {"set_edges": "knn", "k": 2, "knn_features": [1, 2]}


def _graphs(n: int = 18) -> list:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        G = nx.gnp_random_graph(int(rng.integers(3, 7)), 0.6, seed=i)
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=2)
            G.nodes[node]["y"] = int(G.nodes[node]["x"][0] > 0)
        for u, v in G.edges():
            G.edges[u, v]["w"] = [float(u + v)]
            G.edges[u, v]["y"] = int(G.nodes[u]["y"] == G.nodes[v]["y"])
        out.append(G)
    return out


GRAPHS = _graphs()


def test_fit_on_a_batch_equals_fit_on_the_samples():
    unpacked = GraphClassifier(**FAST, **KNN).fit(SETS, LABELS)
    packed = GraphClassifier(**FAST).fit(pack_graphs(SETS, **KNN), LABELS)
    batch = pack_graphs(SETS, **KNN)
    np.testing.assert_array_equal(packed.predict_proba(batch), unpacked.predict_proba(SETS))
    np.testing.assert_array_equal(packed.loss_curve_, unpacked.loss_curve_)


def test_cross_val_score_and_search_on_a_batch_equal_the_unpacked_path():
    batch = pack_graphs(SETS, **KNN)
    np.testing.assert_array_equal(
        cross_val_score(GraphClassifier(**FAST), batch, LABELS, cv=FOLDS),
        cross_val_score(GraphClassifier(**FAST, **KNN), SETS, LABELS, cv=FOLDS),
    )
    grid = {"hidden": [4, 8]}
    packed = GridSearchCV(GraphClassifier(**FAST), grid, cv=FOLDS).fit(batch, LABELS)
    unpacked = GridSearchCV(GraphClassifier(**FAST, **KNN), grid, cv=FOLDS).fit(SETS, LABELS)
    np.testing.assert_array_equal(
        packed.cv_results_["mean_test_score"], unpacked.cv_results_["mean_test_score"]
    )


@pytest.mark.parametrize("cls", [NodeClassifier, EdgeClassifier])
def test_node_and_edge_targets_of_a_batch_are_one_array_per_graph(cls):
    batch = pack_graphs(GRAPHS, edge_features="w")
    read = node_targets if cls is NodeClassifier else edge_targets
    y = [read([G], "y") for G in GRAPHS]
    scorer = make_flat_scorer("roc_auc")
    np.testing.assert_array_equal(
        cross_val_score(cls(**FAST), batch, y, cv=FOLDS, scoring=scorer),
        cross_val_score(cls(**FAST, edge_features="w"), GRAPHS, y, cv=FOLDS, scoring=scorer),
    )
    with pytest.raises(ValueError, match=r"one array of .* targets per graph"):
        cls(**FAST).fit(batch)


def test_packing_options_cannot_apply_to_a_batch():
    batch = pack_graphs(SETS, **KNN)
    with pytest.raises(ValueError, match=r"set_edges='full' cannot apply.*pack_graphs"):
        GraphClassifier(**FAST, set_edges="full").fit(batch, LABELS)
    clf = GraphClassifier(**FAST).fit(batch, LABELS)
    with pytest.raises(ValueError, match="4 node features, but 3"):
        clf.predict(pack_graphs(np.concatenate([SETS, SETS[..., :1]], axis=2)))


def test_edge_features_of_a_batch_are_checked_at_predict():
    y = [node_targets([G], "y") for G in GRAPHS]
    clf = NodeClassifier(**FAST).fit(pack_graphs(GRAPHS, edge_features="w"), y)
    assert clf.n_edge_features_ == 1
    with pytest.raises(ValueError, match="0 edge features, but 1"):
        clf.predict(pack_graphs(GRAPHS))


def test_batch_indexing_by_graph():
    batch = pack_graphs(SETS, **KNN)
    every = torch.arange(len(SETS))
    assert batch.shape == (30,)
    assert_batches_equal(batch[3], batch.select(every[[3]]))
    assert_batches_equal(batch[-1], batch.select(every[[29]]))
    assert_batches_equal(batch[2:8:2], batch.select(every[2:8:2]))
    mask = LABELS == 1
    assert_batches_equal(batch[mask], batch.select(every[torch.from_numpy(mask)]))
    assert_batches_equal(batch[[4, 0], ...], batch.select([4, 0]))
    assert_batches_equal(_safe_indexing(batch, np.array([7, 1])), batch.select([7, 1]))
    with pytest.raises(IndexError, match="out of range"):
        batch[30]
    with pytest.raises(IndexError, match="30 entries"):
        batch[mask[:-1]]
    with pytest.raises(IndexError, match="integers"):
        batch[np.array([0.5])]


def test_pack_graphs_takes_a_batch_as_it_is():
    batch = pack_graphs(SETS, **KNN)
    assert pack_graphs(batch) is batch
    as_double = pack_graphs(batch, dtype=torch.float64)
    assert as_double.x.dtype == torch.float64
    np.testing.assert_array_equal(as_double.x.numpy(), batch.x.double().numpy())
    per_graph = [s[(s != 0).any(axis=1), 0] for s in SETS]
    flat = node_targets(batch, per_graph)
    np.testing.assert_allclose(flat, batch.x[:, 0].numpy(), rtol=1e-6)
    assert all(map(np.array_equal, split_nodes(flat, batch), per_graph))
