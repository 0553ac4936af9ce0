"""Keras's ``lr`` / ``learning_rate`` variable on torch optimizers."""

from __future__ import annotations

import numbers
from typing import Any

import torch

from fitorch.optimizers import keras_apply


def _lr_value(value: Any) -> float:
    if isinstance(value, LearningRate):
        return value.numpy()
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:  # NumPy scalars and 1-arrays
        return float(value.item())
    raise TypeError(f"learning rate {value!r} ({type(value).__name__}) is not a number")


class LearningRate:
    """Keras-variable view of a torch optimizer's learning rate.

    Reads the first parameter group's ``lr``; ``assign(v)`` sets every group's ``lr``. Supports
    ``numpy()``, ``float()``, arithmetic and comparisons with numbers, ``assign_add`` and
    ``assign_sub``.
    """

    __slots__ = ("_optimizer",)

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self._optimizer = optimizer

    def numpy(self) -> float:
        """The current learning rate as a Python float."""
        return _lr_value(self._optimizer.param_groups[0]["lr"])

    value = property(numpy, doc="The current learning rate (Keras ``variable.value``).")

    def read_value(self) -> float:
        """The current learning rate (Keras ``variable.read_value()``)."""
        return self.numpy()

    def assign(self, value: Any) -> LearningRate:
        """Set the learning rate of every parameter group."""
        schedule = getattr(self._optimizer, "fitorch_lr_schedule", None)
        if schedule is not None:  # the schedule would overwrite it at the next step
            raise TypeError(f"the learning rate follows the schedule {schedule!r} given to the "
                            "optimizer and can't be assigned")
        new = _lr_value(value)
        if not new >= 0.0:
            raise ValueError(f"learning rate must be >= 0; got {value!r}")
        for group in self._optimizer.param_groups:
            if isinstance(group["lr"], torch.Tensor):  # tensor lr (capturable / fused): keep it one
                group["lr"].fill_(new)
            else:
                group["lr"] = new
        return self

    def assign_add(self, delta: Any) -> LearningRate:
        """``lr += delta``."""
        return self.assign(self.numpy() + _lr_value(delta))

    def assign_sub(self, delta: Any) -> LearningRate:
        """``lr -= delta``."""
        return self.assign(self.numpy() - _lr_value(delta))

    def __float__(self) -> float:
        return self.numpy()

    def __repr__(self) -> str:
        return f"<LearningRate value={self.numpy()!r}>"

    def __format__(self, spec: str) -> str:
        return format(self.numpy(), spec)

    def __add__(self, other: Any) -> float:
        return self.numpy() + _lr_value(other)

    def __sub__(self, other: Any) -> float:
        return self.numpy() - _lr_value(other)

    def __mul__(self, other: Any) -> float:
        return self.numpy() * _lr_value(other)

    def __truediv__(self, other: Any) -> float:
        return self.numpy() / _lr_value(other)

    def __radd__(self, other: Any) -> float:
        return _lr_value(other) + self.numpy()

    def __rsub__(self, other: Any) -> float:
        return _lr_value(other) - self.numpy()

    def __rmul__(self, other: Any) -> float:
        return _lr_value(other) * self.numpy()

    def __rtruediv__(self, other: Any) -> float:
        return _lr_value(other) / self.numpy()

    def __pow__(self, other: Any) -> float:
        return self.numpy() ** _lr_value(other)

    def __neg__(self) -> float:
        return -self.numpy()

    def __eq__(self, other: Any) -> bool:
        try:
            return self.numpy() == _lr_value(other)
        except TypeError:
            return NotImplemented

    def __lt__(self, other: Any) -> bool:
        return self.numpy() < _lr_value(other)

    def __le__(self, other: Any) -> bool:
        return self.numpy() <= _lr_value(other)

    def __gt__(self, other: Any) -> bool:
        return self.numpy() > _lr_value(other)

    def __ge__(self, other: Any) -> bool:
        return self.numpy() >= _lr_value(other)

    __hash__ = None  # type: ignore[assignment]


class KerasLearningRateMixin:
    """Adds Keras's ``lr`` / ``learning_rate`` to a torch optimizer class (see ``LearningRate``)."""

    _torch_class: type[torch.optim.Optimizer]

    @property
    def learning_rate(self) -> LearningRate:
        """The learning rate as a Keras-style variable (``.assign``, ``.numpy()``, arithmetic)."""
        return LearningRate(self)  # type: ignore[arg-type]

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        LearningRate(self).assign(value)  # type: ignore[arg-type]

    lr = learning_rate

    def apply(self, grads: Any, trainable_variables: Any = None) -> None:
        """Keras's ``optimizer.apply(grads, trainable_variables)``: one step on those
        variables (default: all the optimizer holds) with those gradients."""
        keras_apply.apply(self, grads, trainable_variables)  # type: ignore[arg-type]

    def apply_gradients(self, grads_and_vars: Any) -> None:
        """Keras's ``optimizer.apply_gradients(zip(grads, variables))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def __reduce_ex__(self, protocol: Any) -> Any:
        # pickle by the torch class, which is importable; the Keras subclass is rebuilt on load
        reduced = super().__reduce_ex__(protocol)
        return (_new_keras_optimizer, (self._torch_class,), *reduced[2:])


_KERAS_CLASSES: dict[type, type] = {}


def keras_optimizer_class(torch_class: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """The cached subclass of ``torch_class`` that adds Keras's ``lr`` / ``learning_rate``."""
    if issubclass(torch_class, KerasLearningRateMixin):
        return torch_class
    cls = _KERAS_CLASSES.get(torch_class)
    if cls is None:
        cls = type(torch_class.__name__, (KerasLearningRateMixin, torch_class),
                   {"_torch_class": torch_class, "__module__": torch_class.__module__,
                    "__doc__": torch_class.__doc__})
        _KERAS_CLASSES[torch_class] = cls
    return cls


def _new_keras_optimizer(torch_class: type[torch.optim.Optimizer]) -> torch.optim.Optimizer:
    cls = keras_optimizer_class(torch_class)
    return cls.__new__(cls)


def wrap_keras_lr(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """Give a torch optimizer instance Keras's ``lr`` / ``learning_rate`` in place.

    The object stays the same (same state, still an instance of its class: only a subclass adding
    the two properties is put in its place), so schedulers already attached keep working.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"wrap_keras_lr: {optimizer!r} is not a torch.optim.Optimizer")
    if not isinstance(optimizer, KerasLearningRateMixin):
        optimizer.__class__ = keras_optimizer_class(type(optimizer))
    return optimizer
