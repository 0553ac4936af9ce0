"""Turn what users pass to ``fit`` into batches ``(x, y, sample_weight)`` on the right device.

In-memory inputs (tensors, arrays, DataFrames, lists/dicts of them) are converted once, moved
to the device once, then shuffled by a permutation and sliced per batch: no per-sample
``Dataset.__getitem__`` and no collate on the hot path. A plain ``DataLoader`` over a
``TensorDataset`` is batched the same way, from its own sampler's order (the same batches, in
the same order); any other ``DataLoader`` is used as given; a map-style ``Dataset`` gets a
``DataLoader``; generators are iterated.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler,
                              SequentialSampler, Subset, TensorDataset, default_collate)

from fitorch.torch_utils import leaves, map_structure  # noqa: F401  (also data_lib.* API)
from fitorch.utils.py_dataset import EpochBatches, PyDataset

Batch = tuple[Any, Any, Any]


# ---------------------------------------------------------------------------- structures
# map_structure / leaves come from fitorch.torch_utils (shared with the functional API) and stay
# importable from here, where the training code has always found them.


def to_device(value: Any, device: torch.device, non_blocking: bool = False) -> Any:
    """Move every tensor of a nested structure to ``device`` (a no-op when already there)."""
    if isinstance(value, torch.Tensor):
        if value.device == device:
            return value
        return value.to(device, non_blocking=non_blocking)
    if isinstance(value, (dict, list, tuple)):
        return map_structure(lambda v: to_device(v, device, non_blocking), value)
    return value


def as_tensor(value: Any, name: str) -> torch.Tensor:
    """A tensor from a tensor / ndarray / DataFrame / Series / list; float64 -> float32."""
    if isinstance(value, torch.Tensor):
        tensor = value
    elif hasattr(value, "to_numpy") and hasattr(value, "shape"):  # pandas, without importing it
        tensor = torch.from_numpy(np.array(value.to_numpy()))  # a copy: pandas may hand out
    elif isinstance(value, np.ndarray):                           # read-only views
        if value.dtype == object:
            raise TypeError(f"{name}: a NumPy array of dtype object cannot become a tensor; "
                            "convert it to a numeric dtype first")
        tensor = torch.from_numpy(np.ascontiguousarray(value))
    elif isinstance(value, (list, tuple)) and value and not isinstance(value[0], (list, tuple,
                                                                                   np.ndarray,
                                                                                   torch.Tensor)):
        tensor = torch.as_tensor(value)
    elif isinstance(value, (int, float)) or (isinstance(value, (list, tuple)) and value):
        tensor = torch.as_tensor(np.asarray(value))
    else:
        raise TypeError(f"{name}: expected a tensor, NumPy array, DataFrame or list, "
                        f"got {type(value).__name__}")
    if tensor.dtype == torch.float64:
        tensor = tensor.float()  # Keras casts inputs to floatx; float64 halves the speed
    return tensor


def _to_tensors(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: as_tensor(v, f"{name}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (torch.Tensor, np.ndarray)) or hasattr(v, "to_numpy") for v in value):
        return tuple(as_tensor(v, f"{name}[{i}]") for i, v in enumerate(value))
    return as_tensor(value, name)


def num_samples(value: Any, name: str) -> int:
    """The common first dimension of every leaf, or an error naming the lengths."""
    lengths = {}
    for i, leaf in enumerate(leaves(value)):
        if leaf.dim() == 0:
            raise ValueError(f"{name}: expected arrays with a batch dimension, got a scalar")
        lengths[i] = leaf.shape[0]
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{name}: all arrays must have the same number of samples, "
                         f"got lengths {sorted(set(lengths.values()))}")
    return next(iter(lengths.values()))


def dummy_forward(module: torch.nn.Module, input_shape: Any) -> None:
    """Run one forward on zeros of ``input_shape`` (batch ``None`` -> 2) to build lazy layers.

    Leaves the module as found: train/eval flag, RNG state, no gradients recorded.
    """
    shape = tuple(2 if d is None else int(d) for d in input_shape)
    was_training = module.training
    module.eval()  # eval: BatchNorm statistics must not move
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            try:
                module(torch.zeros(shape))
            except (RuntimeError, TypeError, IndexError):
                # Token inputs (Embedding) need integers; Keras builds them from the same shape.
                module(torch.zeros(shape, dtype=torch.long))
    finally:
        module.train(was_training)


# ---------------------------------------------------------------------------- adapters
class DataAdapter:
    """An epoch-iterable source of ``(x, y, sample_weight)`` batches on ``device``."""

    num_batches: int | None = None  # per epoch, when known
    num_samples: int | None = None

    def __iter__(self) -> Iterator[Batch]:
        raise NotImplementedError


class IndexedAdapter(DataAdapter):
    """Tensors ``x``, ``y``, ``sample_weight`` with a common first dimension, batched by
    indexing them with a slice of each epoch's sample order (no per-sample work)."""

    x: Any
    y: Any
    sample_weight: Any
    batch_size: int
    device: torch.device
    num_samples: int  # always known: the tensors' common first dimension
    #: where the tensors come from, for error messages (``"fit: <source>: x contains ..."``)
    source: str | None = None

    def _order(self) -> torch.Tensor | None:
        """This epoch's sample indices, on the data's device; ``None``: as stored."""
        raise NotImplementedError

    def head(self) -> tuple[Any, Any]:
        """The first batch in storage order, ready for the model (the data checks' probe)."""
        first = lambda t: None if t is None else map_structure(  # noqa: E731
            lambda v: v[:self.batch_size], t)
        return first(self.x), first(self.y)

    def __iter__(self) -> Iterator[Batch]:
        bs = self.batch_size
        perm = self._order()
        if perm is not None:
            n = perm.shape[0]
            take = lambda t, i: t.index_select(0, perm[i:i + bs])  # noqa: E731
        else:
            n = self.num_samples
            take = lambda t, i: t[i:i + bs]  # noqa: E731  (a view: no copy)
        x, y, sw = self.x, self.y, self.sample_weight
        single = isinstance(x, torch.Tensor) and (y is None or isinstance(y, torch.Tensor))
        for i in range(0, n, bs):
            if single:
                yield (take(x, i), None if y is None else take(y, i),
                       None if sw is None else take(sw, i))
            else:
                pick = lambda t: take(t, i)  # noqa: E731,B023
                yield (map_structure(pick, x), None if y is None else map_structure(pick, y),
                       None if sw is None else take(sw, i))


