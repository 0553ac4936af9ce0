"""``PyDataset`` (Keras 2's ``Sequence``): a dataset that hands out whole batches by index.

``fit`` / ``evaluate`` / ``predict`` take one as ``x``, as Keras does: ``len(ds)`` is the number
of batches, ``ds[i]`` returns batch ``i`` as ``(x, y)``, ``(x, y, sample_weight)`` or ``x``.
"""

from __future__ import annotations

import collections
import itertools
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch


class PyDataset:
    """Base class for a dataset of batches written in Python (Keras's ``keras.utils.PyDataset``).

    Subclasses implement ``__len__`` (the number of batches; or the ``num_batches`` property,
    ``None`` for an endless dataset) and ``__getitem__(index)`` (one whole batch), and may
    override ``on_epoch_begin`` / ``on_epoch_end``. ``fit(shuffle=True)`` visits the batches in a
    new random order each epoch.

    Args:
        workers: number of threads (or processes) that load batches ahead; 1 loads them in the
            training loop itself.
        use_multiprocessing: load in ``workers`` processes (a torch ``DataLoader``) instead of
            threads; the dataset must then be picklable.
        max_queue_size: most batches loaded ahead of the training loop.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        for name, value, least in (("workers", workers, 0), ("max_queue_size", max_queue_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{type(self).__name__}: {name}={value!r} must be an int >= "
                                 f"{least}")
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    def _setting(self, name: str, default: Any) -> Any:
        # A subclass that forgot super().__init__() still works, as in Keras, with a warning.
        if not hasattr(self, name):
            warnings.warn(f"{type(self).__name__} should call super().__init__(**kwargs) in its "
                          "constructor (kwargs may hold workers, use_multiprocessing, "
                          "max_queue_size)", stacklevel=3)
            setattr(self, name, default)
        return getattr(self, name)

    @property
    def workers(self) -> int:
        """Number of threads or processes loading batches ahead (1: none)."""
        return self._setting("_workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        """Whether ``workers`` are processes rather than threads."""
        return self._setting("_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        """Most batches loaded ahead."""
        return self._setting("_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """Batch number ``index``."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    @property
    def num_batches(self) -> int | None:
        """Number of batches (``len(self)``), or ``None`` for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must implement __len__ or the "
                                  "num_batches property")

    def __iter__(self) -> Iterator[Any]:
        indices = itertools.count() if self.num_batches is None else range(self.num_batches)
        for index in indices:
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called before each epoch's first batch."""

    def on_epoch_end(self) -> None:
        """Called after each epoch's last batch (e.g. to reshuffle the samples)."""


Sequence = PyDataset  # Keras 2's name for the same protocol


class EpochBatches:
    """The batches of a ``PyDataset``, one epoch per ``iter()``: ``on_epoch_begin``, the batches
    (in a new random order when ``shuffle``), ``on_epoch_end``. ``len()`` is the number of
    batches (a ``TypeError`` for an endless dataset). This is what ``fit`` iterates."""

    def __init__(self, dataset: PyDataset, shuffle: bool = False,
                 generator: torch.Generator | None = None) -> None:
        if not isinstance(dataset, PyDataset):
            raise TypeError(f"dataset={dataset!r} must be a PyDataset")
        self.dataset = dataset
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        n = self.dataset.num_batches
        if n is None:
            raise TypeError("an endless PyDataset (num_batches=None) has no length")
        return n

    def __iter__(self) -> Iterator[Any]:
        ds = self.dataset
        n = ds.num_batches
        if n is None:
            order: Any = itertools.count()
        elif self.shuffle:
            # drawn from the fit's generator, so fit(shuffle=True) is reproducible under a seed
            order = torch.randperm(n, generator=self.generator).tolist()
        else:
            order = range(n)
        ds.on_epoch_begin()
        if ds.use_multiprocessing and ds.workers > 0 and n is not None:
            batches = _process_batches(ds, order)
        elif ds.workers > 1:
            batches = _thread_batches(ds, order)
        else:
            batches = (ds[i] for i in order)
        yield from batches
        ds.on_epoch_end()


class _ByIndex(torch.utils.data.Dataset):
    # map-style view of a PyDataset for a DataLoader with batch_size=None (one item = one batch)
    def __init__(self, dataset: PyDataset) -> None:
        self.dataset = dataset

    def __getitem__(self, index: int) -> Any:
        return self.dataset[index]

    def __len__(self) -> int:
        return self.dataset.num_batches  # type: ignore[return-value]


def _process_batches(ds: PyDataset, order: list[int] | range) -> Iterator[Any]:
    # torch's DataLoader already does ordered multi-process loading with a bounded queue
    loader = torch.utils.data.DataLoader(
        _ByIndex(ds), batch_size=None, sampler=list(order), num_workers=ds.workers,
        prefetch_factor=max(1, ds.max_queue_size // ds.workers))
    yield from loader


def _thread_batches(ds: PyDataset, order: Any) -> Iterator[Any]:
    # up to max_queue_size batches loading ahead in threads, handed out in order
    with ThreadPoolExecutor(ds.workers) as pool:
        pending: collections.deque = collections.deque()
        indices = iter(order)
        for index in itertools.islice(indices, ds.max_queue_size):
            pending.append(pool.submit(ds.__getitem__, index))
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(indices, 1):
                pending.append(pool.submit(ds.__getitem__, index))
            yield batch
