"""fitorch: Keras conveniences for PyTorch, on plain ``nn.Module`` s.

Heavy submodules load on first use, so ``import fitorch`` costs little beyond ``import torch``.
"""

from __future__ import annotations

import importlib
from typing import Any

from fitorch import _import_hooks
from fitorch._version import __version__

# Model.fit / summary / save and Keras's ``keras.models.load_model`` / ``save_model`` are
# implemented in layers above fitorch.models (the trainer, summaries, saving), which register
# them into it when imported (fitorch/models/providers.py); this makes sure they are, however
# fitorch.models is reached (``ft.models``, ``import fitorch.models``, ``from fitorch.models
# import load_model``)
_import_hooks.after_import("fitorch.models", lambda: [
    importlib.import_module(name)
    for name in ("fitorch.training.trainer", "fitorch.summaries", "fitorch.saving")])

# public name -> module that defines it
_LAZY = {
    "Model": "fitorch.models.model",
    "Sequential": "fitorch.models.sequential",
    "Input": "fitorch.models.functional",
    "summary": "fitorch.summaries",
    "save_model": "fitorch.saving",
    "load_model": "fitorch.saving",
    "launch": "fitorch.training.engine",
}
_SUBMODULES = ("backend", "callbacks", "datasets", "layers", "losses", "metrics", "models", "optimizers",
               "training", "saving", "plot", "compat", "ops", "activations", "constraints",
               "initializers", "regularizers", "random", "utils")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"fitorch.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'fitorch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = sorted(set(_LAZY) | {"__version__"})
