"""Reductions over segments of rows given by an index vector (pure torch scatter ops).

Every graph operation reduces rows that share an index: messages into their
receiving node, nodes into their graph. Rows whose segment receives nothing give 0,
so isolated nodes and empty graphs stay finite.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sklearn_dlpp.nn._docs import fill_doc


def _expand(index: Tensor, src: Tensor) -> Tensor:
    """Broadcast a (n_rows,) index to the shape of ``src`` for scatter ops."""
    return index.view(-1, *([1] * (src.dim() - 1))).expand_as(src)


@fill_doc
def segment_sum(src: Tensor, index: Tensor, n_segments: int) -> Tensor:
    r"""Sum the rows of ``src`` that share a segment: :math:`y_s = \sum_{i: index_i = s} x_i`.

    %(segment_reduction)s
    """
    out = src.new_zeros((n_segments, *src.shape[1:]))
    return out.index_add_(0, index, src)


def segment_count(index: Tensor, n_segments: int, dtype: torch.dtype) -> Tensor:
    """Number of rows in every segment, shape (n_segments,)."""
    ones = torch.ones(index.numel(), dtype=dtype, device=index.device)
    return segment_sum(ones, index, n_segments)


@fill_doc
def segment_mean(src: Tensor, index: Tensor, n_segments: int) -> Tensor:
    r"""Mean of the rows of each segment, :math:`y_s = \frac{1}{n_s}\sum_{i: index_i = s} x_i`.

    %(segment_reduction)s
    """
    count = segment_count(index, n_segments, src.dtype).clamp_(min=1)
    return segment_sum(src, index, n_segments) / count.view(-1, *([1] * (src.dim() - 1)))


@fill_doc
def segment_max(src: Tensor, index: Tensor, n_segments: int) -> Tensor:
    r"""Element-wise maximum of the rows of each segment, :math:`y_s = \max_{i: index_i = s} x_i`.

    The gradient goes to the maximal rows (split evenly between ties).

    %(segment_reduction)s
    """
    out = src.new_zeros((n_segments, *src.shape[1:]))
    # include_self=False: the zeros only stand in for segments that receive nothing;
    # they must not take part in the maximum of the others (all-negative segments).
    return out.scatter_reduce(0, _expand(index, src), src, reduce="amax", include_self=False)


def segment_softmax(scores: Tensor, index: Tensor, n_segments: int) -> Tensor:
    r"""Softmax of ``scores`` within each segment.

    .. math::

        \alpha_i = \frac{\exp(s_i - m_{g(i)})}{\sum_{j: g(j) = g(i)} \exp(s_j - m_{g(i)})},
        \qquad m_g = \max_{j: g(j) = g} s_j,

    where :math:`g(i)` is ``index[i]``. Subtracting the segment maximum keeps it
    finite for any scores.

    Parameters
    ----------
    scores : Tensor of shape (n_rows,) or (n_rows, n_heads)
        The scores :math:`s_i`.
    index : LongTensor of shape (n_rows,)
        Segment of every row, in ``0 .. n_segments - 1``.
    n_segments : int
        Number of segments.

    Returns
    -------
    Tensor of the shape of ``scores``
        Non-negative, summing to 1 over the rows of every non-empty segment.

    Examples
    --------
    >>> import torch
    >>> from sklearn_dlpp.nn import segment_softmax
    >>> segment_softmax(torch.tensor([0.0, 1000.0, 0.0]), torch.tensor([0, 1, 0]), 2)
    tensor([0.5000, 1.0000, 0.5000])
    """
    # The shift does not change the softmax, so it needs no gradient.
    shift = segment_max(scores.detach(), index, n_segments)
    weights = torch.exp(scores - shift[index])
    return weights / segment_sum(weights, index, n_segments)[index]


#: The plain reductions by name: what the ``"sum"``, ``"mean"`` and ``"max"``
#: aggregations and poolings compute.
SEGMENT_REDUCTIONS = {"sum": segment_sum, "mean": segment_mean, "max": segment_max}
