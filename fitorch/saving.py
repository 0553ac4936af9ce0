"""Files on disk: crash-safe writes and weight files (safetensors, never pickle).

Weights are written with safetensors; plain torch ``state_dict`` files are read only through
``torch.load(weights_only=True)``, so loading a file can never run code from it.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from typing import IO, Any

import torch
from torch import nn

__all__ = ["atomic_write", "unwrap_module", "save_weights", "load_weights"]

WEIGHTS_SUFFIX = ".safetensors"
# safetensors metadata key holding {duplicate name: kept name} for tied (shared) tensors.
_ALIASES_KEY = "fitorch.aliases"


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, encoding: str = "utf-8",
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that readers only ever see the old file or the whole new one.

    The data goes to a temporary file in the same folder (so the final rename stays on one file
    system), is flushed and fsync'ed, then ``os.replace`` d over ``path``. If the block raises,
    the temporary file is removed and ``path`` is left untouched. ``mode`` is ``"wb"`` or ``"w"``
    (text, with ``encoding`` and ``newline`` as for ``open``).
    """
    if mode not in ("wb", "w", "wt"):
        raise ValueError(f"atomic_write: mode={mode!r} is not supported; expected 'wb' or 'w'")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    _require_folder(path, folder, "atomic_write")
    if os.path.isdir(path):
        raise IsADirectoryError(f"atomic_write: path {path!r} is a directory, expected a file path")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 lets the umask decide permissions, as a plain open() would
    # (tempfile.mkstemp would leave the final file readable by its owner only).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        text_kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **text_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open folders, and there
    # os.replace is already as durable as it gets.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _require_folder(path: str, folder: str, who: str) -> None:
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{who}: the folder {folder!r} of path {path!r} does not exist; create it first")


def unwrap_module(module: nn.Module) -> nn.Module:
    """The module a user wrote, out of ``DataParallel`` / ``DistributedDataParallel`` and
    ``torch.compile`` wrappers (in any nesting), so state-dict keys carry no wrapper prefix."""
    while True:
        if isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            module = module.module
        elif isinstance(getattr(module, "_orig_mod", None), nn.Module):
            module = module._orig_mod  # torch.compile's OptimizedModule
        else:
            return module


def _check_module(module: Any, who: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{who}: module must be a torch.nn.Module, got {type(module).__name__}")
    return unwrap_module(module)


def _check_weights_path(path: str | os.PathLike, who: str) -> str:
    path = os.fspath(path)
    if not path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"{who}: path {path!r} must end in {WEIGHTS_SUFFIX!r} "
                         "(weights are written in the safetensors format)")
    return path


def _storage_key(t: torch.Tensor) -> tuple:
    return (t.device, t.untyped_storage().data_ptr())


