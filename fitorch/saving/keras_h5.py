"""Reading Keras's HDF5 weight files safely, and writing them, with h5py.

An HDF5 file can point outside itself (external links, external or virtual datasets), alias
one object under several names, declare a huge shape that it stores nothing of, or carry
object references and giant attributes. Nothing here reads a byte of data before the file's
whole structure has been checked (:func:`open_checked`), and a dataset is read only after its
shape and dtype match what the layer expects (:func:`read_dataset`).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["open_checked", "read_dataset", "read_attr", "datasets_under", "H5Writer",
           "MAX_ATTR_BYTES", "MAX_OBJECTS"]

MAX_ATTR_BYTES = 8 << 20   # one attribute (legacy model_config is the largest Keras writes)
MAX_OBJECTS = 200_000      # groups + datasets
_MAX_DEPTH = 64


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("reading and writing Keras files needs h5py: pip install h5py") from e
    return h5py


def open_checked(data: bytes, source: str) -> Any:
    """An ``h5py.File`` over ``data`` (in memory, read-only) whose structure has been checked:
    only hard links, each object linked once, no external/virtual datasets, numeric datasets
    only, small attributes without object references. Raises ``ValueError`` otherwise."""
    h5py = _h5py()
    if not data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ValueError(f"{source} is not an HDF5 file (first bytes {data[:8]!r})")
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except Exception as e:  # h5py raises OSError and its own types for damaged files
        raise ValueError(f"{source} is not a readable HDF5 file ({e})") from e
    try:
        _check_attrs(f, "/", source)
        count = [0]
        _check_group(f, "", source, count, 0)
    except BaseException:
        f.close()
        raise
    return f


def _check_group(group: Any, path: str, source: str, count: list[int], depth: int) -> None:
    h5py = _h5py()
    if depth > _MAX_DEPTH:
        raise ValueError(f"{source}: HDF5 groups nest deeper than {_MAX_DEPTH} at {path!r}; "
                         "refused")
    for name in group:
        where = f"{path}/{name}"
        link = group.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"{source}: {where!r} is a {type(link).__name__} (it points "
                             "elsewhere, possibly outside the file); Keras never writes links; "
                             "refused and nothing was read")
        count[0] += 1
        if count[0] > MAX_OBJECTS:
            raise ValueError(f"{source}: more than {MAX_OBJECTS} HDF5 objects; refused")
        obj = group[name]
        if h5py.h5o.get_info(obj.id).rc != 1:
            raise ValueError(f"{source}: {where!r} is linked under several names (an aliased "
                             "HDF5 object); Keras never writes that; refused")
        _check_attrs(obj, where, source)
        if isinstance(obj, h5py.Group):
            _check_group(obj, where, source, count, depth + 1)
        elif isinstance(obj, h5py.Dataset):
            _check_dataset(obj, where, source)
        else:  # named datatypes
            raise ValueError(f"{source}: {where!r} is a {type(obj).__name__}, not a group or "
                             "dataset; refused")


def _check_dataset(ds: Any, where: str, source: str) -> None:
    if ds.external:
        raise ValueError(f"{source}: dataset {where!r} keeps its data in external files "
                         f"{ds.external}; refused and nothing was read")
    if ds.is_virtual:
        raise ValueError(f"{source}: dataset {where!r} is a virtual dataset (mapped from other "
                         "files); refused and nothing was read")
    if ds.dtype.kind not in "biuf" or ds.dtype.fields is not None:
        raise ValueError(f"{source}: dataset {where!r} has dtype {ds.dtype}, not a number "
                         "type; weights are numbers; refused")


def _check_attrs(obj: Any, where: str, source: str) -> None:
    h5py = _h5py()
    for name in obj.attrs:
        attr = h5py.h5a.open(obj.id, name.encode("utf-8"))
        dtype, space = attr.dtype, attr.get_space()
        if h5py.check_dtype(ref=dtype) is not None or (
                dtype.kind == "O" and h5py.check_dtype(vlen=dtype) not in (str, bytes)):
            raise ValueError(f"{source}: attribute {name!r} of {where!r} holds object "
                             "references; refused")
        elements = int(np.prod(space.shape)) if space.shape else 1
        try:
            size = attr.get_storage_size()
        except RuntimeError:  # an empty (null dataspace) attribute stores nothing
            size = 0
        if size > MAX_ATTR_BYTES or elements > MAX_ATTR_BYTES // 8:
            raise ValueError(f"{source}: attribute {name!r} of {where!r} is {size} bytes "
                             f"({elements} values), more than the {MAX_ATTR_BYTES} a Keras "
                             "file needs; refused")


def read_attr(obj: Any, name: str, source: str) -> Any:
    """An attribute already checked by :func:`open_checked`: strings decoded, arrays as lists;
    ``None`` when absent. Variable-length strings are measured before they are returned."""
    if name not in obj.attrs:
        return None
    value = obj.attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, np.ndarray):
        value = [v.decode("utf-8") if isinstance(v, bytes) else v for v in value.tolist()]
    total = len(value) if isinstance(value, str) else sum(
        len(v) for v in value if isinstance(v, str)) if isinstance(value, list) else 0
    if total > MAX_ATTR_BYTES:
        raise ValueError(f"{source}: attribute {name!r} is {total} characters, more than "
                         f"{MAX_ATTR_BYTES}; refused")
    return value


def read_dataset(ds: Any, expected: tuple, where: str, source: str) -> np.ndarray:
    """The dataset's values, read only after its shape is ``expected``."""
    if tuple(ds.shape) != tuple(expected):
        raise ValueError(f"{source}: {where!r} has shape {tuple(ds.shape)} but the layer "
                         f"expects {tuple(expected)}; nothing was loaded")
    return np.asarray(ds[()])


def datasets_under(group: Any, path: str) -> Iterator[str]:
    """Paths of every dataset below ``group`` (already checked: hard links only)."""
    h5py = _h5py()
    for name in group:
        obj = group[name]
        if isinstance(obj, h5py.Dataset):
            yield f"{path}/{name}"
        else:
            yield from datasets_under(obj, f"{path}/{name}")


class H5Writer:
    """An in-memory HDF5 file being written; :meth:`getvalue` returns its bytes."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self.file = _h5py().File(self._buffer, "w")

    def group(self, path: str, **attrs: Any) -> Any:
        group = self.file.require_group(path) if path else self.file
        for key, value in attrs.items():
            group.attrs[key] = value
        return group

    def getvalue(self) -> bytes:
        self.file.close()
        return self._buffer.getvalue()
