"""make_calorimeter: cell graphs with a shower-type label per node."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split

from sklearn_dlpp.datasets import make_calorimeter
from sklearn_dlpp.datasets._calorimeter import _CELL, _NOISE


@pytest.fixture(scope="module")
def events():
    return make_calorimeter(200, random_state=0)


def _nodes(graph, name):
    return np.array([value for _, value in graph.nodes(data=name)])


def _x(graph):
    return np.stack(list(_nodes(graph, "x")))


def test_labels_follow_node_order(events):
    graphs, y = events
    assert len(graphs) == len(y) == 200
    for graph, labels in zip(graphs, y, strict=True):
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(labels, [graph.nodes[n]["y"] for n in graph.nodes()])


def test_cell_features(events):
    graphs, _ = events
    for graph in graphs:
        x = _x(graph)
        assert x.shape[1] == 4
        layer = x[:, 2].astype(int)
        assert set(layer.tolist()) <= {0, 1, 2}
        energy = _nodes(graph, "energy")
        np.testing.assert_allclose(np.exp(x[:, 3]), energy, rtol=1e-5)
        assert (energy > 2.0 * _NOISE[layer]).all()
        # Cells sit on the grid and are listed by layer, eta, phi, each once.
        grid = np.column_stack([layer, np.round(x[:, :2] / _CELL - 0.5)]).astype(int)
        keys = [tuple(row) for row in grid]
        assert keys == sorted(set(keys))


def test_edges_join_touching_cells(events):
    graphs, _ = events
    for graph in graphs[:40]:
        x = _x(graph)
        for u, v in graph.edges():
            d_eta, d_phi = np.abs(x[u, :2] - x[v, :2]) / _CELL
            d_layer = abs(x[u, 2] - x[v, 2])
            if d_layer == 0:
                assert max(d_eta, d_phi) == pytest.approx(1.0, abs=1e-4)
            else:
                assert d_layer == 1
                assert max(d_eta, d_phi) == pytest.approx(0.0, abs=1e-4)


def test_classes_and_shower_index(events):
    graphs, y = events
    labels = np.concatenate(y)
    fractions = np.bincount(labels, minlength=3) / labels.size
    assert (fractions > 0.05).all()
    for graph, counts in zip(graphs, y, strict=True):
        shower = _nodes(graph, "shower")
        np.testing.assert_array_equal(shower == -1, counts == 0)
        assert shower.max() <= 2


@pytest.mark.parametrize(("em_fraction", "absent"), [(1.0, 2), (0.0, 1)])
def test_em_fraction(em_fraction, absent):
    _, y = make_calorimeter(20, em_fraction=em_fraction, random_state=1)
    assert absent not in np.concatenate(y)


def test_noise_threshold_controls_noise_cells():
    _, loose = make_calorimeter(20, noise_threshold=1.5, random_state=2)
    _, tight = make_calorimeter(20, noise_threshold=4.0, random_state=2)
    assert (np.concatenate(loose) == 0).sum() > 5 * (np.concatenate(tight) == 0).sum()


def test_neighbours_help_the_node_label(events):
    graphs, y = events
    own, context = [], []
    for graph in graphs:
        x = _x(graph)
        own.append(x)
        mean = [
            x[list(graph.neighbors(n))].mean(0) if graph.degree(n) else np.zeros(4) for n in graph
        ]
        context.append(np.column_stack([x, np.array(mean), [graph.degree(n) for n in graph]]))
    labels = np.concatenate(y)
    scores = []
    for features in (np.concatenate(own), np.concatenate(context)):
        X_train, X_test, y_train, y_test = train_test_split(features, labels, random_state=0)
        model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X_train, y_train)
        scores.append(model.score(X_test, y_test))
    majority = np.bincount(labels).max() / labels.size
    assert scores[0] > majority + 0.05
    assert scores[1] > scores[0] + 0.05
