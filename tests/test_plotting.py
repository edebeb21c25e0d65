"""The plots draw the right data: loss curves, ROC curves and attention on a graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_dlpp import GraphClassifier, MLPClassifier, MLPRegressor, NodeClassifier
from sklearn_dlpp.plotting import (
    HEP_STYLES,
    hep_style,
    plot_graph_attention,
    plot_loss_curves,
    plot_roc,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

quick_fit = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 60)
    X = rng.normal(size=(120, 3)) + y[:, None]
    return X, y


# ------------------------------------------------------------------ loss curves
@quick_fit
def test_loss_curves_draw_losses_scores_and_best_epoch(blobs):
    X, y = blobs
    clf = MLPClassifier(
        (8,), early_stopping=True, validation_fraction=0.2, max_iter=15, random_state=0
    ).fit(X, y)
    ax = plot_loss_curves(clf)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, clf.n_iter_ + 1))
    (twin,) = [other for other in ax.figure.axes if other is not ax]
    np.testing.assert_allclose(twin.lines[0].get_ydata(), clf.validation_scores_)
    best = int(np.argmax(clf.validation_scores_)) + 1
    # the dot on the best score and the vertical line through its epoch
    assert twin.lines[1].get_xdata()[0] == best
    assert twin.lines[1].get_ydata()[0] == pytest.approx(clf.best_validation_score_)
    assert list(ax.lines[1].get_xdata()) == [best, best]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["MLPClassifier: training loss", "MLPClassifier: validation score"]
    assert ax.get_xlabel() == "epoch"
    assert twin.get_ylabel() == "validation score"


@quick_fit
def test_loss_curves_several_estimators_without_validation(blobs):
    X, y = blobs
    fits = {
        f"lr {lr}": MLPClassifier((8,), learning_rate_init=lr, max_iter=5, random_state=0).fit(X, y)
        for lr in (0.001, 0.01)
    }
    ax = plot_loss_curves(fits)
    assert len(ax.figure.axes) == 1  # no validation scores, no twin axis
    assert len(ax.lines) == 2
    for line, clf in zip(ax.lines, fits.values(), strict=True):
        np.testing.assert_allclose(line.get_ydata(), clf.loss_curve_)
    assert ax.lines[0].get_color() != ax.lines[1].get_color()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["lr 0.001: training loss", "lr 0.01: training loss"]


@quick_fit
def test_loss_curves_use_the_last_step_of_a_pipeline_and_a_given_axes(blobs):
    X, y = blobs
    pipe = make_pipeline(
        StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,), max_iter=4, random_state=0)
    )
    pipe.fit(X, y.astype(float))
    _, ax = plt.subplots()
    assert plot_loss_curves([pipe], ax=ax) is ax
    np.testing.assert_allclose(ax.lines[0].get_ydata(), pipe[-1].loss_curve_)


def test_loss_curves_refuse_estimators_without_a_curve(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="no loss_curve_"):
        plot_loss_curves(MLPClassifier())
    lbfgs = MLPClassifier((4,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="lbfgs keeps no curve"):
        plot_loss_curves(lbfgs)
    with pytest.raises(ValueError, match="at least one"):
        plot_loss_curves([])


# ------------------------------------------------------------------- ROC curves
def test_roc_draws_rejection_against_efficiency_on_a_log_axis():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 500)
    score = y + rng.normal(size=500)
    ax = plot_roc(y, score, label="cut")
    assert ax.get_yscale() == "log"
    curve = ax.lines[-1]
    fpr, tpr, _ = roc_curve(y, score)
    np.testing.assert_allclose(curve.get_xdata(), tpr[fpr > 0])
    np.testing.assert_allclose(curve.get_ydata(), 1.0 / fpr[fpr > 0])
    assert np.all(np.isfinite(curve.get_ydata()))
    auc = roc_auc_score(y, score)
    assert ax.get_legend().get_texts()[-1].get_text() == f"cut (AUC = {auc:.3f})"
    # the random-guess reference: rejection 1 / efficiency
    random = ax.lines[0]
    assert random.get_gid() == "random"
    np.testing.assert_allclose(random.get_ydata(), 1.0 / random.get_xdata())


def test_roc_overlays_curves_and_honours_weights_and_probabilities():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    p1 = 1.0 / (1.0 + np.exp(-(2 * y - 1 + rng.normal(size=300))))
    weights = rng.uniform(0.5, 2.0, 300)
    ax = plot_roc(y, np.column_stack([1 - p1, p1]), sample_weight=weights, label="weighted")
    plot_roc(y, rng.normal(size=300), ax=ax, label="noise")
    assert [line.get_gid() for line in ax.lines].count("random") == 1
    assert len(ax.lines) == 3
    fpr, tpr, _ = roc_curve(y, p1, sample_weight=weights)
    np.testing.assert_allclose(ax.lines[1].get_xdata(), tpr[fpr > 0])
    auc = roc_auc_score(y, p1, sample_weight=weights)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[1] == f"weighted (AUC = {auc:.3f})"
    assert texts[2].startswith("noise (AUC = ")


def test_roc_with_string_labels_needs_and_uses_pos_label():
    y = np.array(["electron", "photon"] * 20)
    score = np.arange(40.0)  # photons (odd rows) score higher in each pair
    ax = plot_roc(y, score, pos_label="photon")
    expected = roc_auc_score(y == "photon", score)
    assert ax.get_legend().get_texts()[-1].get_text() == f"classifier (AUC = {expected:.3f})"


# ------------------------------------------------------------ graph attention
def _star(n_leaves: int) -> nx.Graph:
    """A hub (node 0) joined to ``n_leaves`` leaves, node features (x, y, 1)."""
    graph = nx.star_graph(n_leaves)
    angle = np.linspace(0, 2 * np.pi, n_leaves, endpoint=False)
    graph.nodes[0]["x"] = np.array([0.0, 0.0, 1.0])
    for leaf, a in enumerate(angle, start=1):
        graph.nodes[leaf]["x"] = np.array([np.cos(a), np.sin(a), 1.0])
    return graph


@pytest.fixture(scope="module")
def stars():
    graphs = [_star(n) for n in (3, 4, 5, 6) * 5]
    return graphs, np.array([n % 2 for n in (3, 4, 5, 6) * 5])


@quick_fit
@pytest.mark.parametrize("aggregation", ["attention", "keyquery"])
def test_attention_is_drawn_on_every_edge_where_the_nodes_are(stars, aggregation):
    graphs, y = stars
    clf = GraphClassifier(
        hidden=8, n_blocks=2, aggregation=aggregation, max_iter=3, random_state=0
    ).fit(graphs, y)
    star = _star(5)
    ax = plot_graph_attention(clf, star, pos_features=(0, 1))
    (edges,) = [c for c in ax.collections if hasattr(c, "get_segments")]
    segments = edges.get_segments()
    assert len(segments) == star.number_of_edges()
    # every segment joins the hub at the origin to a leaf on the unit circle
    for segment in segments:
        lengths = sorted(np.hypot(*np.asarray(segment).T))
        assert lengths == pytest.approx([0.0, 1.0], abs=1e-6)
    # An edge shows the mean of its two directions. A leaf has one incoming edge
    # (weight 1); the hub's five incoming weights sum to 1: the total is 6 / 2.
    weights = np.asarray(edges.get_array())
    assert weights.sum() == pytest.approx(3.0, rel=1e-5)
    assert np.all((weights > 0.5) & (weights < 1.0))
    assert np.all(np.diff(weights) >= 0)  # drawn weakest first, strongest on top
    assert ax.get_xlabel() == "node feature 0"


@quick_fit
def test_attention_of_a_deep_set_is_drawn_between_every_pair():
    rng = np.random.default_rng(0)
    sets = [rng.normal(size=(int(n), 3)) for n in rng.integers(2, 7, 30)]
    y = np.array([len(s) % 2 for s in sets])
    clf = GraphClassifier(hidden=8, n_blocks=1, block="deepset", max_iter=3, random_state=0)
    clf.fit(sets, y)
    n = len(sets[0])
    particles = np.vstack([sets[0], np.zeros((3, 3))])  # all-zero rows are padding
    ax = plot_graph_attention(clf, particles)
    (edges,) = [c for c in ax.collections if hasattr(c, "get_segments")]
    assert len(edges.get_segments()) == n * (n - 1) // 2
    weights = np.asarray(edges.get_array())
    # rows of the attention matrix sum to 1: the pairs share at most n / 2 of it
    assert np.all((weights >= 0) & (weights <= 1))
    assert weights.sum() <= n / 2 + 1e-6
    assert ax.get_xticks().size == 0  # a spring layout has no meaningful axes


@quick_fit
def test_attention_of_a_node_classifier_on_its_chosen_block(stars):
    graphs, _ = stars
    labels = [np.array([1] + [0] * (len(g) - 1)) for g in graphs]
    clf = NodeClassifier(
        hidden=8, n_blocks=2, aggregation="attention", max_iter=2, random_state=0
    ).fit(graphs, labels)
    ax = plot_graph_attention(clf, graphs[0], block=0)
    (edges,) = [c for c in ax.collections if hasattr(c, "get_segments")]
    assert len(edges.get_segments()) == graphs[0].number_of_edges()
    assert "block 0" in ax.figure.axes[-1].get_ylabel()  # the colour bar


@quick_fit
def test_attention_plot_refuses_what_has_no_attention(stars):
    graphs, y = stars
    summed = GraphClassifier(hidden=8, n_blocks=1, max_iter=2, random_state=0).fit(graphs, y)
    with pytest.raises(ValueError, match="no attention weights"):
        plot_graph_attention(summed, graphs[0])
    with pytest.raises(ValueError, match="out of range"):
        plot_graph_attention(summed, graphs[0], block=1)
    with pytest.raises(ValueError, match="not a fitted graph estimator"):
        plot_graph_attention(GraphClassifier(), graphs[0])
    attention = GraphClassifier(
        hidden=8, n_blocks=1, aggregation="attention", max_iter=2, random_state=0
    ).fit(graphs, y)
    with pytest.raises(ValueError, match="two feature columns"):
        plot_graph_attention(attention, graphs[0], pos_features=(0,))


# ------------------------------------------------------------------ HEP styles
@pytest.mark.parametrize("style", sorted(HEP_STYLES))
def test_hep_style_applies_mplhep_inside_the_block_only(style):
    mplhep = pytest.importorskip("mplhep")
    expected = getattr(mplhep.style, HEP_STYLES[style])
    before = dict(matplotlib.rcParams)
    with hep_style(style) as rc:
        assert rc == dict(expected)
        ax = plot_roc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
        for key, value in expected.items():
            assert matplotlib.rcParams[key] == matplotlib.rcParams.validate[key](value), key
    # Drawn in the style: the ROC curve takes the first colour of its cycle.
    cycle = matplotlib.rcParams.validate["axes.prop_cycle"](
        expected.get("axes.prop_cycle", before["axes.prop_cycle"])
    )
    curve_colour = matplotlib.colors.to_hex(ax.lines[-1].get_color())
    assert curve_colour == matplotlib.colors.to_hex(cycle.by_key()["color"][0])
    assert dict(matplotlib.rcParams) == before


def test_hep_style_without_mplhep_warns_and_keeps_the_plots_as_they_are(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "mplhep", None)  # import fails
    before = dict(matplotlib.rcParams)
    style = hep_style("CMS")
    with pytest.warns(UserWarning, match=r"needs mplhep .*sklearn-dlpp\[hep\]"):
        rc = style.__enter__()
    assert rc == {}
    assert dict(matplotlib.rcParams) == before
    plot_roc([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
    style.__exit__(None, None, None)
    assert dict(matplotlib.rcParams) == before


def test_hep_style_none_is_matplotlib_as_it_is(recwarn):
    before = dict(matplotlib.rcParams)
    with hep_style(None) as rc:
        assert rc == {}
        assert dict(matplotlib.rcParams) == before
    assert not recwarn.list


def test_hep_style_refuses_an_unknown_experiment():
    style = hep_style("cms")
    with pytest.raises(ValueError, match=r"style must be one of .*'CMS'.* got 'cms'"):
        style.__enter__()
