"""The functional API: ``ft.Input`` and ``Functional``, the model ``ft.Model(inputs, outputs)`` builds.

``Functional`` turns the calls recorded on symbolic tensors (:mod:`fitorch.models.symbolic`) into
an ordinary ``nn.Module``: the layers become its submodules (named by their Keras names, so
``state_dict`` keys read ``dense.weight``) and the graph becomes Python source for its ``forward``,
compiled once -- the same code a person would write by hand, so a call costs what a hand-written
forward costs, and ``torch.compile(fullgraph=True)``, ``torch.export``, ``deepcopy`` and DDP see a
plain module. The source is ``model.code``.
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from fitorch.layers.base import Layer
from fitorch.layers.call_context import run_in_mode
from fitorch.layers.masking import mask_at, may_create_mask, output_mask, takes_mask
from fitorch.models.configs import Ref, register_model_class
from fitorch.models.model import Model, submodules
from fitorch.models.symbolic import (GraphIO, Input, KerasTensor, Node, is_keras_tensor, leaves,
                                     map_structure, module_name, set_module_name)

__all__ = ["Functional", "Input", "KerasTensor", "is_keras_tensor"]


@dataclass
class GraphNode:
    """One call of a built graph, free of symbolic tensors (so a model holds no fake values).

    ``kind``: ``"input"``, ``"module"``, ``"function"`` or ``"method"``; ``target``: the input's or
    module's attribute name, the function, or the method name; ``args``/``kwargs`` hold ``Ref`` s;
    ``outputs``: ``(path, shape, dtype)`` of each tensor the call returned, ``tensor_names`` their
    names.
    """

    kind: str
    target: Any
    args: tuple
    kwargs: dict
    name: str
    outputs: list
    batch_size: int | None = None
    tensor_names: list = field(default_factory=list)

    def refs(self) -> list[Ref]:
        """The graph values this call consumes."""
        return [r for r in leaves((self.args, self.kwargs)) if isinstance(r, Ref)]


class _NotGiven:
    def __repr__(self) -> str:
        return "<not given>"


_NOT_GIVEN = _NotGiven()


def _unpack_inputs(value: Any, names: tuple[str, ...]) -> tuple:
    """Keras calling styles -- ``model([a, b])``, ``model({"a": a, "b": b})`` -- to positional."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise KeyError(f"model inputs {list(names)}: the dict given lacks {missing} "
                           f"(it has {list(value)})")
        return tuple(value[n] for n in names)
    if isinstance(value, (list, tuple)) and len(value) == len(names):
        return tuple(value)
    got = f"{len(value)} values" if isinstance(value, (list, tuple)) else type(value).__name__
    raise TypeError(f"the model takes {len(names)} input(s) {list(names)}: pass them as separate "
                    f"arguments, a list/tuple of {len(names)} or a dict by name; got {got}")


def _flatten_io(value: Any, what: str) -> tuple[list, Any]:
    """Symbolic ``value`` (a tensor, list, tuple or dict of tensors) -> (tensors, structure)."""
    if isinstance(value, KerasTensor):
        return [value], value
    if isinstance(value, (list, tuple)) and value:
        items = list(value)
        keys: Any = list(range(len(items)))
    elif isinstance(value, dict) and value:
        items, keys = list(value.values()), list(value)
    else:
        raise ValueError(f"Model: {what}={value!r} must be a symbolic tensor (from ft.Input or a "
                         "layer call), or a non-empty list, tuple or dict of them")
    for key, item in zip(keys, items):
        if not isinstance(item, KerasTensor):
            raise ValueError(f"Model: {what}[{key!r}] is a {type(item).__name__}, not a symbolic "
                             "tensor from ft.Input or a layer call")
    return items, value


def _identifier(name: str, used: set[str]) -> str:
    base = re.sub(r"\W", "_", name) or "v"
    if base[0].isdigit() or keyword.iskeyword(base) or hasattr(builtins, base):
        base = f"{base}_"
    candidate, n = base, 1
    while candidate in used:
        candidate, n = f"{base}_{n}", n + 1
    used.add(candidate)
    return candidate


