"""Names in messages and defaults: a module described for an error, Keras's snake-case rule."""

from __future__ import annotations

import re

from torch import nn

__all__ = ["describe", "to_snake_case"]


def describe(module: nn.Module) -> str:
    """``"Dense 'dense_2'"`` for a Layer, the class name for any other module (used in errors)."""
    name = getattr(module, "name", None)
    return f"{type(module).__name__} {name!r}" if isinstance(name, str) else type(module).__name__


def to_snake_case(name: str) -> str:
    """Keras's default-name rule: ``Conv1D`` -> ``conv1d``, ``LSTM`` -> ``lstm``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
