"""``add_loss`` / ``losses`` on layers and models, and models compiled without a loss (the Keras
VAE pattern), checked against Keras 3 and hand computations."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import fitorch as ft
from tests.keras_oracle import keras  # noqa: F401  (fixture)


def _penalized(lib, rate=0.1):
    """A Keras-guide style layer that adds an activity penalty with add_loss."""

    class ActivityPenalty(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(rate * lib.ops.sum(lib.ops.square(inputs)))
            return inputs

    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, name="dense"),
                           ActivityPenalty(name="penalty"), lib.layers.Dense(1, name="head")])


def _data():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(16, 3)).astype("float32"),
            rng.normal(size=(16, 1)).astype("float32"))


def test_losses_match_keras_and_are_replaced_each_call(keras):
    x, _ = _data()
    k, f = _penalized(keras), _penalized(ft)
    f.set_weights(k.get_weights())
    k(x)
    f(torch.from_numpy(x))
    assert len(f.losses) == len(k.losses) == 1
    np.testing.assert_allclose(f.losses[0].item(), keras.ops.convert_to_numpy(k.losses[0]),
                               rtol=1e-5)
    f(torch.from_numpy(x[:4]))  # the next call's terms replace the previous ones
    k(x[:4])
    assert len(f.losses) == len(k.losses) == 1
    np.testing.assert_allclose(f.losses[0].item(), keras.ops.convert_to_numpy(k.losses[0]),
                               rtol=1e-5)
    assert f.get_layer("penalty").losses[0] is f.losses[0]


def test_evaluate_and_training_loss_include_added_terms_as_keras(keras):
    x, y = _data()
    k, f = _penalized(keras), _penalized(ft)
    f.set_weights(k.get_weights())
    k.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    f.compile(optimizer=ft.optimizers.SGD(0.01), loss="mse")
    np.testing.assert_allclose(f.evaluate(x, y, batch_size=16, verbose=0),
                               k.evaluate(x, y, batch_size=16, verbose=0), rtol=1e-5)
    # by hand: mse + 0.1 * sum(hidden ** 2) on the whole batch
    t = torch.from_numpy(x)
    hidden = f.get_layer("dense")(t)
    expected = torch.mean((f(t) - torch.from_numpy(y)) ** 2) + 0.1 * hidden.square().sum()
    np.testing.assert_allclose(f.evaluate(x, y, batch_size=16, verbose=0), expected.item(),
                               rtol=1e-5)
    # one SGD step minimizes the same total in both
    k_hist = k.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history["loss"]
    f_hist = f.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(f_hist, k_hist, rtol=1e-4)
    for a, b in zip(f.get_weights(), k.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_model_level_add_loss_in_a_subclass():
    class Net(ft.Model):
        def __init__(self):
            super().__init__()
            self.dense = ft.layers.Dense(1)

        def call(self, x):
            out = self.dense(x)
            self.add_loss(out.abs().mean())
            return out

    net = Net()
    x = torch.randn(8, 3)
    net(x)
    assert len(net.losses) == 1
    torch.testing.assert_close(net.losses[0], net.dense(x).abs().mean())
    clone = copy.deepcopy(net)  # the terms of a call are not copied (they hold its graph)
    assert clone.losses == []


def test_add_loss_refuses_non_tensors():
    layer = ft.layers.Dense(2)
    with pytest.raises(ValueError, match="add_loss takes a tensor.*got float 0.5"):
        layer.add_loss(0.5)


def test_a_loss_added_only_in_training_is_found_later():
    # the first forward (fit's preparation) runs in inference mode, where nothing is added
    class TrainingPenalty(ft.layers.Layer):
        def call(self, x, training=None):
            if training:
                self.add_loss(100.0 * x.square().mean())
            return x

    model = ft.Sequential([ft.Input((3,)), ft.layers.Dense(2), TrainingPenalty()])
    model.compile(optimizer="sgd", loss="mse")
    x, y = torch.randn(8, 3), torch.zeros(8, 2)
    plain = torch.mean(model(x) ** 2).item()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["loss"] > plain * 50  # the penalty is part of the trained loss


# ---------------------------------------------------------------- the VAE pattern
def _vae(lib, latent=2, features=64):
    ops = lib.ops

    class Sampling(lib.layers.Layer):
        def call(self, inputs, training=None):
            z_mean, z_log_var = inputs
            if not training:
                return z_mean
            eps = lib.random.normal(ops.shape(z_mean))
            return z_mean + ops.exp(0.5 * z_log_var) * eps

    class VAE(lib.Model):
        def __init__(self):
            super().__init__()
            self.hidden = lib.layers.Dense(32, activation="relu")
            self.z_mean = lib.layers.Dense(latent)
            self.z_log_var = lib.layers.Dense(latent)
            self.sampling = Sampling()
            self.decode_hidden = lib.layers.Dense(32, activation="relu")
            self.decoded = lib.layers.Dense(features, activation="sigmoid")

        def call(self, x, training=None):
            h = self.hidden(x)
            z_mean, z_log_var = self.z_mean(h), self.z_log_var(h)
            z = self.sampling([z_mean, z_log_var], training=training)
            reconstruction = self.decoded(self.decode_hidden(z))
            rec = ops.mean(ops.sum(ops.square(x - reconstruction), axis=1))
            kl = -0.5 * ops.mean(ops.sum(1 + z_log_var - ops.square(z_mean)
                                         - ops.exp(z_log_var), axis=1))
            self.add_loss(rec + kl)
            return reconstruction

    return VAE()


def _digits():
    from sklearn.datasets import load_digits

    return (load_digits().data / 16.0).astype("float32")


@pytest.mark.parametrize("lib_name", ["keras", "fitorch"])
def test_vae_trains_with_only_an_optimizer(keras, lib_name):
    lib = keras if lib_name == "keras" else ft
    x = _digits()[:512]
    if lib is ft:
        torch.manual_seed(0)
    else:
        keras.utils.set_random_seed(0)
    vae = _vae(lib)
    vae.compile(optimizer=lib.optimizers.Adam(1e-3))  # no loss: the model adds its own
    losses = vae.fit(x, epochs=8, batch_size=64, verbose=0).history["loss"]
    assert losses[-1] < 0.75 * losses[0], losses
    assert np.isfinite(vae.evaluate(x, verbose=0))


def test_vae_loss_is_the_added_term_exactly():
    x = torch.from_numpy(_digits()[:32])
    vae = _vae(ft)
    vae.compile(optimizer=ft.optimizers.SGD(0.0))
    vae(x)  # build
    # evaluate: inference mode, z = z_mean; the loss is the added term, by hand
    h = vae.hidden(x)
    z_mean, z_log_var = vae.z_mean(h), vae.z_log_var(h)
    rec = vae.decoded(vae.decode_hidden(z_mean))
    expected = torch.mean(torch.sum((x - rec) ** 2, 1)) - 0.5 * torch.mean(
        torch.sum(1 + z_log_var - z_mean ** 2 - torch.exp(z_log_var), 1))
    np.testing.assert_allclose(vae.evaluate(x, batch_size=32, verbose=0), expected.item(),
                               rtol=1e-6)
    # one training batch: the same sampled noise gives the same loss as a forward by hand
    torch.manual_seed(7)
    vae(x, training=True)
    by_hand = vae.losses[0].item()
    torch.manual_seed(7)
    assert vae.train_on_batch(x) == pytest.approx(by_hand, rel=1e-6)
