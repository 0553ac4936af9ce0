"""Training loops: ``Trainer`` behind ``Model.fit``, and the seed's function-style API."""

from __future__ import annotations

from typing import Any

__all__ = ["train_step", "valid_step", "train_model", "StepLogger"]


def __getattr__(name: str) -> Any:
    # Lazy, so that low-level modules (engine, sharding) import without the callbacks package.
    if name in __all__:
        from fitorch.training import steps

        return getattr(steps, name)
    raise AttributeError(f"module 'fitorch.training' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
