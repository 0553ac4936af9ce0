"""``fit(epochs=0)`` (and ``initial_epoch >= epochs``) runs no epoch and returns an empty History,
calling only ``on_train_begin`` and ``on_train_end``, as Keras 3 does."""

from __future__ import annotations

import numpy as np
import pytest

import fitorch as ft
from fitorch import layers
from tests.keras_oracle import keras  # noqa: F401  (fixture)

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end"]


def _recorder(base):
    """A callback (subclass of ``base``) that lists the hooks called on it."""

    def hook(name):
        def method(self, *args, **kwargs):
            self.calls.append(name)
        return method

    cls = type("Recorder", (base,), {name: hook(name) for name in HOOKS})
    recorder = cls()
    recorder.calls = []
    return recorder


@pytest.mark.parametrize("kwargs", [dict(epochs=0), dict(epochs=0, validation_split=0.25),
                                    dict(epochs=2, initial_epoch=2),
                                    dict(epochs=1, initial_epoch=3)])
def test_no_epoch_runs_as_in_keras(keras, kwargs):
    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    y = np.ones((8, 1), dtype="float32")
    ours = ft.Sequential([ft.Input((3,)), layers.Dense(1)])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    before = [w.copy() for w in ours.get_weights()]
    results = []
    for model, callback in ((ours, _recorder(ft.callbacks.Callback)),
                            (theirs, _recorder(keras.callbacks.Callback))):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        history = model.fit(x, y, verbose=0, callbacks=[callback], **kwargs)
        results.append((history.history, history.epoch, history.params, callback.calls))
        assert history.model is model
    assert results[0] == results[1]
    assert results[0][:2] == ({}, [])
    assert results[0][3] == ["on_train_begin", "on_train_end"]
    for got, expected in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(got, expected)


def test_negative_epochs_are_refused():
    model = ft.Sequential([ft.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"epochs=-1: expected an int >= 0"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=-1, verbose=0)
