"""Every layer: config round trip, and a clone given get_weights() reproduces the outputs."""

from __future__ import annotations

import json

import pytest
import torch

from fitorch import backend, layers

CASES = [
    (lambda: layers.Dense(3, activation="relu", kernel_regularizer="l2"), (4,)),
    (lambda: layers.Activation("softmax"), (4,)),
    (lambda: layers.Dropout(0.3, noise_shape=(None, 1)), (4,)),
    (lambda: layers.SpatialDropout1D(0.2), (5, 3)),
    (lambda: layers.SpatialDropout2D(0.2), (4, 4, 3)),
    (lambda: layers.Flatten(), (3, 4)),
    (lambda: layers.Reshape((2, -1)), (3, 4)),
    (lambda: layers.Permute((2, 1)), (3, 4)),
    (lambda: layers.RepeatVector(3), (4,)),
    (lambda: layers.Embedding(11, 3, input_length=5), "ids"),
    (lambda: layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (9, 3)),
    (lambda: layers.Conv2D(4, (3, 2), strides=2, padding="same"), (7, 6, 3)),
    (lambda: layers.Conv3D(2, 2), (4, 4, 4, 2)),
    (lambda: layers.Conv1DTranspose(3, 3, strides=2, padding="same"), (5, 2)),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2), (4, 4, 2)),
    (lambda: layers.Conv3DTranspose(2, 2, strides=2), (2, 2, 2, 2)),
    (lambda: layers.SeparableConv1D(4, 3, depth_multiplier=2), (8, 3)),
    (lambda: layers.SeparableConv2D(4, 3, padding="same"), (6, 6, 3)),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2), (8, 3)),
    (lambda: layers.DepthwiseConv2D(3, strides=2, padding="same"), (7, 7, 2)),
    (lambda: layers.MaxPooling1D(2, padding="same"), (7, 3)),
    (lambda: layers.MaxPooling2D(data_format="channels_first"), (3, 6, 6)),
    (lambda: layers.MaxPooling3D(), (4, 4, 4, 2)),
    (lambda: layers.AveragePooling1D(3, strides=1, padding="same"), (7, 3)),
    (lambda: layers.AveragePooling2D((2, 3), padding="same"), (5, 7, 2)),
    (lambda: layers.AveragePooling3D(data_format="channels_first"), (2, 4, 4, 4)),
    (lambda: layers.GlobalMaxPooling1D(), (5, 3)),
    (lambda: layers.GlobalMaxPooling2D(keepdims=True), (4, 4, 3)),
    (lambda: layers.GlobalAveragePooling1D(data_format="channels_first"), (3, 5)),
    (lambda: layers.GlobalAveragePooling2D(), (4, 4, 3)),
    (lambda: layers.BatchNormalization(momentum=0.9), (5, 3)),
    (lambda: layers.LayerNormalization(axis=[1, 2]), (5, 3)),
    (lambda: layers.SimpleRNN(3, return_sequences=True), (5, 2)),
    (lambda: layers.LSTM(3, go_backwards=True), (5, 2)),
    (lambda: layers.GRU(3, reset_after=False, return_sequences=True), (5, 2)),
    (lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="ave"),
     (5, 2)),
    (lambda: layers.TimeDistributed(layers.Dense(2)), (5, 3)),
    (lambda: layers.ZeroPadding1D(2), (5, 3)),
    (lambda: layers.ZeroPadding2D(((1, 0), (0, 2))), (4, 4, 3)),
    (lambda: layers.Cropping1D((1, 0)), (5, 3)),
    (lambda: layers.Cropping2D(((1, 0), (0, 2))), (4, 4, 3)),
    (lambda: layers.UpSampling1D(3), (5, 3)),
    (lambda: layers.UpSampling2D(2, interpolation="bilinear"), (4, 4, 3)),
    (lambda: layers.MultiHeadAttention(2, 3, dropout=0.1), (5, 4)),
    (lambda: layers.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2), (4,)),
    (lambda: layers.LeakyReLU(), (4,)),
    (lambda: layers.PReLU(alpha_initializer="ones", shared_axes=[1]), (5, 3)),
    (lambda: layers.ELU(0.5), (4,)),
    (lambda: layers.Softmax(axis=1), (5, 3)),
    (lambda: layers.GaussianNoise(0.1), (4,)),
    (lambda: layers.GaussianDropout(0.2), (4,)),
    (lambda: layers.Rescaling(1 / 255, offset=-1.0), (4,)),
]


@pytest.mark.parametrize("make,shape", CASES, ids=lambda v: "" if callable(v) else None)
def test_config_round_trip_and_weight_transfer(make, shape):
    backend.clear_session()
    torch.manual_seed(0)
    layer = make()
    x = torch.randint(0, 11, (2, 5)) if shape == "ids" else torch.randn((2,) + shape)
    args = (x, x) if isinstance(layer, layers.MultiHeadAttention) else (x,)
    layer.eval()
    with torch.no_grad():
        expected = layer(*args)
    config = json.loads(json.dumps(layers.serialize(layer)))  # configs are plain JSON
    clone = layers.deserialize(config)
    assert type(clone) is type(layer)
    assert json.loads(json.dumps(clone.get_config())) == config["config"]
    clone.eval()
    in_shape = (None,) + tuple(x.shape[1:])
    clone.maybe_build([in_shape, in_shape] if len(args) == 2 else in_shape)
    clone.set_weights(layer.get_weights())
    with torch.no_grad():
        got = clone(*args)
    torch.testing.assert_close(got, expected)
    assert clone.count_params() == layer.count_params()
    out_shape = layer.compute_output_shape([in_shape, in_shape] if len(args) == 2 else in_shape)
    assert tuple(out_shape) == (None,) + tuple(expected.shape[1:])


@pytest.mark.parametrize("make,shape", CASES, ids=lambda v: "" if callable(v) else None)
def test_training_forward_and_backward_reach_every_weight(make, shape):
    layer = make()
    x = torch.randint(0, 11, (3, 5)) if shape == "ids" else torch.randn((3,) + shape)
    args = (x, x) if isinstance(layer, layers.MultiHeadAttention) else (x,)
    if x.is_floating_point():
        x.requires_grad_(True)
    for _ in range(2):  # the second step also runs after stateful updates (BatchNorm)
        layer.train()
        (layer(*args) ** 2).sum().backward()
    for name, param in layer.named_parameters():
        assert param.grad is not None, name
    # built layers take torch's hook-free call path, and forward is call itself
    for module in layer.modules():
        if isinstance(module, layers.Layer):
            assert module.built and not module._forward_pre_hooks, module.name
            assert type(module).forward is type(module).call
