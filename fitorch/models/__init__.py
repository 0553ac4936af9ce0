"""Models: ``Model`` (training API), ``Sequential``, ``Functional`` and ``Input``."""

from fitorch.models.functional import Functional, Input, KerasTensor
from fitorch.models.model import Model
from fitorch.models.sequential import Sequential

__all__ = ["Functional", "Input", "KerasTensor", "Model", "Sequential"]
