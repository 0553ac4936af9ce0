"""Reading and setting learning rates on a ``torch.optim.Optimizer``'s parameter groups."""

from __future__ import annotations

from typing import Any

import torch


def get_optimizer(model: Any, who: str) -> torch.optim.Optimizer:
    """``model.optimizer``, or an error saying that ``who`` needs one."""
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"{who} needs model.optimizer to be a torch.optim.Optimizer "
                         f"(compile the model first); got {type(optimizer).__name__}")
    return optimizer


def group_lrs(optimizer: torch.optim.Optimizer) -> list[float]:
    """The learning rate of every parameter group, as floats."""
    return [float(group["lr"]) for group in optimizer.param_groups]


def set_group_lr(group: dict, lr: float) -> None:
    """Set one parameter group's learning rate, in place when it is a tensor (capturable
    optimizers and CUDA graphs hold on to that tensor)."""
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].fill_(lr)
    else:
        group["lr"] = lr


def log_lrs(optimizer: torch.optim.Optimizer, logs: dict | None) -> None:
    """Add ``learning_rate`` (one group) or ``learning_rate_<i>`` (several) to epoch logs, as
    Keras does, so History, CSVLogger and the progress bar show it."""
    if logs is None:
        return
    lrs = group_lrs(optimizer)
    if len(lrs) == 1:
        logs["learning_rate"] = lrs[0]
    else:
        logs.update({f"learning_rate_{i}": lr for i, lr in enumerate(lrs)})
