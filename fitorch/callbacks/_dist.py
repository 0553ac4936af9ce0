"""Which process writes: under distributed training only rank 0 prints and writes files."""

from __future__ import annotations

import torch


def is_main_process() -> bool:
    """True unless ``torch.distributed`` is initialized and this process is not rank 0."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def print_msg(message: str) -> None:
    """Print a callback's message, once per job (on the main process only)."""
    if is_main_process():
        print(message, flush=True)
