"""The base of the Keras-named optimizer specs."""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any, cast

import torch

from fitorch.optimizers import keras_apply, schedules
from fitorch.optimizers.learning_rate import (KerasLearningRateMixin, _lr_value,
                                              keras_optimizer_class)

def _positive(cls: str, name: str, value: Any, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{cls}: {name}={value!r} must be a number")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{cls}: {name}={value!r} must be {'>= 0' if allow_zero else '> 0'}")
    return float(value)


class Optimizer:
    """Base of the Keras-named optimizer specs: hyper-parameters now, ``build(params)`` later.

    Common arguments (Keras): ``learning_rate`` (a number, a
    :class:`~fitorch.optimizers.schedules.LearningRateSchedule` of the step count, or a callable
    of no arguments), ``weight_decay``, and gradient clipping
    ``clipnorm`` (per parameter), ``clipvalue``, ``global_clipnorm`` -- recorded here and applied
    by ``fit`` before each step (torch optimizers do not clip).
    """

    torch_class: type[torch.optim.Optimizer] = torch.optim.Optimizer
    #: Whether ``torch_class`` can decay weights Keras's way (decoupled, scaled by the learning
    #: rate); otherwise ``build`` does it in a step pre-hook instead of torch's L2 gradient term.
    torch_decouples_weight_decay = False

    def __init__(self, learning_rate: float = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None) -> None:
        cls = type(self).__name__
        if isinstance(learning_rate, dict):  # a serialized schedule, from get_config()
            learning_rate = schedules.deserialize(learning_rate)
        self._schedule: Any = None
        if schedules.is_schedule(learning_rate):
            schedules.check_callable(cls, learning_rate)
            self._schedule = learning_rate
            # A callable is called at build and before each step, as Keras calls it, not here
            learning_rate = learning_rate(0) if isinstance(
                learning_rate, schedules.LearningRateSchedule) else 0.0
        if not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool):
            raise TypeError(f"{cls}: learning_rate={learning_rate!r} must be a number, a "
                            "LearningRateSchedule or a callable of no arguments")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(f"{cls}: set only one of clipnorm={clipnorm!r} and "
                             f"global_clipnorm={global_clipnorm!r}")
        _positive(cls, "learning_rate", learning_rate, allow_zero=True)
        # a number (checked above), so never None as _positive's result type allows
        self._learning_rate: float = float(learning_rate)
        self.weight_decay: float | None = _positive(cls, "weight_decay", weight_decay, allow_zero=True)
        self.clipnorm: float | None = _positive(cls, "clipnorm", clipnorm)
        self.clipvalue: float | None = _positive(cls, "clipvalue", clipvalue)
        self.global_clipnorm: float | None = _positive(cls, "global_clipnorm", global_clipnorm)
        self.name: str = name or cls.lower()
        self._built: torch.optim.Optimizer | None = None
        self._built_for: list[int] = []

    def torch_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``torch_class`` that express this spec."""
        decay = self.weight_decay if self.torch_decouples_weight_decay else None
        return {"lr": self._learning_rate, "weight_decay": decay or 0.0}

    def build(self, params: Iterable[Any]) -> torch.optim.Optimizer:
        """A new ``torch_class`` optimizer over ``params`` (with Keras's ``lr`` attribute)."""
        optimizer = keras_optimizer_class(self.torch_class)(params, **self.torch_kwargs())
        if self._schedule is not None:  # first: the decay below uses this step's rate
            schedules.attach(optimizer, self._schedule)
        if self.weight_decay and not self.torch_decouples_weight_decay:
            optimizer.register_step_pre_hook(_decoupled_decay(self.weight_decay))
        clip = {k: getattr(self, k) for k in keras_apply.CLIP_KEYS if getattr(self, k) is not None}
        if clip:  # for Keras's ``optimizer.apply`` in custom steps (fit clips by itself)
            # an attribute of fitorch's own on torch's optimizer, which torch's stubs don't declare
            optimizer.fitorch_clip = clip  # type: ignore[attr-defined]
        return optimizer

    @property
    def learning_rate(self) -> Any:
        """The learning rate: a float (or the schedule), or the live variable once
        ``apply_gradients`` built an optimizer."""
        if self._built is not None:
            # build() always makes a keras_optimizer_class instance, which has learning_rate
            return cast(KerasLearningRateMixin, self._built).learning_rate
        return self._schedule if self._schedule is not None else self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if self._schedule is not None:
            raise TypeError(f"{type(self).__name__}: the learning rate follows "
                            f"{self._schedule!r} and can't be set")
        self._learning_rate = _lr_value(value)
        if self._built is not None:
            cast(KerasLearningRateMixin, self._built).learning_rate = value

    lr = learning_rate

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[Any] | None = None
              ) -> None:
        """Keras's ``optimizer.apply(grads, trainable_variables)`` in a custom step: one step
        on those variables with those gradients (see ``keras_apply.apply``).

        The torch optimizer is built on the first call's variables (and rebuilt if they
        change); later calls may leave ``trainable_variables`` out.
        """
        if trainable_variables is None:
            if self._built is None:
                raise ValueError(f"{type(self).__name__}.apply: the first call must pass "
                                 "trainable_variables (the optimizer is built on them)")
            params = [p for group in self._built.param_groups for p in group["params"]]
        else:
            params = list(trainable_variables)
        if self._built is None or [id(p) for p in params] != self._built_for:
            self._built = self.build(params)
            self._built_for = [id(p) for p in params]
        keras_apply.apply(self._built, grads, params)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[torch.Tensor | None, torch.Tensor]]
                        ) -> None:
        """Keras's custom-loop step: ``apply`` with ``zip(grads, variables)``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (Keras names)."""
        learning_rate: Any = float(self._learning_rate)
        if isinstance(self._schedule, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(self._schedule)
        elif self._schedule is not None:  # a Python callable: files can't hold it
            learning_rate = self._schedule
        return {"name": self.name, "learning_rate": learning_rate,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Rebuild a spec from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if v is not None)
        return f"{type(self).__name__}({args})"


def _decoupled_decay(weight_decay: float) -> Any:
    """Keras 3's weight decay for every optimizer: before the update, ``w -= w * wd * lr`` on
    the parameters being updated (torch's SGD, RMSprop, Adagrad, Adadelta and Adamax would add
    ``wd * w`` to the gradient instead, which their moment estimates then rescale)."""
    def before_step(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        with torch.no_grad():
            for group in optimizer.param_groups:
                factor = 1.0 - float(group["lr"]) * weight_decay
                for param in group["params"]:
                    if param.grad is not None:
                        param.mul_(factor)

    return before_step
