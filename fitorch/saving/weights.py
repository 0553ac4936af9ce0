"""Weight files: safetensors, never pickle.

Weights are written with safetensors; plain torch ``state_dict`` files are read only through
``torch.load(weights_only=True)``, so loading a file can never run code from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from fitorch.saving.atomic import atomic_write, require_folder
from fitorch.torch_utils import unwrap_module  # noqa: F401  (also fitorch.saving's)
from fitorch.training.engine import is_main_process
from fitorch.training.sharding import full_state_dict, load_full_state_dict

__all__ = ["unwrap_module", "save_weights", "load_weights", "WEIGHTS_SUFFIX", "state_to_bytes",
           "state_from_bytes", "load_state_checked"]

WEIGHTS_SUFFIX = ".safetensors"
# safetensors metadata key holding {duplicate name: kept name} for tied (shared) tensors.
_ALIASES_KEY = "fitorch.aliases"


def _check_module(module: Any, who: str) -> nn.Module:
    if not isinstance(module, nn.Module):
        raise TypeError(f"{who}: module must be a torch.nn.Module, got {type(module).__name__}")
    return unwrap_module(module)


def _check_weights_path(path: str | os.PathLike, who: str) -> str:
    path = os.fspath(path)
    if not path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"{who}: path {path!r} must end in {WEIGHTS_SUFFIX!r} "
                         "(weights in the safetensors format) or '.weights.h5' (Keras's)")
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


def state_to_bytes(state: Mapping[str, Any]) -> bytes:
    """A ``state_dict`` (or any name -> tensor mapping) as safetensors bytes; tied tensors are
    stored once and recorded as aliases."""
    from safetensors.torch import save as safetensors_bytes

    tensors, aliases = _tensors_for_file(state)
    metadata = {"format": "pt"}
    if aliases:
        metadata[_ALIASES_KEY] = json.dumps(aliases)
    return safetensors_bytes(tensors, metadata=metadata)


def state_from_bytes(data: bytes, source: str) -> dict[str, torch.Tensor]:
    """The inverse of :func:`state_to_bytes`: CPU tensors (a GPU-saved file loads anywhere).
    Damaged data and alias metadata that is not a ``{alias: stored name}`` dict of names the
    data holds raise ``ValueError`` starting with ``source``."""
    from safetensors.torch import load as safetensors_load

    try:
        state = safetensors_load(bytes(data))
        size = int.from_bytes(data[:8], "little")
        header = json.loads(data[8:8 + size])
        metadata = header.get("__metadata__") if isinstance(header, dict) else None
    except Exception as e:  # safetensors raises its own error types for damaged data
        raise ValueError(f"{source} is not a readable safetensors file (truncated or "
                         f"damaged): {e}") from e
    raw = (metadata or {}).get(_ALIASES_KEY) if isinstance(metadata, dict) else None
    if raw is None:
        return state
    try:
        aliases = json.loads(raw)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{source}: its {_ALIASES_KEY!r} metadata is not JSON ({e}); the "
                         "file is damaged") from e
    if not isinstance(aliases, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
        raise ValueError(f"{source}: its {_ALIASES_KEY!r} metadata ({raw!r:.80}) is not a dict "
                         "of tensor names; the file is damaged")
    for alias, kept in aliases.items():
        if kept not in state:
            raise ValueError(f"{source}: its {_ALIASES_KEY!r} metadata makes {alias!r:.80} an "
                             f"alias of {kept!r:.80}, a tensor the file does not hold; the file "
                             "is damaged")
        if alias in state:
            raise ValueError(f"{source}: its {_ALIASES_KEY!r} metadata names {alias!r:.80}, "
                             "which the file also stores as a tensor; the file is damaged")
        state[alias] = state[kept]
    return state


def save_weights(module: nn.Module, path: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``module.state_dict()`` to a ``.safetensors`` file, atomically.

    Wrappers (``DataParallel``, ``DistributedDataParallel``, ``torch.compile``) are unwrapped so
    the keys are those of the inner module and the file loads into an unwrapped model. Tied
    weights are stored once. The parent folder must exist. Under several processes only rank 0
    writes; a model sharded with FSDP is gathered first, so every process must call this.
    """
    module = _check_module(module, "save_weights")
    if os.fspath(path).endswith(".weights.h5"):  # Keras 3's layout (fitorch.saving.keras_format)
        from fitorch.saving.keras_format import save_keras_weights

        return save_keras_weights(module, os.fspath(path), overwrite)
    path = _check_weights_path(path, "save_weights")
    require_folder(path, os.path.dirname(os.path.abspath(path)), "save_weights")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path!r} already exists and overwrite=False")
    state = full_state_dict(module)
    if not is_main_process():
        return
    data = state_to_bytes(state)
    with atomic_write(path, "wb") as f:
        f.write(data)