class TensorAdapter(IndexedAdapter):
    """In-memory tensors: one permutation per epoch, index per batch, all on the device."""

    def __init__(self, x: Any, y: Any, sample_weight: Any, batch_size: int, shuffle: bool,
                 device: torch.device, generator: torch.Generator | None = None) -> None:
        self.x = to_device(x, device)
        self.y = to_device(y, device)
        self.sample_weight = to_device(sample_weight, device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = device
        self.generator = generator
        self.num_samples = num_samples((x, y) if y is not None else x, "x and y")
        self.num_batches = math.ceil(self.num_samples / batch_size)

    def _order(self) -> torch.Tensor | None:
        if not self.shuffle:
            return None
        # The permutation is drawn on the CPU (a device generator would make the data order
        # depend on the device); indexing then happens where the data is.
        return torch.randperm(self.num_samples, generator=self.generator).to(self.device)


def _split_batch(batch: Any, where: str) -> Batch:
    """``(x, y)`` / ``(x, y, sw)`` / ``{"x":..,"y":..}`` / ``x`` -> ``(x, y, sw)``."""
    if isinstance(batch, dict) and "x" in batch:
        return batch["x"], batch.get("y"), batch.get("sample_weight")
    if isinstance(batch, (list, tuple)):
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        if len(batch) == 1:
            return batch[0], None, None
        raise ValueError(f"{where}: a batch must be (x, y) or (x, y, sample_weight), "
                         f"got a {type(batch).__name__} of {len(batch)} elements")
    return batch, None, None


class LoaderAdapter(DataAdapter):
    """A ``DataLoader`` (the user's, or one made for a ``Dataset``), moved per batch.

    ``check``, when set, is called as ``check(index, x, y, sample_weight)`` on each batch
    before it is moved to the device (``fitorch.training.input_checks`` sets it).
    """

    check: Callable[[int, Any, Any, Any], None] | None = None

    def __init__(self, loader: Iterable, device: torch.device, where: str) -> None:
        self.loader = loader
        self.device = device
        self.where = where
        # Pinned memory lets the copy to a CUDA device overlap with compute.
        self.non_blocking = device.type == "cuda" and getattr(loader, "pin_memory", False)
        try:
            self.num_batches = len(loader)  # type: ignore[arg-type]
        except TypeError:
            self.num_batches = None
        dataset = getattr(loader, "dataset", None)
        try:
            self.num_samples = len(dataset) if dataset is not None else None
        except TypeError:
            self.num_samples = None

    def __iter__(self) -> Iterator[Batch]:
        device, nb, check = self.device, self.non_blocking, self.check
        for index, batch in enumerate(self.loader):
            x, y, sw = (_batch_tensors(v) for v in _split_batch(batch, self.where))
            if check is not None:  # where the batch was made (the CPU, usually): no device sync
                check(index, x, y, sw)
            yield (to_device(x, device, nb), to_device(y, device, nb), to_device(sw, device, nb))


def _batch_tensors(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, (torch.Tensor, dict, list, tuple)):
        value = _to_tensors(value, "batch")
    elif isinstance(value, (list, tuple)) and not all(isinstance(v, torch.Tensor)
                                                      for v in leaves(value)):
        value = _to_tensors(value, "batch")
    return map_structure(lambda t: t.float() if isinstance(t, torch.Tensor)
                         and t.dtype == torch.float64 else t, value)


def sliceable_tensors(loader: Any) -> tuple[torch.Tensor, ...] | None:
    """The tensors of ``loader``'s ``TensorDataset`` when slices of its sampler's order give
    exactly the loader's batches, else ``None``.

    That holds for a ``DataLoader`` (not a subclass) over a ``TensorDataset`` of one to three
    plain tensors, batched by its own ``BatchSampler`` (``batch_size=``, ``drop_last=False``)
    over a ``SequentialSampler`` or ``RandomSampler`` of that dataset, with the default
    ``collate_fn``, no worker processes and no pinned memory, the tensors on one device.
    Anything else (a custom sampler, batch sampler or collate_fn, workers, pinned memory,
    ``drop_last``, subclasses) may shape the batches in its own way, so such a loader is
    iterated as given.
    """
    if type(loader) is not DataLoader or type(loader.dataset) is not TensorDataset:
        return None
    sampler, batches = loader.sampler, loader.batch_sampler
    if (loader.num_workers != 0 or loader.pin_memory or loader.collate_fn is not default_collate
            or type(batches) is not BatchSampler or batches.drop_last
            or batches.sampler is not sampler
            or type(sampler) not in (SequentialSampler, RandomSampler)
            # (exact types above; isinstance narrows them for the type checker)
            or not isinstance(sampler, (SequentialSampler, RandomSampler))
            or sampler.data_source is not loader.dataset):
        return None
    tensors = loader.dataset.tensors
    if not 1 <= len(tensors) <= 3 or any(type(t) is not torch.Tensor
                                         or t.layout != torch.strided for t in tensors):
        return None
    if len({t.device for t in tensors}) != 1:  # one index tensor must serve them all
        return None
    return tensors


class TensorDatasetLoaderAdapter(IndexedAdapter):
    """A ``DataLoader`` over a ``TensorDataset`` (see ``sliceable_tensors``), batched by
    indexing the dataset's tensors with slices of the sampler's order.

    The batches, their order and every RNG draw are those of iterating the loader, without
    its per-sample ``dataset[i]`` and ``torch.stack`` collate. The tensors stay where they
    are; each batch is moved to the device (float64 becoming float32, as for any loader).
    """

    source = "the DataLoader's TensorDataset"

    def __init__(self, loader: DataLoader, tensors: tuple[torch.Tensor, ...],
                 device: torch.device) -> None:
        self.loader = loader
        self.x, self.y, self.sample_weight = _split_batch(tensors, "")
        self.batch_size = loader.batch_sampler.batch_size  # type: ignore[union-attr]
        self.device = device
        self.num_samples = len(tensors[0])
        self.num_batches = len(loader)
        self._moved = any(t.device != device or t.dtype == torch.float64 for t in tensors)

    def _order(self) -> torch.Tensor | None:
        # Iterating a DataLoader first draws a base seed for its workers (from its generator,
        # else the global RNG); making an iterator and dropping it draws the same.
        iter(self.loader)
        sampler = self.loader.sampler
        if type(sampler) is SequentialSampler:
            return None
        # The loader's first batch would start the sampler, which then draws only from its own
        # generator: drawing the whole order now gives the same indices.
        return torch.tensor(list(sampler), dtype=torch.long, device=self.x.device)

    def _ready(self, t: torch.Tensor | None) -> torch.Tensor | None:
        if t is None:
            return None
        return t.to(self.device, torch.float32 if t.dtype == torch.float64 else None)

    def head(self) -> tuple[Any, Any]:
        x, y = super().head()
        return self._ready(x), self._ready(y)

    def __iter__(self) -> Iterator[Batch]:
        batches = super().__iter__()
        if not self._moved:  # tensors already on the device, in the loop's dtypes
            return batches
        ready = self._ready
        return ((ready(x), ready(y), ready(sw)) for x, y, sw in batches)


def loader_adapter(loader: DataLoader, device: torch.device, where: str) -> DataAdapter:
    """The adapter for a ``DataLoader``: indexing for a plain one over a ``TensorDataset``,
    else the loader itself, iterated as given."""
    tensors = sliceable_tensors(loader)
    if tensors is not None:
        return TensorDatasetLoaderAdapter(loader, tensors, device)
    return LoaderAdapter(loader, device, where)


class GeneratorAdapter(LoaderAdapter):
    """A generator function (called anew each epoch) or a generator object (consumed once)."""

    def __init__(self, source: Any, device: torch.device, where: str) -> None:
        self.source = source
        super().__init__(self, device, where)
        self.num_batches = None

    def __iter__(self) -> Iterator[Batch]:
        loader, self.loader = self.loader, (self.source() if callable(self.source)
                                            else self.source)
        try:
            yield from super().__iter__()
        finally:
            self.loader = loader

    def __len__(self) -> int:
        raise TypeError("generators have no length")


# ---------------------------------------------------------------------------- entry point
def _is_generator_source(x: Any) -> bool:
    return inspect.isgenerator(x) or inspect.isgeneratorfunction(x) or (
        isinstance(x, Iterator) and not isinstance(x, (torch.Tensor, np.ndarray)))


def check_batch_size(batch_size: Any, name: str = "batch_size") -> None:
    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool)
                                   or batch_size < 1):
        raise ValueError(f"{name}={batch_size!r}: expected a positive int or None")


