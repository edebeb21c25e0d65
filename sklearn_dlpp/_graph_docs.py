"""Docstring sections shared by the graph estimators (written once, composed per class)."""

PARAMETERS_DOC = """
    Parameters
    ----------
    hidden : int, default=64
        Width of every hidden representation and MLP layer.
    n_blocks : int, default=3
        Number of stacked blocks: after ``n_blocks`` GN blocks a node has seen
        every node up to ``n_blocks`` hops away (its receptive field).
    block : {'gn', 'deepset', 'edgeconv', 'transformer'}, default='gn'
        'gn': a GN block (edge MLP over the concatenated features of the two
        nodes and of the edge, permutation-invariant aggregation into the
        receiving node, node MLP update). 'deepset': nodes exchange information
        only through key-query self-attention within their graph; edges unused.
        'edgeconv': ParticleNet's EdgeConv (:class:`~sklearn_dlpp.nn.EdgeConvBlock`,
        edge MLP on ``[h_i, h_j - h_i]`` over the ``k`` nearest neighbours,
        ``aggregation`` 'sum', 'mean' or 'max'), on a kNN graph rebuilt in
        every block's input when ``dynamic``. 'transformer': ParT's particle
        attention (:class:`~sklearn_dlpp.nn.ParticleAttentionBlock`, ``n_heads``
        heads) with the attention logits biased by the pairwise interaction
        features of ``pair_features``; edges unused.
    aggregation : {'sum', 'mean', 'max', 'attention', 'keyquery'}, default='sum'
        How a GN block aggregates incoming messages: plain sums, means and
        maxima; 'attention' weighs them by a softmax over a learnt score of each
        message; 'keyquery' by a softmax over ``<q_receiver, k_sender>``, keys
        and queries coming from two MLPs.
    readout : {'sum', 'mean', 'max', 'attention'}, default='sum'
        Pooling of node representations into the graph's (graph-level outputs only).
    dropout : float, default=0.0
        Dropout after the hidden layers of every MLP.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation of the hidden layers.
    node_features : str or list of str, default=None
        Node attribute holding each node's feature vector (None means ``'x'``),
        or a list of scalar attributes; awkward record fields for awkward input.
    edge_features : str, default=None
        Edge attribute holding edge features; None uses none.
    set_edges : {'none', 'full', 'knn'}, default='none'
        Edges built for particle sets (arrays): none (a deep set), fully
        connected, or the ``k`` nearest neighbours in ``knn_features``.
    k : int, default=8
        Neighbours per particle for ``set_edges='knn'``.
    knn_features : int, str or list, default=None
        Feature columns in which neighbours are nearest (e.g. eta and phi).
    standardize : bool, default=True
        Standardise node and edge features with the training data's mean and
        standard deviation (particle features span orders of magnitude).
    solver : {'adam', 'sgd'}, default='adam'
        The optimiser.
    alpha : float, default=0.0001
        L2 penalty on the weight matrices, as in the MLPs.
    batch_size : int or 'auto', default='auto'
        Graphs per minibatch; 'auto' is ``min(200, n_graphs)``.
    learning_rate_init : float, default=0.001
        Step size.
    max_iter : int, default=100
        Epochs.
    shuffle : bool, default=True
        Reshuffle the graphs every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling, dropout and the validation split.
    tol : float, default=1e-4
        Improvement under which an epoch counts as no improvement.
    verbose : bool, default=False
        Print one line per epoch.
    warm_start : bool, default=False
        Start ``fit`` from the previous weights.
    early_stopping : bool or 'auto', default='auto'
        Hold out ``validation_fraction`` of the graphs, stop after
        ``n_iter_no_change`` epochs without improvement of the validation
        score, restore the weights of the best epoch. 'auto' does so when the
        training data holds at least 1,000 rows (graphs for graph-level
        estimators, nodes or labelled edges for node and edge classifiers) and
        the held-out fraction at least 2 graphs, as
        ``HistGradientBoostingClassifier`` does above its size; ``partial_fit``
        never holds data out. Networks of tens of thousands of weights overfit
        a few thousand graphs within the default ``max_iter``: the measured
        effect is in the user guide's benchmarks.
    validation_fraction : float, default=0.1
        Fraction of graphs held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without improvement before stopping.
    device : str, default='auto'
        'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'.
    callbacks : list of skorch callbacks or None, default=None
        Passed to the skorch training engine.
    node_kind : str, default=None
        For networkx graphs whose nodes are objects of several kinds (jets,
        leptons, photons): the node attribute holding each node's kind; the
        feature vector (``node_features``) may then have a length per kind. Each
        kind gets its own input MLP and a learned kind embedding
        (:class:`~sklearn_dlpp.nn.KindEncoder`). Events given as an
        :class:`~sklearn_dlpp.graph.EventSet` (or a list of per-event dicts
        kind -> objects) are typed without it; their edges come from
        ``set_edges``, e.g. 'full' to connect all objects of an event.
    dynamic : bool, default=True
        For ``block='edgeconv'``: find each node's ``k`` nearest neighbours
        anew in every block, in that block's input features (the first block
        in the raw ``knn_features`` columns when given), as ParticleNet does;
        False uses the edges of the graphs (or of ``set_edges``).
    n_heads : int, default=8
        Attention heads of ``block='transformer'`` (must divide ``hidden``).
    pair_features : list of 4 str or int, default=None
        For ``block='transformer'`` and ``preset='part'``: the node feature
        columns (names or indices) holding each particle's four-momentum
        ``(px, py, pz, E)``. Every pair of particles then gets the interaction
        features ``ln Delta, ln k_T, ln z, ln m^2``
        (:func:`~sklearn_dlpp.nn.pair_interactions`, from the raw columns,
        before standardisation), embedded into one bias per head of the
        attention logits. None: attention without pair bias.
    preset : {'particlenet', 'part'}, default=None
        A published jet tagger in one parameter (graph level only); it sets
        the whole network, so ``hidden``, ``n_blocks``, ``block``,
        ``aggregation``, ``readout``, ``dropout``, ``activation``, ``k`` and
        ``n_heads`` are not used. 'particlenet': :class:`~sklearn_dlpp.nn.ParticleNet`
        (Qu & Gouskos 2020), three dynamic EdgeConv blocks with ``k = 16`` and
        channels 64, 128, 256, mean pooling, a 256-unit layer with dropout 0.1;
        the first block's neighbours are nearest in ``knn_features`` (e.g.
        delta_eta, delta_phi). 366k weights (paper: 366k).
        'part': :class:`~sklearn_dlpp.nn.ParticleTransformer` (Qu, Li & Qian
        2022), particle embedding (128, 512, 128), pair embedding (64, 64, 64)
        of ``pair_features``, 8 particle-attention and 2 class-attention
        blocks with 8 heads. 2.14M weights (paper: 2.14M); train it with a
        smaller step, e.g. ``learning_rate_init=2e-4`` (at the default 1e-3 it
        stayed at chance on generated jets). Both take minutes per thousand
        jets and epoch on a CPU: a GPU is their place.
"""

