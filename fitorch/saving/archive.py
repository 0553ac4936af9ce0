"""fitorch's zip archives (model files and backups): JSON and safetensors members, never pickle.

Every archive holds ``metadata.json`` (``format``, ``format_version``, versions, date). Reading
checks, before anything is built, that the file is a zip, that its member names are exactly the
expected ones (no paths, no pickles), that the sizes are sane and that every CRC matches, so a
damaged or foreign file raises instead of returning a partial result.

Reading is bounded whatever a file claims: only regular files are opened (a FIFO or a device
would block or never end), members are streamed with a hard byte cap (a member that lies about
its size cannot inflate past it), only the stored and deflate methods fitorch writes are accepted
(bzip2 and LZMA cannot be decompressed in bounded steps) and JSON is limited in size and depth.
Every refusal is a ``ValueError`` naming the file, the member and the problem.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
import zipfile
import zlib
from typing import Any

import torch

from fitorch._version import __version__
from fitorch.saving.atomic import atomic_write

__all__ = ["FORMAT_VERSION", "METADATA_MEMBER", "WEIGHTS_MEMBER", "write_archive",
           "read_archive", "sniff", "describe_kind", "pack", "unpack", "open_regular_file",
           "read_member", "parse_json", "NotARegularFileError", "MAX_JSON_BYTES",
           "MAX_JSON_DEPTH"]

FORMAT_VERSION = 1
METADATA_MEMBER = "metadata.json"
WEIGHTS_MEMBER = "model.safetensors"
# member name -> the archive formats it may appear in
MEMBERS = {
    "fitorch.model": {METADATA_MEMBER, "config.json", WEIGHTS_MEMBER, "compile.json",
                      "compile.safetensors"},
    "fitorch.backup": {METADATA_MEMBER, WEIGHTS_MEMBER, "state.json", "state.safetensors"},
}
MAX_JSON_BYTES = 64 << 20
# Far deeper than any config fitorch writes (a model nested in a model adds about 6 levels),
# far shallower than the recursion limit of the code that walks a parsed value.
MAX_JSON_DEPTH = 200
_PICKLE_MAGIC = b"\x80"
_CHUNK = 1 << 20
# the compression methods fitorch writes; ZipExtFile decompresses them in bounded steps
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


class NotARegularFileError(ValueError):
    """A path that is not a regular file (a FIFO, a device, a socket) was refused unread."""


class DirectoryGivenError(NotARegularFileError, IsADirectoryError):
    """A directory was given where a file is read (also an ``IsADirectoryError``)."""


# ---------------------------------------------------------------------------- regular files
def open_regular_file(path: str | os.PathLike, who: str) -> Any:
    """``path`` opened for binary reading, refused with :class:`NotARegularFileError` (a
    ``ValueError``) unless it is a regular file; a missing file raises ``FileNotFoundError``.

    Opening never blocks: a FIFO is opened non-blocking and refused from its ``fstat``, and the
    type is checked on the opened descriptor, so a path swapped after the check is caught too.
    """
    path = os.fspath(path)
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"{who}: no such file: {path!r}") from None
    _require_regular(before.st_mode, path, who)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        _require_regular(os.fstat(fd).st_mode, path, who)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _require_regular(mode: int, path: str, who: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise DirectoryGivenError(f"{who}: {path!r} is a directory, expected a file; refused")
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
            "a character device" if stat.S_ISCHR(mode) else
            "a block device" if stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise NotARegularFileError(f"{who}: {path!r} is {kind}, not a regular file; refused unread "
                               "(only regular files are loaded)")


# ---------------------------------------------------------------------------- file kinds
def sniff(path: str, who: str = "sniff") -> str:
    """What ``path`` holds, from its first bytes and (for zips) its member names: ``"fitorch"``,
    ``"torch-zip"`` (``torch.save``: a pickle), ``"pickle"``, ``"safetensors"``, ``"keras"``,
    ``"zip"``, ``"hdf5"``, ``"empty"`` or ``"unknown"``. Anything but a regular file is refused
    with :class:`NotARegularFileError`, its message starting with ``who``."""
    with open_regular_file(path, who) as f:
        return _sniff_open(f)


def _sniff_open(f: Any) -> str:
    f.seek(0)
    head = f.read(16)
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            f.seek(0)
            with zipfile.ZipFile(f) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            return "zip"  # read_archive reports the damage
        if any(n.rsplit("/", 1)[-1] == "data.pkl" for n in names):
            return "torch-zip"
        if METADATA_MEMBER in names and "model.weights.h5" in names:
            return "keras"
        return "fitorch" if METADATA_MEMBER in names else "zip"
    if head.startswith(_PICKLE_MAGIC):
        return "pickle"
    if head.startswith(b"\x89HDF"):
        return "hdf5"
    if len(head) >= 9 and head[8:9] == b"{":
        size = int.from_bytes(head[:8], "little")
        if 0 < size <= os.fstat(f.fileno()).st_size - 8:
            return "safetensors"
    return "unknown"


def describe_kind(kind: str, path: str) -> str:
    """Words for ``sniff``'s answer, for error messages."""
    if kind == "unknown":
        with open_regular_file(path, "describe_kind") as f:
            head = f.read(16)
        return f"an unknown format (first bytes {head!r})"
    return {
        "fitorch": "a fitorch archive",
        "torch-zip": "a torch.save file, i.e. a Python pickle, which fitorch never unpickles",
        "pickle": "a Python pickle (e.g. a legacy torch.save file), which fitorch never "
                  "unpickles",
        "safetensors": "a safetensors weights file: build the model in code and call "
                       "model.load_weights(path)",
        "keras": "a Keras .keras file (its weights are HDF5), not a fitorch file",
        "zip": "a zip archive without fitorch's metadata.json",
        "hdf5": "an HDF5 file (e.g. Keras .h5), not a fitorch file",
        "empty": "an empty file",
    }[kind]


