"""Keras's ``training`` call argument on torch modules.

In Keras a layer's ``call(inputs, training=None)`` receives ``training=True`` inside ``fit`` and
``False`` inside ``evaluate``/``predict``, and an explicit ``model(x, training=True)`` reaches every
layer called inside it. In torch that information is the module's ``training`` flag, which
``fit`` / ``evaluate`` / ``predict`` already set (``train()`` / ``eval()``). So:

* a ``training`` left as ``None`` is filled from ``self.training`` (the signature is inspected
  once, when the class is created; the wrapper is only put on classes whose ``call``/``forward``
  takes ``training``, so every other layer keeps its wrapper-free forward);
* an explicit ``training`` that differs from the module's flag switches the module and its
  submodules to that mode for the call (so sublayers called without ``training`` follow it, as
  Keras's call context does) and restores every flag afterwards.

fitorch's own layers (Dropout, BatchNormalization, the noise layers) already read
``self.training`` when ``training`` is ``None``, so they are not wrapped.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from torch import nn

__all__ = ["run_in_mode", "with_training_default"]


def run_in_mode(module: nn.Module, training: bool, fn: Callable, /, *args: Any,
                **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with ``module`` and all its submodules in ``training`` mode; every
    module's own flag is restored afterwards (also when ``fn`` raises)."""
    saved = [(m, m.training) for m in module.modules()]
    for m, _ in saved:
        m.training = training
    try:
        return fn(*args, **kwargs)
    finally:
        for m, mode in saved:
            m.training = mode


def _training_slot(fn: Callable) -> tuple[bool, int | None]:
    """(whether ``fn`` takes ``training``, its index among the arguments after ``self`` when it
    can be given positionally)."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        return False, None
    for index, parameter in enumerate(parameters):
        if parameter.name == "training":
            positional = parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            return True, (index - 1 if positional else None)
    return False, None


def with_training_default(fn: Callable) -> Callable:
    """``fn`` (a ``forward``/``call``) wrapped so that ``training=None`` becomes the module's mode
    and an explicit ``training`` applies to its submodules; ``fn`` itself when it takes no
    ``training`` or is fitorch's own (which handles ``None``)."""
    if getattr(fn, "_fitorch_training_default", False):
        return fn
    takes, position = _training_slot(fn)
    if not takes or (getattr(fn, "__module__", None) or "").startswith("fitorch."):
        return fn

    @functools.wraps(fn)
    def forward(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
        if position is not None and len(args) > position:
            training = args[position]
            if training is None:
                args = (*args[:position], self.training, *args[position + 1:])
        else:
            training = kwargs.get("training")
            if training is None:
                kwargs["training"] = self.training
        if training is None or bool(training) == self.training:
            return fn(self, *args, **kwargs)
        return run_in_mode(self, bool(training), fn, self, *args, **kwargs)

    forward._fitorch_training_default = True  # type: ignore[attr-defined]
    return forward
