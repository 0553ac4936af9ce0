"""fitorch.ops.nn and the math ops against NumPy formulas (values) and Keras 3 (values, dtypes)."""

import math

import numpy as np
import pytest
import torch
from scipy import special

from fitorch import ops
from tests.ops.cases import assert_same, case, check_keras, keras_cases

rng = np.random.default_rng(1)
X = (rng.standard_normal((3, 5)) * 2).astype(np.float32)
X16 = X.astype(np.float16)
X64 = X.astype(np.float64)
CUBE = rng.standard_normal((2, 3, 4)).astype(np.float32)
PROBS = special.softmax(X, axis=-1).astype(np.float32)
LABELS = np.array([0, 4, 2])
ONEHOT = np.eye(5, dtype=np.float32)[LABELS]
BIN_T = (rng.random((3, 5)) > 0.5).astype(np.float32)
BIN_P = rng.random((3, 5)).astype(np.float32) * 0.98 + 0.01
IMAGES = rng.standard_normal((2, 6, 7, 3)).astype(np.float32)
SEQ = rng.standard_normal((2, 9, 3)).astype(np.float32)
VOL = rng.standard_normal((1, 4, 5, 6, 2)).astype(np.float32)
EPS = 1e-7
NCHW = torch.from_numpy(IMAGES.transpose(0, 3, 1, 2).copy())
UNFOLDED = rng.standard_normal((2, 12, 30)).astype(np.float32)


def sig(x):
    return 1 / (1 + np.exp(-x))


def softmax_np(x, axis=-1):
    return special.softmax(x, axis=axis)


def _parts(z):
    return [z.real.astype(np.float32), z.imag.astype(np.float32)]


SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805

ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0), "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": sig, "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)), "silu": lambda x: x * sig(x),
    "swish": lambda x: x * sig(x), "log_sigmoid": lambda x: np.log(sig(x)),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "hard_swish": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(np.expm1(x), 0),
    "hard_tanh": lambda x: np.clip(x, -1, 1), "tanh_shrink": lambda x: x - np.tanh(x),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "squareplus": lambda x: (x + np.sqrt(x ** 2 + 4)) / 2,
    "softmax": softmax_np, "log_softmax": lambda x: np.log(softmax_np(x)),
}

