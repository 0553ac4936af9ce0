"""Tracing: the calls recorded on symbolic tensors -> a functional model's graph (``GraphNode`` s).

:mod:`fitorch.models.symbolic` records each call on symbolic tensors as a ``Node``. This module
walks those nodes from a model's outputs back to its inputs, checks that they form a graph the
model can run, and turns them into the model's spec: a list of ``GraphNode`` s that refer to
each other by ``Ref`` and hold no symbolic tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from fitorch.models.configs import Ref
from fitorch.models.symbolic import KerasTensor, Node, module_name
from fitorch.torch_utils import leaves, map_structure

__all__ = ["GraphNode", "flatten_io", "make_spec", "name_layers", "trace_graph"]


# Pickles of functional models hold GraphNode s. Pickles made before this module existed name
# the class fitorch.models.functional.GraphNode, which still imports it from here.
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


def flatten_io(value: Any, what: str) -> tuple[list, Any]:
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


def trace_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
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


def name_layers(nodes: list[Node]) -> dict[str, nn.Module]:
    """The distinct modules the graph calls, by Keras name, in the order of their first call;
    two different modules with one name are an error."""
    modules: dict[str, nn.Module] = {}
    seen: set[int] = set()
    for node in nodes:
        if node.kind == "module" and id(node.target) not in seen:
            label = module_name(node.target)
            if label in modules:
                raise ValueError(f"Model: two different layers are named {label!r} "
                                 f"({type(modules[label]).__name__} and "
                                 f"{type(node.target).__name__}); layer names must be unique")
            modules[label] = node.target
            seen.add(id(node.target))
    return modules


def make_spec(nodes: list[Node], inputs: list[KerasTensor], input_structure: Any,
              output_structure: Any, attributes: dict[int, str]) -> dict:
    """The model's spec: ``nodes`` as ``GraphNode`` s (modules named by their attribute in
    ``attributes``, keyed by ``id``), the input nodes' numbers, and the input and output
    structures with ``Ref`` s in place of tensors."""
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
