"""Keras's ``keras.utils`` for fitorch: data helpers, ``PyDataset``, ``Progbar``, ``plot_model``.

Names load on first use, so ``from fitorch.utils import to_categorical`` imports no models.
``utils`` sits above ``fitorch.models`` (``plot_model`` draws models) and below
``fitorch.training`` (whose data adapter takes a ``PyDataset``).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_LAZY = {
    "to_categorical": "fitorch.utils.numerical",
    "normalize": "fitorch.utils.numerical",
    "pad_sequences": "fitorch.utils.sequences",
    "PyDataset": "fitorch.utils.py_dataset",
    "Sequence": "fitorch.utils.py_dataset",
    "timeseries_dataset_from_array": "fitorch.utils.datasets",
    "split_dataset": "fitorch.utils.datasets",
    "Progbar": "fitorch.utils.progbar",
    "plot_model": "fitorch.utils.plotting",
    "model_to_dot": "fitorch.utils.plotting",
    "set_random_seed": "fitorch.backend",
    "clear_session": "fitorch.backend",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fitorch.utils' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = sorted(_LAZY)