def _trace_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """The nodes between ``inputs`` and ``outputs`` in execution order; errors name the tensors."""
    input_nodes = {t.node for t in inputs}
    order: list[Node] = []
    state: dict[Node, str] = {}
    for tensor in outputs:
        _visit(tensor, f"output {tensor.name!r}", input_nodes, inputs, state, order, [])
    unused = [t.name for t in inputs if t.node not in state]
    if unused:
        raise ValueError(f"Model: inputs {unused} are not connected to the outputs "
                         f"{[t.name for t in outputs]}; remove them from inputs= or use them")
    return order


def _visit(tensor: KerasTensor, consumer: str, input_nodes: set, inputs: list, state: dict,
           order: list, path: list) -> None:
    # depth-first, post-order; ``path`` holds the tensors being visited, to name a cycle
    node = tensor.node
    if state.get(node) == "done":
        return
    if state.get(node) == "visiting":
        names = [t.name for t in path[[t.node for t in path].index(node):]] + [tensor.name]
        raise ValueError("Model: the graph has a cycle through tensors " + " -> ".join(names))
    if node.kind == "input" and node not in input_nodes:
        raise ValueError(
            f"Model: {consumer} depends on input {tensor.name!r}, which is not among the "
            f"model's inputs {[t.name for t in inputs]}; pass it in inputs= (or build the "
            "outputs from the given inputs)")
    state[node] = "visiting"
    path.append(tensor)
    for source in node.input_tensors():
        _visit(source, f"tensor {tensor.name!r}", input_nodes, inputs, state, order, path)
    path.pop()
    state[node] = "done"
    order.append(node)


