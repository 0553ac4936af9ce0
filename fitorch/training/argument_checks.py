"""Checks of the arguments of ``fit`` / ``evaluate`` / ``predict``, run before anything changes."""

from __future__ import annotations

from typing import Any

from fitorch.callbacks.callback import Callback
from fitorch.training import data as data_lib
from fitorch.training import keras_steps
from fitorch.training.compile_config import CompileConfig

ON_NAN = ("raise", "stop", "ignore", "restore")


def check_fit_arguments(model: Any, config: CompileConfig, *, own_train: bool, own_test: bool,
                        validates: bool, epochs: Any, initial_epoch: Any, steps_per_epoch: Any,
                        validation_steps: Any, validation_freq: Any,
                        validation_batch_size: Any, on_nan: Any) -> None:
    """Raise on the first bad ``fit`` argument (the model's own steps against its compile
    configuration included); ``own_train`` / ``own_test`` say whether the model overrides
    ``train_step`` / ``test_step``, ``validates`` whether ``fit`` will validate."""
    if own_train:
        keras_steps.check_own_steps(model, config, "fit", train=True)
        if on_nan in ("stop", "restore"):
            raise ValueError(f"fit: on_nan={on_nan!r} watches the loss of fit's built-in "
                             f"step; {type(model).__name__} overrides train_step, whose "
                             "logs are its own: check the loss there")
    if own_test and validates:
        keras_steps.check_own_steps(model, config, "fit", train=False)
    # epochs=0 (or initial_epoch >= epochs) runs no epoch, as in Keras: on_train_begin and
    # on_train_end only, and an empty History
    check_int("epochs", epochs, minimum=0)
    check_int("initial_epoch", initial_epoch, minimum=0)
    check_int("steps_per_epoch", steps_per_epoch, minimum=1, optional=True)
    check_int("validation_steps", validation_steps, minimum=1, optional=True)
    check_int("validation_freq", validation_freq, minimum=1)
    data_lib.check_batch_size(validation_batch_size, "validation_batch_size")
    if on_nan not in ON_NAN:
        raise ValueError(f"fit: on_nan={on_nan!r}: expected one of {ON_NAN}")


def check_int(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    """Raise unless ``value`` is an int (not a bool) >= ``minimum``, or None when ``optional``."""
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}={value!r}: expected an int >= {minimum}"
                         + (" or None" if optional else ""))


def check_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a new list (None: none; one ``Callback``: a list of it); raises on
    anything that is not a ``Callback``."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    bad = [c for c in callbacks if not isinstance(c, Callback)]
    if bad:
        raise TypeError(f"callbacks: expected fitorch.callbacks.Callback instances, got {bad!r}")
    return list(callbacks)
