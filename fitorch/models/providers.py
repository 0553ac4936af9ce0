"""What the layers above ``models`` provide to ``Model``'s methods.

``Model.fit`` / ``summary`` / ``save`` belong to the model (Keras's API), but the code that runs
them lives in layers above it: the loops in ``fitorch.training.trainer``, the tables in
``fitorch.summaries``, the files in ``fitorch.saving``. Imports point down
(docs/architecture.md, "Layers"), so each of those modules registers its implementation here when
it is imported, and the top package imports them whenever ``fitorch.models`` is imported
(``fitorch/__init__.py``). This module imports nothing of fitorch.
"""

from __future__ import annotations

from typing import Any

# name -> (implementation, or None until its module registers it; the module that provides it)
_PROVIDERS: dict[str, list[Any]] = {
    "Trainer": [None, "fitorch.training.trainer"],
    "model_summary": [None, "fitorch.summaries"],
    "save_model": [None, "fitorch.saving"],
    "save_weights": [None, "fitorch.saving"],
    "load_weights": [None, "fitorch.saving"],
}


def provide(name: str, implementation: Any) -> None:
    """Register ``implementation`` as ``name`` (one of the names above)."""
    if name not in _PROVIDERS:
        raise KeyError(f"provide: unknown name {name!r}; expected one of {sorted(_PROVIDERS)}")
    _PROVIDERS[name][0] = implementation


def provided(name: str) -> Any:
    """The registered implementation of ``name``."""
    implementation, module = _PROVIDERS[name]
    if implementation is None:
        # only reachable when fitorch's own import hooks were bypassed
        raise RuntimeError(f"{name} is provided by {module}, which is not imported; "
                           f"import {module} (or fitorch) first")
    return implementation
