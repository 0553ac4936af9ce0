"""Keras Sequential / functional model configs <-> fitorch ``Sequential`` / functional models.

Both directions also return the *weight plan*: for each layer, the group Keras's weights file
keeps it under (``layers/<snake_case class>[_<n>]``, numbered in the order of Keras's
``model.layers``) and its Keras class and config (which say where its variables sit).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from torch import nn

from fitorch.layers.naming import to_snake_case
from fitorch.saving.keras_config import layer_from_keras, layer_to_keras

__all__ = ["model_from_keras", "model_to_keras", "Plan"]

# (group in the weights file, Keras class name, Keras layer config, fitorch layer)
Plan = list[tuple[str, str, dict, nn.Module]]


def _keys(class_names: list[str]) -> list[str]:
    """Keras's container names: snake_case class name, ``_1``, ``_2``... for repeats."""
    used: dict[str, int] = {}
    keys = []
    for name in class_names:
        base = to_snake_case(name)
        if base in used:
            used[base] += 1
            keys.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            keys.append(base)
    return keys


# ---------------------------------------------------------------------------- Keras -> fitorch
def model_from_keras(entry: dict, custom_objects: dict[str, Any], safe_mode: bool,
                     source: str) -> tuple[Any, Plan]:
    """A fitorch model (fresh weights) from Keras's top-level model entry, and its weight plan."""
    class_name, config = entry.get("class_name"), entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"{source}: the model config lacks its layers; the file is damaged")
    if class_name == "Sequential":
        return _sequential(config, custom_objects, safe_mode, source)
    if class_name in ("Functional", "Model") and "input_layers" in config:
        return _functional(config, custom_objects, safe_mode, source)
    raise ValueError(f"{source} holds a {class_name!r} model (module {entry.get('module')!r}); "
                     "fitorch rebuilds Keras Sequential and functional models only. For a "
                     "subclassed model, build it with fitorch layers in code and call "
                     "model.load_weights(...)")


def _input_of(config: dict) -> tuple[tuple, str | None]:
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if not isinstance(shape, list) or not shape:
        raise ValueError(f"InputLayer {config.get('name')!r} has no batch_shape")
    dtype = config.get("dtype")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    return tuple(shape), dtype


def _sequential(config: dict, custom_objects: dict, safe_mode: bool,
                source: str) -> tuple[Any, Plan]:
    from fitorch.models.sequential import Sequential
    from fitorch.models.symbolic import Input

    entries = list(config["layers"])
    spec = None
    if entries and entries[0].get("class_name") == "InputLayer":
        spec = _input_of(entries.pop(0).get("config") or {})
    built = [layer_from_keras(e, custom_objects, safe_mode, source) for e in entries]
    if spec is None:
        first = entries[0].get("config", {}) if entries else {}
        shape = config.get("build_input_shape") or first.get("batch_input_shape") or \
            first.get("batch_shape")
        spec = (tuple(shape), None) if shape else None
    head: list[Any] = []
    if spec is not None:
        shape, dtype = spec
        head = [Input(shape[1:], dtype=dtype or "float32", batch_size=shape[0])]
    model = Sequential(head + built, name=config.get("name"))
    keys = _keys([e["class_name"] for e in entries])
    return model, [(k, e["class_name"], e["config"], layer)
                   for k, e, layer in zip(keys, entries, built)]