# ---------------------------------------------------------------------------- writing
def metadata(fmt: str) -> dict[str, Any]:
    """``metadata.json`` of a new archive of format ``fmt``."""
    import platform

    return {"format": fmt, "format_version": FORMAT_VERSION,
            "fitorch_version": __version__, "torch_version": torch.__version__,
            "python_version": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def write_archive(path: str, fmt: str, members: dict[str, Any]) -> None:
    """Write an archive atomically: ``members`` maps names to ``bytes`` (stored as is) or to
    JSON-able values (written as JSON); ``metadata.json`` is added."""
    unknown = set(members) - MEMBERS[fmt]
    if unknown:  # pragma: no cover - a programming error inside fitorch
        raise ValueError(f"write_archive: members {sorted(unknown)} are not part of {fmt}")
    entries = {METADATA_MEMBER: metadata(fmt), **members}
    with atomic_write(path, "wb") as f:
        with zipfile.ZipFile(f, "w") as zf:
            for name, value in entries.items():
                if isinstance(value, bytes):
                    zf.writestr(name, value, compress_type=zipfile.ZIP_STORED)
                else:
                    data = json.dumps(value, indent=1, allow_nan=True).encode("utf-8")
                    zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)


# ---------------------------------------------------------------------------- reading
def read_archive(path: str | os.PathLike, who: str, fmt: str | None = None) -> dict[str, Any]:
    """The members of a fitorch archive: JSON members parsed, safetensors members as bytes.

    Raises ``ValueError`` for anything that is not a sound fitorch archive of format ``fmt``
    (any format when ``None``): another kind of file (said which), a FIFO, device or directory,
    a pickle inside, unexpected members, a truncated or corrupted zip, a member larger than it
    declares or than the format allows, or a newer format version. A missing file raises
    ``FileNotFoundError``.
    """
    path = os.fspath(path)
    with open_regular_file(path, who) as f:
        kind = _sniff_open(f)
        if kind in ("torch-zip", "pickle"):
            raise ValueError(f"{who}: {path!r} contains a pickle ({describe_kind(kind, path)}); "
                             "it was refused and nothing from it ran. Only files written by "
                             "fitorch.save_model load here")
        if kind not in ("fitorch", "zip"):
            raise ValueError(f"{who}: {path!r} is not a fitorch file: it looks like "
                             f"{describe_kind(kind, path)}")
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as zf:
                return _read_members(zf, path, who, fmt)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error, OSError,
                NotImplementedError, RuntimeError) as e:
            # RuntimeError / NotImplementedError: zipfile's words for encrypted members and
            # unknown methods, should a header change between the checks and the read
            raise ValueError(f"{who}: {path!r} is a truncated or corrupted file "
                             f"({type(e).__name__}: {e}); nothing was loaded") from e


