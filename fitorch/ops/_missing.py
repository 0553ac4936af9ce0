"""Keras ops that fitorch.ops does not offer, each with what to use instead."""
from __future__ import annotations
HINTS: dict[str, str] = {}
def missing_attribute(module: str, name: str) -> AttributeError:
    hint = HINTS.get(name)
    if hint is None:
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    return AttributeError(f"{module}.{name} is not available in fitorch.ops: {hint}")