NN = (
    [case(n, x, ref=f) for n, f in ACTIVATIONS.items() for x in (X, X64)]
    + [case(n, X16, ref=lambda x, f=f: f(x.astype(np.float32))) for n, f in
       ACTIVATIONS.items() if n in ("relu", "sigmoid", "softmax", "silu")]
    + [case("gelu", X, approximate=False, ref=lambda x, approximate: 0.5 * x * (
        1 + special.erf(x / np.sqrt(2)))),
       case("leaky_relu", X, negative_slope=0.1, ref=lambda x, negative_slope: np.where(
           x >= 0, x, 0.1 * x)),
       case("elu", X, alpha=0.5, ref=lambda x, alpha: np.where(x > 0, x, 0.5 * np.expm1(x))),
       case("celu", X, alpha=2.0, ref=lambda x, alpha: np.maximum(x, 0) + np.minimum(
           2 * np.expm1(x / 2), 0)),
       case("glu", X[:, :4], ref=lambda x: x[:, :2] * sig(x[:, 2:])),
       case("glu", X[:2], axis=0, ref=lambda x, axis: x[:1] * sig(x[1:])),
       case("threshold", X, 0.3, -1.0, ref=lambda x, t, v: np.where(x > t, x, v)),
       case("soft_shrink", X, threshold=1.0, ref=lambda x, threshold: np.where(
           x > 1, x - 1, np.where(x < -1, x + 1, 0))),
       case("softmax", CUBE, axis=0, ref=lambda x, axis: softmax_np(x, axis)),
       case("softmax", CUBE, axis=(1, 2), ref=lambda x, axis: softmax_np(x, axis)),
       case("log_softmax", CUBE, axis=1, ref=lambda x, axis: np.log(softmax_np(x, axis))),
       case("sparsemax", X, ref=None), case("sparsemax", CUBE, axis=1, ref=None)]
    + [case("one_hot", LABELS, 5, ref=lambda x, n: np.eye(n)[x]),
       case("one_hot", np.array([[1, -1], [0, 2]]), 3, ref=lambda x, n: np.eye(n)[x] * (
           x >= 0)[..., None]),
       case("one_hot", LABELS, 5, axis=0, dtype="int32", ref=lambda x, n, axis, dtype:
            np.eye(n)[x].T),
       case("multi_hot", np.array([[0, 2], [1, 1]]), 4, ref=lambda x, n: np.array(
           [[1, 0, 1, 0], [0, 1, 0, 0]])),
       case("multi_hot", np.array([1, 3]), 4, ref=lambda x, n: np.array([0, 1, 0, 1]))]
    + [case("categorical_crossentropy", ONEHOT, PROBS, ref=lambda t, p: -np.sum(
        t * np.log(np.clip(p, EPS, 1 - EPS)), axis=-1)),
       case("categorical_crossentropy", ONEHOT, X, from_logits=True, ref=lambda t, p,
            from_logits: -np.sum(t * np.log(softmax_np(p)), axis=-1)),
       case("sparse_categorical_crossentropy", LABELS, PROBS, ref=lambda t, p: -np.log(
           p[np.arange(3), t])),
       case("sparse_categorical_crossentropy", LABELS[:, None], X, from_logits=True,
            ref=lambda t, p, from_logits: -np.log(softmax_np(p))[np.arange(3), t[:, 0]]),
       case("sparse_categorical_crossentropy", np.zeros((2, 4), np.int64), CUBE.transpose(
           0, 2, 1)[:, :, :3].transpose(0, 2, 1), from_logits=True, axis=1, ref=None),
       case("binary_crossentropy", BIN_T, BIN_P, ref=lambda t, p: -(
           t * np.log(p) + (1 - t) * np.log(1 - p))),
       case("binary_crossentropy", BIN_T, X, from_logits=True, ref=lambda t, p, from_logits:
            -(t * np.log(sig(p)) + (1 - t) * np.log(1 - sig(p))))]
    + [case("moments", CUBE, (0, 1), ref=lambda x, a: (x.mean(a), x.var(a))),
       case("moments", CUBE, [2], keepdims=True, ref=lambda x, a, keepdims: (
           x.mean(tuple(a), keepdims=True), x.var(tuple(a), keepdims=True))),
       case("batch_normalization", CUBE, CUBE.mean((0, 1)), CUBE.var((0, 1)), -1,
            offset=np.full(4, 0.5, np.float32), scale=np.full(4, 2.0, np.float32),
            ref=lambda x, m, v, a, offset, scale: (x - m) / np.sqrt(v + 1e-3) * scale
            + offset),
       case("batch_normalization", CUBE, CUBE.mean((0, 2)), CUBE.var((0, 2)), 1,
            ref=lambda x, m, v, a: (x - m[:, None]) / np.sqrt(v[:, None] + 1e-3)),
       case("normalize", X, ref=lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)),
       case("normalize", X, axis=0, order=1, ref=lambda x, axis, order: x / np.abs(x).sum(
           0, keepdims=True)),
       case("rms_normalization", X, ref=lambda x: x / np.sqrt((x ** 2).mean(
           -1, keepdims=True) + EPS)),
       case("rms_normalization", CUBE, scale=np.full(4, 3.0, np.float32), ref=lambda x, scale:
            3 * x / np.sqrt((x ** 2).mean(-1, keepdims=True) + EPS)),
       case("layer_normalization", X, epsilon=1e-3, ref=lambda x, epsilon: (
           x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)),
       case("layer_normalization", CUBE, gamma=np.full((3, 4), 2.0, np.float32),
            beta=np.ones((3, 4), np.float32), axis=(1, 2), ref=lambda x, gamma, beta, axis:
            2 * (x - x.mean(axis, keepdims=True)) / np.sqrt(x.var(axis, keepdims=True) + EPS)
            + 1),
       case("psnr", X, X + 0.1, 4.0, ref=lambda a, b, m: 20 * np.log10(m) - 10 * np.log10(
           np.mean((a - b) ** 2)))]
    + [case("logsumexp", CUBE, ref=lambda x: special.logsumexp(x)),
       case("logsumexp", CUBE, axis=1, keepdims=True, ref=lambda x, axis, keepdims:
            special.logsumexp(x, axis=axis, keepdims=True)),
       case("logsumexp", CUBE, axis=(0, 2), ref=lambda x, axis: special.logsumexp(x, axis)),
       case("rsqrt", np.abs(X) + 0.1, ref=lambda x: 1 / np.sqrt(x)),
       case("erf", X, ref=special.erf), case("erfc", X, ref=special.erfc),
       case("erfinv", np.tanh(X) * 0.9, ref=special.erfinv),
       case("logdet", np.eye(3, dtype=np.float32) * 2 + 0.1, ref=lambda x: np.linalg.slogdet(
           x)[1]),
       case("top_k", X, 2, ref=lambda x, k: [np.sort(x)[:, ::-1][:, :k],
                                             np.argsort(-x)[:, :k]]),
       case("in_top_k", LABELS, X, 2, ref=lambda t, p, k: (p >= np.sort(p)[:, ::-1][:, [k - 1]])
            [np.arange(3), t]),
       case("segment_sum", X, np.array([0, 0, 2]), ref=lambda d, s: np.stack(
           [d[:2].sum(0), np.zeros(5), d[2]])),
       case("segment_sum", X, np.array([1, 0, 1]), num_segments=2, ref=lambda d, s,
            num_segments: np.stack([d[1], d[0] + d[2]])),
       case("segment_max", X, np.array([0, 1, 1]), ref=lambda d, s: np.stack(
           [d[0], d[1:].max(0)])),
       case("segment_min", X, np.array([1, 1, 0]), ref=lambda d, s: np.stack(
           [d[2], d[:2].min(0)])),
       case("segment_prod", X, np.array([0, 1, 0]), num_segments=3, ref=lambda d, s,
            num_segments: np.stack([d[0] * d[2], d[1], np.ones(5)])),
       case("extract_sequences", X, 3, 2, ref=lambda x, n, s: np.stack(
           [x[:, 0:3], x[:, 2:5]], axis=1)),
       case("cdist", X, X[:2], ref=lambda a, b: np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1)))]
    + [case("fft", (X, X[::-1].copy()), ref=lambda z: _parts(np.fft.fft(z[0] + 1j * z[1]))),
       case("fft2", (CUBE, CUBE * 2), ref=lambda z: _parts(np.fft.fft2(z[0] + 2j * z[0]))),
       case("ifft2", (CUBE, CUBE * 0), ref=lambda z: _parts(np.fft.ifft2(z[0]))),
       case("rfft", X, ref=lambda x: _parts(np.fft.rfft(x))),
       case("rfft", X, fft_length=8, ref=lambda x, fft_length: _parts(np.fft.rfft(x, 8))),
       case("irfft", _parts(np.fft.rfft(X)), ref=lambda z: np.fft.irfft(z[0] + 1j * z[1])),
       case("irfft", _parts(np.fft.rfft(X)), fft_length=5, ref=lambda z, fft_length:
            np.fft.irfft(z[0] + 1j * z[1], 5)),
       case("view_as_real", (X + 1j * X[::-1]).astype(np.complex64), ref=lambda z: np.stack(
           [z.real, z.imag], -1)),
       case("view_as_complex", np.stack([X, -X], -1), ref=lambda x: x[..., 0] + 1j * x[..., 1]),
       case("polar", np.abs(X), X, ref=lambda r, t: r * np.exp(1j * t)),
       case("unfold", NCHW, 2, ref=None),
       case("unfold", NCHW, (2, 3), dilation=1, padding=1, stride=2, ref=None),
       case("fold", torch.from_numpy(UNFOLDED), (6, 7), 2, ref=None)]
)


