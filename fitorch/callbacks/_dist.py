"""Which process writes: under distributed training only rank 0 prints and writes files."""

from __future__ import annotations

from typing import Any

import torch

from fitorch.training.engine import is_main_process

__all__ = ["is_main_process", "print_msg", "broadcast_from_main"]


def print_msg(message: str) -> None:
    """Print a callback's message, once per job (on the main process only)."""
    if is_main_process():
        print(message, flush=True)


def broadcast_from_main(value: Any) -> Any:
    """Rank 0's ``value`` on every process (a collective: all must call it); as is when
    there is one process."""
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
