"""Test session setup: one torch thread.

With two threads on a 2-core machine that is busy with anything else, torch was
measured 10x slower; tests are many small fits, so one thread is the right
budget for them.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

torch.set_num_threads(1)
