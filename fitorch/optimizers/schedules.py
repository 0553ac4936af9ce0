"""Keras's learning-rate schedules: ``Adam(learning_rate=ExponentialDecay(...))``.

A schedule maps the optimizer's step count (0 for the first update) to a learning rate. An
optimizer built from a spec whose ``learning_rate`` is a schedule, or a callable of no arguments
(Keras accepts both), sets every parameter group's ``lr`` before each ``step()``; the step count
lives in the parameter groups, so it is saved and restored with ``optimizer.state_dict()``.
Values are computed in Python floats on the host: no device op, no sync.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

import torch

__all__ = ["CosineDecay", "CosineDecayRestarts", "ExponentialDecay", "InverseTimeDecay",
           "LearningRateSchedule", "PiecewiseConstantDecay", "PolynomialDecay", "deserialize",
           "serialize"]

_STEP_KEY = "schedule_step"  # in each param group: updates applied so far


def _number(owner: str, name: str, value: Any, minimum: float | None = None,
            strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name}={value!r} must be a number")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        raise ValueError(f"{owner}: {name}={value!r} must be {'>' if strict else '>='} "
                         f"{minimum}")
    return value if isinstance(value, int) else float(value)  # configs keep ints as given


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step) -> float`` and ``get_config()``."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step)")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Rebuild from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (the exponent floored
    with ``staircase=True``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay") -> None:
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate",
                                             initial_learning_rate, 0.0)
        self.decay_steps = _number(owner, "decay_steps", decay_steps, 0.0, strict=True)
        self.decay_rate = _number(owner, "decay_rate", decay_rate, 0.0)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(ExponentialDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio floored
    with ``staircase=True``)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay") -> None:
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` up to ``boundaries[0]`` (inclusive), ``values[1]`` up to
    ``boundaries[1]``, ..., ``values[-1]`` after the last boundary."""

    def __init__(self, boundaries: list[int], values: list[float],
                 name: str = "PiecewiseConstant") -> None:
        owner = type(self).__name__
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"{owner}: boundaries={boundaries} must have one entry fewer than "
                             f"values={values}")
        if boundaries != sorted(boundaries):
            raise ValueError(f"{owner}: boundaries={boundaries} must be increasing")
        self.boundaries = [_number(owner, "boundaries", b) for b in boundaries]
        self.values = [_number(owner, "values", v, 0.0) for v in values]
        self.name = name

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps`` along
    ``(1 - step / decay_steps) ** power``; with ``cycle=True`` it restarts, each period longer."""

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay") -> None:
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate",
                                             initial_learning_rate, 0.0)
        self.decay_steps = _number(owner, "decay_steps", decay_steps, 0.0, strict=True)
        self.end_learning_rate = _number(owner, "end_learning_rate", end_learning_rate, 0.0)
        self.power = _number(owner, "power", power)
        self.cycle = bool(cycle)
        self.name = name

    def __call__(self, step: int) -> float:
        decay_steps = self.decay_steps
        progress: float = step
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            progress = min(step, decay_steps)
        p = progress / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power \
            + self.end_learning_rate

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or, after a linear warmup of
    ``warmup_steps`` to ``warmup_target``, from that) down to ``alpha`` times it over
    ``decay_steps``."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0) -> None:
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate",
                                             initial_learning_rate, 0.0)
        self.decay_steps = _number(owner, "decay_steps", decay_steps, 0.0, strict=True)
        self.alpha = _number(owner, "alpha", alpha, 0.0)
        self.name = name
        self.warmup_target = None if warmup_target is None else _number(
            owner, "warmup_target", warmup_target, 0.0)
        self.warmup_steps = _number(owner, "warmup_steps", warmup_steps, 0.0)

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        progress = min(step, self.decay_steps + self.warmup_steps)
        if progress < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * progress / self.warmup_steps + self.initial_learning_rate
        return self._decay(progress - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay over ``first_decay_steps``, then warm restarts, each period
    ``t_mul`` times longer and starting ``m_mul`` times lower."""

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay") -> None:
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate",
                                             initial_learning_rate, 0.0)
        self.first_decay_steps = _number(owner, "first_decay_steps", first_decay_steps, 0.0,
                                         strict=True)
        self.t_mul = _number(owner, "t_mul", t_mul, 0.0, strict=True)
        self.m_mul = _number(owner, "m_mul", m_mul, 0.0)
        self.alpha = _number(owner, "alpha", alpha, 0.0)
        self.name = name

    def __call__(self, step: int) -> float:
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul))
                                 / math.log(self.t_mul))
            done = (1.0 - self.t_mul ** restart) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul ** restart
        cosine = 0.5 * self.m_mul ** restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_BY_NAME: dict[str, type[LearningRateSchedule]] = {
    cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay,
                                  PolynomialDecay, CosineDecay, CosineDecayRestarts)}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}``, as Keras writes it."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"serialize: {schedule!r} is not a LearningRateSchedule")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None
                ) -> LearningRateSchedule:
    """The schedule ``serialize`` described; classes come from this module's table or
    ``custom_objects``, never from an import."""
    if not (isinstance(config, dict) and isinstance(config.get("class_name"), str)
            and isinstance(config.get("config"), dict)):
        raise ValueError(f"deserialize: {config!r} is not a serialized schedule "
                         "({'class_name': ..., 'config': {...}})")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(name)
    if not (isinstance(cls, type) and issubclass(cls, LearningRateSchedule)):
        raise ValueError(f"deserialize: unknown learning-rate schedule {name!r}; known: "
                         f"{sorted(_BY_NAME)} (pass your own class in custom_objects)")
    try:
        return cls.from_config(config["config"])
    except TypeError as err:
        raise ValueError(f"deserialize: bad config for {name}: {err}") from None


