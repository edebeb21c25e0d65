"""Where and how a fit runs: its device, its torch seed, its threads.

:func:`resolve_device` turns the ``device`` parameter into a torch device,
:func:`seed_from` draws a fit's torch seed from its ``random_state``,
:func:`torch_seeded` seeds torch for a block without touching the global RNG,
and :func:`bounded_threads` keeps torch within the threads a parallel launcher
(joblib, dask) gives the process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import numpy as np
import torch

from sklearn_dlpp._distributed import local_cuda_device

__all__ = ["bounded_threads", "resolve_device", "seed_from", "torch_seeded"]


def resolve_device(device: str) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU.

    CUDA means the GPUs this process is given (``CUDA_VISIBLE_DEVICES``, as a
    dask worker per GPU has), and under a data-parallel launcher the GPU of
    the process's ``LOCAL_RANK``.
    """
    if device == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        device = "cuda"
    try:
        resolved = torch.device(device)
    except RuntimeError:
        resolved = None
    if resolved is None or resolved.type not in ("cpu", "cuda"):
        msg = f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}."
        raise ValueError(msg)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        msg = f"device={device!r} was requested but CUDA is not available; use device='auto'"
        raise ValueError(msg)
    if resolved.type == "cuda" and resolved.index is None:
        return local_cuda_device()
    return resolved


def seed_from(random_state: np.random.RandomState) -> int:
    """A torch seed drawn from a numpy random state."""
    return int(random_state.randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for the block, then give the global RNG back untouched."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def _thread_budget() -> int | None:
    """Threads allowed to this process, as set by a parallel launcher (joblib, dask)."""
    for name in ("SKLEARN_DLPP_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return _dask_worker_threads()


def _dask_worker_threads() -> int | None:
    """The ``nthreads`` of the dask worker running this task, if any.

    A nanny sets ``OMP_NUM_THREADS=1`` in its worker's environment, but a worker
    started without one (``dask worker --no-nanny``, or a cluster whose
    ``distributed.nanny.pre-spawn-environ`` is changed) leaves torch with one
    thread per core in every worker process.
    """
    # Only a process that imported distributed can be a worker; never import it here.
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return int(distributed.get_worker().state.nthreads)
    except (ValueError, AttributeError):  # not inside a worker's task
        return None


@contextlib.contextmanager
def bounded_threads() -> Iterator[None]:
    """Keep torch's intra-op threads within the process budget for the block.

    joblib's workers (GridSearchCV(n_jobs=k)) receive ``OMP_NUM_THREADS`` =
    cores // k, but torch may already have picked its thread count; an
    oversubscribed 2-core machine was measured 10x slower.
    """
    budget = _thread_budget()
    if budget is None:
        yield
        return
    before = torch.get_num_threads()
    if budget >= before:
        yield
        return
    torch.set_num_threads(budget)
    try:
        yield
    finally:
        torch.set_num_threads(before)
