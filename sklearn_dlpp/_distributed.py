"""Data-parallel training: the only module that knows ``torch.distributed``.

It is an explicit choice: inside ``with data_parallel():``, in a script started
by ``torchrun`` (or any launcher) that called
``torch.distributed.init_process_group``, ``fit`` trains one model on all the
processes of the group: every rank passes the same data, takes its shard of each
epoch's shared permutation, and gradients are averaged by
:class:`~torch.nn.parallel.DistributedDataParallel`. Losses and validation
scores are averaged over the ranks, so that every rank takes the same stopping
decision and ends with the same weights. Outside the block (or without a
process group) every function here is the identity and costs one check: a
process group that exists for other reasons never changes what ``fit`` does.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn

_ENABLED = contextvars.ContextVar("sklearn_dlpp_data_parallel", default=False)


@contextlib.contextmanager
def data_parallel() -> Iterator[None]:
    """Train the fits inside the block data-parallel over the ``torch.distributed`` process group.

    Every rank runs the same script with the same data and ``random_state``;
    each trains on its shard of every epoch and gradients are averaged, so all
    ranks end with the same weights. The optimiser steps see ``batch_size``
    samples in all, as in one process.

    Yields
    ------
    None
        Inside the block, fits train data-parallel.

    Raises
    ------
    ValueError
        When no process group is initialised
        (``torch.distributed.init_process_group`` comes first).

    Examples
    --------
    >>> from sklearn_dlpp import data_parallel
    >>> with data_parallel():  # doctest: +SKIP
    ...     clf.fit(X, y)
    """
    if not (dist.is_available() and dist.is_initialized()):
        msg = (
            "data_parallel() needs an initialised torch.distributed process group: call "
            "torch.distributed.init_process_group() first (e.g. in a script run by torchrun)."
        )
        raise ValueError(msg)
    token = _ENABLED.set(True)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def process_group() -> tuple[int, int] | None:
    """``(rank, world_size)`` inside :func:`data_parallel` with two ranks or more, else None."""
    if not _ENABLED.get() or not (dist.is_available() and dist.is_initialized()):
        return None
    world_size = dist.get_world_size()
    if world_size < 2:
        return None
    return dist.get_rank(), world_size


def _comm_device() -> torch.device:
    # NCCL only moves CUDA tensors; gloo and mpi take CPU tensors.
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def shared_seed(seed: int) -> int:
    """Rank 0's seed on every rank (the seed itself without a process group)."""
    if process_group() is None:
        return seed
    value = torch.tensor([seed], dtype=torch.int64, device=_comm_device())
    dist.broadcast(value, src=0)
    return int(value.item())


def shared_seed_and_state(seed: int) -> tuple[int, np.random.RandomState | None]:
    """Rank 0's seed, and a numpy state seeded by it, the same on every rank.

    Without a process group: ``(seed, None)``, the caller keeps its own state.
    Under one, every rank (rank 0 included) draws the validation split from the
    returned state: rank 0's own ``random_state`` may be numpy's global state
    (``random_state=None``), which the other ranks cannot reproduce.
    """
    if process_group() is None:
        return seed, None
    shared = shared_seed(seed)
    return shared, np.random.RandomState(shared)


def mean_over_ranks(value: float) -> float:
    """The mean of ``value`` over the ranks (``value`` itself without a process group)."""
    group = process_group()
    if group is None:
        return value
    total = torch.tensor([value], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(total)
    return float(total.item()) / group[1]


def mean_loss_over_ranks(loss: Tensor) -> Tensor:
    """A detached batch loss averaged over the ranks (for the history and for LBFGS)."""
    group = process_group()
    if group is None:
        return loss
    total = loss.detach().to(_comm_device(), torch.float64).reshape(1)
    dist.all_reduce(total)
    return (total / group[1]).to(loss.device, loss.dtype).reshape(loss.shape)


def shard(order: Tensor, rank: int, world_size: int) -> Tensor:
    """Rank ``rank``'s share of ``order``, padded by wrapping so that all shares have one length.

    Equal lengths give every rank the same number of batches, which
    DistributedDataParallel needs (a rank with one step more would wait forever
    for the others' gradients). As in ``DistributedSampler``, at most
    ``world_size - 1`` samples are seen twice per epoch.
    """
    per_rank = -(-len(order) // world_size)
    repeats = -(-per_rank * world_size // len(order))
    padded = order.repeat(repeats)[: per_rank * world_size]
    return padded[rank::world_size]


def wrap_for_data_parallel(module: nn.Module) -> nn.Module | None:
    """``module`` wrapped for gradient averaging when a process group is initialised.

    The wrapper shares the module's parameters; it broadcasts rank 0's weights
    at construction, so every rank starts from the same network.
    """
    if process_group() is None or not any(p.requires_grad for p in module.parameters()):
        return None
    device = next(module.parameters()).device
    device_ids = [device] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=device_ids)


def local_cuda_device() -> torch.device:
    """The GPU of this process: ``cuda:LOCAL_RANK`` under a launcher, else the current one.

    torchrun sets ``LOCAL_RANK``; all processes of a node would otherwise pile
    onto ``cuda:0``.
    """
    local_rank = os.environ.get("LOCAL_RANK", "")
    if process_group() is not None and local_rank.isdigit():
        return torch.device("cuda", int(local_rank) % torch.cuda.device_count())
    return torch.device("cuda")