@register_model_class
class Functional(GraphIO, Model):
    """A model built from symbolic tensors: ``ft.Model(inputs, outputs, name=None)``.

    ``inputs``/``outputs`` may be one symbolic tensor, a list/tuple or a dict of them. The model is
    an ordinary ``nn.Module`` whose ``forward`` takes the inputs as positional arguments (also as
    one list, or one dict keyed by input name, as Keras calls it) and returns ``outputs``' structure.
    """

    _layer_attributes: dict[str, str]  # Keras layer name -> attribute (see _attribute_for)

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None,
                 trainable: bool = True) -> None:
        from fitorch import backend

        input_list, input_structure = _flatten_io(inputs, "inputs")
        output_list, output_structure = _flatten_io(outputs, "outputs")
        for i, tensor in enumerate(input_list):
            if tensor.node.kind != "input":
                raise ValueError(f"Model: inputs[{i}] ({tensor.name!r}, shape {tensor.shape}) is "
                                 "not an ft.Input tensor; model inputs must come from ft.Input")
        if len({id(t) for t in input_list}) != len(input_list):
            raise ValueError(f"Model: inputs {[t.name for t in input_list]} lists one tensor twice")
        if name is not None and not (isinstance(name, str) and name):
            raise ValueError(f"Model: name={name!r} must be a non-empty string")
        nodes = _trace_graph(input_list, output_list)
        # Keras names of the layers: one attribute per distinct module, clashes are errors
        attributes: dict[int, str] = {}
        modules: dict[str, nn.Module] = {}
        for node in nodes:
            if node.kind == "module" and id(node.target) not in attributes:
                label = module_name(node.target)
                if label in modules:
                    raise ValueError(f"Model: two different layers are named {label!r} "
                                     f"({type(modules[label]).__name__} and "
                                     f"{type(node.target).__name__}); layer names must be unique")
                modules[label] = node.target
                attributes[id(node.target)] = label
        super().__init__()
        self.name = name or backend.unique_name("functional")
        self._input_names = [t.name for t in input_list]
        for label, module in modules.items():
            # the generated forward calls the module by its attribute, not by its Keras name
            attributes[id(module)] = self._attribute_for(label)
            self.add_module(attributes[id(module)], module)
        self._spec = self._make_spec(nodes, input_list, input_structure, output_structure,
                                     attributes)
        if not trainable:
            self.trainable = False
        self._install_forward()
        self._hold_graph(inputs, outputs)  # model.inputs are the tensors it was built from

    # ---- graph spec ------------------------------------------------------------------------
    def _attribute_for(self, label: str) -> str:
        # A layer named like a Module attribute ("forward", "train") or a Python keyword
        # (Keras names a Lambda layer "lambda") gets a suffix.
        attr = re.sub(r"\W", "_", label)
        while hasattr(type(self), attr) or attr in self._input_names or keyword.iskeyword(attr):
            attr += "_"
        self.__dict__.setdefault("_layer_attributes", {})[label] = attr
        return attr

    @staticmethod
    def _make_spec(nodes: list[Node], inputs: list[KerasTensor], input_structure: Any,
                   output_structure: Any, attributes: dict[int, str]) -> dict:
        index = {node: i for i, node in enumerate(nodes)}

        def to_ref(value: Any) -> Any:
            return Ref(index[value.node], value.path) if isinstance(value, KerasTensor) else value

        graph = []
        for node in nodes:
            outs = [(path, shape, dtype) for path, _, shape, dtype in node.outputs]
            names = [name for _, name, _, _ in node.outputs]
            if node.kind == "input":
                graph.append(GraphNode("input", node.name, (), {}, node.name, outs,
                                       node.batch_size, names))
                continue
            target = attributes[id(node.target)] if node.kind == "module" else node.target
            name = (module_name(node.target) if node.kind == "module"
                    else node.outputs[0][1].split("[")[0])
            graph.append(GraphNode(node.kind, target, map_structure(to_ref, node.args),
                                   map_structure(to_ref, node.kwargs), name, outs,
                                   tensor_names=names))
        return {"nodes": graph, "inputs": [index[t.node] for t in inputs],
                "input_structure": map_structure(to_ref, input_structure),
                "output_structure": map_structure(to_ref, output_structure)}

    @property
    def graph_nodes(self) -> list[GraphNode]:
        """The graph's calls in execution order (inputs first)."""
        return self._spec["nodes"]

    @property
    def input_names(self) -> list[str]:
        """The inputs' names, in the order ``forward`` takes them."""
        return [self._spec["nodes"][i].name for i in self._spec["inputs"]]

    @property
    def output_names(self) -> Any:
        """Names of the tensors the model returns, in its output structure."""
        nodes = self._spec["nodes"]

        def name(ref: Any) -> Any:
            if not isinstance(ref, Ref):
                return ref
            node = nodes[ref.node]
            return node.tensor_names[[p for p, _, _ in node.outputs].index(ref.path)]
        return map_structure(name, self._spec["output_structure"])

    @property
    def input_shape(self) -> Any:
        """Shape(s) of the inputs, batch ``None`` (Keras's ``model.input_shape``)."""
        nodes = self._spec["nodes"]
        return map_structure(lambda r: nodes[r.node].outputs[0][1] if isinstance(r, Ref) else r,
                             self._spec["input_structure"])

    @property
    def output_shape(self) -> Any:
        """Shape(s) of the outputs, batch ``None``."""
        return map_structure(self._shape_of, self._spec["output_structure"])

    def _shape_of(self, ref: Any) -> Any:
        if not isinstance(ref, Ref):
            return ref
        for path, shape, _ in self._spec["nodes"][ref.node].outputs:
            if path == ref.path:
                return shape
        raise KeyError(ref)

    @property
    def layers(self) -> list[nn.Module]:
        """The layers (distinct modules) in the order the graph first calls them."""
        return list(submodules(self).values())

    def _layer_labels(self) -> list[tuple[str, nn.Module]]:
        # the graph's Keras names (the attribute may carry a suffix, see _attribute_for)
        return [(label, submodules(self)[attr])
                for label, attr in self.__dict__.get("_layer_attributes", {}).items()]

    def _build_graph(self) -> tuple[Any, Any]:
        # a copy or an unpickled model: run the graph again on new Inputs like the original's
        nodes = self._spec["nodes"]
        fresh = {}
        for i in self._spec["inputs"]:
            _, shape, dtype = nodes[i].outputs[0]
            fresh[i] = Input(shape=tuple(shape[1:]), dtype=dtype, name=nodes[i].name,
                             batch_size=nodes[i].batch_size)
        inputs = map_structure(lambda r: fresh[r.node] if isinstance(r, Ref) else r,
                               self._spec["input_structure"])
        # the forward itself, not the module call, so each layer's call is recorded
        return inputs, type(self).forward(self, *[fresh[i] for i in self._spec["inputs"]])

    # ---- forward as generated source ---------------------------------------------------
    @property
    def code(self) -> str:
        """The Python source of this model's ``forward``."""
        return type(self).__dict__["_source"]

    def _install_forward(self) -> None:
        base = next(c for c in type(self).__mro__ if not c.__dict__.get("_fitorch_generated"))
        source, namespace = self._generate_source()
        filename = f"<fitorch functional {self.name} {id(self):x}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        self.__class__ = type(base.__name__, (base,), {
            "forward": namespace["forward"], "_source": source, "_fitorch_generated": True,
            "__module__": base.__module__, "__qualname__": base.__qualname__})

    def _generate_source(self) -> tuple[str, dict]:
        spec = self._spec
        nodes: list[GraphNode] = spec["nodes"]
        # __name__ marks the generated forward as fitorch's own: it handles ``training`` itself
        namespace: dict[str, Any] = {"torch": torch, "_NOT_GIVEN": _NOT_GIVEN,
                                     "_unpack_inputs": _unpack_inputs, "_tensor": _tensor,
                                     "_run_in_mode": run_in_mode, "__name__": __name__}
        used = set(namespace) | {"self", "training", "forward"}
        variables: dict[int, str] = {}
        constants: dict[int, str] = {}

        def global_name(value: Any, hint: str) -> str:
            key = id(value)
            if key not in constants:
                constants[key] = _identifier(f"_{hint}", used)
                namespace[constants[key]] = value
            return constants[key]

        def tensor_constant(value: torch.Tensor) -> str:
            for attr, existing in list(self._parameters.items()) + list(self._buffers.items()):
                if existing is value:
                    return f"self.{attr}"
            attr = f"_tensor_constant{len(self._parameters) + len(self._buffers)}"
            if isinstance(value, nn.Parameter):
                self.register_parameter(attr, value)
            else:
                self.register_buffer(attr, value, persistent=False)
            return f"self.{attr}"

        def expr(value: Any) -> str:
            if isinstance(value, Ref):
                return variables[value.node] + "".join(f"[{p!r}]" for p in value.path)
            if isinstance(value, list):
                return "[" + ", ".join(expr(v) for v in value) + "]"
            if isinstance(value, tuple) and not hasattr(value, "_fields"):
                inner = ", ".join(expr(v) for v in value)
                return f"({inner},)" if len(value) == 1 else f"({inner})"
            if isinstance(value, dict) and all(type(k) in (str, int) for k in value):
                return "{" + ", ".join(f"{k!r}: {expr(v)}" for k, v in value.items()) + "}"
            if value is None or type(value) in (bool, int, str):
                return repr(value)
            if type(value) is float and math.isfinite(value):
                return repr(value)
            if value is Ellipsis:
                return "..."
            if isinstance(value, slice):
                return f"slice({expr(value.start)}, {expr(value.stop)}, {expr(value.step)})"
            if isinstance(value, torch.dtype):
                return str(value)
            if isinstance(value, torch.Tensor):
                return tensor_constant(value)
            return global_name(value, type(value).__name__.lower())

        def index_expr(index: Any) -> str:
            # x[:, 0] rather than x[(slice(None, None, None), 0)]
            if isinstance(index, slice):
                parts = ["" if v is None else expr(v) for v in (index.start, index.stop)]
                text = ":".join(parts)
                return text + (f":{expr(index.step)}" if index.step is not None else "")
            if isinstance(index, tuple) and index and not hasattr(index, "_fields"):
                return ", ".join(index_expr(i) for i in index) + ("," if len(index) == 1 else "")
            return expr(index)

        def function_expr(fn: Any) -> str:
            name = getattr(fn, "__name__", None)
            if isinstance(name, str):
                if getattr(torch, name, None) is fn:
                    return f"torch.{name}"
                if getattr(torch.nn.functional, name, None) is fn:
                    return f"torch.nn.functional.{name}"
            return global_name(fn, _function_hint(fn))

        def call_args(args: tuple, kwargs: dict) -> str:
            parts = [expr(a) for a in args]
            for key, value in kwargs.items():
                if key.isidentifier() and not keyword.iskeyword(key):
                    parts.append(f"{key}={expr(value)}")
                else:
                    parts.append(f"**{{{key!r}: {expr(value)}}}")
            return ", ".join(parts)

        params = []
        for i in spec["inputs"]:
            variables[i] = _identifier(nodes[i].name, used)
            params.append(variables[i])
        # Keras's model(x, training=True): every layer runs in that mode for this call
        lines = ["    if training is not None and bool(training) != self.training:",
                 f"        return _run_in_mode(self, bool(training), forward, self, "
                 f"{', '.join(params)})"]
        structured = not isinstance(spec["input_structure"], Ref)
        if len(params) > 1:
            signature = ", ".join([params[0]] + [f"{p}=_NOT_GIVEN" for p in params[1:]])
            lines += [f"    if {params[1]} is _NOT_GIVEN:",
                      f"        {', '.join(params)}, = _unpack_inputs({params[0]}, "
                      f"{tuple(nodes[i].name for i in spec['inputs'])!r})"]
        else:
            signature = params[0]
            if structured:
                lines += [f"    if not isinstance({params[0]}, torch.Tensor):",
                          f"        {params[0]}, = _unpack_inputs({params[0]}, "
                          f"({nodes[spec['inputs'][0]].name!r},))"]
        # Keras masks: node -> expression of its outputs' masks; only for nodes a mask can
        # reach, so a model without a mask-creating layer gets exactly the code it had before
        masks: dict[int, str] = {}
        mask_lines: list[tuple[int, str]] = []
        namespace.update(_output_mask=output_mask, _mask_at=mask_at)
        used.update(("_output_mask", "_mask_at"))

        def mask_expr(value: Any) -> str | None:
            if isinstance(value, Ref):
                base = masks.get(value.node)
                return f"_mask_at({base}, {value.path!r})" if base and value.path else base
            if isinstance(value, (list, tuple)):
                parts = [mask_expr(v) for v in value]
                return "[" + ", ".join(p or "None" for p in parts) + "]" if any(parts) else None
            return None

        for i, node in enumerate(nodes):
            if node.kind == "input":
                continue
            var = _identifier(node.name, used)
            variables[i] = var
            if node.kind == "module":
                module = submodules(self)[node.target]
                in_mask = mask_expr(node.args[0]) if node.args else None
                extra = (f", mask={in_mask}" if in_mask and takes_mask(module)
                         and "mask" not in node.kwargs else "")
                lines.append(f"    {var} = self.{node.target}("
                             f"{call_args(node.args, node.kwargs)}{extra})")
                if in_mask and getattr(module, "supports_masking", False) and \
                        getattr(type(module), "compute_mask", None) is Layer.compute_mask:
                    masks[i] = in_mask  # passed on unchanged: no call
                elif in_mask or may_create_mask(module):
                    masks[i] = _identifier(f"{node.name}_mask", used)
                    if not in_mask or getattr(module, "supports_masking", False):
                        # (a layer that drops a mask keeps its line: it warns, as Keras does)
                        mask_lines.append((len(lines), masks[i]))
                    lines.append(f"    {masks[i]} = _output_mask(self.{node.target}, "
                                 f"{expr(node.args[0])}, {in_mask})")
                continue
            elif node.kind == "method":
                # _tensor(...) checks at every call that the receiver is a tensor (one
                # isinstance), so a method name can never reach another object
                call = (f"_tensor({expr(node.args[0])}).{_method_name(node.target)}"
                        f"({call_args(node.args[1:], node.kwargs)})")
            elif node.target is getattr and len(node.args) == 2 and not node.kwargs and \
                    isinstance(node.args[1], str):
                call = f"_tensor({expr(node.args[0])}).{_attribute_name(node.args[1])}"
            elif node.target in _INFIX and len(node.args) == 2 and not node.kwargs:
                left, right = (_atom(expr(a)) for a in node.args)
                call = f"{left} {_INFIX[node.target]} {right}"
            elif node.target is operator.getitem and not node.kwargs:
                call = f"{expr(node.args[0])}[{index_expr(node.args[1])}]"
            else:
                call = f"{function_expr(node.target)}({call_args(node.args, node.kwargs)})"
            lines.append(f"    {var} = {call}")
        lines.append(f"    return {expr(spec['output_structure'])}")
        for position, name in reversed(mask_lines):  # no mask computed that nothing reads
            if not any(re.search(rf"\b{name}\b", line) for line in lines[position + 1:]):
                del lines[position]
        source = f"def forward(self, {signature}, training=None):\n" + "\n".join(lines) + "\n"
        return source, namespace

    def __reduce_ex__(self, protocol: Any) -> Any:
        # The per-model class is generated, so copies and pickles rebuild it from the spec.
        base = next(c for c in type(self).__mro__ if not c.__dict__.get("_fitorch_generated"))
        return (_restore_functional, (base, self.__dict__))

    # ---- configs ---------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The graph and its layers' configs as plain values (``from_config`` rebuilds it).

        Raises ``ValueError`` naming the layer or function that a config cannot hold (plain
        ``nn.Module`` s without ``get_config``, lambdas).
        """
        from fitorch.models.configs import encode_value, function_name, serialize_module

        layers = []
        for label, attr in self._layer_attributes.items():
            entry = serialize_module(submodules(self)[attr])
            entry["name"] = label
            layers.append(entry)
        label_of = {attr: label for label, attr in self._layer_attributes.items()}
        nodes = []
        for node in self._spec["nodes"]:
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
        return {"name": self.name, "layers": layers, "nodes": nodes,
                "inputs": encode_value(self._spec["input_structure"], "inputs"),
                "outputs": encode_value(self._spec["output_structure"], "outputs")}

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, type] | None = None) -> Functional:
        """Rebuild a graph model from ``get_config()``'s output (fresh weights).

        Safe by construction: functions come only from torch's and the operators' fixed table
        (``custom_objects`` too, inside ``load_model(..., safe_mode=False)``), tensor methods and
        attributes are applied only to graph tensors, and every call runs on the symbolic
        inputs; anything else raises ``ValueError`` naming the node.
        """
        from fitorch import backend
        from fitorch.models.configs import decode_value, deserialize_module

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
            produced.append(_rebuild_node(number, entry, layers, functions, lookup,
                                          decode_value))
        inputs = map_structure(lookup, decode_value(config["inputs"]))
        outputs = map_structure(lookup, decode_value(config["outputs"]))
        return cls(inputs, outputs, name=config.get("name"))


def _rebuild_node(number: int, entry: dict, layers: dict, functions: dict | None,
                  lookup: Any, decode_value: Any) -> Any:
    """Replay one node of a config on the symbolic tensors rebuilt so far."""
    from fitorch.models.configs import (resolve_function, tensor_attribute, tensor_method)

    kind = entry.get("kind")
    where = f"Functional.from_config: node {number} ({kind!r})"
    if kind == "input":
        return Input(tuple(entry["shape"]) if isinstance(entry.get("shape"), list) else
                     entry.get("shape"), dtype=_input_dtype(entry.get("dtype")),
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


def _input_dtype(name: Any) -> Any:
    from fitorch.models.configs import dtype_by_name

    return dtype_by_name(name)


_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
          operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.matmul: "@",
          operator.and_: "&", operator.or_: "|", operator.xor: "^", operator.lt: "<",
          operator.le: "<=", operator.gt: ">", operator.ge: ">="}


def _tensor(value: Any) -> torch.Tensor:
    """``value``, which a generated forward is about to call a tensor method on, if it is a
    tensor; else ``TypeError``."""
    if isinstance(value, torch.Tensor):
        return value
    raise TypeError(f"the model's graph calls a tensor method on a {type(value).__name__}; "
                    "only tensors are allowed")


def _method_name(name: Any) -> str:
    from fitorch.models.configs import tensor_method

    return tensor_method(name)


def _attribute_name(name: Any) -> str:
    from fitorch.models.configs import tensor_attribute

    return tensor_attribute(name)


def _atom(text: str) -> str:
    # -1 ** x would parse as -(1 ** x)
    return f"({text})" if text.startswith("-") else text


def _function_hint(target: Any) -> str:
    name = getattr(target, "__name__", None)
    return name.strip("_") if isinstance(name, str) and name.strip("_") else "fn"


def _restore_functional(base: type[Functional], state: dict) -> Functional:
    model: Functional = nn.Module.__new__(base)
    model.__dict__.update(state)
    model._install_forward()
    return model

