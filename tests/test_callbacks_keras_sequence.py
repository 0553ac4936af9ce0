"""Callback hooks against Keras 3 (torch backend): the same hooks, in the same order, with the
same batch indices and log keys, and ``logs`` always a mapping (never None)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import fitorch as ft  # noqa: E402

HOOKS = [f"on_{mode}_{when}" for mode in ("train", "test", "predict") for when in ("begin", "end")]
HOOKS += ["on_epoch_begin", "on_epoch_end"]
HOOKS += [f"on_{mode}_batch_{when}" for mode in ("train", "test", "predict")
          for when in ("begin", "end")]


def _recorder(lib):
    """A callback class for ``lib`` that records (hook, positional args, logs kind, log keys)."""

    class Recorder(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

    def make(hook):
        def record(self, *args, logs=None):
            if args and not isinstance(args[-1], int):  # logs given positionally
                *args, logs = args
            kind = "mapping" if isinstance(logs, Mapping) else type(logs).__name__
            self.calls.append((hook, tuple(args), kind,
                               sorted(logs) if isinstance(logs, Mapping) else None))
        return record

    for hook in HOOKS:
        setattr(Recorder, hook, make(hook))
    return Recorder


def _run(lib):
    rng = np.random.default_rng(0)
    x = rng.random((10, 3)).astype("float32")
    y = rng.random((10, 1)).astype("float32")
    recorder = _recorder(lib)
    model = lib.Sequential([lib.layers.Input((3,)), lib.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    calls = []
    for run in (lambda cb: model.fit(x, y, batch_size=4, epochs=2, validation_split=0.4,
                                     callbacks=[cb], verbose=0),
                lambda cb: model.evaluate(x, y, batch_size=4, callbacks=[cb], verbose=0),
                lambda cb: model.predict(x, batch_size=4, callbacks=[cb], verbose=0)):
        cb = recorder()
        run(cb)
        calls.append(cb.calls)
    return calls


def test_hook_sequence_matches_keras():
    ours, theirs = _run(ft), _run(keras)
    for mine, ref in zip(ours, theirs):
        assert mine == ref
    assert all(kind == "mapping" for calls in ours for _, _, kind, _ in calls)
    predict_hooks = [hook for hook, *_ in ours[2]]
    assert predict_hooks.count("on_predict_batch_begin") == 3


def test_direct_callback_list_calls_give_empty_logs():
    from fitorch.callbacks.callback_list import CallbackList

    cb = _recorder(ft)()
    cbs = CallbackList([cb], model=None, params={})
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_epoch_end(0, None)
    cbs.batch("on_test_batch_begin", 3)
    assert cb.calls == [("on_train_begin", (), "mapping", []),
                        ("on_epoch_begin", (0,), "mapping", []),
                        ("on_epoch_end", (0,), "mapping", []),
                        ("on_test_batch_begin", (3,), "mapping", [])]
