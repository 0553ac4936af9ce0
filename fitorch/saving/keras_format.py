"""Keras's own files: ``.keras`` models, ``.weights.h5`` weights and legacy tf.keras ``.h5``.

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` (the model as Keras configs)
and ``model.weights.h5`` (HDF5). Loading rebuilds the model from fitorch's Keras-semantics
layers (see :mod:`fitorch.saving.keras_config`), then reads each layer's variables in Keras's
layouts into its ``set_weights``. Nothing in a file is executed or unpickled: member names,
sizes and the HDF5 structure are checked before anything is built or read.
"""

from __future__ import annotations

import datetime
import json
import os
import zipfile
from typing import Any

from torch import nn

from fitorch._version import __version__
from fitorch.saving import archive
from fitorch.saving.atomic import atomic_write, require_folder
from fitorch.saving.keras_config import compile_from_keras, compile_to_keras
from fitorch.saving.keras_graph import model_from_keras, model_to_keras
from fitorch.saving.keras_h5 import open_checked, read_attr
from fitorch.saving.keras_weights import (read_keras3_weights, read_legacy_weights,
                                          write_keras3_weights)
from fitorch.torch_utils import unwrap_module
from fitorch.training.engine import is_main_process

__all__ = ["KERAS_SUFFIX", "KERAS_WEIGHTS_SUFFIX", "LEGACY_H5_SUFFIX", "save_keras_model",
           "load_keras_model", "save_keras_weights", "load_keras_weights", "is_keras_file",
           "check_keras_writable"]

KERAS_SUFFIX = ".keras"
KERAS_WEIGHTS_SUFFIX = ".weights.h5"
LEGACY_H5_SUFFIX = ".h5"
_WEIGHTS_MEMBER = "model.weights.h5"
_MEMBERS = ("metadata.json", "config.json", _WEIGHTS_MEMBER)
# Keras's members are read by archive.read_member (a hard cap at the declared size, stored or
# deflate only) and its JSON by archive.parse_json (bounded depth), as fitorch's own files.
MAX_JSON_BYTES = 64 << 20
MAX_WEIGHTS_BYTES = 8 << 30


def is_keras_file(path: str) -> bool:
    """True when ``path`` holds a Keras ``.keras`` zip or an HDF5 file (Keras's ``.h5``)."""
    return os.path.isfile(path) and archive.sniff(path) in ("keras", "hdf5")


# ---------------------------------------------------------------------------- reading
def _read_keras_zip(path: str, source: str) -> tuple[dict, bytes]:
    """``config.json`` (parsed) and ``model.weights.h5`` (bytes) of a ``.keras`` file."""
    try:
        with archive.open_regular_file(path, "load_model") as raw_file, \
                zipfile.ZipFile(raw_file) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            unexpected = [n for n in infos if n not in _MEMBERS]
            if unexpected or len(infos) != len(zf.infolist()):
                raise ValueError(f"{source} holds members {unexpected or list(infos)} besides "
                                 f"{list(_MEMBERS)} (assets, npz or sharded weights are not "
                                 "supported); refused")
            if "config.json" not in infos or _WEIGHTS_MEMBER not in infos:
                raise ValueError(f"{source} lacks config.json or {_WEIGHTS_MEMBER}; it is not "
                                 "a complete .keras file")
            raw = archive.read_member(zf, infos["config.json"], path, "load_model",
                                      max_bytes=MAX_JSON_BYTES)
            weights = archive.read_member(zf, infos[_WEIGHTS_MEMBER], path, "load_model",
                                          max_bytes=MAX_WEIGHTS_BYTES)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as e:
        raise ValueError(f"{source} is a truncated or corrupted zip ({e})") from e
    return _parse_json(raw, "config.json", source), weights


def _parse_json(raw: Any, what: str, source: str) -> dict:
    if isinstance(raw, str):  # HDF5 attributes hold JSON as text
        raw = raw.encode("utf-8")
    if not isinstance(raw, bytes):
        raise ValueError(f"{source}: {what} is not JSON text")
    config = archive.parse_json(raw, f"{source}: {what}")
    if not isinstance(config, dict):
        raise ValueError(f"{source}: {what} is not a model config")
    return config


def _read_bytes(path: str, source: str) -> bytes:
    with archive.open_regular_file(path, "load_model") as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_WEIGHTS_BYTES:
            raise ValueError(f"{source} is {size} bytes, more than the {MAX_WEIGHTS_BYTES} "
                             "fitorch reads; refused")
        return f.read(MAX_WEIGHTS_BYTES + 1)


def _apply(loads: list[tuple[Any, list]]) -> None:
    # every array was read and shape-checked before the first layer changes
    for layer, arrays in loads:
        layer.set_weights(arrays)


def load_keras_model(path: str, custom_objects: dict[str, Any] | None = None,
                     compile: bool = True, safe_mode: bool = True) -> Any:
    """A fitorch model from a Keras 3 ``.keras`` file or a legacy whole-model ``.h5``: the
    architecture from Keras's config, the weights in Keras's layouts, and, with ``compile``,
    the compile config where fitorch has the same names (optimizer *state* is not restored)."""
    path = os.fspath(path)
    source = f"load_model: {path!r}"
    objects = dict(custom_objects or {})
    from fitorch.backend import deserialization_scope

    if archive.sniff(path) == "keras":
        entry, weights = _read_keras_zip(path, source)
        with deserialization_scope(safe_mode, objects):
            model, plan = _rebuild(entry, objects, safe_mode, source)
        with open_checked(weights, f"{source} ({_WEIGHTS_MEMBER})") as f:
            _apply(read_keras3_weights(f, plan, source))
        compile_config = entry.get("compile_config")
    else:
        with open_checked(_read_bytes(path, source), source) as f:
            raw = read_attr(f, "model_config", source)
            if raw is None:
                raise ValueError(f"{source} is an HDF5 file without a model config (a weights-"
                                 "only file): build the model in code and call "
                                 "model.load_weights(path)")
            entry = _parse_json(raw, "model_config", source)
            with deserialization_scope(safe_mode, objects):
                model, plan = _rebuild(entry, objects, safe_mode, source)
            _apply(read_legacy_weights(f, [layer for *_, layer in plan], source))
            training = read_attr(f, "training_config", source)
        compile_config = _legacy_compile(training, source) if training else None
    if compile and compile_config:
        compile_from_keras(model, compile_config, objects, source)
    return model


