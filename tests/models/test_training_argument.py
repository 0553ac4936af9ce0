"""Keras's ``training`` call argument: True in fit / train_on_batch, False in evaluate / predict /
test_on_batch, and ``model(x, training=...)`` reaching every layer -- checked against Keras 3."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fitorch as ft
from tests.keras_oracle import keras  # noqa: F401  (fixture)


def _programs(lib):
    """The Keras guide's CustomDropout plus a probe that records the ``training`` it gets."""

    class CustomDropout(lib.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs, training=None):
            if training:
                return lib.random.dropout(inputs, rate=self.rate)
            return inputs

    class Probe(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seen = []

        def call(self, inputs, training=None):
            # Keras also traces layers symbolically (meta tensors): count real batches only
            if str(getattr(inputs, "device", "meta")) != "meta":
                self.seen.append(training)
            return inputs

    return CustomDropout, Probe


def _phases(lib, model, probe, x, y):
    model.compile(optimizer="sgd", loss="mse")
    out = {}
    for phase, run in [
            ("fit", lambda: model.fit(x, y, batch_size=4, epochs=1, verbose=0)),
            ("evaluate", lambda: model.evaluate(x, y, batch_size=4, verbose=0)),
            ("predict", lambda: model.predict(x, batch_size=4, verbose=0)),
            ("train_on_batch", lambda: model.train_on_batch(x[:4], y[:4])),
            ("test_on_batch", lambda: model.test_on_batch(x[:4], y[:4])),
            ("predict_on_batch", lambda: model.predict_on_batch(x[:4]))]:
        probe.seen.clear()
        run()
        out[phase] = {bool(t) for t in probe.seen if t is not None}
        out[phase + "_none"] = any(t is None for t in probe.seen)
    return out


def test_training_flag_in_each_loop_matches_keras(keras):
    x = np.random.default_rng(0).normal(size=(12, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    results = []
    for lib in (keras, ft):
        _, Probe = _programs(lib)
        probe = Probe()
        inputs = lib.Input((3,))
        model = lib.Model(inputs, lib.layers.Dense(1)(probe(inputs)))
        results.append(_phases(lib, model, probe, x, y))
    assert results[1] == results[0]
    assert results[1]["fit"] == {True} and results[1]["predict"] == {False}
    assert not any(v for k, v in results[1].items() if k.endswith("_none"))


def test_custom_dropout_drops_in_fit_not_in_predict():
    CustomDropout, _ = _programs(ft)
    drop = CustomDropout(0.5)
    model = ft.Sequential([ft.Input((200,)), drop, ft.layers.Dense(1)])
    zeros = []
    drop.register_forward_hook(lambda m, a, out: zeros.append((out == 0).float().mean().item()))
    x, y = torch.ones(8, 200), torch.zeros(8, 1)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(zeros) == 2 and all(abs(z - 0.5) < 0.1 for z in zeros)
    zeros.clear()
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert zeros == [0.0, 0.0]


@pytest.mark.parametrize("kind", ["functional", "sequential", "subclass"])
def test_explicit_training_reaches_every_layer(kind):
    _, Probe = _programs(ft)
    probe = Probe()
    dropout = ft.layers.Dropout(0.5)
    if kind == "functional":
        inputs = ft.Input((50,))
        model = ft.Model(inputs, dropout(probe(inputs)))
    elif kind == "sequential":
        model = ft.Sequential([ft.Input((50,)), probe, dropout])
    else:
        class Net(ft.Model):
            def __init__(self):
                super().__init__()
                self.probe, self.dropout = probe, dropout

            def call(self, x, training=None):
                return self.dropout(self.probe(x))  # training not passed on: the mode carries it
        model = Net()
    x = torch.ones(4, 50)
    model.eval()
    probe.seen.clear()
    out = model(x, training=True)
    assert probe.seen == [True] and (out == 0).any()
    assert not model.training and not dropout.training  # every mode flag is restored
    model.train()
    probe.seen.clear()
    assert torch.equal(model(x, training=False), x) and probe.seen == [False]
    assert model.training and probe.training
    probe.seen.clear()
    model(x)
    assert probe.seen == [True]  # None: the module's mode (torch's train() by default)


def test_training_given_positionally_and_wrapped_module():
    _, Probe = _programs(ft)
    probe = Probe()
    probe.eval()
    probe(torch.ones(2, 2), True)
    assert probe.seen == [True]

    class Net(torch.nn.Module):  # a plain module in the Keras style, wrapped by ft.Model(net)
        def __init__(self):
            super().__init__()
            self.got = []

        def forward(self, x, training=None):
            self.got.append(training)
            return x

    model = ft.Model(Net())
    model.eval()
    model(torch.ones(1, 1))
    model.train()
    model(torch.ones(1, 1))
    assert model.got == [False, True]
