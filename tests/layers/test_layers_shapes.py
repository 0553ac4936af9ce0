"""Pooling, merging, reshaping and dropout layers vs torch ops and hand computations."""

from __future__ import annotations

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


def test_max_and_average_pooling_valid():
    x = torch.randn(2, 9, 3)
    torch.testing.assert_close(_run(layers.MaxPool1D(2), x),
                               F.max_pool1d(x.transpose(1, 2), 2).transpose(1, 2))
    torch.testing.assert_close(_run(layers.AveragePooling1D(3, strides=2), x),
                               F.avg_pool1d(x.transpose(1, 2), 3, 2).transpose(1, 2))
    img = torch.randn(2, 6, 7, 4)
    got = _run(layers.MaxPooling2D(), img)
    assert got.shape == (2, 3, 3, 4)
    torch.testing.assert_close(got, F.max_pool2d(img.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1))
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.MaxPool3D is layers.MaxPooling3D
    assert _run(layers.AveragePooling3D(), torch.randn(1, 4, 4, 4, 2)).shape == (1, 2, 2, 2, 2)


def test_same_pooling_ignores_padding_like_tensorflow():
    x = torch.tensor([[[1.0], [2.0], [3.0], [4.0], [5.0]]])  # (1, 5, 1)
    # windows of 2 with stride 2 over 5 steps: TF pads one step on the right
    assert _run(layers.AveragePooling1D(2, padding="same"), x).flatten().tolist() == [1.5, 3.5, 5.0]
    neg = -x
    assert _run(layers.MaxPool1D(2, padding="same"), neg).flatten().tolist() == [-1.0, -3.0, -5.0]
    layer = layers.MaxPool1D(2, padding="same")
    assert layer.compute_output_shape((None, 5, 1)) == (None, 3, 1)


def test_global_pooling_and_keepdims():
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(_run(layers.GlobalMaxPool1D(), x), x.amax(1))
    torch.testing.assert_close(_run(layers.GlobalAveragePooling1D(), x), x.mean(1))
    img = torch.randn(2, 4, 5, 3)
    torch.testing.assert_close(_run(layers.GlobalAveragePooling2D(keepdims=True), img),
                               img.mean((1, 2), keepdim=True))
    assert layers.GlobalMaxPool2D().compute_output_shape((None, 4, 5, 3)) == (None, 3)
    assert layers.GlobalMaxPool2D(data_format="channels_first").compute_output_shape(
        (None, 3, 4, 5)) == (None, 3)


def test_elementwise_merges():
    a, b, c = torch.randn(3, 2, 4).unbind(0)
    torch.testing.assert_close(_run(layers.Add(), [a, b, c]), a + b + c)
    torch.testing.assert_close(_run(layers.Subtract(), [a, b]), a - b)
    torch.testing.assert_close(_run(layers.Multiply(), [a, b]), a * b)
    torch.testing.assert_close(_run(layers.Average(), [a, b, c]), (a + b + c) / 3)
    torch.testing.assert_close(_run(layers.Maximum(), [a, b]), torch.maximum(a, b))
    torch.testing.assert_close(_run(layers.Minimum(), [a, b]), torch.minimum(a, b))
    torch.testing.assert_close(layers.add([a, b]), a + b)
    assert layers.Add().compute_output_shape([(None, 4), (None, 4)]) == (None, 4)


def test_merge_shape_errors_name_the_layer_and_shapes():
    with pytest.raises(layers.IncompatibleInputError,
                       match=r"Add 'add'.*incompatible shapes \[\(None, 4\), \(None, 5\)\]"):
        layers.Add()([torch.randn(2, 4), torch.randn(2, 5)])
    with pytest.raises(layers.IncompatibleInputError, match="exactly 2 inputs"):
        layers.Subtract()([torch.randn(2, 4)] * 3)
    with pytest.raises(layers.IncompatibleInputError, match="expects a list of input tensors"):
        layers.Add()(torch.randn(2, 4))


def test_concatenate_checks_non_concat_axes():
    a, b = torch.randn(2, 3, 4), torch.randn(2, 3, 5)
    torch.testing.assert_close(_run(layers.Concatenate(), [a, b]), torch.cat([a, b], -1))
    torch.testing.assert_close(layers.concatenate([a, a], axis=1), torch.cat([a, a], 1))
    assert layers.Concatenate().compute_output_shape([(None, 3, 4), (None, 3, 5)]) == (None, 3, 9)
    layer = layers.Concatenate(axis=-1, name="cat")
    with pytest.raises(layers.IncompatibleInputError, match=r"Concatenate 'cat'.*axis 1 differs"):
        layer([torch.randn(2, 200, 7), torch.randn(2, 100, 7)])
    assert not layer.built


