"""Keras's dataset helpers on torch datasets: ``timeseries_dataset_from_array`` and
``split_dataset``. What they return goes straight into ``fit`` (a ``DataLoader`` of batches, or
a map-style ``Dataset`` of samples)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"timeseries_dataset_from_array: {name}={value!r} must be an int >= "
                         f"{minimum}")
    return int(value)


class TimeseriesWindows(Dataset):
    """Sample ``i``: the window of ``data`` starting at ``starts[i]`` (``length`` steps,
    ``rate`` apart), with ``targets[starts[i]]`` when there are targets."""

    def __init__(self, data: torch.Tensor, targets: torch.Tensor | None, starts: np.ndarray,
                 length: int, rate: int) -> None:
        self.data, self.targets = data, targets
        self.starts, self.length, self.rate = starts, length, rate

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> Any:
        start = int(self.starts[index])
        window = self.data[start:start + self.length * self.rate:self.rate]
        return window if self.targets is None else (window, self.targets[start])


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int,
                                  sequence_stride: int = 1, sampling_rate: int = 1,
                                  batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> DataLoader | Dataset:
    """Sliding windows over a time series, as Keras's ``timeseries_dataset_from_array``.

    Window ``i`` holds ``data[s, s + sampling_rate, ...]`` (``sequence_length`` steps) for
    ``s = start_index + i * sequence_stride``, paired with ``targets[s]`` (``targets=None``: the
    windows alone). Only rows ``start_index <= row < end_index`` are used. Returns a
    ``DataLoader`` of ``(windows, targets)`` batches of ``batch_size`` (``batch_size=None``: the
    ``Dataset`` of single windows). ``shuffle`` draws the windows in a random order each epoch,
    reproducibly given ``seed``.
    """
    data = torch.as_tensor(np.asarray(data)) if not isinstance(data, torch.Tensor) else data
    n = len(data)
    sequence_length = _positive_int("sequence_length", sequence_length)
    sequence_stride = _positive_int("sequence_stride", sequence_stride)
    sampling_rate = _positive_int("sampling_rate", sampling_rate)
    if sampling_rate >= n or sequence_stride >= n:
        raise ValueError(f"timeseries_dataset_from_array: sampling_rate={sampling_rate} and "
                         f"sequence_stride={sequence_stride} must be lower than the length of "
                         f"the data ({n})")
    start = 0 if start_index is None else _positive_int("start_index", start_index, 0)
    end = n if end_index is None else _positive_int("end_index", end_index, 1)
    if start >= n or end > n or end <= start:
        raise ValueError(f"timeseries_dataset_from_array: need 0 <= start_index < end_index <= "
                         f"len(data) = {n}; got start_index={start_index}, "
                         f"end_index={end_index}")
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size)
    if targets is not None:
        targets = torch.as_tensor(np.asarray(targets)) if not isinstance(
            targets, torch.Tensor) else targets
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets) - start)
    starts = start + np.arange(0, max(count, 0), sequence_stride)
    windows = TimeseriesWindows(data, targets, starts, sequence_length, sampling_rate)
    if batch_size is None:
        return windows
    generator = None
    if shuffle:
        generator = torch.Generator()
        generator.manual_seed(int(seed) if seed is not None else int(torch.randint(2**31, ())))
    return DataLoader(windows, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _split_size(name: str, value: Any, total: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and 0 < value < 1:
        return round(value * total)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 < value < total:
        return int(value)
    raise ValueError(f"split_dataset: {name}={value!r} must be a float in (0, 1) or an int in "
                     f"[1, {total - 1}] (the dataset has {total} samples)")


def split_dataset(dataset: Any, left_size: float | int | None = None,
                  right_size: float | int | None = None, shuffle: bool = False,
                  seed: int | None = None) -> tuple[Dataset, Dataset]:
    """Split samples into a left and a right ``Dataset`` (e.g. train / test), as Keras's
    ``split_dataset``.

    ``dataset``: a map-style torch ``Dataset``, an array, or a tuple/list of equally long arrays
    (each sample is then a tuple). Sizes are fractions (floats in (0, 1)) or sample counts;
    an unspecified side gets the rest (both ``None``: half each). The left part is the first
    samples and the right part the last ones, of the data as given or, with ``shuffle``, of a
    permutation seeded by ``seed`` (the one Keras's torch backend draws). Keras's torch backend
    also permutes when ``shuffle=False``; fitorch keeps the order, as Keras documents.
    """
    if isinstance(dataset, Dataset):
        if not hasattr(dataset, "__len__"):
            raise TypeError("split_dataset: dataset must be a map-style Dataset with a length")
        source = dataset
    elif isinstance(dataset, (list, tuple)) and dataset and all(
            isinstance(a, (np.ndarray, torch.Tensor)) for a in dataset):
        source = TensorDataset(*(torch.as_tensor(np.asarray(a)) if isinstance(a, np.ndarray)
                                 else a for a in dataset))
    elif isinstance(dataset, (np.ndarray, torch.Tensor)):
        source = TensorDataset(torch.as_tensor(dataset))
    else:
        raise TypeError(f"split_dataset: dataset of type {type(dataset).__name__} is not "
                        "supported; pass a torch Dataset, an array or a tuple of arrays")
    total = len(source)
    if left_size is None and right_size is None:
        left_size = 0.5
    left = _split_size("left_size", left_size, total)
    right = _split_size("right_size", right_size, total)
    if left is None and right is not None:
        left = total - right
    if right is None and left is not None:
        right = total - left
    assert left is not None and right is not None  # left_size defaults to 0.5 above
    if left <= 0 or right <= 0 or left + right > total:
        raise ValueError(f"split_dataset: left_size={left_size!r} and right_size={right_size!r} "
                         f"give {left} + {right} samples out of {total}; both sides need at "
                         "least one and together at most all")
    if shuffle:
        generator = torch.Generator()
        if seed is not None:
            generator.manual_seed(int(seed))
        else:
            generator.seed()
        order = torch.randperm(total, generator=generator).tolist()
    else:
        order = list(range(total))
    return Subset(source, order[:left]), Subset(source, order[total - right:])