def _tensor_refs(value: Any, produced: dict, source: str) -> tuple[Any, bool]:
    """A node argument with Keras tensor references replaced; ``False`` if one is not made yet."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        if not (isinstance(history, list) and len(history) == 3):
            raise ValueError(f"{source}: a tensor reference {value!r:.100} is malformed")
        name, node, index = history
        outputs = produced.get((name, node))
        if outputs is None:
            return None, False
        if not 0 <= index < len(outputs):
            raise ValueError(f"{source}: {name!r} has no output {index}; the file is damaged")
        return outputs[index], True
    if isinstance(value, list):
        items = [_tensor_refs(v, produced, source) for v in value]
        return [v for v, _ in items], all(ok for _, ok in items)
    if isinstance(value, dict):
        named = {k: _tensor_refs(v, produced, source) for k, v in value.items()}
        return {k: v for k, (v, _) in named.items()}, all(ok for _, ok in named.values())
    return value, True


def _keras2_node(node: list) -> dict:
    """tf.keras 2's ``[[layer, node, tensor, kwargs], ...]`` as Keras 3's ``{args, kwargs}``."""
    refs = [{"class_name": "__keras_tensor__", "config": {"keras_history": list(item[:3])}}
            for item in node]
    kwargs = node[0][3] if node and len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
    return {"args": [refs[0] if len(refs) == 1 else refs], "kwargs": kwargs}


def _call_kwargs(kwargs: dict, where: str) -> dict:
    kwargs = dict(kwargs)
    kwargs.pop("training", None)  # fitorch layers follow the model's train()/eval() mode
    if kwargs.pop("mask", None) is not None:
        # Keras writes the mask of a functional graph as explicit nodes (NotEqual, ...) feeding
        # mask=; fitorch threads masks itself and does not read those nodes yet
        raise ValueError(f"{where} is called with a mask: Keras functional graphs that pass "
                         "masks between layers are not read yet (a Sequential model is; or "
                         "rebuild the model in fitorch and load its weights)")
    return kwargs


def _outputs(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _functional(config: dict, custom_objects: dict, safe_mode: bool,
                source: str) -> tuple[Any, Plan]:
    from fitorch.models.model import Model
    from fitorch.models.symbolic import Input

    entries = config["layers"]
    built: dict[str, nn.Module] = {}
    produced: dict[tuple, list] = {}
    pending: list[tuple[str, int, dict]] = []
    for e in entries:
        name = e.get("name") or (e.get("config") or {}).get("name")
        if not isinstance(name, str):
            raise ValueError(f"{source}: a layer entry has no name; the file is damaged")
        if e.get("class_name") == "InputLayer":
            shape, dtype = _input_of(e.get("config") or {})
            produced[(name, 0)] = [Input(shape[1:], dtype=dtype or "float32", name=name,
                                         batch_size=shape[0])]
            continue
        built[name] = layer_from_keras(e, custom_objects, safe_mode, source)
        for index, node in enumerate(e.get("inbound_nodes") or []):
            pending.append((name, index, node if isinstance(node, dict) else _keras2_node(node)))
    while pending:  # shared layers can be called before their other inputs exist: go round
        waiting = []
        for name, index, node in pending:
            args, ready = _tensor_refs(node.get("args") or [], produced, source)
            kwargs, kw_ready = _tensor_refs(node.get("kwargs") or {}, produced, source)
            if ready and kw_ready and (index == 0 or (name, index - 1) in produced):
                where = f"{source}: layer {name!r}"
                produced[(name, index)] = _outputs(built[name](*args,
                                                               **_call_kwargs(kwargs, where)))
            else:
                waiting.append((name, index, node))
        if len(waiting) == len(pending):
            raise ValueError(f"{source}: layers {[n for n, _, _ in waiting][:5]} wait for "
                             "tensors nothing produces; the graph is damaged")
        pending = waiting

    def endpoint(spec: Any) -> Any:
        if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
            found = produced.get((spec[0], spec[1]))
            if found is None or not 0 <= spec[2] < len(found):
                raise ValueError(f"{source}: model endpoint {spec!r} names no tensor")
            return found[spec[2]]
        if isinstance(spec, list):
            return [endpoint(s) for s in spec]
        if isinstance(spec, dict):
            return {k: endpoint(v) for k, v in spec.items()}
        raise ValueError(f"{source}: model endpoint {spec!r:.80} is malformed")

    model = Model(inputs=endpoint(config["input_layers"]),
                  outputs=endpoint(config["output_layers"]), name=config.get("name"))
    keys = _keys([e["class_name"] for e in entries])
    plan = [(k, e["class_name"], e["config"], built[e.get("name") or e["config"]["name"]])
            for k, e in zip(keys, entries) if e["class_name"] != "InputLayer"]
    return model, plan


# ---------------------------------------------------------------------------- fitorch -> Keras
def model_to_keras(model: nn.Module) -> tuple[dict, Plan]:
    """Keras's top-level model entry for a fitorch Sequential / functional model of Keras
    layers, and its weight plan. ``ValueError`` names what Keras could not rebuild."""
    from fitorch.models.functional import Functional
    from fitorch.models.sequential import Sequential

    if isinstance(model, Sequential):
        return _sequential_to_keras(model)
    if isinstance(model, Functional):
        return _functional_to_keras(model)
    raise ValueError(f"a {type(model).__name__} model cannot be written as a .keras file: "
                     "Keras rebuilds Sequential and functional models of Keras layers only. "
                     "Save it as .fitorch instead (or its weights as .weights.h5 / "
                     ".safetensors)")


def _input_entry(name: str, shape: tuple, dtype: Any) -> dict:
    dtype = str(dtype).removeprefix("torch.")
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
            "config": {"batch_shape": list(shape), "dtype": dtype, "sparse": False,
                       "ragged": False, "name": name}}


def _sequential_to_keras(model: Any) -> tuple[dict, Plan]:
    from fitorch.layers.core import InputLayer

    modules = list(model)
    shape, dtype = (model._input_spec or (None, None))
    if modules and isinstance(modules[0], InputLayer):
        first = modules.pop(0)
        shape, dtype = shape or first._declared_input_shape, first._input_dtype
    entries = [layer_to_keras(m, f"layer {i} ({getattr(m, 'name', type(m).__name__)!r})")
               for i, m in enumerate(modules)]
    layers = ([_input_entry("input_layer", shape, dtype)] if shape else []) + entries
    config: dict[str, Any] = {"name": model.name, "trainable": True, "layers": layers}
    if shape:
        config["build_input_shape"] = list(shape)
    top = {"module": "keras", "class_name": "Sequential", "config": config,
           "registered_name": None, "build_config": {"input_shape": list(shape) if shape else None}}
    keys = _keys([e["class_name"] for e in entries])
    return top, [(k, e["class_name"], e["config"], m) for k, e, m in zip(keys, entries, modules)]


def _keras_history(ref: Any, calls: dict) -> list:
    layer, node = calls[ref.node]
    return [layer, node, ref.path[0] if ref.path else 0]


def _functional_to_keras(model: Any) -> tuple[dict, Plan]:
    from fitorch.models.configs import Ref
    from fitorch.models.symbolic import map_structure

    nodes = model.graph_nodes
    attr_of = model._layer_attributes
    calls: dict[int, tuple[str, int]] = {}      # graph node -> (layer name, its call number)
    count: dict[str, int] = defaultdict(int)
    inbound: dict[str, list] = defaultdict(list)
    entries: dict[str, dict] = {}
    for i, node in enumerate(nodes):
        if node.kind == "input":
            path, shape, dtype = node.outputs[0]
            entries[node.name] = {**_input_entry(node.name, (node.batch_size,) + tuple(shape[1:]),
                                                 dtype), "name": node.name, "inbound_nodes": []}
            calls[i] = (node.name, 0)
            continue
        if node.kind != "module":
            what = node.target if node.kind == "method" else getattr(node.target, "__name__",
                                                                      node.target)
            raise ValueError(f"the model calls {what!r} ({node.kind}) between its layers; a "
                             ".keras file holds Keras layers only. Save it as .fitorch, or wrap "
                             "the operation in a layer")
        label = node.name
        calls[i] = (label, count[label])
        count[label] += 1
        if label not in entries:
            layer = model._modules[attr_of[label]]
            entries[label] = {**layer_to_keras(layer, f"layer {label!r}"), "name": label}

        def tensor(value: Any) -> Any:
            if not isinstance(value, Ref):
                return value
            path, shape, dtype = next(o for o in nodes[value.node].outputs
                                      if o[0] == value.path)
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(shape), "dtype": str(dtype).removeprefix("torch."),
                               "keras_history": _keras_history(value, calls)}}

        inbound[label].append({"args": map_structure(tensor, list(node.args)),
                               "kwargs": map_structure(tensor, dict(node.kwargs))})
    for label, items in inbound.items():
        entries[label]["inbound_nodes"] = items
    order = _keras_operation_order(model, calls)
    layers = [entries[name] for name in order]

    def endpoint(value: Any) -> Any:
        if isinstance(value, Ref):
            return _keras_history(value, calls)
        if isinstance(value, (list, tuple)):
            return [endpoint(v) for v in value]
        if isinstance(value, dict):
            return {k: endpoint(v) for k, v in value.items()}
        raise ValueError(f"model endpoint {value!r} is not a tensor")

    config = {"name": model.name, "trainable": True, "layers": layers,
              "input_layers": endpoint(model._spec["input_structure"]),
              "output_layers": endpoint(model._spec["output_structure"])}
    top = {"module": "keras.src.models.functional", "class_name": "Functional",
           "config": config, "registered_name": "Functional", "build_config": {"input_shape": None}}
    keys = _keys([e["class_name"] for e in layers])
    plan = [(k, e["class_name"], e["config"], model._modules[attr_of[e["name"]]])
            for k, e in zip(keys, layers) if e["class_name"] != "InputLayer"]
    return top, plan


def _keras_operation_order(model: Any, calls: dict[int, tuple[str, int]]) -> list[str]:
    """The order of Keras's ``model.layers`` for this graph: Keras's own ``map_graph`` (deepest
    first, ties by first visit in a depth-first walk from the outputs). The weights file numbers
    layers of one class in this order, so it must match exactly."""
    from fitorch.models.configs import Ref
    from fitorch.models.symbolic import leaves

    nodes = model.graph_nodes
    finished: set[int] = set()
    ordered: list[int] = []          # graph nodes from inputs to outputs
    first_seen: dict[str, int] = {}

    def visit(i: int) -> None:
        if i in finished:
            return
        first_seen.setdefault(calls[i][0], len(first_seen))
        if nodes[i].kind != "input":
            for ref in nodes[i].refs():
                visit(ref.node)
        finished.add(i)
        ordered.append(i)

    for ref in leaves(model._spec["output_structure"]):
        if isinstance(ref, Ref):
            visit(ref.node)
    node_depth: dict[int, int] = {}
    op_depth: dict[str, int] = {}
    for i in reversed(ordered):
        depth = max(node_depth.setdefault(i, 0), op_depth.get(calls[i][0], 0))
        op_depth[calls[i][0]] = depth
        node_depth[i] = depth
        if nodes[i].kind != "input":
            for ref in nodes[i].refs():
                node_depth[ref.node] = max(depth + 1, node_depth.get(ref.node, 0))
    for i in model._spec["inputs"]:
        if calls[i][0] not in op_depth:  # an input no output depends on
            op_depth[calls[i][0]] = 0
            first_seen[calls[i][0]] = -1
    by_depth: dict[int, list[str]] = defaultdict(list)
    for name, depth in op_depth.items():
        by_depth[depth].append(name)
    return [name for depth in sorted(by_depth, reverse=True)
            for name in sorted(by_depth[depth], key=lambda n: first_seen[n])]
