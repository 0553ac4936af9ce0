"""LearningRateScheduler: set the learning rate at the start of every epoch from a function."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

from fitorch.callbacks._dist import print_msg
from fitorch.callbacks._optim import get_optimizer, log_lrs, set_group_lr
from fitorch.callbacks.callback import Callback


def _takes_lr(schedule: Callable) -> bool:
    """Whether ``schedule`` accepts ``(epoch, lr)``; Keras 1-argument schedules take ``(epoch)``."""
    try:
        params = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume the current API
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)``.

    ``epoch`` counts from 0 and ``lr`` is the current rate of each parameter group of
    ``model.optimizer``; a schedule taking only ``epoch`` works too (Keras 1's form). Every new
    rate is checked (a finite float >= 0) before any is set. The rate used is added to the epoch
    logs as ``learning_rate`` (``learning_rate_<i>`` with several parameter groups).

    Args:
        schedule: a function ``(epoch, lr) -> new lr`` (or ``epoch -> new lr``).
        verbose: 1 prints each new rate.

    Example:

    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> schedule = ft.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    >>> history = model.fit(x, y, epochs=3, verbose=0, callbacks=[schedule])
    >>> [round(lr, 4) for lr in history.history["learning_rate"]]
    [0.1, 0.05, 0.0333]
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        if not callable(schedule):
            raise TypeError(f"schedule must be a function (epoch, lr) -> lr, got {schedule!r}")
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _takes_lr(schedule)

    def _new_lr(self, epoch: int, lr: float) -> float:
        new_lr = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        if hasattr(new_lr, "item") and getattr(new_lr, "ndim", 0) == 0:
            new_lr = new_lr.item()  # numpy / torch scalars
        if isinstance(new_lr, bool) or not isinstance(new_lr, (int, float)) \
                or not math.isfinite(new_lr) or new_lr < 0:
            raise ValueError(f"LearningRateScheduler: schedule({epoch}, {lr}) returned "
                             f"{new_lr!r}; expected a finite float >= 0")
        return float(new_lr)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        groups = get_optimizer(self.model, "LearningRateScheduler").param_groups
        # Every rate is computed (and checked) before any is set, so a bad value changes nothing.
        new_lrs = [self._new_lr(epoch, float(group["lr"])) for group in groups]
        for i, (group, lr) in enumerate(zip(groups, new_lrs)):
            set_group_lr(group, lr)
            if self.verbose > 0:
                which = f" (param group {i})" if len(groups) > 1 else ""
                print_msg(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate"
                          f"{which} to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        log_lrs(get_optimizer(self.model, "LearningRateScheduler"), logs)
