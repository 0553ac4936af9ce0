"""Weight penalties with Keras names: ``L1``, ``L2``, ``L1L2`` (``"l1"``, ``"l2"``, ``"l1_l2"``).

A regularizer is a callable ``reg(weight) -> scalar tensor``. Layers keep the penalties of their
weights in ``layer.losses``; ``fitorch.layers.regularization_losses(model)`` sums them for a
trainer.
"""

from __future__ import annotations

from typing import Any

import torch


class Regularizer:
    """Base class: ``reg(x)`` returns a scalar penalty for tensor ``x``."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (``type(reg)(**reg.get_config())`` recreates it)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _factor(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{owner}: {name}={value!r} must be a non-negative number")
    return float(value)


class L1(Regularizer):
    """``l1 * sum(|x|)``; Keras default ``l1=0.01``."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _factor("L1", "l1", l1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.l1 * x.abs().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x ** 2)`` (no factor 1/2, as in Keras); Keras default ``l2=0.01``."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _factor("L2", "l2", l2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.l2 * x.square().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``; Keras 3 defaults are 0 for both."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor("L1L2", "l1", l1)
        self.l2 = _factor("L1L2", "l2", l2)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.l1 * x.abs().sum() + self.l2 * x.square().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras 2's helper: an ``L1L2`` with both factors 0.01 by default."""
    return L1L2(l1=l1, l2=l2)


_BY_NAME: dict[str, type] = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier: Any) -> Regularizer | None:
    """``None``, a name (``"l2"``), a ``{"class_name", "config"}`` dict, a Regularizer or a
    callable ``(tensor) -> scalar`` -> a regularizer (or ``None``)."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"regularizer={identifier!r} is not known; expected one of "
                             f"{sorted(set(_BY_NAME))}")
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _BY_NAME.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"regularizer class {identifier['class_name']!r} is unknown")
        return cls(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"regularizer={identifier!r} must be a name like 'l2', a Regularizer, "
                     "a callable or None")


__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1_l2", "get"]
