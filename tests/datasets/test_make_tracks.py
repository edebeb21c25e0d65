"""make_tracks: hit graphs whose candidate edges carry the truth "same track"."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_dlpp.datasets import make_tracks
from sklearn_dlpp.datasets._tracks import _LAYER_RADII


@pytest.fixture(scope="module")
def events():
    return make_tracks(300, random_state=0)


def _nodes(graph, name):
    return np.array([value for _, value in graph.nodes(data=name)])


def test_layout_and_label_order(events):
    graphs, y = events
    assert len(graphs) == len(y) == 300
    for graph, labels in zip(graphs, y, strict=True):
        assert labels.dtype == np.int64
        assert labels.shape == (graph.number_of_edges(),)
        np.testing.assert_array_equal(labels, [graph.edges[e]["y"] for e in graph.edges()])
        x = np.stack(list(_nodes(graph, "x")))
        assert x.shape[1] == 3
        np.testing.assert_allclose(x[:, 0], _LAYER_RADII[_nodes(graph, "layer")], rtol=1e-6)
        assert (np.abs(x[:, 1]) <= np.pi).all()
        assert (np.abs(x[:, 2]) <= 1.0).all()


def test_edges_join_adjacent_layers_and_labels_are_the_truth(events):
    graphs, _ = events
    for graph in graphs[:50]:
        layer, particle = _nodes(graph, "layer"), _nodes(graph, "particle")
        for u, v, label in graph.edges(data="y"):
            assert abs(layer[u] - layer[v]) == 1
            assert label == int(particle[u] == particle[v] and particle[u] >= 0)


def test_candidates_keep_nearly_every_true_segment(events):
    graphs, _ = events
    found = possible = 0
    for graph in graphs:
        layer, particle = _nodes(graph, "layer"), _nodes(graph, "particle")
        hits = {(p, ly) for p, ly in zip(particle, layer, strict=True) if p >= 0}
        possible += sum((p, ly + 1) in hits for p, ly in hits)
        found += sum(label for _, _, label in graph.edges(data="y"))
    assert found / possible > 0.98


def test_candidate_set_is_not_trivial(events):
    _, y = events
    true_fraction = np.concatenate(y).mean()
    assert 0.05 < true_fraction < 0.6


@pytest.mark.parametrize("noise_fraction", [0.0, 0.1, 0.3])
def test_noise_fraction(noise_fraction):
    graphs, _ = make_tracks(40, noise_fraction=noise_fraction, random_state=1)
    noise = np.concatenate([_nodes(g, "particle") for g in graphs]) < 0
    assert abs(noise.mean() - noise_fraction) < 0.01


def test_tracks_per_event():
    graphs, _ = make_tracks(60, n_tracks=(2, 4), noise_fraction=0.0, random_state=2)
    counts = [len(set(_nodes(g, "particle").tolist())) for g in graphs]
    assert set(counts) <= {2, 3, 4}
    assert len(set(counts)) > 1
    graphs, _ = make_tracks(5, n_tracks=7, noise_fraction=0.0, random_state=2)
    assert {int(_nodes(g, "particle").max()) for g in graphs} == {6}


def _pair_features(graphs):
    rows, labels = [], []
    for graph in graphs:
        x = np.stack(list(_nodes(graph, "x"))).astype(np.float64)
        for u, v, label in graph.edges(data="y"):
            inner, outer = sorted((x[u], x[v]), key=lambda hit: hit[0])
            dr = outer[0] - inner[0]
            dphi = np.angle(np.exp(1j * (outer[1] - inner[1])))
            z0 = inner[2] - inner[0] * (outer[2] - inner[2]) / dr
            rows.append([*inner, *outer, dphi / dr, z0])
            labels.append(label)
    return np.array(rows), np.array(labels)


def test_label_is_learnable_but_not_from_one_feature(events):
    graphs, _ = events
    X, y = _pair_features(graphs)
    single = [roc_auc_score(y, np.abs(column)) for column in X.T]
    assert max(max(a, 1 - a) for a in single) < 0.9
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = HistGradientBoostingClassifier(random_state=0).fit(X_train, y_train)
    assert roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]) > 0.85
