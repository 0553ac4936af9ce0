"""Weight constraints with Keras names (``fitorch.constraints``): ``MaxNorm``, ``NonNeg``,
``UnitNorm``, ``MinMaxNorm`` and their lowercase aliases (``constraints.max_norm(3)``).

A constraint is a callable ``constraint(w) -> projected w``. Layers take them as
``kernel_constraint=`` etc.; as in Keras they are applied to the weights after every optimizer
step (see ``fitorch.layers.constraint_hooks``), on the weight in Keras's layout, so ``axis``
means what it means in Keras (``axis=0`` of a Dense kernel ``(in, out)`` is per output unit).
"""

from __future__ import annotations

from typing import Any

import torch

from fitorch import _objects, backend


class Constraint(_objects.Configurable):
    """Base class: ``constraint(w)`` returns the projected weight (the identity here)."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w


def _number(owner: str, name: str, value: Any, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"{owner}: {name}={value!r} must be a number >= {minimum}")
    return float(value)


def _axis(owner: str, axis: Any) -> int | list[int]:
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    if isinstance(axis, (list, tuple)) and axis and all(
            isinstance(a, int) and not isinstance(a, bool) for a in axis):
        return list(axis)
    raise ValueError(f"{owner}: axis={axis!r} must be an int or a list of ints")


def _norms(w: torch.Tensor, axis: int | list[int]) -> torch.Tensor:
    return torch.sqrt(torch.sum(torch.square(w), dim=axis, keepdim=True))


class MaxNorm(Constraint):
    """Rescales the weights along ``axis`` whose L2 norm exceeds ``max_value`` down to it."""

    def __init__(self, max_value: float = 2, axis: int | list[int] = 0):
        self.max_value = _number("MaxNorm", "max_value", max_value)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = norms.clamp(0.0, self.max_value)
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w.clamp_min(0.0)


class UnitNorm(Constraint):
    """Divides the weights along ``axis`` by their L2 norm."""

    def __init__(self, axis: int | list[int] = 0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w / (backend.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the L2 norm of the weights along ``axis`` into ``[min_value, max_value]``: to
    ``rate * clip(norm) + (1 - rate) * norm`` (``rate=1`` enforces it strictly)."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | list[int] = 0):
        self.min_value = _number("MinMaxNorm", "min_value", min_value)
        self.max_value = _number("MinMaxNorm", "max_value", max_value, self.min_value)
        self.rate = _number("MinMaxNorm", "rate", rate)
        self.axis = _axis("MinMaxNorm", axis)

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + \
            (1 - self.rate) * norms
        return w * (desired / (backend.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras's lowercase aliases are the classes themselves.
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_CLASSES: dict[str, type] = {
    "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
    "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
    "Constraint": Constraint,
}


def get(identifier: Any) -> Any:
    """``None``, a name (``"max_norm"``), a ``{"class_name", "config"}`` dict, a class, a
    Constraint or a callable ``(tensor) -> tensor`` -> a constraint (or ``None``)."""
    return _objects.get("constraint", identifier, Constraint, _CLASSES, "max_norm")


def serialize(constraint: Constraint) -> dict[str, Any]:
    """``{"class_name", "config"}`` of a constraint (``deserialize`` rebuilds it)."""
    return _objects.serialize(constraint)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Constraint:
    """Rebuild a constraint from ``serialize``'s output, a name or a class."""
    return _objects.deserialize("constraint", config, _CLASSES, custom_objects)


__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg",
           "unit_norm", "min_max_norm", "get", "serialize", "deserialize"]
