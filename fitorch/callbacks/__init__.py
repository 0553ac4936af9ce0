"""Callbacks: hooks into ``fit`` / ``evaluate`` / ``predict``, with Keras names and semantics.

The core that the training loops call into (``Callback``, ``CallbackList``, ``History``, the
progress bar) loads with the package. The concrete callbacks load on first use: several of them
write files through ``fitorch.saving``, a layer above the loops, and importing the core from the
loops must not import saving (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import importlib
from typing import Any

from fitorch.callbacks.callback import Callback
from fitorch.callbacks.callback_list import BatchLogs, CallbackList
from fitorch.callbacks.history import History
from fitorch.callbacks.progbar import ProgressBar

# Keras's name for the progress bar callback.
ProgbarLogger = ProgressBar

# public name -> module of this package that defines it
_LAZY = {
    "BackupAndRestore": "backup_and_restore",
    "CSVLogger": "csv_logger",
    "EarlyStopping": "early_stopping",
    "LambdaCallback": "lambda_callback",
    "LearningRateScheduler": "learning_rate_scheduler",
    "ModelCheckpoint": "model_checkpoint",
    "ReduceLROnPlateau": "reduce_lr_on_plateau",
    "TensorBoard": "tensorboard",
    "TerminateOnNaN": "terminate_on_nan",
}

__all__ = ["Callback", "CallbackList", "BatchLogs", "History", "ProgressBar", "ProgbarLogger",
           "EarlyStopping", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback", "TensorBoard", "ModelCheckpoint",
           "BackupAndRestore"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'fitorch.callbacks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