def test_dot_batchwise_and_cosine():
    a, b = torch.randn(3, 4), torch.randn(3, 4)
    torch.testing.assert_close(_run(layers.Dot(axes=1), [a, b]), (a * b).sum(1, keepdim=True))
    cos = _run(layers.Dot(axes=1, normalize=True), [a, b])
    torch.testing.assert_close(cos[:, 0], F.cosine_similarity(a, b))
    x, y = torch.randn(2, 5, 4), torch.randn(2, 6, 4)
    torch.testing.assert_close(_run(layers.Dot(axes=(2, 2)), [x, y]), x @ y.transpose(1, 2))
    assert layers.Dot(axes=(2, 2)).compute_output_shape([(None, 5, 4), (None, 6, 4)]) == \
        (None, 5, 6)
    with pytest.raises(layers.IncompatibleInputError, match="different sizes"):
        layers.Dot(axes=1)([torch.randn(2, 3), torch.randn(2, 4)])


def test_flatten_reshape_permute_repeat():
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(_run(layers.Flatten(), x), x.reshape(2, -1))
    first = layers.Flatten(data_format="channels_first")
    torch.testing.assert_close(_run(first, x), x.permute(0, 2, 3, 1).reshape(2, -1))
    assert layers.Flatten().compute_output_shape((None, 26, 26, 32)) == (None, 21632)
    torch.testing.assert_close(_run(layers.Reshape((12, -1)), x), x.reshape(2, 12, 5))
    assert layers.Reshape((-1, 10)).compute_output_shape((None, 4, 5)) == (None, 2, 10)
    with pytest.raises(layers.IncompatibleInputError, match="cannot reshape"):
        layers.Reshape((7,)).compute_output_shape((None, 4, 5))
    torch.testing.assert_close(_run(layers.Permute((3, 1, 2)), x), x.permute(0, 3, 1, 2))
    assert layers.Permute((2, 1)).compute_output_shape((None, 3, 4)) == (None, 4, 3)
    v = torch.randn(2, 3)
    torch.testing.assert_close(_run(layers.RepeatVector(4), v), v[:, None].expand(2, 4, 3))
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((0, 1))


def test_padding_cropping_upsampling():
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(_run(layers.ZeroPadding1D((1, 2)), x), F.pad(x, (0, 0, 1, 2)))
    torch.testing.assert_close(_run(layers.Cropping1D((1, 2)), x), x[:, 1:3])
    torch.testing.assert_close(_run(layers.UpSampling1D(2), x), x.repeat_interleave(2, 1))
    img = torch.randn(2, 4, 5, 3)
    torch.testing.assert_close(_run(layers.ZeroPadding2D(((1, 0), (2, 3))), img),
                               F.pad(img, (0, 0, 2, 3, 1, 0)))
    torch.testing.assert_close(_run(layers.Cropping2D(((1, 0), (2, 1))), img), img[:, 1:, 2:4])
    up = _run(layers.UpSampling2D((2, 3)), img)
    torch.testing.assert_close(up, img.repeat_interleave(2, 1).repeat_interleave(3, 2))
    bilinear = _run(layers.UpSampling2D(2, interpolation="bilinear"), img)
    expected = F.interpolate(img.permute(0, 3, 1, 2), scale_factor=2, mode="bilinear",
                             align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(bilinear, expected)
    assert layers.ZeroPadding2D(1).compute_output_shape((None, 4, 5, 3)) == (None, 6, 7, 3)
    assert layers.Cropping2D(1).compute_output_shape((None, 4, 5, 3)) == (None, 2, 3, 3)
    assert layers.UpSampling2D().compute_output_shape((None, 4, 5, 3)) == (None, 8, 10, 3)
    with pytest.raises(layers.IncompatibleInputError, match="leaves nothing"):
        layers.Cropping1D((3, 3))(x)


def test_zero_padding1d_follows_image_data_format_as_keras():
    # Keras 3: ZeroPadding1D(data_format=None) uses image_data_format(); Cropping1D and
    # UpSampling1D have no data_format and always treat axis 1 as the steps
    backend.set_image_data_format("channels_first")
    x = torch.randn(2, 3, 5)  # (batch, channels, steps)
    padded = layers.ZeroPadding1D((1, 2))
    assert padded.data_format == "channels_first"
    torch.testing.assert_close(_run(padded, x), F.pad(x, (1, 2)))
    torch.testing.assert_close(_run(layers.Cropping1D((1, 0)), x), x[:, 1:])
    torch.testing.assert_close(_run(layers.UpSampling1D(2), x), x.repeat_interleave(2, 1))


def test_dropout_family_train_vs_eval():
    x = torch.ones(64, 10, 8)
    drop = layers.Dropout(0.5)
    assert torch.equal(_run(drop.eval(), x), x)
    out = _run(drop.train(), x)
    assert set(out.unique().tolist()) <= {0.0, 2.0}
    spatial = layers.SpatialDropout1D(0.5)
    out = _run(spatial, x)
    # whole channels dropped: every step of a (sample, channel) pair is equal
    assert torch.equal(out, out[:, :1].expand_as(out))
    img = torch.ones(16, 3, 3, 4)
    out = _run(layers.SpatialDropout2D(0.5), img)
    assert torch.equal(out, out[:, :1, :1].expand_as(out))
    shared = _run(layers.Dropout(0.5, noise_shape=(None, 1, 8)), x)
    assert torch.equal(shared, shared[:, :1].expand_as(shared))
    a = _run(layers.Dropout(0.5, seed=3), x)
    b = _run(layers.Dropout(0.5, seed=3), x)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="rate=1.5"):
        layers.Dropout(1.5)


