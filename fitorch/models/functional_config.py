"""Configs: a functional model's graph <-> plain JSON values (``get_config`` / ``from_config``).

A config names layers by their Keras names and holds their own configs; each call of the graph
is a node whose arguments refer to earlier nodes by number. Rebuilding replays the nodes on new
``ft.Input`` s, so it runs only calls that a graph can have recorded (see ``replay_config``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from torch import nn

from fitorch import backend
from fitorch.models.configs import (Ref, decode_value, deserialize_module, dtype_by_name,
                                    encode_value, function_name, resolve_function,
                                    serialize_module, tensor_attribute, tensor_method)
from fitorch.models.symbolic import Input, KerasTensor, set_module_name
from fitorch.torch_utils import leaves, map_structure

__all__ = ["graph_config", "replay_config"]


def graph_config(name: str, spec: dict, layer_attributes: dict[str, str],
                 modules: dict[str, nn.Module]) -> dict[str, Any]:
    """``Functional.get_config()`` of the model ``name`` with graph ``spec``: its layers
    (``modules`` by attribute; ``layer_attributes`` maps Keras names to attributes) and nodes
    as plain values."""
    layers = []
    for label, attr in layer_attributes.items():
        entry = serialize_module(modules[attr])
        entry["name"] = label
        layers.append(entry)
    label_of = {attr: label for label, attr in layer_attributes.items()}
    nodes = []
    for node in spec["nodes"]:
        if node.kind == "input":
            path, shape, dtype = node.outputs[0]
            nodes.append({"kind": "input", "name": node.name, "shape": list(shape[1:]),
                          "dtype": str(dtype).removeprefix("torch."),
                          "batch_size": node.batch_size})
            continue
        entry = {"kind": node.kind, "args": encode_value(node.args, node.name),
                 "kwargs": encode_value(node.kwargs, node.name)}
        if node.kind == "module":
            entry["layer"] = label_of[node.target]
        elif node.kind == "method":
            entry["method"] = node.target
        else:
            entry["function"] = function_name(node.target)
        nodes.append(entry)
    return {"name": name, "layers": layers, "nodes": nodes,
            "inputs": encode_value(spec["input_structure"], "inputs"),
            "outputs": encode_value(spec["output_structure"], "outputs")}


def replay_config(config: Any, custom_objects: dict[str, type] | None = None
                  ) -> tuple[Any, Any]:
    """(inputs, outputs): the graph of ``Functional.get_config()``'s output replayed on new
    symbolic inputs, with new layers; ``ValueError`` naming the node for anything a graph
    cannot have recorded."""
    if not isinstance(config, dict):
        raise ValueError(f"Functional.from_config: config must be a dict, got "
                         f"{type(config).__name__}")
    for key in ("layers", "nodes", "inputs", "outputs"):
        if key not in config:
            raise ValueError(f"Functional.from_config: the config lacks {key!r}")
    if not isinstance(config["layers"], list) or not isinstance(config["nodes"], list):
        raise ValueError("Functional.from_config: 'layers' and 'nodes' must be lists")
    layers = {}
    for entry in config["layers"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"Functional.from_config: layer entry {entry!r:.80} lacks a "
                             "name")
        layers[entry["name"]] = deserialize_module(entry, custom_objects)
        set_module_name(layers[entry["name"]], entry["name"])  # plain torch modules' names
    functions = None if backend.in_safe_mode() else backend.deserialization_objects()
    produced: list[Any] = []

    def lookup(value: Any) -> Any:
        if not isinstance(value, Ref):
            return value
        if value.node >= len(produced):
            raise ValueError(f"Functional.from_config: node {len(produced)} refers to node "
                             f"{value.node}, which does not come before it")
        result = produced[value.node]
        for key in value.path:
            # only into the structure a call returned, never into a tensor
            if isinstance(result, KerasTensor) or not isinstance(result, (list, tuple, dict)):
                raise ValueError(f"Functional.from_config: reference {value} leads into a "
                                 f"{type(result).__name__}")
            try:
                result = result[key]
            except (IndexError, KeyError, TypeError):
                raise ValueError(f"Functional.from_config: reference {value} has no "
                                 f"entry {key!r}") from None
        return result

    for number, entry in enumerate(config["nodes"]):
        if not isinstance(entry, dict):
            raise ValueError(f"Functional.from_config: node {number} is not a dict")
        produced.append(_rebuild_node(number, entry, layers, functions, lookup))
    inputs = map_structure(lookup, decode_value(config["inputs"]))
    outputs = map_structure(lookup, decode_value(config["outputs"]))
    return inputs, outputs


def _rebuild_node(number: int, entry: dict, layers: dict, functions: dict | None,
                  lookup: Callable[[Any], Any]) -> Any:
    """Replay one node of a config on the symbolic tensors rebuilt so far."""
    kind = entry.get("kind")
    where = f"Functional.from_config: node {number} ({kind!r})"
    if kind == "input":
        return Input(tuple(entry["shape"]) if isinstance(entry.get("shape"), list) else
                     entry.get("shape"), dtype=dtype_by_name(entry.get("dtype")),
                     name=entry.get("name"), batch_size=entry.get("batch_size"))
    args = decode_value(entry.get("args", {"__tuple__": []}))
    kwargs = decode_value(entry.get("kwargs", {"__dict__": []}))
    if not isinstance(args, tuple) or not isinstance(kwargs, dict) or \
            not all(isinstance(k, str) for k in kwargs):
        raise ValueError(f"{where}: args must be a tuple and kwargs a dict by name")
    args, kwargs = map_structure(lookup, args), map_structure(lookup, kwargs)
    if kind == "module":
        layer = entry.get("layer")
        if not isinstance(layer, str) or layer not in layers:
            raise ValueError(f"{where} calls layer {layer!r:.80}, which the config does not "
                             "define")
        return layers[layer](*args, **kwargs)
    if kind == "method":
        name = tensor_method(entry.get("method"))
        if not args or not isinstance(args[0], KerasTensor):
            raise ValueError(f"{where}: method {name!r} must be called on a graph tensor, not "
                             f"on {type(args[0]).__name__ if args else 'nothing'}; refused")
        return getattr(args[0], name)(*args[1:], **kwargs)
    if kind == "function":
        fn = resolve_function(entry.get("function"), functions)
        if fn is getattr:
            if len(args) != 2 or kwargs or not isinstance(args[0], KerasTensor):
                raise ValueError(f"{where}: getattr must read an attribute of a graph tensor; "
                                 "refused")
            return getattr(args[0], tensor_attribute(args[1]))
        if fn is operator.getitem and (not args or not isinstance(args[0], KerasTensor)):
            raise ValueError(f"{where}: indexing must apply to a graph tensor; refused")
        if not any(isinstance(v, KerasTensor) for v in leaves((args, kwargs))):
            # a recorded call always consumed a graph tensor, so it ran symbolically here too
            raise ValueError(f"{where}: {entry.get('function')!r} is called on no graph "
                             "tensor; refused")
        return fn(*args, **kwargs)
    raise ValueError(f"{where}: unknown node kind {kind!r:.40}")

