"""Weight penalties with Keras names (``fitorch.regularizers``): ``L1``, ``L2``, ``L1L2``,
``OrthogonalRegularizer`` and their lowercase aliases (``regularizers.l2(1e-4)``).

A regularizer is a callable ``reg(weight) -> scalar tensor``. Layers keep the penalties of their
weights in ``layer.losses``; ``fitorch.layers.regularization_losses(model)`` sums them for a
trainer.
"""

from __future__ import annotations

from typing import Any

import torch

from fitorch import _objects


class Regularizer(_objects.Configurable):
    """Base class: ``reg(x)`` returns a scalar penalty for tensor ``x``."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


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


class OrthogonalRegularizer(Regularizer):
    """``factor`` times the mean absolute cosine similarity between distinct rows
    (``mode="rows"``) or columns (``mode="columns"``) of a 2-D weight in Keras layout."""

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode={mode!r} must be 'rows' or 'columns'")
        self.mode = mode

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight, got shape "
                             f"{tuple(x.shape)}")
        vectors = x if self.mode == "rows" else x.T
        unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
        n = unit.shape[0]
        products = unit @ unit.T
        off_diagonal = products.abs().sum() - products.diagonal().abs().sum()
        return self.factor * off_diagonal / (n * n - n)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


# Keras 3's lowercase aliases are the classes themselves (``regularizers.l2(1e-4)``); so
# ``l1_l2()`` has Keras 3's zero defaults, not Keras 2's 0.01.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer
_CLASSES: dict[str, Any] = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2,
                            "orthogonal_regularizer": OrthogonalRegularizer,
                            "OrthogonalRegularizer": OrthogonalRegularizer}


def get(identifier: Any) -> Regularizer | None:
    """``None``, a name (``"l2"``), a ``{"class_name", "config"}`` dict, a class, a Regularizer
    or a callable ``(tensor) -> scalar`` -> a regularizer (or ``None``)."""
    return _objects.get("regularizer", identifier, Regularizer, _CLASSES, "l2")


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """``{"class_name", "config"}`` of a regularizer (``deserialize`` rebuilds it)."""
    return _objects.serialize(regularizer)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Regularizer:
    """Rebuild a regularizer from ``serialize``'s output, a name or a class."""
    return _objects.deserialize("regularizer", config, _CLASSES, custom_objects)


__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]