def _conv_ref(x, kernel, stride=1, pad=((0, 0),), dilation=1):
    """Direct N-D cross-correlation, channels_last, Keras kernel layout."""
    n = x.ndim - 2
    x = np.pad(x, ((0, 0),) + tuple(pad) * (n if len(pad) == 1 else 1) + ((0, 0),))
    k_sizes = kernel.shape[:n]
    out_sizes = [(x.shape[1 + i] - (k_sizes[i] - 1) * dilation - 1) // stride + 1
                 for i in range(n)]
    groups = x.shape[-1] // kernel.shape[-2]
    cin = kernel.shape[-2]
    cout_g = kernel.shape[-1] // groups
    out = np.zeros((x.shape[0], *out_sizes, kernel.shape[-1]))
    for pos in np.ndindex(*out_sizes):
        window = x[(slice(None),) + tuple(slice(p * stride, p * stride + (k - 1) * dilation + 1,
                                                dilation) for p, k in zip(pos, k_sizes))]
        for g in range(groups):
            w = kernel[..., :, g * cout_g:(g + 1) * cout_g]
            xs = window[..., g * cin:(g + 1) * cin]
            out[(slice(None),) + pos + (slice(g * cout_g, (g + 1) * cout_g),)] = np.tensordot(
                xs, w, axes=(list(range(1, n + 2)), list(range(n + 1))))
    return out


