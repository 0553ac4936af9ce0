"""What both summary tables share: Keras's way of counting weights, output shapes, printing."""

from __future__ import annotations

import sys
from typing import Any, Callable

import torch
from torch import nn

__all__ = ["count_weights", "emit", "shapes_of_output"]

_STAT_BUFFERS = ("running_mean", "running_var")
# torch's norm layers with running statistics, by their public names (their common base
# ``_NormBase`` is private; tests/test_private_torch.py checks this list against it).
_NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
                nn.LazyBatchNorm1d, nn.LazyBatchNorm2d, nn.LazyBatchNorm3d,
                nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
                nn.LazyInstanceNorm1d, nn.LazyInstanceNorm2d, nn.LazyInstanceNorm3d)


# --------------------------------------------------------------------------- weight counting
def _weights(module: nn.Module) -> dict[int, tuple[torch.Tensor, bool]]:
    """id -> (tensor, trainable) for every weight of ``module``, each tensor once."""
    found: dict[int, tuple[torch.Tensor, bool]] = {}
    for param in module.parameters():
        found.setdefault(id(param), (param, param.requires_grad))
    for sub in module.modules():
        names = list(getattr(sub, "_weight_names", ()))  # fitorch layers: add_weight buffers
        if isinstance(sub, _NORM_LAYERS):
            names += list(_STAT_BUFFERS)
        for name in names:
            buffer = sub._buffers.get(name)
            if buffer is not None:
                found.setdefault(id(buffer), (buffer, False))
    return found


def count_weights(module: nn.Module) -> tuple[int, int, int, int]:
    """``(trainable, non_trainable, trainable_bytes, non_trainable_bytes)`` as Keras counts them."""
    counts = [0, 0, 0, 0]
    for tensor, trainable in _weights(module).values():
        if isinstance(tensor, nn.parameter.UninitializedParameter):
            continue
        slot = 0 if trainable else 1
        counts[slot] += tensor.numel()
        counts[slot + 2] += tensor.numel() * tensor.element_size()
    return counts[0], counts[1], counts[2], counts[3]


def emit(text: str, print_fn: Callable | None) -> None:
    """Print a finished table through ``print_fn``, or to stdout ending with one newline."""
    if print_fn is not None:
        print_fn(text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def shapes_of_output(out: Any) -> Any:
    """The shapes of a module's output: a tuple per tensor, in the output's list/dict structure."""
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (list, tuple)):
        return [shapes_of_output(o) for o in out]
    if isinstance(out, dict):
        return {k: shapes_of_output(o) for k, o in out.items()}
    return None

