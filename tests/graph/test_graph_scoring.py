"""scikit-learn scoring of node and edge classifiers: make_flat_scorer, weights, searches."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import sklearn
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    get_scorer,
    log_loss,
    make_scorer,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_dlpp import EdgeClassifier, GraphClassifier, NodeClassifier
from sklearn_dlpp.graph import GraphScaler
from sklearn_dlpp.metrics import (
    background_rejection,
    background_rejection_scorer,
    make_flat_scorer,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = {"hidden": 8, "n_blocks": 1, "max_iter": 4, "learning_rate_init": 0.01, "random_state": 0}
FOLDS = KFold(3, shuffle=True, random_state=0)

# name -> (scorer given to make_flat_scorer, the metric on concatenated rows)
SCORINGS = {
    "accuracy": ("accuracy", lambda y, label, p: accuracy_score(y, label)),
    "f1_macro": ("f1_macro", lambda y, label, p: f1_score(y, label, average="macro")),
    "roc_auc": ("roc_auc", lambda y, label, p: roc_auc_score(y, p[:, 1])),
    "average_precision": (
        "average_precision",
        lambda y, label, p: average_precision_score(y, p[:, 1]),
    ),
    "balanced_accuracy": (
        "balanced_accuracy",
        lambda y, label, p: balanced_accuracy_score(y, label),
    ),
    "neg_log_loss": ("neg_log_loss", lambda y, label, p: -log_loss(y, p)),
    "rejection": (
        background_rejection_scorer,
        lambda y, label, p: background_rejection(y, p[:, 1]),
    ),
}


def _graphs(n: int = 24) -> tuple[list, list, list]:
    """Random graphs; node label: sign of x0; edge label: both ends of one sign."""
    rng = np.random.default_rng(0)
    graphs, node_y, edge_y = [], [], []
    for i in range(n):
        G = nx.gnp_random_graph(int(rng.integers(4, 9)), 0.5, seed=i)
        for node in G:
            G.nodes[node]["x"] = rng.normal(size=2)
        graphs.append(G)
        node_y.append(np.array([int(G.nodes[v]["x"][0] > 0) for v in G]))
        edge_y.append(
            np.array(
                [int((G.nodes[u]["x"][0] > 0) == (G.nodes[v]["x"][0] > 0)) for u, v in G.edges()]
            )
        )
    return graphs, node_y, edge_y


GRAPHS, NODE_Y, EDGE_Y = _graphs()
CASES = {"node": (NodeClassifier, NODE_Y), "edge": (EdgeClassifier, EDGE_Y)}


def _rows(clf, X, y):
    """Labels, probabilities and targets of all rows, from the per-graph API."""
    return (
        np.concatenate(clf.predict(X)),
        np.concatenate(clf.predict_proba(X)),
        np.concatenate([y[i] for i in range(len(X))]),
    )


@pytest.mark.parametrize("level", CASES)
def test_cross_validate_with_every_scorer_scores_the_rows_of_each_test_fold(level):
    cls, y = CASES[level]
    scoring = {name: make_flat_scorer(scorer) for name, (scorer, _) in SCORINGS.items()}
    result = cross_validate(
        cls(**FAST),
        GRAPHS,
        y,
        cv=FOLDS,
        scoring=scoring,
        return_estimator=True,
        return_indices=True,
        error_score="raise",
    )
    for fold, (clf, test) in enumerate(
        zip(result["estimator"], result["indices"]["test"], strict=True)
    ):
        X_test = [GRAPHS[i] for i in test]
        label, proba, truth = _rows(clf, X_test, [y[i] for i in test])
        for name, (_, metric) in SCORINGS.items():
            expected = metric(truth, label, proba)
            assert result[f"test_{name}"][fold] == pytest.approx(expected, rel=1e-9), name


@pytest.mark.parametrize("level", CASES)
def test_cross_val_score_reads_labels_from_attributes_when_y_is_omitted(level):
    cls, y = CASES[level]
    graphs = [G.copy() for G in GRAPHS]
    for G, labels in zip(graphs, y, strict=True):
        items = G.nodes if level == "node" else G.edges
        for item, label in zip(items, labels, strict=True):
            items[item]["y"] = label
    scorer = make_flat_scorer("roc_auc")
    from_attribute = cross_val_score(cls(**FAST), graphs, cv=FOLDS, scoring=scorer)
    from_list = cross_val_score(cls(**FAST), GRAPHS, y, cv=FOLDS, scoring=scorer)
    np.testing.assert_array_equal(from_attribute, from_list)


@pytest.mark.parametrize(
    "scoring", ["accuracy", "roc_auc", "neg_log_loss", background_rejection_scorer]
)
def test_plain_scorer_names_the_fix(scoring):
    with pytest.raises(ValueError, match=r"predicts one array per graph.*make_flat_scorer"):
        cross_val_score(
            EdgeClassifier(**FAST), GRAPHS, EDGE_Y, cv=FOLDS, scoring=scoring, error_score="raise"
        )


def test_scorer_of_a_metric_that_takes_the_lists_is_left_alone():
    def pooled_accuracy(y_true, y_pred):
        return accuracy_score(np.concatenate(y_true), np.concatenate(y_pred))

    scores = cross_val_score(
        NodeClassifier(**FAST), GRAPHS, NODE_Y, cv=FOLDS, scoring=make_scorer(pooled_accuracy)
    )
    np.testing.assert_allclose(
        scores, cross_val_score(NodeClassifier(**FAST), GRAPHS, NODE_Y, cv=FOLDS)
    )


@pytest.mark.parametrize("level", CASES)
def test_weights_per_graph_or_per_row_in_scoring(level):
    cls, y = CASES[level]
    clf = cls(**FAST).fit(GRAPHS, y)
    label, proba, truth = _rows(clf, GRAPHS, y)
    rng = np.random.default_rng(1)
    per_row = [rng.uniform(0.1, 3.0, size=len(labels)) for labels in y]
    weights = np.concatenate(per_row)
    auc = make_flat_scorer("roc_auc")(clf, GRAPHS, y, sample_weight=per_row)
    assert auc == pytest.approx(roc_auc_score(truth, proba[:, 1], sample_weight=weights))
    accuracy = make_flat_scorer("accuracy")(clf, GRAPHS, y, sample_weight=per_row)
    assert accuracy == pytest.approx(accuracy_score(truth, label, sample_weight=weights))
    assert clf.score(GRAPHS, y, sample_weight=per_row) == pytest.approx(accuracy)

    per_graph = rng.uniform(0.1, 3.0, size=len(GRAPHS))
    repeated = [np.full(len(labels), w) for labels, w in zip(y, per_graph, strict=True)]
    scorer = make_flat_scorer(background_rejection_scorer)
    assert scorer(clf, GRAPHS, y, sample_weight=per_graph) == pytest.approx(
        scorer(clf, GRAPHS, y, sample_weight=repeated)
    )


@pytest.mark.parametrize("level", CASES)
def test_weights_per_row_in_fit(level):
    cls, y = CASES[level]
    per_graph = np.linspace(0.5, 2.0, len(GRAPHS))
    repeated = [np.full(len(labels), w) for labels, w in zip(y, per_graph, strict=True)]
    a = cls(**FAST).fit(GRAPHS, y, sample_weight=per_graph)
    b = cls(**FAST).fit(GRAPHS, y, sample_weight=repeated)
    np.testing.assert_array_equal(
        np.concatenate(a.predict_proba(GRAPHS)), np.concatenate(b.predict_proba(GRAPHS))
    )
    # Weight 0 on every class-1 row: the loss sees class 0 only, and the network leans to it.
    class_0_only = [np.where(labels == 1, 0.0, 1.0) for labels in y]
    longer = {**FAST, "max_iter": 15}
    uniform = cls(**longer).fit(GRAPHS, y)
    weighted = cls(**longer).fit(GRAPHS, y, sample_weight=class_0_only)
    p_uniform = np.concatenate(uniform.predict_proba(GRAPHS))[:, 1].mean()
    p_weighted = np.concatenate(weighted.predict_proba(GRAPHS))[:, 1].mean()
    assert p_weighted < p_uniform - 0.2


def test_per_row_weights_of_the_wrong_length_are_refused():
    weights = [np.ones(len(labels)) for labels in NODE_Y]
    weights[3] = np.ones(len(NODE_Y[3]) + 1)
    with pytest.raises(ValueError, match=r"sample_weight .*Sample 3"):
        NodeClassifier(**FAST).fit(GRAPHS, NODE_Y, sample_weight=weights)


@pytest.mark.parametrize("level", CASES)
def test_weights_routed_to_fit_and_scorer_in_cross_validate(level):
    cls, y = CASES[level]
    rng = np.random.default_rng(2)
    per_row = [rng.uniform(0.1, 3.0, size=len(labels)) for labels in y]
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_flat_scorer("roc_auc").set_score_request(sample_weight=True)
        result = cross_validate(
            cls(**FAST).set_fit_request(sample_weight=True),
            GRAPHS,
            y,
            cv=FOLDS,
            scoring=scorer,
            params={"sample_weight": per_row},
            return_indices=True,
            return_estimator=True,
        )
    train, test = result["indices"]["train"][0], result["indices"]["test"][0]
    alone = cls(**FAST).fit(
        [GRAPHS[i] for i in train], [y[i] for i in train], sample_weight=[per_row[i] for i in train]
    )
    _, proba, truth = _rows(alone, [GRAPHS[i] for i in test], [y[i] for i in test])
    expected = roc_auc_score(
        truth, proba[:, 1], sample_weight=np.concatenate([per_row[i] for i in test])
    )
    assert result["test_score"][0] == pytest.approx(expected)


def test_set_score_request_leaves_the_shared_scorer_alone():
    with sklearn.config_context(enable_metadata_routing=True):
        make_flat_scorer(background_rejection_scorer).set_score_request(sample_weight=True)
        requests = background_rejection_scorer.get_metadata_routing().score.requests
        assert requests["sample_weight"] is None


def test_grid_search_pipeline_and_nested_search():
    scorer = make_flat_scorer("roc_auc")
    search = GridSearchCV(
        make_pipeline(GraphScaler(), EdgeClassifier(**FAST)),
        {"edgeclassifier__hidden": [4, 8]},
        scoring=scorer,
        cv=FOLDS,
        error_score="raise",
    ).fit(GRAPHS, EDGE_Y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    pipeline = search.best_estimator_
    _, proba, truth = _rows(pipeline, GRAPHS, EDGE_Y)
    assert search.score(GRAPHS, EDGE_Y) == pytest.approx(roc_auc_score(truth, proba[:, 1]))
    assert scorer(search, GRAPHS, EDGE_Y) == pytest.approx(roc_auc_score(truth, proba[:, 1]))


def test_other_estimators_are_scored_unchanged():
    y = np.arange(len(GRAPHS)) % 2
    clf = GraphClassifier(**FAST).fit(GRAPHS, y)
    for name in ("roc_auc", "accuracy"):
        assert make_flat_scorer(name)(clf, GRAPHS, y) == get_scorer(name)(clf, GRAPHS, y)


def test_make_flat_scorer_takes_one_scorer():
    with pytest.raises(TypeError, match="one scorer"):
        make_flat_scorer(["roc_auc", "accuracy"])
    with pytest.raises(ValueError, match="not a valid scoring value"):
        make_flat_scorer("no_such_metric")
