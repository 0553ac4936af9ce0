"""Layer protocol: names, lazy build, weights in Keras layout, configs, errors, regularization."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fitorch import backend, layers


@pytest.fixture(autouse=True)
def _fresh_names():
    backend.clear_session()
    yield
    backend.clear_session()


class ResBlock(layers.Layer):  # verbatim from the seed tutorial
    def __init__(self, kernel_size, **kwargs):
        super(ResBlock, self).__init__(**kwargs)
        self.kernel_size = kernel_size

    def build(self, input_shape):
        self.conv1 = layers.Conv1D(filters=64, kernel_size=self.kernel_size,
                                   activation="relu", padding="same")
        self.conv2 = layers.Conv1D(filters=32, kernel_size=self.kernel_size,
                                   activation="relu", padding="same")
        self.conv3 = layers.Conv1D(filters=input_shape[-1],
                                   kernel_size=self.kernel_size, activation="relu", padding="same")
        self.maxpool = layers.MaxPool1D(2)
        super(ResBlock, self).build(input_shape)

    def call(self, inputs):
        x = self.conv1(inputs)
        x = self.conv2(x)
        x = self.conv3(x)
        x = layers.Add()([inputs, x])
        x = self.maxpool(x)
        return x

    def get_config(self):
        config = super(ResBlock, self).get_config()
        config.update({'kernel_size': self.kernel_size})
        return config


def test_default_names_follow_keras_and_clear_session_resets():
    names = [layers.Dense(1).name, layers.Dense(1).name, layers.Conv1D(2, 3).name,
             layers.BatchNormalization().name, layers.MaxPool1D().name,
             layers.GlobalMaxPool1D().name, layers.SeparableConv1D(2, 3).name,
             layers.LSTM(2).name, ResBlock(3).name]
    assert names == ["dense", "dense_1", "conv1d", "batch_normalization", "max_pooling1d",
                     "global_max_pooling1d", "separable_conv1d", "lstm", "res_block"]
    backend.clear_session()
    assert layers.Dense(1).name == "dense"
    assert layers.Dense(1, name="out").name == "out"


def test_build_hook_runs_once_then_forward_is_call():
    dense = layers.Dense(3)
    assert not dense.built and len(dense._forward_pre_hooks) == 1
    y = dense(torch.randn(4, 5))
    assert y.shape == (4, 3) and dense.built
    assert len(dense._forward_pre_hooks) == 0  # built layers take torch's hook-free fast path
    assert type(dense).forward is type(dense).call
    assert dense._build_input_shape == (None, 5)


def test_forward_style_subclass_gets_call_alias():
    class Twice(layers.Layer):
        def forward(self, x):
            return 2 * x

    layer = Twice()
    assert torch.equal(layer.call(torch.ones(2)), torch.full((2,), 2.0))
    assert torch.equal(layer(torch.ones(2, 1)), torch.full((2, 1), 2.0))


def test_seed_resblock_builds_and_reports_shapes_and_params():
    block = ResBlock(kernel_size=3)
    block.build(input_shape=(None, 200, 7))
    assert block.built
    assert tuple(block.compute_output_shape(input_shape=(None, 200, 7))) == (None, 100, 7)
    r7 = ResBlock(7)
    assert r7.compute_output_shape((None, 200, 7)) == (None, 100, 7)
    assert r7.count_params() == 19143
    r5 = ResBlock(5)
    assert r5(torch.randn(2, 100, 7)).shape == (2, 50, 7)
    assert r5.count_params() == 13703
    assert r5.get_config()["kernel_size"] == 5 and r5.get_config()["name"] == r5.name


def test_maybe_build_from_symbolic_shape_and_declared_input_shape():
    dense = layers.Dense(1, input_shape=(2,))
    assert dense._declared_input_shape == (None, 2)
    assert layers.Dense(1, input_dim=3)._declared_input_shape == (None, 3)
    assert layers.Embedding(10, 4, input_length=6)._declared_input_shape == (None, 6)
    dense.maybe_build((None, 2))
    assert dense.built and dense.count_params() == 3
    assert dense.compute_output_shape((None, 2)) == (None, 1)
    with pytest.raises(ValueError, match="only one of"):
        layers.Dense(1, input_shape=(2,), input_dim=2)


def test_built_dense_rejects_other_feature_size_with_clear_error():
    dense = layers.Dense(10, input_dim=800, name="head")
    dense.maybe_build((None, 800))
    with pytest.raises(layers.IncompatibleInputError) as info:
        dense.maybe_build((None, 26, 26, 32))
    message = str(info.value)
    assert "Dense 'head'" in message and "(None, 26, 26, 32)" in message
    assert "Flatten()" in message and "800" in message
    assert info.value.layer is dense and info.value.input_shape == (None, 26, 26, 32)


def test_rank_errors_are_raised_before_build():
    conv = layers.Conv2D(8, 3, name="c")
    with pytest.raises(layers.IncompatibleInputError,
                       match=r"Conv2D 'c'.*rank 4.*\(None, 28, 28\)"):
        conv(torch.randn(2, 28, 28))
    assert not conv.built and len(list(conv.parameters())) == 0
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv1D(4, 0)
    with pytest.raises(ValueError, match="padding='full'"):
        layers.Conv1D(4, 3, padding="full")
    with pytest.raises(ValueError, match="units=0"):
        layers.Dense(0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        layers.Dense(2, kernel_contraint="max_norm")
    with pytest.raises(ValueError, match="activation='relux'"):
        layers.Dense(2, activation="relux")


def test_trainable_false_freezes_parameters_and_count_params_needs_build():
    dense = layers.Dense(2)
    with pytest.raises(ValueError, match="not built|before the layer is built"):
        dense.count_params()
    dense.trainable = False
    dense(torch.randn(1, 3))
    assert all(not p.requires_grad for p in dense.parameters())
    assert dense.trainable_weights == [] and len(dense.non_trainable_weights) == 2
    dense.trainable = True
    assert all(p.requires_grad for p in dense.parameters())


def test_get_set_weights_use_keras_layout_and_order():
    dense = layers.Dense(3)
    dense.maybe_build((None, 4))
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3)  # Keras (in, units)
    bias = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    dense.set_weights([kernel, bias])
    x = np.random.rand(2, 4).astype(np.float32)
    np.testing.assert_allclose(dense(torch.from_numpy(x)).detach().numpy(), x @ kernel + bias,
                               rtol=1e-5)
    got = dense.get_weights()
    np.testing.assert_array_equal(got[0], kernel)
    with pytest.raises(ValueError, match=r"expects Keras shape \(4, 3\)"):
        dense.set_weights([kernel.T, bias])
    with pytest.raises(ValueError, match="expects 2 arrays"):
        dense.set_weights([kernel])
    # state_dict names read like Keras
    assert list(dense.state_dict()) == ["kernel", "bias"]


def test_config_round_trip_and_serialize():
    conv = layers.Conv1D(16, 5, strides=2, padding="same", activation="relu",
                         kernel_initializer="he_normal", kernel_regularizer="l2", name="c1")
    config = conv.get_config()
    assert config["filters"] == 16 and config["activation"] == "relu"
    assert config["data_format"] == "channels_last" and config["name"] == "c1"
    clone = layers.Conv1D.from_config(config)
    assert clone.get_config() == config
    again = layers.deserialize(layers.serialize(layers.Dense(4, activation=torch.tanh)))
    assert isinstance(again, layers.Dense) and again.activation is torch.tanh
    reg = layers.Dense(2, kernel_regularizer=layers.regularizers.L1L2(0.1, 0.2)).get_config()
    assert reg["kernel_regularizer"] == {"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    assert layers.Dense.from_config(reg).kernel_regularizer.l2 == 0.2


def test_get_config_errors_say_which_layer_and_why():
    # a Lambda's config names its function instead of holding code
    assert layers.Lambda(abs, name="sq").get_config()["function"] == {"python_function": "abs"}
    with pytest.raises(ValueError, match=r"Dense 'd' cannot be serialized: argument "
                                         r"activation="):
        layers.Dense(2, activation=lambda x: x * 3, name="d").get_config()
    with pytest.raises(ValueError, match="plain torch module"):
        layers.serialize(nn.Linear(2, 2))

    class Custom(layers.Layer):
        def __init__(self, fn, **kwargs):
            super().__init__(**kwargs)
            self.fn = fn

    with pytest.raises(ValueError, match=r"Custom 'custom' cannot be serialized: argument fn="):
        Custom(object()).get_config()
    assert Custom(3).get_config()["fn"] == 3  # plain arguments are captured automatically


def test_regularization_losses_match_keras_formulas():
    dense = layers.Dense(2, kernel_regularizer=layers.regularizers.L2(0.1),
                         bias_regularizer="l1")
    dense.maybe_build((None, 3))
    with torch.no_grad():
        dense.bias.fill_(-2.0)
    kernel = dense.get_weights()[0]
    expected = 0.1 * (kernel ** 2).sum() + 0.01 * 4.0
    assert len(dense.losses) == 2
    model = nn.Sequential(nn.Linear(3, 3), dense)
    total = layers.regularization_losses(model)
    assert total is not None and total.requires_grad
    assert total.item() == pytest.approx(expected, rel=1e-5)
    assert layers.regularization_losses(nn.Sequential(nn.Linear(2, 2), layers.Dense(1))) is None


def test_activity_regularizer_penalizes_outputs():
    layer = layers.Dense(2, activity_regularizer=layers.regularizers.L1(0.5),
                         kernel_initializer="ones")
    out = layer(torch.ones(1, 3))
    assert layers.regularization_losses(layer).item() == pytest.approx(0.5 * out.abs().sum().item())


def test_activity_regularizer_on_an_output_without_tensors_names_the_layer():
    class Keyed(layers.Layer):
        def call(self, x):
            return {"out": x}  # a dict: not where an activity regularizer looks

    layer = Keyed(activity_regularizer="l2", name="keyed")
    with pytest.raises(TypeError, match="keyed: activity_regularizer needs a tensor output, got dict"):
        layer(torch.ones(1, 3))


def test_compute_output_shape_does_not_touch_training_state():
    model = layers.TimeDistributed(layers.Dense(2))
    bn = layers.BatchNormalization()
    bn.maybe_build((None, 3))
    assert bn.compute_output_shape((None, 3)) == (None, 3)
    assert layers.infer_output_shape(nn.Sequential(bn, nn.Dropout(0.5)), (None, 3)) == (None, 3)
    assert bn.training and torch.equal(bn.moving_mean, torch.zeros(3))
    assert model.compute_output_shape((None, 4, 5)) == (None, 4, 2)


def test_any_nn_module_works_as_sublayer():
    block = layers.TimeDistributed(nn.Linear(5, 2))
    assert block(torch.randn(3, 4, 5)).shape == (3, 4, 2)
    assert block.compute_output_shape((None, 4, 5)) == (None, 4, 2)
    assert len(block.get_weights()) == 2


def test_weights_follow_input_device_and_default_dtype():
    dense = layers.Dense(2, dtype="float64")
    assert dense(torch.randn(1, 3, dtype=torch.float64)).dtype == torch.float64
    assert layers.Dense(1).dtype == torch.float32
    with pytest.raises(ValueError, match="dtype='f32'"):
        layers.Dense(1, dtype="f32")


def test_keras_guide_custom_layer_with_add_weight():
    class Linear(layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True,
                                     regularizer="l2")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)
            self.total = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, inputs):
            return torch.matmul(inputs, self.w) + self.b

    layer = Linear(4)
    x = torch.randn(2, 3)
    torch.testing.assert_close(layer(x), x @ layer.w + layer.b)
    assert list(layer.state_dict()) == ["w", "b", "total"]  # each weight once, by attribute
    assert layer.count_params() == 3 * 4 + 4 + 1
    assert len(layer.losses) == 1 and layer.get_config()["units"] == 4
    assert [p.shape for p in layer.parameters()] == [(3, 4), (4,)]


def test_weights_are_created_on_the_input_device():
    dense = layers.Dense(2)
    out = dense(torch.randn(4, 3, device="meta"))
    assert out.device.type == "meta" and dense.kernel.device.type == "meta"
    conv = layers.Conv1D(2, 3)
    conv.maybe_build((None, 8, 3), device="meta")
    assert conv.kernel.device.type == "meta"


class _PlusOne(layers.Layer):  # no __init__ of its own: Layer's shape arguments are named ones
    def call(self, x):
        return x + 1


def test_a_subclass_without_init_round_trips_its_declared_input_shape():
    layer = _PlusOne(input_shape=(3,))
    config = layer.get_config()
    assert config["batch_input_shape"] == (None, 3) and "input_shape" not in config
    again = _PlusOne.from_config(config)
    assert again.get_config() == config
    embedding = layers.Embedding(10, 4, input_shape=(5,))  # its own input_dim stays
    assert layers.Embedding.from_config(embedding.get_config()).input_dim == 10