def is_schedule(value: Any) -> bool:
    """A schedule or a callable of no arguments, as Keras accepts for ``learning_rate``."""
    return isinstance(value, LearningRateSchedule) or (
        callable(value) and not isinstance(value, (numbers.Real, torch.Tensor)))


def check_callable(owner: str, learning_rate: Any) -> None:
    """Keras calls a plain callable learning rate with no arguments; refuse one that needs some
    (a function of the step should be a ``LearningRateSchedule``)."""
    if isinstance(learning_rate, LearningRateSchedule):
        return
    try:
        inspect.signature(learning_rate).bind()
    except TypeError:
        raise TypeError(f"{owner}: learning_rate={learning_rate!r} must be callable with no "
                        "arguments (it is called before each step); for a function of the step "
                        "subclass fitorch.optimizers.schedules.LearningRateSchedule") from None
    except ValueError:  # no signature to inspect (some builtins): let the call decide
        pass


def attach(optimizer: torch.optim.Optimizer, learning_rate: Callable[..., Any]) -> None:
    """Set every group's ``lr`` from ``learning_rate`` before each ``optimizer.step()``."""
    takes_step = isinstance(learning_rate, LearningRateSchedule)
    for group in optimizer.param_groups:
        group.setdefault(_STEP_KEY, 0)

    def before_step(opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        step = opt.param_groups[0][_STEP_KEY]
        value = float(learning_rate(step) if takes_step else learning_rate())
        for group in opt.param_groups:
            if isinstance(group["lr"], torch.Tensor):  # capturable / fused: keep it a tensor
                group["lr"].fill_(value)
            else:
                group["lr"] = value
            group[_STEP_KEY] = step + 1

    optimizer.register_step_pre_hook(before_step)
    optimizer.fitorch_lr_schedule = learning_rate  # type: ignore[attr-defined]
    first = learning_rate(0) if takes_step else learning_rate()
    for group in optimizer.param_groups:
        group["lr"] = float(first)