def _read_members(zf: zipfile.ZipFile, path: str, who: str, fmt: str | None) -> dict[str, Any]:
    infos = zf.infolist()
    names = [i.filename for i in infos]
    pickles = [n for n in names if n.endswith((".pkl", ".pickle"))]
    if pickles:
        raise ValueError(f"{who}: {path!r} contains a pickle ({pickles[:10]}); it was "
                         "refused and nothing from it ran")
    if METADATA_MEMBER not in names:
        raise ValueError(f"{who}: {path!r} is not a fitorch file: it is "
                         f"{describe_kind('zip', path)} (members: {names[:10]})")
    meta = _json_member(zf, zf.getinfo(METADATA_MEMBER), path, who)
    found = meta.get("format") if isinstance(meta, dict) else None
    if not isinstance(found, str) or found not in MEMBERS or (fmt is not None and found != fmt):
        raise ValueError(f"{who}: {path!r} is not a {fmt or 'fitorch'} file "
                         f"(its metadata says format={found!r:.80})")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{who}: {path!r} has an invalid format_version {version!r:.80}")
    if version > FORMAT_VERSION:
        raise ValueError(f"{who}: {path!r} was written by a newer fitorch (format "
                         f"version {version}, fitorch {meta.get('fitorch_version')!r:.40}); "
                         f"this fitorch reads up to version {FORMAT_VERSION}: upgrade "
                         "fitorch to load it")
    allowed = MEMBERS[found]
    unexpected = [n for n in names if n not in allowed]
    if unexpected or len(set(names)) != len(names):
        raise ValueError(f"{who}: {path!r} holds unexpected members "
                         f"{(unexpected or names)[:10]} (a {found} file holds only "
                         f"{sorted(allowed)}); refused")
    members: dict[str, Any] = {METADATA_MEMBER: meta}
    for info in infos:
        if info.filename == METADATA_MEMBER:
            continue
        if info.filename.endswith(".json"):
            members[info.filename] = _json_member(zf, info, path, who)
        else:
            members[info.filename] = read_member(zf, info, path, who)  # CRC-checked
    return members


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, who: str,
                max_bytes: int | None = None) -> bytes:
    """The bytes of one zip member, read with a hard cap: never more than the size its header
    declares (and than ``max_bytes``), whatever the compressed stream holds.

    Refused with a ``ValueError`` naming ``who``, ``path`` and the member: a method other than
    stored or deflate (bzip2 and LZMA inflate without bound in one step), an encrypted member,
    a declared size over ``max_bytes`` or implausible for its compressed size, and a member
    that is shorter than declared or fails its CRC.
    """
    where = f"{who}: {path!r}: member {info.filename!r}"
    if info.compress_type not in _METHODS:
        raise ValueError(f"{where} uses compression method {info.compress_type}; only stored "
                         "and deflate members are read (they decompress in bounded steps); "
                         "refused")
    if info.flag_bits & 0x1:
        raise ValueError(f"{where} is encrypted; refused")
    if max_bytes is not None and info.file_size > max_bytes:
        raise ValueError(f"{where} declares {info.file_size} bytes, more than the "
                         f"{max_bytes} allowed for it; refused")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise ValueError(f"{where} is stored uncompressed but declares {info.file_size} bytes "
                         f"in {info.compress_size}; refused")
    _check_ratio(info, path, who)
    with zf.open(info) as member:
        # One read of at most the declared size: ZipExtFile inflates at most that many bytes
        # (its deflate step takes a max_length), so a member lying about its size cannot grow
        # memory past the cap; what it holds beyond is dropped and fails the CRC.
        data = member.read(info.file_size)
        extra = member.read(1)
    if len(data) != info.file_size or extra:
        raise ValueError(f"{where} holds {len(data) + len(extra)}{'+' if extra else ''} bytes "
                         f"where its header declares {info.file_size}; the file is damaged")
    return data


