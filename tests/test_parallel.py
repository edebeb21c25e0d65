"""Work shared by Python threads (bulk prediction's chunks, input check and sigmoid)."""

import numpy as np
import pytest
import torch
from scipy.special import expit

from sklearn_dlpp import _parallel
from sklearn_dlpp._parallel import elementwise, finite_sums, share


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setenv("SKLEARN_DLPP_NUM_THREADS", "2")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_elementwise_on_threads_gives_the_same_values(two_threads):
    z = np.random.default_rng(0).standard_normal((_parallel.MIN_ELEMENTS + 3, 2)) * 40
    for values in (z, z.astype(np.float32)):
        np.testing.assert_array_equal(elementwise(expit, values), expit(values))
        assert elementwise(expit, values).dtype == values.dtype


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_finite_sums_find_any_bad_value(two_threads, bad):
    X = np.random.default_rng(0).standard_normal((_parallel.MIN_ELEMENTS // 4 + 5, 8))
    assert finite_sums(X)
    for row in (0, len(X) // 2, len(X) - 1):
        Y = X.copy()
        Y[row, 3] = bad
        assert not finite_sums(Y)
        assert not finite_sums(Y[max(0, row - 2) : row + 1])  # one thread


def test_an_overflowing_sum_is_not_called_finite():
    # The caller then runs the exact check, as scikit-learn's first pass does.
    X = np.full((4, 2), 1e308)
    assert not finite_sums(X)


def test_share_hands_each_item_to_one_thread_and_raises_errors():
    seen = []

    def work(items):
        seen.extend(items)

    share(3, work, range(100))
    assert sorted(seen) == list(range(100))

    def fail(items):
        for item in items:
            if item == 7:
                raise ValueError("seven")

    with pytest.raises(ValueError, match="seven"):
        share(2, fail, range(20))
