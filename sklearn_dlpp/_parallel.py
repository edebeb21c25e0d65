"""Work shared by a few Python threads: torch's and numpy's loops release the GIL.

Bulk prediction runs its chunks, its input check and its output activation on
as many threads as torch may use (within the process's thread budget, see
:func:`~sklearn_dlpp._runtime.bounded_threads`), each thread taking the next
piece of work as it finishes one, so that a thread slowed by another process
on its core takes fewer pieces instead of holding the others at a barrier.
Work of fewer than ``MIN_ELEMENTS`` values stays on the calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import pairwise
from typing import Any

import numpy as np
import torch

from sklearn_dlpp._runtime import _thread_budget

# Below this many values a second thread costs more than it saves (~50 us to start).
MIN_ELEMENTS = 1 << 18


def threads_for(elements: int) -> int:
    """Threads for ``elements`` values of work: torch's intra-op threads within the budget."""
    if elements < MIN_ELEMENTS:
        return 1
    threads = torch.get_num_threads()
    budget = _thread_budget()
    return max(1, threads if budget is None else min(threads, budget))


class _Shared:
    """An iterator that hands each item to one of the threads asking for the next."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = iter(items)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        with self._lock:
            return next(self._items)


def share(threads: int, work: Callable[[Iterator[Any]], Any], items: Iterable[Any]) -> None:
    """``work(pieces)`` on ``threads`` threads (this one included), all drawing from ``items``.

    The first error of any thread is raised here once all have stopped.
    """
    if threads <= 1:
        work(iter(items))
        return
    pieces = _Shared(items)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work(pieces)
        except BaseException as error:  # re-raised in the calling thread
            errors.append(error)

    helpers = [threading.Thread(target=run, daemon=True) for _ in range(threads - 1)]
    for helper in helpers:
        helper.start()
    run()
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]


def _row_blocks(n: int, pieces: int) -> list[slice]:
    bounds = np.linspace(0, n, pieces + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in pairwise(bounds)]


def elementwise(ufunc: Callable[..., np.ndarray], z: np.ndarray) -> np.ndarray:
    """``ufunc(z)`` for a float array; a large one by row blocks on threads (same values)."""
    threads = threads_for(z.size)
    if threads == 1 or z.ndim == 0 or z.dtype.kind != "f":
        return ufunc(z)
    out = np.empty(z.shape, dtype=z.dtype)

    def work(blocks: Iterator[slice]) -> None:
        for block in blocks:
            ufunc(z[block], out=out[block])

    share(threads, work, _row_blocks(len(z), 4 * threads))
    return out


def finite_sums(X: np.ndarray) -> bool:
    """Whether the sum of each block of rows is finite: then every value of X is.

    scikit-learn's first pass over X (``isfinite(X.sum())``), by row blocks on
    threads. False (a NaN or an infinity, or a sum that overflows) sends the
    caller to the exact element-wise check.
    """
    threads = threads_for(X.size)
    if threads == 1:
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(X.sum()))
    finite: list[bool] = []

    def work(blocks: Iterator[slice]) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            finite.extend(bool(np.isfinite(X[block].sum())) for block in blocks)

    share(threads, work, _row_blocks(len(X), 4 * threads))
    return all(finite)
