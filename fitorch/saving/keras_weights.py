"""Keras's weight layouts in HDF5: Keras 3's ``model.weights.h5`` and tf.keras 2's ``.h5``.

Keras 3 keeps each layer's variables under ``layers/<key>/vars/0, 1, ...`` (sublayers' under
``layers/<key>/cell/vars``, ``.../forward_layer/cell/vars``, ``.../query_dense/vars``...);
tf.keras 2 keeps them under ``[model_weights/]<layer name>/<weight name>``, listed in the
``weight_names`` attribute. In both, a layer's variables come in the order of Keras's
``layer.get_weights()`` and in Keras's layouts, which is what fitorch's ``Layer.get_weights`` /
``set_weights`` already speak: this module only places and finds the arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from fitorch.saving.keras_h5 import H5Writer, datasets_under, read_attr, read_dataset

__all__ = ["write_keras3_weights", "read_keras3_weights", "read_legacy_weights",
           "split_by_group"]

_RNN_CLASSES = ("SimpleRNN", "LSTM", "GRU")
_MHA_PARTS = ("query_dense", "key_dense", "value_dense", "output_dense")


def _weights_of(layer: Any, where: str) -> list[np.ndarray]:
    get_weights = getattr(layer, "get_weights", None)
    if get_weights is None:
        raise ValueError(f"{where} is a plain torch module without Keras weights")
    if not getattr(layer, "built", True):
        raise ValueError(f"{where} is not built yet (it has no weights); run the model once or "
                         "give it an input shape first")
    return get_weights()


def split_by_group(layer: Any, class_name: str, config: dict,
                   items: list) -> list[tuple[str, list]]:
    """``items`` (one per variable, in ``get_weights()`` order) placed into the Keras 3 ``vars``
    groups that hold them: ``[(relative group path, items), ...]``."""
    if class_name == "Bidirectional":
        inner = config["layer"]
        backward = config.get("backward_layer") or inner
        cut = len(layer.forward_layer.get_weights())
        return [("vars", [])] + \
            [(f"forward_layer/{g}", part) for g, part in split_by_group(
                layer.forward_layer, inner["class_name"], inner["config"], items[:cut])] + \
            [(f"backward_layer/{g}", part) for g, part in split_by_group(
                layer.backward_layer, backward["class_name"], backward["config"], items[cut:])]
    if class_name == "TimeDistributed":
        inner = config["layer"]
        return [("vars", [])] + [(f"layer/{g}", part) for g, part in split_by_group(
            layer.layer, inner["class_name"], inner["config"], items)]
    if class_name in _RNN_CLASSES:
        return [("vars", []), ("cell/vars", list(items))]
    if class_name == "MultiHeadAttention":
        each = len(items) // 4  # kernel (+ bias) per projection
        return [("vars", [])] + [(f"{part}/vars", list(items[i * each:(i + 1) * each]))
                                 for i, part in enumerate(_MHA_PARTS)]
    return [("vars", list(items))]


def write_keras3_weights(plan: list, model_name: str) -> bytes:
    """The bytes of a Keras 3 ``model.weights.h5`` for ``plan`` (see ``keras_graph.Plan``)."""
    writer = H5Writer()
    writer.group("layers")
    for key, class_name, config, layer in plan:
        arrays = _weights_of(layer, f"layer {getattr(layer, 'name', key)!r}")
        for group, part in split_by_group(layer, class_name, config, arrays):
            h5_group = writer.group(f"layers/{key}/{group}",
                                    name=str(getattr(layer, "name", key)))
            for i, value in enumerate(part):
                h5_group.create_dataset(str(i), data=np.ascontiguousarray(value))
    writer.group("vars", name=model_name)
    return writer.getvalue()


def read_keras3_weights(f: Any, plan: list, source: str) -> list[tuple[Any, list]]:
    """For every layer of ``plan``: the arrays to give its ``set_weights``. Every dataset's
    shape is checked against the layer before it is read, and a dataset under ``layers/`` that
    no layer claims is refused (the file belongs to another model)."""
    claimed: set[str] = set()
    loads = []
    for key, class_name, config, layer in plan:
        where = f"layer {getattr(layer, 'name', key)!r} ({class_name}, group layers/{key})"
        shapes = [w.shape for w in _weights_of(layer, where)]
        arrays: list[np.ndarray] = []
        for group, expected in split_by_group(layer, class_name, config, shapes):
            path = f"layers/{key}/{group}"
            found: Any = f[path] if path in f else None
            if found is not None and not hasattr(found, "keys"):
                raise ValueError(f"{source}: {path} is a dataset, not a group; damaged file")
            names = [] if found is None else sorted(found, key=lambda n: (len(n), n))
            if names != [str(i) for i in range(len(expected))]:
                raise ValueError(f"{source}: {where}: {path} holds variables {names}, but the "
                                 f"layer has {len(expected)} there ({expected}); the file "
                                 "does not fit this model, nothing was loaded")
            for i, shape in enumerate(expected):
                arrays.append(read_dataset(found[str(i)], shape, f"{path}/{i}", source))
                claimed.add(f"{path}/{i}")
        if arrays:
            loads.append((layer, arrays))
    if "layers" in f:
        extra = [p for p in datasets_under(f["layers"], "layers") if p not in claimed]
        if extra:
            raise ValueError(f"{source} holds variables no layer of this model has: "
                             f"{extra[:6]}; the file belongs to another model, nothing was "
                             "loaded")
    return loads


def read_legacy_weights(f: Any, layers: list[Any], source: str) -> list[tuple[Any, list]]:
    """tf.keras 2 / legacy ``.h5`` weights for ``layers`` (the model's layers with weights):
    matched by name when every name in the file is a layer of the model, else in order."""
    root = f["model_weights"] if "model_weights" in f else f
    names = read_attr(root, "layer_names", source)
    if not isinstance(names, list):
        raise ValueError(f"{source} has no layer_names attribute: it is not a Keras weights "
                         "file")
    with_weights = []
    for name in names:
        if not isinstance(name, str) or name not in root:
            raise ValueError(f"{source}: layer {name!r} is listed but has no group")
        weight_names = read_attr(root[name], "weight_names", source) or []
        if weight_names:
            with_weights.append((name, weight_names))
    wanted = [m for m in layers if _weights_of(m, describe_layer(m))]
    by_name = {getattr(m, "name", None): m for m in wanted}
    if all(name in by_name for name, _ in with_weights):
        pairs = [(by_name[name], name, w) for name, w in with_weights]
    elif len(with_weights) == len(wanted):
        pairs = [(m, name, w) for m, (name, w) in zip(wanted, with_weights)]
    else:
        raise ValueError(f"{source} holds weights for {len(with_weights)} layers "
                         f"({[n for n, _ in with_weights][:8]}) but the model has "
                         f"{len(wanted)} layers with weights ({list(by_name)[:8]}); nothing "
                         "was loaded")
    loads = []
    for layer, name, weight_names in pairs:
        shapes = [w.shape for w in layer.get_weights()]
        where = f"{describe_layer(layer)} (file layer {name!r})"
        if len(shapes) != len(weight_names):
            raise ValueError(f"{source}: {where} has {len(shapes)} weights, the file "
                             f"{len(weight_names)} ({weight_names}); nothing was loaded")
        arrays = []
        for weight_name, shape in zip(weight_names, shapes):
            path = f"{name}/{weight_name}"
            if not isinstance(weight_name, str) or path not in root:
                raise ValueError(f"{source}: {where}: weight {weight_name!r} is missing")
            arrays.append(read_dataset(root[path], shape, path, source))
        loads.append((layer, arrays))
    return loads


def describe_layer(layer: nn.Module) -> str:
    name = getattr(layer, "name", None)
    return f"{type(layer).__name__} {name!r}" if isinstance(name, str) else type(layer).__name__
