"""Docstring sections that several modules of :mod:`sklearn_dlpp.nn` share, written once.

A docstring line that holds only ``%(key)s`` is replaced by the section ``key``,
indented as the placeholder was: the package's one mechanism
(:func:`sklearn_dlpp._docs.make_filler`) over the sections of this subpackage.
"""

from __future__ import annotations

from sklearn_dlpp._docs import make_filler

SECTIONS = {
    # the arguments and the example of the segment reductions (module functions)
    "segment_reduction": """\
Parameters
----------
src : Tensor of shape (n_rows, ...)
    The rows to reduce.
index : LongTensor of shape (n_rows,)
    Segment of every row, in ``0 .. n_segments - 1``.
n_segments : int
    Number of segments (some may receive no row).

Returns
-------
Tensor of shape (n_segments, ...)
    Zero for empty segments.

Examples
--------
The three reductions of the same rows (segment 1 receives none):

>>> import torch
>>> from sklearn_dlpp.nn import segment_max, segment_mean, segment_sum
>>> src, index = torch.tensor([-1.0, 2.0, -3.0]), torch.tensor([0, 2, 0])
>>> segment_sum(src, index, 3), segment_mean(src, index, 3), segment_max(src, index, 3)
(tensor([-4.,  0.,  2.]), tensor([-2.,  0.,  2.]), tensor([-1.,  0.,  2.]))""",
    # the input width of a message-passing block, renamed from node_features
    "n_node_features": """\
n_node_features : int
    Width of the input node representations (formerly ``node_features``,
    still accepted with a FutureWarning until the next release).""",
    # the options of a message-passing block's MLPs
    "block_options": """\
residual : bool, default=False
    Add the input to the node update; needs ``n_node_features == hidden``.
activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
    Activation of the hidden layers of the MLPs (scikit-learn's names).
dropout : float, default=0.0
    Dropout after the hidden layers of the MLPs.""",
    # the argument of the models' attention_weights
    "packed_batch": """\
batch : GraphBatch
    The graphs (jets), packed as for :meth:`forward`.""",
}

fill_doc = make_filler(SECTIONS)
