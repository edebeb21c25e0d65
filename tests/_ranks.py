"""Run a function on two gloo ranks over loopback: shared by the data-parallel tests."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

WORLD_SIZE = 2


def _rank_main(rank: int, port: int, out_dir: str, work: Callable[[int], Any]) -> None:
    """One rank: join the group on 127.0.0.1, run ``work(rank)``, save what it returned."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    # gloo binds to the interface of the host name unless told otherwise: stay on loopback.
    os.environ.setdefault("GLOO_SOCKET_IFNAME", _loopback_interface())
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD_SIZE)
    try:
        torch.save(work(rank), os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _loopback_interface() -> str:
    """The loopback interface's name: ``lo`` on Linux, ``lo0`` on macOS."""
    names = {name for _, name in socket.if_nameindex()}
    return "lo" if "lo" in names else "lo0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_on_ranks(work: Callable[[int], Any], out_dir: Path, timeout_s: float = 180) -> list:
    """``work(rank)`` on every rank (a module-level function: spawn pickles it by name).

    A rank that waits forever for a collective fails the test instead of hanging it.
    """
    context = mp.start_processes(
        _rank_main,
        args=(_free_port(), str(out_dir), work),
        nprocs=WORLD_SIZE,
        join=False,
        start_method="spawn",
    )
    deadline = time.monotonic() + timeout_s
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the data-parallel fits did not finish in {timeout_s:.0f} s")
    # Written by the ranks: plain Python and tensors, loaded in full.
    return [torch.load(out_dir / f"rank{r}.pt", weights_only=False) for r in range(WORLD_SIZE)]
