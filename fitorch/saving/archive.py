"""fitorch's zip archives (model files and backups): JSON and safetensors members, never pickle.

Every archive holds ``metadata.json`` (``format``, ``format_version``, versions, date). Reading
checks, before anything is built, that the file is a zip, that its member names are exactly the
expected ones (no paths, no pickles), that the sizes are sane and that every CRC matches, so a
damaged or foreign file raises instead of returning a partial result.
"""

from __future__ import annotations

import datetime
import json
import os
import zipfile
from typing import Any

import torch

from fitorch.saving.atomic import atomic_write

__all__ = ["FORMAT_VERSION", "METADATA_MEMBER", "WEIGHTS_MEMBER", "write_archive",
           "read_archive", "sniff", "describe_kind", "pack", "unpack"]

FORMAT_VERSION = 1
METADATA_MEMBER = "metadata.json"
WEIGHTS_MEMBER = "model.safetensors"
# member name -> the archive formats it may appear in
MEMBERS = {
    "fitorch.model": {METADATA_MEMBER, "config.json", WEIGHTS_MEMBER, "compile.json",
                      "compile.safetensors"},
    "fitorch.backup": {METADATA_MEMBER, WEIGHTS_MEMBER, "state.json", "state.safetensors"},
}
_MAX_JSON_BYTES = 256 << 20
_PICKLE_MAGIC = b"\x80"


# ---------------------------------------------------------------------------- file kinds
def sniff(path: str) -> str:
    """What ``path`` holds, from its first bytes and (for zips) its member names: ``"fitorch"``,
    ``"torch-zip"`` (``torch.save``: a pickle), ``"pickle"``, ``"safetensors"``, ``"keras"``,
    ``"zip"``, ``"hdf5"``, ``"empty"`` or ``"unknown"``."""
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        return "empty"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
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
        if 0 < size <= os.path.getsize(path) - 8:
            return "safetensors"
    return "unknown"


def describe_kind(kind: str, path: str) -> str:
    """Words for ``sniff``'s answer, for error messages."""
    if kind == "unknown":
        with open(path, "rb") as f:
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

    import fitorch

    return {"format": fmt, "format_version": FORMAT_VERSION,
            "fitorch_version": fitorch.__version__, "torch_version": torch.__version__,
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
    (any format when ``None``): another kind of file (said which), a pickle inside, unexpected
    members, a truncated or corrupted zip, or a newer format version.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{who}: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {path!r} is a directory, expected a file")
    kind = sniff(path)
    if kind in ("torch-zip", "pickle"):
        raise ValueError(f"{who}: {path!r} contains a pickle ({describe_kind(kind, path)}); "
                         "it was refused and nothing from it ran. Only files written by "
                         "fitorch.save_model load here")
    if kind not in ("fitorch", "zip"):
        raise ValueError(f"{who}: {path!r} is not a fitorch file: it looks like "
                         f"{describe_kind(kind, path)}")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            pickles = [n for n in names if n.endswith((".pkl", ".pickle"))]
            if pickles:
                raise ValueError(f"{who}: {path!r} contains a pickle ({pickles}); it was "
                                 "refused and nothing from it ran")
            if METADATA_MEMBER not in names:
                raise ValueError(f"{who}: {path!r} is not a fitorch file: it is "
                                 f"{describe_kind('zip', path)} (members: {names[:10]})")
            meta = _json_member(zf, METADATA_MEMBER, path, who)
            found = meta.get("format") if isinstance(meta, dict) else None
            if found not in MEMBERS or (fmt is not None and found != fmt):
                raise ValueError(f"{who}: {path!r} is not a {fmt or 'fitorch'} file "
                                 f"(its metadata says format={found!r})")
            version = meta.get("format_version")
            if not isinstance(version, int) or version < 1:
                raise ValueError(f"{who}: {path!r} has an invalid format_version {version!r}")
            if version > FORMAT_VERSION:
                raise ValueError(f"{who}: {path!r} was written by a newer fitorch (format "
                                 f"version {version}, fitorch {meta.get('fitorch_version')}); "
                                 f"this fitorch reads up to version {FORMAT_VERSION}: upgrade "
                                 "fitorch to load it")
            allowed = MEMBERS[found]
            unexpected = [n for n in names if n not in allowed]
            if unexpected or len(set(names)) != len(names):
                raise ValueError(f"{who}: {path!r} holds unexpected members {unexpected or names} "
                                 f"(a {found} file holds only {sorted(allowed)}); refused")
            members: dict[str, Any] = {METADATA_MEMBER: meta}
            for info in infos:
                if info.filename == METADATA_MEMBER:
                    continue
                if info.filename.endswith(".json"):
                    members[info.filename] = _json_member(zf, info.filename, path, who)
                else:
                    _check_ratio(info, path, who)
                    members[info.filename] = zf.read(info)  # CRC-checked by zipfile
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as e:
        raise ValueError(f"{who}: {path!r} is a truncated or corrupted file ({e}); nothing was "
                         "loaded") from e
    return members


def _check_ratio(info: zipfile.ZipInfo, path: str, who: str) -> None:
    # A tiny member that inflates to gigabytes (a zip bomb) is refused before it is read.
    if info.compress_type != zipfile.ZIP_STORED and \
            info.file_size > 200 * max(info.compress_size, 1) + (1 << 20):
        raise ValueError(f"{who}: {path!r}: member {info.filename!r} claims {info.file_size} "
                         f"bytes from {info.compress_size} compressed; refused")


def _json_member(zf: zipfile.ZipFile, name: str, path: str, who: str) -> Any:
    info = zf.getinfo(name)
    if info.file_size > _MAX_JSON_BYTES:
        raise ValueError(f"{who}: {path!r}: {name} is {info.file_size} bytes, more than a "
                         "fitorch file ever writes; refused")
    _check_ratio(info, path, who)
    data = zf.read(info)
    if data.startswith(_PICKLE_MAGIC):
        raise ValueError(f"{who}: {path!r}: {name} contains a pickle, not JSON; it was refused "
                         "and nothing from it ran")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{who}: {path!r}: {name} is not valid JSON ({e}); the file is "
                         "damaged") from e


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
    """The inverse of :func:`pack`."""
    if isinstance(value, list):
        return [unpack(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__tuple__" in value:
        return tuple(unpack(v, tensors) for v in value["__tuple__"])
    if "__dict__" in value:
        return {unpack(k, tensors): unpack(v, tensors) for k, v in value["__dict__"]}
    if "__ndarray__" in value:
        import numpy as np

        return np.array(value["__ndarray__"], dtype=np.dtype(str(value["dtype"])))
    return {k: unpack(v, tensors) for k, v in value.items()}
