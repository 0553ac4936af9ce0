"""Run one Keras program under Keras 3 and under fitorch, with only the import changed.

A program is a module of this package with a function ``run(keras, sync) -> dict``. Its body is
written once against the name ``keras`` (``keras.layers``, ``keras.ops``, ``keras.Model``, ...),
as in the Keras guides. The test calls it twice: with ``keras`` (Keras 3 on its torch backend)
and with ``fitorch`` in its place.

``sync(model)`` is called by the program right after it builds a model. On the Keras run it
records every layer's weights; on the fitorch run it sets the same weights, in order, so the two
runs start from the same point and their histories and predictions can be compared numerically.
Programs whose randomness cannot be shared (dropout, shuffling) compare behaviour instead.

To add a program: write the module, then add its name to the list in ``test_programs.py``.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable

import numpy as np
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is first imported


def weighted_layers(model: Any) -> list:
    """The model's layers that hold weights; nested models are walked into; a layer is itself."""
    if not hasattr(model, "layers"):
        return [model]
    found = []
    for layer in model.layers:
        if hasattr(layer, "layers"):
            found += weighted_layers(layer)
        elif layer.get_weights():
            found.append(layer)
    return found


class WeightSync:
    """Records layer weights on the Keras run (``replay=None``) and sets them on the fitorch run."""

    def __init__(self, replay: list | None = None):
        self.recorded: list[dict[str, list[np.ndarray]]] = []
        self._replay = replay

    def __call__(self, model: Any) -> None:
        layers = weighted_layers(model)
        if self._replay is None:
            self.recorded.append({layer.name: layer.get_weights() for layer in layers})
            return
        index = len(self.recorded)
        if index >= len(self._replay):
            raise AssertionError(f"sync called {index + 1} times; the Keras run called it "
                                 f"{len(self._replay)} times")
        source = self._replay[index]
        names = sorted(layer.name for layer in layers)
        if names != sorted(source):
            raise AssertionError(f"model {index}: Keras's layers with weights are "
                                 f"{sorted(source)}, fitorch's are {names}")
        for layer in layers:
            layer.set_weights(source[layer.name])
        self.recorded.append({layer.name: layer.get_weights() for layer in layers})

    def replaying(self) -> "WeightSync":
        """A sync for the second run that sets the weights this one recorded."""
        return WeightSync(replay=self.recorded)


def to_numpy(value: Any) -> Any:
    """Tensors (torch or Keras) in a nested result as NumPy arrays; other leaves unchanged."""
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_numpy(v) for v in value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return np.asarray(value.numpy())
    return value


def run_program(name: str, api: str, sync: Callable | None = None) -> dict:
    """Run program ``name`` with ``api`` ("keras" or "fitorch") bound to the name ``keras``."""
    program = importlib.import_module(f"tests.keras_programs.{name}")
    keras = importlib.import_module(api)
    # the same seed on every run: Keras's initial weights (which fitorch then copies) are
    # fixed, so a comparison cannot pass on one draw and fail on the next
    keras.utils.set_random_seed(0)
    return to_numpy(program.run(keras, sync if sync is not None else WeightSync()))


def run_both(name: str) -> tuple[dict, dict]:
    """(Keras's result, fitorch's result) of one program, fitorch started from Keras's weights."""
    sync = WeightSync()
    theirs = run_program(name, "keras", sync)
    ours = run_program(name, "fitorch", sync.replaying())
    return theirs, ours


def assert_history_close(theirs: dict, ours: dict, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Same keys, and every epoch's value close, in two ``History.history`` dicts."""
    assert sorted(ours) == sorted(theirs), (sorted(ours), sorted(theirs))
    for key in theirs:
        np.testing.assert_allclose(np.asarray(ours[key], dtype=float),
                                   np.asarray(theirs[key], dtype=float), rtol=rtol, atol=atol,
                                   err_msg=f"history[{key!r}]")