ATTRIBUTES_DOC = """
    n_node_features_ : int
        Node features seen in fit.
    n_edge_features_ : int
        Edge features seen in fit (0 without ``edge_features``).
    node_mean_, node_scale_ : ndarray of shape (``n_node_features_``,)
        Standardisation of the node features.
    edge_mean_, edge_scale_ : ndarray or None
        Standardisation of the edge features.
    kinds_ : ndarray of object or None
        The kinds of objects seen in fit, in column order (typed nodes only);
        another kind at predict time raises a ValueError.
    n_kind_features_ : ndarray of int or None
        Features of each kind in ``kinds_``.
    early_stopping_ : bool
        Whether this fit held graphs out and stopped early (``early_stopping``
        resolved; kept by ``warm_start`` and ``partial_fit``).
    loss_curve_ : list of float
        Training loss of each epoch.
    validation_scores_ : list of float or None
        Validation score of each epoch with early stopping: minus the
        (weighted) log-loss for classifiers, :math:`R^2` for regressors.
    best_validation_score_, best_loss_ : float or None
        As in scikit-learn's MLPs.
    n_iter_ : int
        Epochs run.
    module_ : GraphNetwork
        The trained network.
"""


NOTES_DOC = """
    Notes
    -----
    Negative sample weights (NLO event weights) are accepted, one per graph;
    their sum must be positive. A classifier needs at least two classes, and
    ``score`` refuses labels that ``fit`` did not see.

    Training faults: when the loss becomes NaN or infinite (a learning rate
    too high, unscaled features), training stops with a
    ``TrainingDivergedWarning`` and the estimator keeps the weights of the
    last finite epoch (the best by validation score with ``early_stopping``).
    A ``KeyboardInterrupt`` (Ctrl-C) during ``fit`` ends training with a
    warning and leaves the estimator fitted and usable at once, with the
    weights reached (the best by validation score with ``early_stopping``);
    ``n_iter_`` counts the completed epochs.
"""


PART_DOC = """
    In ``fit``, ``y`` is a list with one array per graph ({unit} in ``{order}``
    order), or the name of a {unit_singular} attribute holding the labels; None
    reads the attribute ``'y'``. ``sample_weight`` has one weight per graph,
    applied to all its {unit} (negative weights allowed; their sum must be
    positive). ``predict`` and ``predict_proba`` return a list with one array per
    graph, in ``{order}`` order; ``score`` is the accuracy over all {unit} of all
    graphs.
"""


def class_doc(
    summary: str, examples: str, *, labels: str | None = None, part: dict | None = None
) -> str:
    """A graph estimator's class docstring: its own text around the shared sections.

    ``summary`` opens it (first line and description), ``part`` fills the
    node/edge paragraph (``unit``, ``unit_singular``, ``order``), ``labels``
    describes ``classes_`` (classifiers only), ``examples`` closes it.
    """
    classes = ""
    if labels is not None:
        classes = f"""
    classes_ : ndarray of shape (n_classes,)
        {labels}"""
    return (
        summary
        + (PART_DOC.format(**part) if part else "")
        + PARAMETERS_DOC
        + """
    Attributes
    ----------"""
        + classes
        + ATTRIBUTES_DOC
        + NOTES_DOC
        + examples
    )