def _check_ratio(info: zipfile.ZipInfo, path: str, who: str) -> None:
    # A tiny member that claims to inflate to gigabytes (a zip bomb) is refused before it is read.
    if info.compress_type != zipfile.ZIP_STORED and \
            info.file_size > 200 * max(info.compress_size, 1) + (1 << 20):
        raise ValueError(f"{who}: {path!r}: member {info.filename!r} claims {info.file_size} "
                         f"bytes from {info.compress_size} compressed; refused")


def _json_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, who: str) -> Any:
    data = read_member(zf, info, path, who, max_bytes=MAX_JSON_BYTES)
    return parse_json(data, f"{who}: {path!r}: member {info.filename!r}")


def parse_json(data: bytes, where: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``data`` parsed as UTF-8 JSON, refused with a ``ValueError`` starting with ``where``
    when it is a pickle, not valid JSON, or nested deeper than ``max_depth``."""
    if data.startswith(_PICKLE_MAGIC):
        raise ValueError(f"{where} contains a pickle, not JSON; it was refused and nothing "
                         "from it ran")
    try:
        value = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"{where}: its JSON is nested deeper than {max_depth} levels; "
                         "refused") from None
    except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError, over-long int literals
        raise ValueError(f"{where} is not valid JSON ({e}); the file is damaged") from e
    _check_depth(value, where, max_depth)
    return value


def _check_depth(value: Any, where: str, max_depth: int) -> None:
    # iterative, so that the check itself cannot hit the recursion limit
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > max_depth:
            raise ValueError(f"{where}: its JSON is nested deeper than {max_depth} levels; "
                             "refused")
        stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))


# ---------------------------------------------------------------------------- structures
_MARKERS = ("__tensor__", "__tuple__", "__dict__", "__ndarray__")


def pack(value: Any, tensors: dict[str, torch.Tensor], key: str) -> Any:
    """A structure of tensors, numbers, strings, lists, tuples, dicts and NumPy arrays (an
    optimizer ``state_dict``, RNG states) -> JSON values; tensors go into ``tensors`` under
    dotted keys and are referenced by ``{"__tensor__": key}``. Anything else raises
    ``TypeError`` naming where it is (pickling it is never an option)."""
    import numpy as np

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.Tensor):
        tensors[key] = value.detach()
        return {"__tensor__": key}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"__tuple__": [pack(v, tensors, f"{key}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [pack(v, tensors, f"{key}.{i}") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: pack(v, tensors, f"{key}.{k}") for k, v in value.items()}
        return {"__dict__": [[pack(k, tensors, f"{key}.k{i}"), pack(v, tensors, f"{key}.{k}")]
                             for i, (k, v) in enumerate(value.items())]}
    raise TypeError(f"{key}: a {type(value).__name__} ({value!r:.80}) cannot be stored in a "
                    "fitorch file (only tensors, numbers, strings and containers of them)")


def unpack(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of :func:`pack`. A malformed structure (from a damaged or crafted file)
    raises ``ValueError`` saying what is wrong; NumPy arrays come back only with numeric or
    boolean dtypes."""
    if isinstance(value, list):
        return [unpack(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        key = value["__tensor__"]
        if not isinstance(key, str) or key not in tensors:
            raise ValueError(f"a stored value refers to tensor {key!r:.80}, which the file "
                             "does not hold")
        return tensors[key]
    if "__tuple__" in value:
        return tuple(unpack(v, tensors) for v in _list_of(value, "__tuple__"))
    if "__dict__" in value:
        items = {}
        for pair in _list_of(value, "__dict__"):
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"a stored dict entry {pair!r:.80} is not a [key, value] pair")
            key = unpack(pair[0], tensors)
            try:
                hash(key)
            except TypeError:
                raise ValueError(f"a stored dict key {key!r:.80} is not hashable") from None
            items[key] = unpack(pair[1], tensors)
        return items
    if "__ndarray__" in value:
        import numpy as np

        try:
            dtype = np.dtype(str(value.get("dtype")))
            if dtype.kind not in "biufc":
                raise TypeError(f"dtype {dtype} is not numeric")
            return np.array(value["__ndarray__"], dtype=dtype)
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(f"a stored NumPy array is malformed ({e})") from e
    return {k: unpack(v, tensors) for k, v in value.items()}


def _list_of(value: dict, marker: str) -> list:
    items = value[marker]
    if not isinstance(items, list):
        raise ValueError(f"a stored {marker} value {items!r:.80} is not a list")
    return items
