"""Dense, Embedding, convolutions: shapes, Keras parameter counts, numerics vs torch's own ops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fitorch import backend, layers


@pytest.fixture(autouse=True)
def _reset():
    backend.clear_session()
    yield
    backend.set_image_data_format("channels_last")


def _run(layer, x):
    with torch.no_grad():
        return layer(x)


def test_seed_text_model_shapes_and_param_counts():
    stack = [layers.Embedding(30982, 7, input_length=300),
             layers.Conv1D(filters=64, kernel_size=5, activation="relu"), layers.MaxPool1D(2),
             layers.Conv1D(filters=32, kernel_size=3, activation="relu"), layers.MaxPool1D(2),
             layers.Flatten(), layers.Dense(46, activation="softmax")]
    shape = (None, 300)
    got = []
    for layer in stack:
        layer.maybe_build(shape)
        shape = layer.compute_output_shape(shape)
        got.append((shape, layer.count_params()))
    assert got == [((None, 300, 7), 216874), ((None, 296, 64), 2304), ((None, 148, 64), 0),
                   ((None, 146, 32), 6176), ((None, 73, 32), 0), ((None, 2336), 0),
                   ((None, 46), 107502)]
    x = torch.randint(0, 30982, (2, 300))
    for layer in stack:
        x = _run(layer, x)
    assert x.shape == (2, 46) and torch.allclose(x.sum(-1), torch.ones(2))


@pytest.mark.parametrize("filters,kernel,channels,params", [
    (64, 3, 7, 533), (32, 3, 64, 2272), (64, 5, 7, 547), (32, 5, 64, 2400), (64, 7, 7, 561),
    (32, 7, 64, 2528)])
def test_separable_conv1d_param_counts_match_seed(filters, kernel, channels, params):
    layer = layers.SeparableConv1D(filters, kernel)
    layer.maybe_build((None, 50, channels))
    assert layer.count_params() == params


def test_dense_matches_hand_computation_on_rank3_input():
    layer = layers.Dense(4, activation="tanh")
    x = torch.randn(2, 3, 5)
    layer.maybe_build((None, 3, 5))
    kernel, bias = (torch.from_numpy(w) for w in layer.get_weights())
    torch.testing.assert_close(_run(layer, x), torch.tanh(x @ kernel + bias))
    assert layer.compute_output_shape((None, 3, 5)) == (None, 3, 4)


def test_embedding_is_a_table_lookup_and_casts_float_ids():
    layer = layers.Embedding(10, 3)
    ids = torch.tensor([[1, 2, 9]])
    layer.maybe_build((None, 3))
    table = torch.from_numpy(layer.get_weights()[0])
    torch.testing.assert_close(_run(layer, ids), table[ids])
    torch.testing.assert_close(_run(layer, ids.float()), table[ids])
    assert float(table.abs().max()) <= 0.05  # Keras's "uniform" initializer
    assert layer.compute_mask(ids) is None  # no mask without mask_zero=True


@pytest.mark.parametrize("padding,strides,dilation,kernel", [
    ("valid", 1, 1, 3), ("same", 1, 1, 3), ("same", 1, 1, 4), ("same", 2, 1, 3),
    ("same", 3, 1, 4), ("causal", 1, 2, 3), ("valid", 2, 1, 5)])
def test_conv1d_matches_f_conv1d_with_tensorflow_padding(padding, strides, dilation, kernel):
    layer = layers.Conv1D(4, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    x = torch.randn(2, 11, 3)
    layer.maybe_build((None, 11, 3))
    k_keras, b = (torch.from_numpy(w) for w in layer.get_weights())
    assert k_keras.shape == (kernel, 3, 4)
    w = k_keras.permute(2, 1, 0)
    k_eff = (kernel - 1) * dilation + 1
    xt = x.transpose(1, 2)
    if padding == "same":
        total = max((-(-11 // strides) - 1) * strides + k_eff - 11, 0)
        xt = F.pad(xt, (total // 2, total - total // 2))
    elif padding == "causal":
        xt = F.pad(xt, (k_eff - 1, 0))
    expected = F.conv1d(xt, w, b, strides, 0, dilation).transpose(1, 2)
    got = _run(layer, x)
    torch.testing.assert_close(got, expected)
    assert layer.compute_output_shape((None, 11, 3)) == (None,) + tuple(got.shape[1:])


def test_conv2d_channels_last_and_channels_first_agree_with_f_conv2d():
    x = torch.randn(2, 7, 8, 3)
    last = layers.Conv2D(5, (3, 2), strides=(2, 1), padding="same", activation="relu")
    last.maybe_build((None, 7, 8, 3))
    k, b = (torch.from_numpy(w) for w in last.get_weights())
    assert k.shape == (3, 2, 3, 5)
    # TF "same": rows total pad = (4-1)*2+3-7 = 2 -> (1, 1); cols total = 1 -> (0, 1)
    xt = F.pad(x.permute(0, 3, 1, 2), (0, 1, 1, 1))
    expected = F.relu(F.conv2d(xt, k.permute(3, 2, 0, 1), b, (2, 1)))
    torch.testing.assert_close(_run(last, x), expected.permute(0, 2, 3, 1))
    backend.set_image_data_format("channels_first")
    first = layers.Conv2D(5, (3, 2), strides=(2, 1), padding="same", activation="relu")
    assert first.data_format == "channels_first"
    first.maybe_build((None, 3, 7, 8))
    first.set_weights(last.get_weights())
    torch.testing.assert_close(_run(first, x.permute(0, 3, 1, 2)), expected)
    assert first.compute_output_shape((None, 3, 7, 8)) == (None, 5, 4, 8)


def test_conv3d_and_groups():
    layer = layers.Conv3D(4, 2, groups=2)
    x = torch.randn(1, 3, 4, 5, 6)
    got = _run(layer, x)
    k, b = (torch.from_numpy(w) for w in layer.get_weights())
    assert k.shape == (2, 2, 2, 3, 4) and layer.count_params() == 2 * 2 * 2 * 3 * 4 + 4
    expected = F.conv3d(x.permute(0, 4, 1, 2, 3), k.permute(4, 3, 0, 1, 2), b, groups=2)
    torch.testing.assert_close(got, expected.permute(0, 2, 3, 4, 1))
    with pytest.raises(ValueError, match="divisible by groups"):
        layers.Conv1D(3, 2, groups=2)


@pytest.mark.parametrize("padding,strides,kernel,length", [
    ("valid", 2, 3, 5), ("same", 2, 3, 5), ("same", 2, 4, 5), ("valid", 3, 2, 4),
    ("same", 3, 2, 4), ("same", 1, 3, 6)])
def test_conv1d_transpose_is_the_adjoint_of_keras_conv1d(padding, strides, kernel, length):
    # <conv(y), x> == <y, conv_transpose(x)> for Keras's own forward conv whose output length is
    # the transpose's input length: this pins down Keras's cropping of the transposed output
    tconv = layers.Conv1DTranspose(2, kernel, strides=strides, padding=padding, use_bias=False)
    x = torch.randn(1, length, 3)
    out = _run(tconv, x)
    out_len = tconv.compute_output_shape((None, length, 3))[1]
    assert out.shape == (1, out_len, 2)
    expected_len = length * strides + max(kernel - strides, 0) if padding == "valid" \
        else length * strides
    assert out_len == expected_len
    conv = layers.Conv1D(3, kernel, strides=strides, padding=padding, use_bias=False)
    conv.maybe_build((None, out_len, 2))
    k_t = tconv.get_weights()[0]              # (k, filters=2, in=3)
    conv.set_weights([k_t])                   # Conv1D kernel (k, in=2, out=3)
    y = torch.randn(1, out_len, 2)
    conv_y = _run(conv, y)
    if conv_y.shape[1] != length:
        pytest.skip("forward conv length differs (valid padding with stride > kernel)")
    torch.testing.assert_close((conv_y * x).sum(), (y * out).sum(), rtol=1e-4, atol=1e-4)


def test_conv2d_transpose_shapes_and_bias():
    layer = layers.Conv2DTranspose(3, 3, strides=2, padding="same")
    out = _run(layer, torch.zeros(2, 4, 5, 6))
    assert out.shape == (2, 8, 10, 3)
    assert layer.get_weights()[0].shape == (3, 3, 3, 6)
    assert layer.compute_output_shape((None, 4, 5, 6)) == (None, 8, 10, 3)


def test_separable_conv_equals_depthwise_then_pointwise():
    layer = layers.SeparableConv1D(5, 3, depth_multiplier=2, padding="same")
    x = torch.randn(2, 9, 3)
    layer.maybe_build((None, 9, 3))
    dw, pw, b = (torch.from_numpy(w) for w in layer.get_weights())
    assert dw.shape == (3, 3, 2) and pw.shape == (1, 6, 5)
    # hand computation: channel c, multiplier m -> depthwise output channel c * 2 + m
    xp = F.pad(x, (0, 0, 1, 1))
    depth = torch.stack([sum(xp[:, t + i, :, None] * dw[i] for i in range(3))
                         for t in range(9)], 1).reshape(2, 9, 6)
    expected = depth @ pw[0] + b
    torch.testing.assert_close(_run(layer, x), expected, rtol=1e-5, atol=1e-5)


def test_depthwise_conv2d_matches_grouped_conv():
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2)
    x = torch.randn(1, 6, 6, 4)
    layer.maybe_build((None, 6, 6, 4))
    dw, b = (torch.from_numpy(w) for w in layer.get_weights())
    assert dw.shape == (3, 3, 4, 2) and b.shape == (8,)
    weight = dw.reshape(3, 3, 1, 8).permute(3, 2, 0, 1)
    expected = F.conv2d(x.permute(0, 3, 1, 2), weight, b, groups=4).permute(0, 2, 3, 1)
    torch.testing.assert_close(_run(layer, x), expected)
    assert layer.compute_output_shape((None, 6, 6, 4)) == (None, 4, 4, 8)


def test_keras_initializer_fans_use_keras_layout():
    torch.manual_seed(0)
    dense = layers.Dense(200, kernel_initializer="he_uniform")
    dense.maybe_build((None, 50))
    limit = np.sqrt(6 / 50)  # fan_in = input features, as in Keras
    kernel = dense.get_weights()[0]
    assert kernel.max() <= limit and kernel.max() > 0.9 * limit
    rec = layers.LSTM(8)
    rec.maybe_build((None, 3, 2))
    u = rec.get_weights()[1]  # (units, 4 units), orthogonal rows as Keras makes them
    np.testing.assert_allclose(u @ u.T, np.eye(8), atol=1e-5)
