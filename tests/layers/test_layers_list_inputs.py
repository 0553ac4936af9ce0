"""A user's layer whose ``call`` takes a list of tensors, in functional and Sequential models
(as Keras allows), while fitorch's own single-input layers still refuse a list clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fitorch as ft
from fitorch import backend, layers


@pytest.fixture(autouse=True)
def _reset():
    backend.clear_session()


class WeightedSum(layers.Layer):
    """Keras-guide style: build sees the list of shapes, call the list of tensors."""

    def build(self, input_shape):
        self.shapes_seen = input_shape
        self.w = self.add_weight((input_shape[0][-1],), "ones", name="w")

    def call(self, inputs):
        a, b = inputs
        return (a + 2 * b) * self.w


class Split(layers.Layer):
    def call(self, x):
        return [x[:, :2], x[:, 2:]]


def test_functional_model_with_a_list_taking_layer_trains_like_a_hand_loop():
    torch.manual_seed(0)
    a_in, b_in = ft.Input((3,)), ft.Input((3,))
    summed = WeightedSum()
    dense = layers.Dense(1)
    model = ft.Model([a_in, b_in], dense(summed([a_in, b_in])))
    assert summed.shapes_seen == [(None, 3), (None, 3)]
    a, b, y = torch.randn(16, 3), torch.randn(16, 3), torch.randn(16, 1)
    w0 = [p.detach().clone() for p in (summed.w, dense.kernel, dense.bias)]
    model.compile(optimizer=ft.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit([a, b], y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    # the same two steps by hand
    w, k, bias = (t.clone().requires_grad_() for t in w0)
    for _ in range(2):
        loss = torch.mean((torch.nn.functional.linear((a + 2 * b) * w, k, bias) - y) ** 2)
        grads = torch.autograd.grad(loss, (w, k, bias))
        with torch.no_grad():
            for t, g in zip((w, k, bias), grads):
                t -= 0.1 * g
    torch.testing.assert_close(summed.w.detach(), w.detach())
    torch.testing.assert_close(dense.bias.detach(), bias.detach())


def test_sequential_passes_a_list_between_layers():
    model = ft.Sequential([ft.Input((4,)), Split(), WeightedSum(), layers.Dense(1)])
    x = torch.randn(5, 4)
    out = model(x)
    inner = model.layers[1]
    assert inner.shapes_seen == [(None, 2), (None, 2)]
    expected = model.layers[2]((x[:, :2] + 2 * x[:, 2:]) * inner.w)
    torch.testing.assert_close(out, expected)
    model.compile("sgd", "mse")
    model.fit(x, torch.randn(5, 1), epochs=1, verbose=0)


def test_direct_call_matches_keras():
    keras = pytest.importorskip("keras")

    class KerasWeightedSum(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[0][-1],), initializer="ones")

        def call(self, inputs):
            a, b = inputs
            return (a + 2 * b) * self.w

    a, b = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    ours = WeightedSum()([torch.tensor(a), torch.tensor(b)])
    theirs = KerasWeightedSum()([a, b])
    np.testing.assert_allclose(ours.detach().numpy(), np.asarray(theirs.detach().cpu()),
                               atol=1e-6)


def test_fitorch_single_input_layers_still_refuse_a_list():
    with pytest.raises(ValueError, match="expects one input tensor, got 2 inputs"):
        layers.Dense(2)([torch.ones(2, 3), torch.ones(2, 3)])