def _tensors_for_file(state: Mapping[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """CPU tensors safetensors accepts, plus {alias: kept name} for tied weights.

    safetensors refuses tensors that share memory. A tied weight (the same tensor under two
    names) is stored once and recorded as an alias; other views into one storage are stored as
    separate copies, which loads back the same values.
    """
    tensors: dict[str, torch.Tensor] = {}
    aliases: dict[str, str] = {}
    seen: dict[tuple, list[tuple[str, torch.Tensor]]] = {}
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"save_weights: state_dict entry {name!r} is a "
                            f"{type(value).__name__}, not a tensor; safetensors stores tensors "
                            "only (modules with get_extra_state cannot be saved as weights)")
        if torch.nn.parameter.is_lazy(value):
            raise ValueError(f"save_weights: {name!r} is not initialized yet (lazy module); "
                             "run one batch through the model before saving its weights")
        if value.device.type == "meta":
            raise ValueError(f"save_weights: {name!r} is on the meta device and holds no data")
        value = value.detach()
        key = _storage_key(value)
        same = next((kept for kept, t in seen.get(key, ())
                     if t.shape == value.shape and t.stride() == value.stride()
                     and t.storage_offset() == value.storage_offset() and t.dtype == value.dtype),
                    None)
        if same is not None:
            aliases[name] = same
            continue
        shares = key in seen
        seen.setdefault(key, []).append((name, value))
        value = value.to("cpu")
        # clone() also when the storage is shared with another (different) view, and when the
        # tensor is a view of a larger storage: safetensors would otherwise refuse or copy it all.
        if shares or not value.is_contiguous() or value.untyped_storage().nbytes() != \
                value.numel() * value.element_size():
            value = value.contiguous().clone()
        tensors[name] = value
    return tensors, aliases


def save_weights(module: nn.Module, path: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``module.state_dict()`` to a ``.safetensors`` file, atomically.

    Wrappers (``DataParallel``, ``DistributedDataParallel``, ``torch.compile``) are unwrapped so
    the keys are those of the inner module and the file loads into an unwrapped model. Tied
    weights are stored once. The parent folder must exist.
    """
    from safetensors.torch import save as safetensors_bytes

    module = _check_module(module, "save_weights")
    path = _check_weights_path(path, "save_weights")
    _require_folder(path, os.path.dirname(os.path.abspath(path)), "save_weights")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path!r} already exists and overwrite=False")
    tensors, aliases = _tensors_for_file(module.state_dict())
    metadata = {"format": "pt"}
    if aliases:
        metadata[_ALIASES_KEY] = json.dumps(aliases)
    data = safetensors_bytes(tensors, metadata=metadata)
    with atomic_write(path, "wb") as f:
        f.write(data)


def _read_state(path: str) -> dict[str, torch.Tensor]:
    if path.endswith(WEIGHTS_SUFFIX):
        from safetensors import safe_open

        state: dict[str, torch.Tensor] = {}
        try:
            with safe_open(path, framework="pt", device="cpu") as f:
                for name in f.keys():
                    state[name] = f.get_tensor(name)
                aliases = json.loads((f.metadata() or {}).get(_ALIASES_KEY, "{}"))
        except Exception as e:  # safetensors raises its own error types for damaged files
            raise ValueError(f"load_weights: {path!r} is not a readable safetensors file: "
                             f"{e}") from e
        for alias, kept in aliases.items():
            state[alias] = state[kept]
        return state
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"load_weights: {path!r} is neither a .safetensors file nor a torch "
                         f"state_dict that loads with torch.load(weights_only=True): {e}") from e
    if not isinstance(obj, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        what = (f"a mapping with keys {list(obj)[:8]}" if isinstance(obj, Mapping)
                else type(obj).__name__)
        raise ValueError(f"load_weights: {path!r} holds {what}; expected a state_dict "
                         "(a mapping of names to tensors)")
    return dict(obj)


def load_weights(module: nn.Module, path: str | os.PathLike, strict: bool = True) -> Any:
    """Load weights saved by :func:`save_weights` (or a plain torch ``state_dict`` file).

    Everything is checked before anything is copied: on a mismatch the error lists every
    missing, unexpected and shape-mismatched key (with both shapes) and the model is unchanged.
    ``strict=False`` tolerates missing and unexpected keys, never a shape mismatch. Returns
    torch's ``(missing_keys, unexpected_keys)`` result.
    """
    module = _check_module(module, "load_weights")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_weights: no such file: {path!r}")
    state = _read_state(path)
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and not torch.nn.parameter.is_lazy(v) and state[k].shape != v.shape]
    problems = []
    if strict and missing:
        problems.append(f"missing keys (in the model, not in the file): {missing}")
    if strict and unexpected:
        problems.append(f"unexpected keys (in the file, not in the model): {unexpected}")
    if mismatched:
        problems.append(f"shape mismatches: {mismatched}")
    if problems:
        raise ValueError(f"load_weights: {path!r} does not fit {type(module).__name__}; "
                         "nothing was loaded.\n  " + "\n  ".join(problems))
    return module.load_state_dict(state, strict=strict)
