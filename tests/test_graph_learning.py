"""The three HEP tasks of the course, learned on generated data in seconds on a CPU.

Thresholds sit well above chance and below what the models reach, so the tests
catch a model that stops learning, not noise.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sklearn_dlpp import EdgeClassifier, GraphClassifier, NodeClassifier
from sklearn_dlpp.datasets import make_calorimeter, make_jets, make_tracks

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TRAIN = {"hidden": 32, "n_blocks": 2, "learning_rate_init": 0.003, "random_state": 0}


@pytest.mark.parametrize(
    "architecture",
    [
        {"set_edges": "knn", "k": 8, "knn_features": [1, 2]},  # GN blocks on kNN graphs
        {"block": "deepset"},  # particles talk only through attention
    ],
    ids=["gnn", "deepset"],
)
def test_jet_tagging_top_vs_qcd(architecture):
    X, y = make_jets(800, max_particles=30, random_state=0)
    X_test, y_test = make_jets(400, max_particles=30, random_state=1)
    clf = GraphClassifier(**TRAIN, **architecture, max_iter=8).fit(X, y)
    auc = roc_auc_score(y_test, clf.predict_proba(X_test)[:, 1])
    assert auc > 0.8, auc  # chance is 0.5; ~0.9 with longer training


def test_track_finding_as_edge_classification():
    graphs, y = make_tracks(40, random_state=0)
    test_graphs, y_test = make_tracks(15, random_state=1)
    clf = EdgeClassifier(**TRAIN, max_iter=20).fit(graphs, y)
    majority = max(np.mean(np.concatenate(y_test)), 1 - np.mean(np.concatenate(y_test)))
    accuracy = clf.score(test_graphs, y_test)
    assert accuracy > majority + 0.1, (accuracy, majority)


def test_calorimeter_segmentation_as_node_classification():
    graphs, y = make_calorimeter(40, random_state=0)
    test_graphs, y_test = make_calorimeter(15, random_state=1)
    clf = NodeClassifier(**TRAIN, max_iter=20).fit(graphs, y)
    majority = np.bincount(np.concatenate(y_test)).max() / len(np.concatenate(y_test))
    accuracy = clf.score(test_graphs, y_test)
    assert accuracy > majority + 0.15, (accuracy, majority)