def test_activation_lambda_identity_input_layer():
    x = torch.randn(3, 4)
    for name, fn in [("relu", torch.relu), ("sigmoid", torch.sigmoid),
                     ("softmax", lambda t: torch.softmax(t, -1)), ("gelu", F.gelu),
                     ("swish", F.silu), ("silu", F.silu), ("elu", F.elu), ("selu", F.selu),
                     ("softplus", F.softplus), ("linear", lambda t: t),
                     ("leaky_relu", lambda t: F.leaky_relu(t, 0.2)),
                     ("hard_sigmoid", lambda t: F.relu6(t + 3) / 6)]:
        torch.testing.assert_close(_run(layers.Activation(name), x), fn(x), msg=name)
    torch.testing.assert_close(_run(layers.Lambda(lambda t: t ** 2), x), x ** 2)
    assert layers.Lambda(lambda t: t[:, :2], output_shape=(2,)).compute_output_shape(
        (None, 4)) == (None, 2)
    inp = layers.InputLayer(shape=(4,), dtype=torch.long)
    assert inp.name == "input_layer" and inp._declared_input_shape == (None, 4)
    assert torch.equal(inp(x), x)
    assert layers.InputLayer.from_config(inp.get_config())._declared_input_shape == (None, 4)


def test_training_call_argument_overrides_module_mode():
    x = torch.ones(32, 16)
    drop = layers.Dropout(0.5).eval()
    assert not torch.equal(drop(x, training=True), x)
    assert torch.equal(drop.train()(x, training=False), x)
    bn = layers.BatchNormalization()
    bn(torch.randn(8, 3) + 5, training=False)  # inference: moving statistics stay put
    assert torch.equal(bn.moving_mean, torch.zeros(3))
    rnn = layers.GRU(3, dropout=0.5).eval()
    seq = torch.randn(2, 4, 3)
    assert not torch.equal(rnn(seq, training=True), rnn(seq))


def test_activation_layers_and_noise():
    x = torch.linspace(-3, 3, 13).reshape(1, 13)
    relu = layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5)
    expected = torch.where(x >= 0.5, x, 0.1 * (x - 0.5)).clamp(max=2.0)
    torch.testing.assert_close(_run(relu, x), expected)
    torch.testing.assert_close(_run(layers.LeakyReLU(), x), F.leaky_relu(x, 0.3))
    torch.testing.assert_close(_run(layers.LeakyReLU(alpha=0.1), x), F.leaky_relu(x, 0.1))
    torch.testing.assert_close(_run(layers.ELU(2.0), x), F.elu(x, 2.0))
    mask = torch.tensor([[True, False, True]])
    probs = layers.Softmax()(torch.zeros(1, 3), mask=mask)
    torch.testing.assert_close(probs, torch.tensor([[0.5, 0.0, 0.5]]))
    prelu = layers.PReLU(alpha_initializer="ones", shared_axes=[1])
    seq = torch.randn(2, 4, 3)
    prelu.maybe_build((None, 4, 3))
    assert prelu.alpha.shape == (1, 3) and prelu.count_params() == 3
    with torch.no_grad():
        prelu.alpha.fill_(0.25)
    torch.testing.assert_close(_run(prelu, seq), torch.where(seq > 0, seq, 0.25 * seq))
    backend.clear_session()
    assert [layers.ReLU().name, layers.LeakyReLU().name, layers.PReLU().name] == \
        ["re_lu", "leaky_re_lu", "p_re_lu"]  # Keras's own default names
    ones = torch.ones(4000)
    noisy = _run(layers.GaussianNoise(0.5), ones)
    assert abs(float(noisy.std()) - 0.5) < 0.05
    assert torch.equal(_run(layers.GaussianNoise(0.5).eval(), ones), ones)
    scaled = _run(layers.GaussianDropout(0.5), ones)
    assert abs(float(scaled.mean()) - 1.0) < 0.1 and abs(float(scaled.std()) - 1.0) < 0.1
    torch.testing.assert_close(_run(layers.Rescaling(0.5, offset=1.0), x), x * 0.5 + 1.0)
