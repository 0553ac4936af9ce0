"""ReduceLROnPlateau: lower the learning rate when a monitored value stops improving."""

from __future__ import annotations

import math

import numpy as np

from fitorch.callbacks._dist import print_msg
from fitorch.callbacks._optim import get_optimizer, log_lrs, set_group_lr
from fitorch.callbacks.monitor_callback import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras semantics).

    After ``patience`` epochs without improvement every parameter group of ``model.optimizer``
    (a torch optimizer) gets ``max(lr * factor, min_lr)``. The rate each epoch trained with is
    added to its logs as ``learning_rate`` (``learning_rate_<i>`` with several parameter groups).

    Args:
        monitor: logged value to watch.
        factor: the new learning rate is ``lr * factor``; must be in (0, 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints each reduction.
        mode: ``"min"``, ``"max"`` or ``"auto"``.
        min_delta: an epoch improves only if it beats the best by more than this.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate never goes below this.

    Example:

    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> # min_delta so large that no epoch counts as an improvement after the first
    >>> reduce = ft.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
    ...                                         min_delta=100.0)
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[reduce])
    >>> [round(lr, 6) for lr in history.history["learning_rate"]]
    [0.01, 0.01, 0.005]
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0,
                 min_lr: float = 0.0) -> None:
        if not isinstance(factor, (int, float)) or not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be a number in (0, 1), got {factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        if not isinstance(min_lr, (int, float)) or not math.isfinite(min_lr) or min_lr < 0:
            raise ValueError(f"min_lr must be a number >= 0, got {min_lr!r}")
        super().__init__(monitor, mode, min_delta=min_delta)
        self.factor = float(factor)
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = float(min_lr)
        self._reset()

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        get_optimizer(self.model, "ReduceLROnPlateau")
        self._reset()

    def in_cooldown(self) -> bool:
        """Whether the callback is still waiting after its last reduction."""
        return self.cooldown_counter > 0

    def _reduce(self, epoch: int) -> bool:
        optimizer = get_optimizer(self.model, "ReduceLROnPlateau")
        reduced = False
        for i, group in enumerate(optimizer.param_groups):
            old_lr = float(group["lr"])
            # Compared in float32 as Keras does, so a rate stored as float32 equal to min_lr
            # is not "reduced" forever by rounding noise.
            if old_lr > np.float32(self.min_lr):
                new_lr = max(old_lr * self.factor, self.min_lr)
                set_group_lr(group, new_lr)
                reduced = True
                if self.verbose > 0:
                    which = f" (param group {i})" if len(optimizer.param_groups) > 1 else ""
                    print_msg(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate"
                              f"{which} to {new_lr}.")
        return reduced

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        # Logged before any reduction, as in Keras: the rate this epoch trained with.
        log_lrs(get_optimizer(self.model, "ReduceLROnPlateau"), logs)
        current = self._monitor_value(logs, "Learning rate reduction")
        if current is not None:
            if self.in_cooldown():
                self.cooldown_counter -= 1
                self.wait = 0
            if self._is_improvement(current, self.best):
                self.best = current
                self.wait = 0
            elif not self.in_cooldown():
                self.wait += 1
                if self.wait >= self.patience and self._reduce(epoch):
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
