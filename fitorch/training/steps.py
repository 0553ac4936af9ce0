"""The function-style training API the seed teaches: ``train_step``, ``valid_step``,
``train_model``.

They are the same machinery as ``fit`` (``train_on_batch``, ``test_on_batch``, ``fit``), not a
second copy. They accept a compiled ``fitorch.Model`` or, as in the seed, any ``nn.Module`` on
which ``optimizer``, ``loss_func`` and optionally ``metric_func`` / ``metric_name`` were set.
"""

from __future__ import annotations

import datetime
import warnings
from typing import Any

from torch import nn

from fitorch.callbacks.callback import Callback


def as_compiled_model(model: nn.Module) -> Any:
    """``model`` itself if it is a compiled ``fitorch.Model``, else a compiled wrapper of it.

    The wrapper is built from the seed's attributes (``model.optimizer``, ``model.loss_func``,
    ``model.metric_func``, ``model.metric_name``) once, and reused while they stay the same.
    """
    from fitorch.models.model import Model

    if isinstance(model, Model) and model.compiled:
        return model
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
    attrs = model.__dict__
    optimizer, loss = _seed_attr(model, "optimizer"), _seed_attr(model, "loss_func")
    if optimizer is None or loss is None:
        raise ValueError(
            f"{type(model).__name__} is not compiled: compile a fitorch.Model, or set "
            "model.optimizer and model.loss_func (and optionally model.metric_func and "
            "model.metric_name) as the seed does")
    if isinstance(model, nn.Sequential) and model._modules.get("loss_func") is loss:
        warnings.warn("model.loss_func was set on an nn.Sequential, which registers the loss as "
                      "its last layer (torch behaviour): the forward pass now runs it too. Keep "
                      "the loss outside the Sequential, or compile a fitorch.Model", stacklevel=3)
    metric = _seed_attr(model, "metric_func")
    metric_name = _seed_attr(model, "metric_name") or "metric"
    wrapped = model if isinstance(model, Model) else Model(model)
    config = attrs.get("_ft")
    if config is None or config.optimizer is not optimizer or config.loss_spec is not loss \
            or attrs.get("_ft_metric") is not metric:
        wrapped.compile(optimizer=optimizer, loss=loss,
                        metrics=None if metric is None else {metric_name: metric})
        attrs["_ft_metric"] = metric
    return wrapped


def _seed_attr(model: nn.Module, name: str) -> Any:
    """An attribute the seed sets on a plain module (a loss module lands in ``_modules``);
    read from the instance so ``Model``'s own ``optimizer`` property does not hide it."""
    value = model.__dict__.get(name)
    return value if value is not None else model._modules.get(name)


def train_step(model: nn.Module, x: Any, y: Any, sample_weight: Any = None,
               return_dict: bool = False) -> Any:
    """One training step on one batch; returns ``[loss, *metrics]`` of that batch."""
    from fitorch.models.model import Model

    # Model's own methods: a subclass (e.g. compat.torchkeras) may redefine the public names
    return Model.train_on_batch(as_compiled_model(model), x, y, sample_weight=sample_weight,
                                return_dict=return_dict)


def valid_step(model: nn.Module, x: Any, y: Any, sample_weight: Any = None,
               return_dict: bool = False) -> Any:
    """Loss and metrics of one batch in evaluation mode, without gradients."""
    from fitorch.models.model import Model

    return Model.test_on_batch(as_compiled_model(model), x, y, sample_weight=sample_weight,
                               return_dict=return_dict)


class StepLogger(Callback):
    """Prints the seed's training log: ``[step = 100] loss: 0.742, accuracy: 0.745`` every
    ``log_step_freq`` steps, then an ``EPOCH = ...`` line and a timestamped rule."""

    def __init__(self, log_step_freq: int, print_fn: Any = print) -> None:
        super().__init__()
        if not isinstance(log_step_freq, int) or log_step_freq < 1:
            raise ValueError(f"log_step_freq={log_step_freq!r}: expected an int >= 1")
        self.log_step_freq = log_step_freq
        self.print = print_fn

    @property
    def _wants_main_process_only(self) -> bool:
        return True

    def _rule(self) -> None:
        self.print("=" * 80 + datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.print("Start Training...")
        self._rule()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        step = batch + 1
        if step % self.log_step_freq == 0:  # logs are read (one device sync) only here
            values = ", ".join(f"{k}: {v:.3f}" for k, v in logs.items())
            self.print(f"[step = {step}] {values}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        values = ", ".join(f"{k} = {v:.3f}" for k, v in (logs or {}).items())
        self.print(f"\nEPOCH = {epoch + 1}, {values}\n")
        self._rule()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.print("Finished Training...")


def train_model(model: nn.Module, epochs: int, dl_train: Any, dl_valid: Any = None,
                log_step_freq: int = 1, callbacks: list | None = None) -> Any:
    """Train with ``fit`` and the seed's logging; returns the history ``DataFrame``
    (columns ``epoch, loss, <metric>, val_loss, val_<metric>``)."""
    from fitorch.models.model import Model

    logger = StepLogger(log_step_freq)
    history = Model.fit(
        as_compiled_model(model), dl_train, validation_data=dl_valid, epochs=epochs, verbose=0,
        callbacks=[logger, *(callbacks or [])])
    return history.to_pandas()
