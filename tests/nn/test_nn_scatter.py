"""Segment reductions against a brute-force loop over segments."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_dlpp.nn import segment_max, segment_mean, segment_softmax, segment_sum


@st.composite
def segmented(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, int]:
    n_segments = draw(st.integers(1, 6))
    index = draw(st.lists(st.integers(0, n_segments - 1), max_size=20))
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).normal(size=(len(index), 3)) * 10
    return torch.tensor(values), torch.tensor(index, dtype=torch.long), n_segments


def brute(src: torch.Tensor, index: torch.Tensor, n_segments: int, reduce) -> torch.Tensor:
    out = torch.zeros((n_segments, *src.shape[1:]), dtype=src.dtype)
    for s in range(n_segments):
        rows = src[index == s]
        if len(rows):
            out[s] = reduce(rows)
    return out


@settings(max_examples=40, deadline=None)
@given(segmented())
def test_sum_mean_max_match_a_loop(case):
    src, index, n = case
    torch.testing.assert_close(segment_sum(src, index, n), brute(src, index, n, lambda r: r.sum(0)))
    torch.testing.assert_close(
        segment_mean(src, index, n), brute(src, index, n, lambda r: r.mean(0))
    )
    torch.testing.assert_close(
        segment_max(src, index, n), brute(src, index, n, lambda r: r.max(0).values)
    )


@settings(max_examples=40, deadline=None)
@given(segmented())
def test_softmax_matches_a_loop_and_sums_to_one(case):
    src, index, n = case
    for scores in (src[:, 0], src[:, :2]):  # one score per row, or one per row and head
        weights = segment_softmax(scores, index, n)
        expected = torch.empty_like(scores)
        for s in range(n):
            expected[index == s] = torch.softmax(scores[index == s], dim=0)
        torch.testing.assert_close(weights, expected)
        sums = segment_sum(weights, index, n)
        nonempty = torch.bincount(index, minlength=n) > 0
        torch.testing.assert_close(sums[nonempty], torch.ones_like(sums[nonempty]))


def test_empty_segments_and_empty_input_give_zero():
    src = torch.tensor([[-5.0], [-7.0]])
    index = torch.tensor([2, 2])
    # An all-negative segment keeps its negative maximum; the empty ones are 0.
    assert segment_max(src, index, 4).flatten().tolist() == [0.0, 0.0, -5.0, 0.0]
    assert segment_mean(src, index, 4).flatten().tolist() == [0.0, 0.0, -6.0, 0.0]
    empty = torch.zeros(0, 3)
    no_rows = torch.zeros(0, dtype=torch.long)
    for op in (segment_sum, segment_mean, segment_max):
        assert op(empty, no_rows, 2).tolist() == [[0.0] * 3] * 2
    assert segment_softmax(torch.zeros(0), no_rows, 2).shape == (0,)


def test_softmax_is_stable_for_huge_scores():
    scores = torch.tensor([1e4, 1e4 - 1.0, -1e4, -1e4], dtype=torch.float32)
    weights = segment_softmax(scores, torch.tensor([0, 0, 1, 1]), 2)
    assert torch.isfinite(weights).all()
    torch.testing.assert_close(weights[2:], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(weights[0] / weights[1], torch.tensor(np.e, dtype=torch.float32))


@pytest.mark.parametrize("op", [segment_sum, segment_mean, segment_max, segment_softmax])
def test_gradients_are_exact(op):
    torch.manual_seed(0)
    # distinct values, so the max has a unique winner and is differentiable there
    src = torch.randperm(12).double().reshape(6, 2).requires_grad_()
    index = torch.tensor([0, 2, 0, 2, 2, 0])
    assert torch.autograd.gradcheck(lambda s: op(s, index, 4), (src,))
