"""``fit(..., on_nan="restore")``: keep the last good training state and put it back.

The loss is read once per epoch (reading it per step would synchronise with the device), so a
NaN/inf loss is seen at the end of the epoch it appeared in. The last state known to be good is
therefore the one at the start of that epoch: a copy of the weights and buffers, the optimizer's
state, and the learning-rate scheduler's and gradient scaler's, taken when each epoch begins.
That copy costs one model's worth of memory and a copy per epoch, so it is opt-in.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def _copy_state(state: Any) -> Any:
    return copy.deepcopy(state)  # tensors are cloned, so later steps cannot reach the copy


class LastGoodState:
    """Copies of ``model``'s and ``config``'s training state, taken by ``save``."""

    def __init__(self, model: nn.Module, config: Any) -> None:
        if config.fsdp is not None:
            raise ValueError("fit: on_nan='restore' is not supported under FSDP (the weights "
                             "are sharded across processes); use on_nan='raise' or 'stop' and "
                             "BackupAndRestore")
        self.model, self.config = model, config
        self.saved: dict[str, Any] | None = None

    def save(self) -> None:
        """Remember the current state as the last good one."""
        config = self.config
        with torch.no_grad():
            weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        scaler = config.precision.scaler
        self.saved = {
            "model": weights,
            "optimizer": None if config.optimizer is None
            else _copy_state(config.optimizer.state_dict()),
            "scheduler": None if config.lr_scheduler is None
            else _copy_state(config.lr_scheduler.state_dict()),
            "scaler": None if scaler is None else _copy_state(scaler.state_dict()),
        }

    def restore(self) -> None:
        """Put the saved state back, in place (the optimizer keeps its parameters)."""
        assert self.saved is not None, "save() was never called"
        saved, config = self.saved, self.config
        self.model.load_state_dict(saved["model"])
        optimizer = config.optimizer
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            if saved["optimizer"] is not None:
                optimizer.load_state_dict(_copy_state(saved["optimizer"]))
            else:  # built during the epoch (lazy layers): back to a fresh optimizer
                optimizer.state.clear()
        if saved["scheduler"] is not None:
            config.lr_scheduler.load_state_dict(_copy_state(saved["scheduler"]))
        if saved["scaler"] is not None:
            config.precision.scaler.load_state_dict(_copy_state(saved["scaler"]))


__all__ = ["LastGoodState"]