def _ignored_batch_size(batch_size: int | None, source: str, where: str) -> None:
    # Keras ignores batch_size for data that comes batched; ported Keras code often passes it
    # anyway, so say it is ignored instead of refusing to train
    if batch_size is not None:
        warnings.warn(f"{where}: batch_size={batch_size} is ignored with {source}",
                      UserWarning, stacklevel=4)


def adapt(x: Any, y: Any = None, sample_weight: Any = None, *, batch_size: int | None,
          shuffle: bool, device: torch.device, where: str = "fit",
          generator: torch.Generator | None = None) -> DataAdapter:
    """Choose the adapter for ``x`` (and check every argument before anything is built)."""
    check_batch_size(batch_size)
    if x is None:
        raise ValueError(f"{where}: x is None; pass the inputs (tensors, arrays, a Dataset, a "
                         "DataLoader or a generator)")
    if isinstance(x, DataLoader):
        _ignored_batch_size(batch_size, "a DataLoader, which batches by itself", where)
        _no_targets_with(y, sample_weight, "a DataLoader", where)
        return loader_adapter(x, device, where)
    if isinstance(x, PyDataset):
        _no_targets_with(y, sample_weight, "a PyDataset", where)
        if batch_size is not None:  # as Keras: the dataset makes the batches
            warnings.warn(f"{where}: batch_size={batch_size} is ignored with a PyDataset, whose "
                          "items are whole batches", stacklevel=3)
        return LoaderAdapter(EpochBatches(x, shuffle, generator), device, where)
    if isinstance(x, IterableDataset):
        _no_targets_with(y, sample_weight, "an IterableDataset", where)
        return LoaderAdapter(DataLoader(x, batch_size=batch_size or 32), device, where)
    if isinstance(x, Dataset):
        _no_targets_with(y, sample_weight, "a Dataset", where)
        if len(x) == 0:  # type: ignore[arg-type]
            raise ValueError(f"{where}: the Dataset is empty")
        return loader_adapter(DataLoader(x, batch_size=batch_size or 32, shuffle=shuffle,
                                         generator=generator), device, where)
    if _is_generator_source(x):
        _ignored_batch_size(batch_size, "a generator, which yields whole batches", where)
        _no_targets_with(y, sample_weight, "a generator", where)
        return GeneratorAdapter(x, device, where)
    xs = _to_tensors(x, "x")
    ys = _to_tensors(y, "y")
    sws = None if sample_weight is None else as_tensor(sample_weight, "sample_weight")
    n = num_samples(xs, "x")
    if n == 0:
        raise ValueError(f"{where}: x is empty (0 samples)")
    if ys is not None and num_samples(ys, "y") != n:
        raise ValueError(f"{where}: x has {n} samples but y has {num_samples(ys, 'y')}; they "
                         "must have the same length")
    if sws is not None:
        if sws.dim() == 2 and sws.shape[1] == 1:  # Keras's guides pass (n, 1): one per sample
            sws = sws[:, 0]
        if sws.dim() != 1 or sws.shape[0] != n:
            raise ValueError(f"{where}: sample_weight must have shape ({n},) or ({n}, 1), got "
                             f"{tuple(sws.shape)}")
        sws = sws.float()
    return TensorAdapter(xs, ys, sws, batch_size or 32, shuffle, device, generator)


