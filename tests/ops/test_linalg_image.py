"""fitorch.ops.linalg and fitorch.ops.image against NumPy and Keras 3."""

import numpy as np
import pytest

from fitorch import ops
from tests.ops.cases import assert_same, case, check_keras, keras_cases

rng = np.random.default_rng(2)
A = rng.standard_normal((4, 4)).astype(np.float32)
SPD = (A @ A.T + 4 * np.eye(4)).astype(np.float32)
B = rng.standard_normal((4, 2)).astype(np.float32)
BATCH = rng.standard_normal((2, 3, 3)).astype(np.float32) + 3 * np.eye(3, dtype=np.float32)
TALL = rng.standard_normal((5, 3)).astype(np.float32)
LOW = np.tril(A) + 4 * np.eye(4, dtype=np.float32)
CUBE = rng.standard_normal((2, 3, 4)).astype(np.float32)
IMAGES = rng.random((2, 6, 8, 3)).astype(np.float32)
ONE = rng.random((5, 4, 3)).astype(np.float32)


LINALG = [
    case("cholesky", SPD), case("det", A), case("det", BATCH), case("inv", SPD),
    case("inv", BATCH), case("solve", SPD, B), case("pinv", TALL),
    case("solve_triangular", LOW, B, lower=True, ref=lambda a, b, lower: np.linalg.solve(a, b)),
    case("solve_triangular", LOW.T, B[:, 0], ref=lambda a, b: np.linalg.solve(a, b)),
    case("norm", A), case("norm", A, ord=1), case("norm", A, ord="nuc"),
    case("norm", A[0]), case("norm", A, axis=1), case("norm", A, ord=np.inf, axis=0),
    case("norm", CUBE, axis=(1, 2), keepdims=True), case("norm", A, ord=-2),
    case("norm", CUBE, keepdims=True, ref=lambda x, keepdims: np.linalg.norm(
        x.reshape(-1)).reshape(1, 1, 1)),
    case("matrix_rank", A), case("matrix_rank", np.outer(A[0], A[1]).astype(np.float32)),
    case("lstsq", TALL, B[:3].repeat(2, 0)[:5], ref=lambda a, b: np.linalg.lstsq(
        a, b, rcond=None)[0]),
    case("svd", TALL, compute_uv=False, ref=lambda x, compute_uv: np.linalg.svd(
        x, compute_uv=False)),
    case("cholesky_inverse", np.linalg.cholesky(SPD).astype(np.float32),
                             ref=lambda l: np.linalg.inv(l @ l.T)),
]


def _gray(x):
    return (x @ np.array([0.2989, 0.587, 0.114], np.float32))[..., None]


IMAGE = [
    case("rgb_to_grayscale", IMAGES, ref=_gray), case("rgb_to_grayscale", ONE, ref=_gray),
    case("rgb_to_grayscale", IMAGES.transpose(0, 3, 1, 2), data_format="channels_first",
         ref=lambda x, data_format: _gray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)),
    case("resize", IMAGES, (3, 4), ref=lambda x, s: x.reshape(2, 3, 2, 4, 2, 3).mean((2, 4))),
    case("resize", IMAGES, (12, 16), interpolation="nearest", ref=lambda x, s, interpolation:
         x.repeat(2, 1).repeat(2, 2)),
    case("resize", IMAGES, (5, 11), ref=None), case("resize", ONE, (7, 3), ref=None),
    case("resize", IMAGES, (9, 5), interpolation="bicubic", ref=None),
    case("resize", IMAGES, (3, 5), antialias=True, ref=None),
    case("resize", IMAGES, (3, 5), crop_to_aspect_ratio=True, ref=None),
    case("resize", IMAGES, (9, 4), crop_to_aspect_ratio=True, ref=None),
    case("resize", IMAGES, (3, 5), pad_to_aspect_ratio=True, fill_value=0.5, ref=None),
    case("resize", ONE, (9, 4), pad_to_aspect_ratio=True, ref=None),
    case("pad_images", IMAGES, 1, 2, 3, 0, ref=lambda x, t, l, b, r: np.pad(
        x, ((0, 0), (1, 3), (2, 0), (0, 0)))),
    case("pad_images", ONE, top_padding=1, left_padding=0, target_height=8, target_width=6,
         ref=lambda x, **k: np.pad(x, ((1, 2), (0, 2), (0, 0)))),
    case("crop_images", IMAGES, 1, 2, 3, 0, ref=lambda x, t, l, b, r: x[:, 1:3, 2:]),
    case("crop_images", ONE, top_cropping=1, left_cropping=1, target_height=2,
         target_width=2, ref=lambda x, **k: x[1:3, 1:3]),
]


def _call(name, args, kwargs):
    module = ops.image if name in ("rgb_to_grayscale", "resize", "pad_images",
                                   "crop_images") else ops.linalg
    return getattr(module, name)(*args, **kwargs)


@pytest.mark.parametrize("name,args,kwargs,ref",
                         LINALG + [p for p in IMAGE if p.values[3] is not None])
def test_matches_numpy(name, args, kwargs, ref):
    expected = (ref or getattr(np.linalg, name))(*args, **kwargs)
    assert_same(_call(name, args, kwargs), expected, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("name,args,kwargs,ref", keras_cases(LINALG + IMAGE))
def test_matches_keras(keras_ops, name, args, kwargs, ref):
    module = "image" if name in ("rgb_to_grayscale", "resize", "pad_images",
                                 "crop_images") else "linalg"
    check_keras(getattr(ops, module), getattr(keras_ops, module), name, args, kwargs,
                rtol=2e-4, atol=2e-5)


def test_decompositions_rebuild_the_matrix():
    q, r = ops.linalg.qr(TALL)
    np.testing.assert_allclose((q @ r).numpy(), TALL, atol=1e-5)
    u, s, vh = ops.linalg.svd(TALL, full_matrices=False)
    np.testing.assert_allclose((u * s @ vh).numpy(), TALL, atol=1e-5)
    w, v = ops.linalg.eigh(SPD)
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(SPD), rtol=1e-5)
    np.testing.assert_allclose((v * w @ v.T).numpy(), SPD, atol=1e-4)
    lu, piv = ops.linalg.lu_factor(A)
    import scipy.linalg
    lu_np, piv_np = scipy.linalg.lu_factor(A)
    np.testing.assert_allclose(lu.numpy(), lu_np, atol=1e-5)
    np.testing.assert_array_equal(piv.numpy(), piv_np)
    vals, _ = ops.linalg.eig(A)
    np.testing.assert_allclose(np.sort_complex(vals.numpy()), np.sort_complex(
        np.linalg.eigvals(A)), atol=1e-4)


def test_image_errors_name_the_argument():
    with pytest.raises(ValueError, match="interpolation='lanczos3'"):
        ops.image.resize(IMAGES, (2, 2), interpolation="lanczos3")
    with pytest.raises(ValueError, match="crop_to_aspect_ratio"):
        ops.image.resize(IMAGES, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="exactly two of"):
        ops.image.pad_images(IMAGES, 1, 1, 1, 1, target_height=9)
    with pytest.raises(ValueError, match="3 channels"):
        ops.image.rgb_to_grayscale(IMAGES[..., :2])
    with pytest.raises(ValueError, match="norm: axis"):
        ops.norm(CUBE, axis=(0, 1, 2))