def _rebuild(entry: dict, objects: dict, safe_mode: bool, source: str) -> tuple[Any, list]:
    try:
        return model_from_keras(entry, objects, safe_mode, source)
    except RecursionError as e:
        raise ValueError(f"{source}: the model config nests too deeply; refused") from e
    except (KeyError, TypeError, IndexError) as e:  # a config missing what Keras always writes
        raise ValueError(f"{source}: the model config is malformed ({type(e).__name__}: {e}); "
                         "refused") from e


def _legacy_compile(raw: Any, source: str) -> dict:
    config = _parse_json(raw, "training_config", source)
    config["optimizer"] = config.pop("optimizer_config", None)
    return config


def load_keras_weights(module: nn.Module, path: str) -> None:
    """Load a Keras weights file into a fitorch model of the same layers: ``.weights.h5``
    (Keras 3), the weights of a ``.keras`` file, or a legacy tf.keras ``.h5``."""
    source = f"load_weights: {path!r}"
    model = unwrap_module(module)
    kind = archive.sniff(path)
    if kind == "keras":
        data = _read_keras_zip(path, source)[1]
    else:
        data = _read_bytes(path, source)
    with open_checked(data, source) as f:
        if "layers" in f or "vars" in f:  # Keras 3's layout
            _, plan = _describe(model, "load_weights", path)
            _apply(read_keras3_weights(f, plan, source))
        else:
            layers = [m for m in model.modules() if m is not model
                      and callable(getattr(m, "get_weights", None))
                      and not _inside_keras_layer(m, model)]
            _apply(read_legacy_weights(f, layers, source))


def _inside_keras_layer(module: nn.Module, model: nn.Module) -> bool:
    from fitorch.layers.base import Layer

    for parent in model.modules():
        if parent is not model and parent is not module and isinstance(parent, Layer) and \
                any(child is module for child in parent.modules()):
            return True
    return False


# ---------------------------------------------------------------------------- writing
def _describe(model: nn.Module, who: str, path: str) -> tuple[dict, list]:
    try:
        return model_to_keras(model)
    except ValueError as e:
        raise ValueError(f"{who}: {path!r}: {e}") from e


def check_keras_writable(model: nn.Module, path: str, who: str) -> None:
    """Raise ``ValueError`` (saying why, suggesting ``.fitorch``) unless ``model`` can be
    written in Keras's formats; ModelCheckpoint calls it before training starts."""
    _describe(unwrap_module(model), who, path)


def save_keras_model(model: nn.Module, path: str, overwrite: bool = False,
                     include_optimizer: bool = True) -> None:
    """Write a fitorch Sequential / functional model of Keras layers as a Keras 3 ``.keras``
    file that ``keras.models.load_model`` opens. With ``include_optimizer``, a compiled model's
    compile config (names and hyper-parameters) is written; optimizer state is not (Keras
    warns that it starts a fresh optimizer)."""
    path = os.fspath(path)
    require_folder(path, os.path.dirname(os.path.abspath(path)), "save_model")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"save_model: {path!r} already exists; pass overwrite=True to "
                              "replace it")
    outer, model = model, unwrap_module(model)
    entry, plan = _describe(model, "save_model", path)
    if include_optimizer:
        compiled = outer if "_ft" in outer.__dict__ and "_ft" not in model.__dict__ else model
        compile_config = compile_to_keras(compiled)
        if compile_config is not None:
            entry["compile_config"] = compile_config
    weights = _weights_bytes(plan, model, "save_model", path)
    if not is_main_process():
        return
    metadata = {"keras_version": "3.0.0", "fitorch_version": __version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    with atomic_write(path, "wb") as f:
        with zipfile.ZipFile(f, "w") as zf:
            zf.writestr("metadata.json", json.dumps(metadata))
            zf.writestr("config.json", json.dumps(entry))
            zf.writestr(_WEIGHTS_MEMBER, weights, compress_type=zipfile.ZIP_STORED)


def save_keras_weights(module: nn.Module, path: str, overwrite: bool = True) -> None:
    """Write a fitorch model's weights as a Keras 3 ``.weights.h5`` file (Keras's
    ``model.load_weights`` reads it)."""
    path = os.fspath(path)
    require_folder(path, os.path.dirname(os.path.abspath(path)), "save_weights")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path!r} already exists and overwrite=False")
    model = unwrap_module(module)
    _, plan = _describe(model, "save_weights", path)
    data = _weights_bytes(plan, model, "save_weights", path)
    if not is_main_process():
        return
    with atomic_write(path, "wb") as f:
        f.write(data)


def _weights_bytes(plan: list, model: nn.Module, who: str, path: str) -> bytes:
    try:
        return write_keras3_weights(plan, getattr(model, "name", "model"))
    except ValueError as e:
        raise ValueError(f"{who}: {path!r}: {e}") from e