def _read_state(path: str) -> dict[str, torch.Tensor]:
    from fitorch.saving import archive

    kind = archive.sniff(path, "load_weights")  # refuses a FIFO, device or directory unread
    if kind == "fitorch":  # a .fitorch model file or a backup: its weights member
        members = archive.read_archive(path, "load_weights")
        if archive.WEIGHTS_MEMBER not in members:
            raise ValueError(f"load_weights: {path!r} has no {archive.WEIGHTS_MEMBER} member; "
                             "the file is damaged")
        return state_from_bytes(members[archive.WEIGHTS_MEMBER],
                                f"load_weights: {path!r}: member {archive.WEIGHTS_MEMBER!r}")
    if kind == "safetensors" or path.endswith(WEIGHTS_SUFFIX):
        with archive.open_regular_file(path, "load_weights") as f:
            return state_from_bytes(f.read(), f"load_weights: {path!r}")
    if kind not in ("torch-zip", "pickle"):
        raise ValueError(f"load_weights: {path!r} is not a weights file: it looks like "
                         f"{archive.describe_kind(kind, path)}")
    try:
        # weights_only=True: torch's restricted unpickler refuses anything but tensors and
        # plain containers, so a crafted file cannot run code.
        with archive.open_regular_file(path, "load_weights") as f:
            obj = torch.load(f, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"load_weights: {path!r} is a torch.save file (a pickle) that does not "
                         "load with torch.load(weights_only=True), e.g. a whole pickled module "
                         "or a crafted payload; it was refused and nothing from it ran. Save "
                         f"weights with model.save_weights('x.safetensors') instead ({e})") from e
    if not isinstance(obj, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        what = (f"a mapping with keys {list(obj)[:8]}" if isinstance(obj, Mapping)
                else type(obj).__name__)
        raise ValueError(f"load_weights: {path!r} holds {what}; expected a state_dict "
                         "(a mapping of names to tensors)")
    return dict(obj)


def load_state_checked(module: nn.Module, state: Mapping[str, torch.Tensor], source: str,
                       strict: bool = True) -> Any:
    """``module.load_state_dict(state)`` after checking every key and shape first.

    On a mismatch the ``ValueError`` lists every missing, unexpected and shape-mismatched key
    (with both shapes) and the module is unchanged. ``strict=False`` tolerates missing and
    unexpected keys, never a shape mismatch.
    """
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
        raise ValueError(f"{source} does not fit {type(module).__name__}; "
                         "nothing was loaded.\n  " + "\n  ".join(problems))
    return load_full_state_dict(module, state, strict=strict)


def load_weights(module: nn.Module, path: str | os.PathLike, strict: bool = True) -> Any:
    """Load weights saved by :func:`save_weights`, the weights of a ``.fitorch`` file, or a plain
    torch ``state_dict`` file (read with ``torch.load(weights_only=True)`` only).

    Everything is checked before anything is copied: on a mismatch the error lists every
    missing, unexpected and shape-mismatched key (with both shapes) and the model is unchanged.
    ``strict=False`` tolerates missing and unexpected keys, never a shape mismatch. Returns
    torch's ``(missing_keys, unexpected_keys)`` result.
    """
    module = _check_module(module, "load_weights")
    path = os.fspath(path)
    if not os.path.lexists(path):
        raise FileNotFoundError(f"load_weights: no such file: {path!r}")
    from fitorch.saving.keras_format import is_keras_file, load_keras_weights

    if is_keras_file(path):  # .keras, .weights.h5 or legacy .h5: Keras's layouts
        if not strict:
            raise ValueError(f"load_weights: {path!r} is a Keras file; it loads with "
                             "strict=True only (Keras matches every layer)")
        load_keras_weights(module, path)
        return torch.nn.modules.module._IncompatibleKeys([], [])
    state = _read_state(path)
    return load_state_checked(module, state, f"load_weights: {path!r}", strict)