K1 = rng.standard_normal((3, 3, 4)).astype(np.float32)
K2 = rng.standard_normal((3, 2, 3, 5)).astype(np.float32)
KG = rng.standard_normal((3, 3, 1, 6)).astype(np.float32)
KD = rng.standard_normal((2, 2, 3, 2)).astype(np.float32)
KP = rng.standard_normal((1, 1, 6, 4)).astype(np.float32)
K3 = rng.standard_normal((2, 2, 2, 2, 3)).astype(np.float32)
KT = rng.standard_normal((3, 2, 5, 3)).astype(np.float32)


def _pool_ref(x, size, stride, reduce, pads=None):
    n = x.ndim - 2
    if pads is not None:
        fill = -np.inf if reduce is np.max else np.nan
        x = np.pad(x, ((0, 0),) + tuple(pads) + ((0, 0),), constant_values=fill)
    outs = [(x.shape[1 + i] - size) // stride + 1 for i in range(n)]
    out = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for pos in np.ndindex(*outs):
        w = x[(slice(None),) + tuple(slice(p * stride, p * stride + size) for p in pos)]
        out[(slice(None),) + pos] = reduce(w.reshape(x.shape[0], -1, x.shape[-1]), axis=1)
    return out


CONV = [
    case("conv", SEQ, K1, ref=lambda x, k: _conv_ref(x, k)),
    case("conv", SEQ, K1, strides=2, padding="same", ref=lambda x, k, strides, padding:
         _conv_ref(x, k, 2, ((1, 1),))),
    case("conv", IMAGES, K2, ref=lambda x, k: _conv_ref(x, k)),
    case("conv", IMAGES, K2, padding="same", ref=lambda x, k, padding: _conv_ref(
         x, k, pad=((1, 1), (0, 1)))),
    case("conv", IMAGES, K2, strides=2, padding="same", ref=None),
    case("conv", IMAGES, K2[:, :, :, :], dilation_rate=2, ref=lambda x, k, dilation_rate:
         _conv_ref(x, k, dilation=2)),
    case("conv", IMAGES, K2, padding="same", dilation_rate=(2, 1), ref=None),
    case("conv", IMAGES.transpose(0, 3, 1, 2), K2, data_format="channels_first",
         ref=lambda x, k, data_format: _conv_ref(x.transpose(0, 2, 3, 1), k).transpose(
             0, 3, 1, 2)),
    case("conv", VOL, K3, ref=lambda x, k: _conv_ref(x, k)),
    case("conv", np.concatenate([IMAGES, IMAGES], -1), KG[:, :, :, :], ref=None),
    case("depthwise_conv", IMAGES, KD, ref=lambda x, k: _conv_ref(
        x, k.reshape(2, 2, 1, 6))),
    case("depthwise_conv", IMAGES, KD, strides=(1, 2), padding="same", ref=None),
    case("separable_conv", IMAGES, KD, KP, ref=lambda x, d, p: _conv_ref(
        _conv_ref(x, d.reshape(2, 2, 1, 6)), p)),
    case("conv_transpose", IMAGES, KT, ref=None),
    case("conv_transpose", IMAGES, KT, strides=2, padding="same", ref=None),
    case("conv_transpose", IMAGES, KT, strides=(2, 3), ref=None),
    case("conv_transpose", IMAGES, KT, strides=2, padding="same", output_padding=0, ref=None),
    case("conv_transpose", IMAGES, KT, strides=3, output_padding=(1, 2), ref=None),
    case("conv_transpose", IMAGES, KT, dilation_rate=2, padding="same", ref=None),
    case("conv_transpose", SEQ, K1.transpose(0, 2, 1), strides=2, padding="same", ref=None),
    case("conv_transpose", VOL, K3.transpose(0, 1, 2, 4, 3), strides=2, ref=None),
    case("max_pool", IMAGES, 2, ref=lambda x, s: _pool_ref(x, 2, 2, np.max)),
    case("max_pool", IMAGES, 3, strides=2, padding="same", ref=lambda x, s, strides, padding:
         _pool_ref(x, 3, 2, np.max, ((0, 1), (1, 1)))),
    case("max_pool", SEQ, 2, strides=1, ref=lambda x, s, strides: _pool_ref(x, 2, 1, np.max)),
    case("max_pool", VOL, 2, ref=lambda x, s: _pool_ref(x, 2, 2, np.max)),
    case("average_pool", IMAGES, 2, ref=lambda x, s: _pool_ref(x, 2, 2, np.mean)),
    case("average_pool", IMAGES, 3, strides=3, padding="same", ref=lambda x, s, strides,
         padding: _pool_ref(x, 3, 3, np.nanmean, ((0, 0), (1, 1)))),
    case("average_pool", IMAGES, 2, strides=2, padding="same", ref=lambda x, s, strides,
         padding: _pool_ref(x, 2, 2, np.nanmean, ((0, 0), (0, 1))),
         keras_differs="Keras's torch backend averages replicated edge values into the "
                       "padded windows; TensorFlow and JAX average the real ones"),
    case("average_pool", SEQ.transpose(0, 2, 1), 3, data_format="channels_first",
         ref=lambda x, s, data_format: _pool_ref(x.transpose(0, 2, 1), 3, 3, np.mean
                                                 ).transpose(0, 2, 1)),
    case("adaptive_average_pool", IMAGES, (3, 2), ref=None),
    case("adaptive_max_pool", IMAGES, 2, ref=None),
    case("depth_to_space", IMAGES[..., :1].repeat(4, -1), 2, ref=None),
    case("depth_to_space", IMAGES.transpose(0, 3, 1, 2)[:, :1].repeat(4, 1), 2,
         data_format="channels_first", ref=None),
    case("space_to_depth", IMAGES[:, :6, :6], 3, ref=None),
    case("space_to_depth", IMAGES[:, :6, :6].transpose(0, 3, 1, 2), 2,
         data_format="channels_first", ref=None),
]

Q = rng.standard_normal((2, 4, 2, 3)).astype(np.float32)
KV = rng.standard_normal((2, 5, 2, 3)).astype(np.float32)
KV1 = rng.standard_normal((2, 5, 1, 3)).astype(np.float32)
MASK = rng.random((2, 1, 4, 5)) > 0.3
MASK[..., 0] = True


def _attention_ref(q, k, v, mask=None, bias=None, scale=None, causal=False):
    k = np.repeat(k, q.shape[2] // k.shape[2], axis=2)
    v = np.repeat(v, q.shape[2] // v.shape[2], axis=2)
    logits = np.einsum("btnh,bsnh->bnts", q, k) * (scale or 1 / np.sqrt(q.shape[-1]))
    if bias is not None:
        logits = logits + bias
    allowed = np.ones(logits.shape, bool) if mask is None else np.broadcast_to(mask, logits.shape)
    if causal:
        allowed = allowed & np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(allowed, logits, -1e30)
    return np.einsum("bnts,bsnh->btnh", softmax_np(logits), v)


ATTENTION = [
    case("dot_product_attention", Q, KV, KV, ref=_attention_ref),
    case("dot_product_attention", Q, KV, KV, mask=MASK, ref=lambda q, k, v, mask:
         _attention_ref(q, k, v, mask=mask)),
    case("dot_product_attention", Q, KV[:, :4], KV[:, :4], is_causal=True, scale=0.5,
         ref=lambda q, k, v, is_causal, scale: _attention_ref(q, k, v, scale=0.5, causal=True)),
    case("dot_product_attention", Q, KV1, KV1, bias=MASK * 0.5, ref=lambda q, k, v, bias:
         _attention_ref(q, k, v, bias=bias)),
]

ALL = NN + CONV + ATTENTION


@pytest.mark.parametrize("name,args,kwargs,ref", [p for p in ALL if p.values[3] is not None])
def test_matches_numpy(name, args, kwargs, ref):
    actual = getattr(ops.nn, name, None) or getattr(ops, name)
    out = actual(*args, **kwargs)
    rtol = 1e-2 if any(getattr(a, "dtype", None) == np.float16 for a in args) else 2e-5
    assert_same(out, ref(*args, **kwargs), rtol=rtol, atol=max(rtol, 1e-5))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,args,kwargs,ref", keras_cases(ALL))
def test_matches_keras(keras_ops, name, args, kwargs, ref):
    check_keras(ops, keras_ops, name, args, kwargs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("strides,kernel", [(1, KT), (2, KT), ((2, 1), KT[:2])])
def test_conv_transpose_is_the_adjoint_of_conv(strides, kernel):
    """<conv_transpose(y, K), x> == <y, conv(x, K)> for "valid" padding: the defining property."""
    x = rng.standard_normal((2, 7, 6, 5)).astype(np.float32)   # kernel (kh, kw, 5, 3)
    forward = ops.conv(x, kernel, strides=strides).numpy()
    y = rng.standard_normal(forward.shape).astype(np.float32)
    back = ops.conv_transpose(y, kernel, strides=strides).numpy()
    # rows/columns that only one side has meet zeros on the other
    h, w = min(back.shape[1], x.shape[1]), min(back.shape[2], x.shape[2])
    back, x = back[:, :h, :w], x[:, :h, :w]
    np.testing.assert_allclose((back * x).sum(), (y * forward).sum(), rtol=1e-4)


def test_nn_namespace_has_the_nn_ops():
    x = torch.randn(2, 3, 6, 7)
    assert torch.equal(ops.fold(ops.unfold(x, 1), (6, 7), 1), x)
    for name in ("relu", "softmax", "conv", "max_pool", "one_hot", "moments",
                 "categorical_crossentropy", "dot_product_attention"):
        assert getattr(ops.nn, name) is getattr(ops, name)


def test_conv_and_pool_errors_name_the_argument():
    with pytest.raises(ValueError, match="padding='causal'"):
        ops.conv(SEQ, K1, padding="causal")
    with pytest.raises(ValueError, match="strides=.* must have 2 entries"):
        ops.max_pool(IMAGES, 2, strides=(1, 1, 1))
    with pytest.raises(ValueError, match="3, 4 or 5 axes"):
        ops.average_pool(X, 2)
    with pytest.raises(ValueError, match="target.shape"):
        ops.categorical_crossentropy(ONEHOT[:2], PROBS)
    with pytest.raises(ValueError, match="flash_attention"):
        ops.dot_product_attention(Q, KV, KV, flash_attention=True)
    assert math.isfinite(float(ops.psnr(X, X + 1, 1.0)))
