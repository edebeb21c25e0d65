"""``sample_weight`` of the graph estimators changes the fit as documented.

A graph's weight applies to every node (edge) of the graph. Checked exactly: with
one batch per epoch and no standardisation, zero weights train the same network
as dropping those graphs, and integer weights the same as repeating them.
An estimator that ignored the weights fits the dropped graphs too and fails.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from sklearn_dlpp import EdgeClassifier, GraphClassifier, GraphRegressor, NodeClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [GraphClassifier, GraphRegressor, NodeClassifier, EdgeClassifier]
N_GRAPHS = 24


def _graphs():
    rng = np.random.default_rng(1)
    graphs = []
    for _ in range(N_GRAPHS):
        G = nx.gnp_random_graph(int(rng.integers(3, 7)), 0.5, seed=int(rng.integers(1 << 30)))
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=3)
            G.nodes[node]["y"] = int(rng.integers(2))
        for u, v in G.edges():
            G.edges[u, v]["y"] = int(rng.integers(2))
        graphs.append(G)
    return graphs


GRAPHS = _graphs()


def _targets(cls, graphs):
    if cls is GraphClassifier:
        return np.array([G.number_of_edges() % 2 for G in graphs])
    if cls is GraphRegressor:
        return np.array([sum(G.nodes[n]["x"][0] for n in G) for G in graphs])
    return None  # node and edge labels are the attribute 'y'


def _fit(cls, graphs, sample_weight):
    model = cls(
        hidden=8,
        n_blocks=1,
        max_iter=15,
        learning_rate_init=0.01,
        batch_size=len(graphs),  # one full batch per epoch: no shuffling order to differ
        standardize=False,  # the scaler sees all graphs, weighted or not
        random_state=0,
    )
    return model.fit(graphs, _targets(cls, graphs), sample_weight=sample_weight)


def _outputs(model, graphs):
    if isinstance(model, GraphRegressor):
        return model.predict(graphs)
    out = model.predict_proba(graphs)
    return np.concatenate(out) if isinstance(out, list) else out


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_zero_weights_equal_dropping_the_graphs(cls):
    w = np.ones(N_GRAPHS)
    w[::3] = 0.0
    kept = [G for G, wi in zip(GRAPHS, w, strict=True) if wi > 0]
    weighted = _fit(cls, GRAPHS, w)
    dropped = _fit(cls, kept, np.ones(len(kept)))
    np.testing.assert_allclose(_outputs(weighted, GRAPHS), _outputs(dropped, GRAPHS), atol=2e-5)
    # ... and the weights mattered: the unweighted fit is another network.
    unweighted = _fit(cls, GRAPHS, None)
    assert np.abs(_outputs(unweighted, GRAPHS) - _outputs(dropped, GRAPHS)).max() > 1e-3


@pytest.mark.parametrize("cls", [NodeClassifier, EdgeClassifier])
def test_integer_weights_equal_repeating_the_graphs(cls):
    w = np.random.default_rng(0).integers(1, 4, N_GRAPHS)
    repeated = [G for G, wi in zip(GRAPHS, w, strict=True) for _ in range(wi)]
    weighted = _fit(cls, GRAPHS, w.astype(float))
    # Same batch composition: the repeated set also goes in one batch.
    by_repeating = _fit(cls, repeated, np.ones(len(repeated)))
    np.testing.assert_allclose(
        _outputs(weighted, GRAPHS), _outputs(by_repeating, GRAPHS), atol=2e-5
    )