def _no_targets_with(y: Any, sample_weight: Any, what: str, where: str) -> None:
    if y is not None:
        raise ValueError(f"{where}: y was given with {what}, which must yield (x, y) itself; "
                         "pass y=None")
    if sample_weight is not None:
        raise ValueError(f"{where}: sample_weight was given with {what}; yield "
                         "(x, y, sample_weight) from it instead")


def split_validation(x: Any, y: Any, sample_weight: Any, validation_split: float) -> tuple:
    """Keras's split: the last ``validation_split`` of the samples, taken before shuffling."""
    if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split={validation_split!r}: expected a float in [0, 1)")
    if validation_split == 0:
        return (x, y, sample_weight), None
    if isinstance(x, (DataLoader, IterableDataset, PyDataset)) or _is_generator_source(x):
        raise ValueError(f"validation_split={validation_split} needs data fitorch can index "
                         f"(tensors, arrays or a map-style Dataset), got {type(x).__name__}; "
                         "pass validation_data instead")
    if isinstance(x, Dataset):
        n = len(x)  # type: ignore[arg-type]
        cut = _split_index(n, validation_split)
        return (Subset(x, range(cut)), y, sample_weight), (Subset(x, range(cut, n)), None, None)
    xs, ys = _to_tensors(x, "x"), _to_tensors(y, "y")
    sws = None if sample_weight is None else as_tensor(sample_weight, "sample_weight")
    n = num_samples(xs, "x")
    cut = _split_index(n, validation_split)
    head = lambda t: map_structure(lambda v: v[:cut], t) if t is not None else None  # noqa
    tail = lambda t: map_structure(lambda v: v[cut:], t) if t is not None else None  # noqa
    return (head(xs), head(ys), head(sws)), (tail(xs), tail(ys), tail(sws))


def _split_index(n: int, fraction: float) -> int:
    cut = int(n * (1.0 - fraction))
    if cut <= 0 or cut >= n:
        raise ValueError(f"validation_split={fraction} leaves {cut} of {n} samples for "
                         "training; choose a split that keeps samples on both sides")
    return cut


def unpack_validation_data(validation_data: Any) -> tuple[Any, Any, Any]:
    """``(x_val, y_val)``, ``(x_val, y_val, sw)``, or a loader / dataset / generator."""
    if isinstance(validation_data, (list, tuple)) and not isinstance(validation_data, Dataset):
        if len(validation_data) == 2:
            return validation_data[0], validation_data[1], None
        if len(validation_data) == 3:
            return tuple(validation_data)
        raise ValueError("validation_data must be (x_val, y_val), (x_val, y_val, "
                         f"sample_weight) or a DataLoader/Dataset, got {len(validation_data)} "
                         "elements")
    return validation_data, None, None
