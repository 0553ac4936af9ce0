"""``plot_model`` / ``model_to_dot``: a model's layer graph drawn with Graphviz (through pydot).

Functional models are drawn from their recorded graph (branches, merges, shared layers),
Sequential models as a chain with the shapes they infer, and any other module as the chain of
its direct children. ``pydot`` is imported only here, when a plot is asked for.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from torch import nn

from fitorch import activations


def _import_pydot() -> Any:
    try:
        import pydot
    except ImportError:
        raise ImportError("plot_model needs the pydot package: pip install pydot (and the "
                          "Graphviz programs, e.g. apt install graphviz / brew install graphviz "
                          "/ conda install graphviz)") from None
    return pydot


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _module_name(module: nn.Module, fallback: str) -> str:
    name = getattr(module, "name", None)
    return name if isinstance(name, str) and name else fallback


def _details(module: nn.Module | None, show_layer_activations: bool,
             show_trainable: bool) -> list[str]:
    lines = []
    if module is not None and show_layer_activations:
        name = activations.name_of(getattr(module, "activation", None))
        if name is not None:
            lines.append(f"Activation: {name}")
    if module is not None and show_trainable:
        params = list(module.parameters())
        if params:
            lines.append(f"Trainable: {'Y' if all(p.requires_grad for p in params) else 'N'}")
    return lines


def _graph(model: nn.Module) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Nodes (key, name, class, module, output shape, dtype, input shapes) and edges."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str]] = []
    graph: Any = getattr(model, "graph_nodes", None)  # a functional model's recorded calls
    if graph is not None:
        keys = []
        for i, node in enumerate(graph):
            key = f"module:{node.target}" if node.kind == "module" else f"node:{i}"
            keys.append(key)
            outputs = [s for _, s, _ in node.outputs]
            dtypes = [str(d).removeprefix("torch.") for _, _, d in node.outputs]
            inputs = [s for r in node.refs() for p, s, _ in graph[r.node].outputs
                      if p == r.path]
            if key in nodes:  # a shared layer: one box, every call's connections
                if nodes[key]["output"] != outputs:
                    nodes[key]["output"] = "multiple"
                    nodes[key]["input"] = "multiple"
            else:
                module = model._modules[node.target] if node.kind == "module" else None
                cls = ("InputLayer" if node.kind == "input" else type(module).__name__
                       if module is not None else getattr(node.target, "__name__",
                                                          str(node.target)))
                nodes[key] = {"key": key, "name": node.name, "class": cls, "module": module,
                              "output": outputs, "dtype": dtypes, "input": inputs}
            edges += [(keys[r.node], key) for r in node.refs()]
        return list(nodes.values()), list(dict.fromkeys(edges))
    children = list(model.named_children())
    infer: Any = getattr(model, "layer_output_shapes", None)  # Sequential's shape inference
    shapes = infer() if infer is not None else None
    previous = None
    if shapes is not None and getattr(model, "input_shape", None) is not None:
        previous = "input"
        nodes["input"] = {"key": "input", "name": "input", "class": "InputLayer", "module": None,
                          "output": [model.input_shape], "dtype": None, "input": []}
    for i, (attr, child) in enumerate(children):
        key = f"module:{attr}"
        out = None if shapes is None else shapes[i]
        before = None if previous is None else nodes[previous]["output"]
        nodes[key] = {"key": key, "name": _module_name(child, attr),
                      "class": type(child).__name__, "module": child,
                      "output": None if out is None else [out], "dtype": None,
                      "input": before or []}
        if previous is not None:
            edges.append((previous, key))
        previous = key
    return list(nodes.values()), edges


def model_to_dot(model: nn.Module, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 200,
                 show_layer_activations: bool = False, show_trainable: bool = False) -> Any:
    """The model's layer graph as a ``pydot.Dot`` (Keras's ``model_to_dot``).

    ``show_shapes`` / ``show_dtype`` need shapes fitorch knows: a functional model, or a
    Sequential one whose input shape is known; other modules raise ``ValueError``.
    ``expand_nested=True`` (drawing the inside of nested models) is not supported and raises.
    """
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir={rankdir!r} must be 'TB' (top to bottom) or 'LR' "
                         "(left to right)")
    if expand_nested:
        raise ValueError("plot_model: expand_nested=True is not supported; nested models are "
                         "drawn as one box")
    if not isinstance(model, nn.Module):
        raise TypeError(f"plot_model: model must be a torch nn.Module, got "
                        f"{type(model).__name__}")
    pydot = _import_pydot()
    nodes, edges = _graph(model)
    if (show_shapes or show_dtype) and any(n["output"] is None for n in nodes):
        raise ValueError(f"plot_model: show_shapes/show_dtype need the layers' shapes, which "
                         f"fitorch does not know for this {type(model).__name__}; build it as "
                         "a functional model, or give its first layer an input_shape")
    dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, dpi=str(dpi), concentrate="true")
    dot.set_node_defaults(shape="record", fontname="Helvetica")
    for node in nodes:
        head = f"{node['name']} ({node['class']})" if show_layer_names else node["class"]
        lines = [head]
        if show_shapes:
            shapes = node["output"]
            shown = shapes if shapes == "multiple" else _shape_text(
                shapes[0] if len(shapes) == 1 else shapes)
            inputs = node["input"]
            if inputs:
                given = inputs if inputs == "multiple" else _shape_text(
                    inputs[0] if len(inputs) == 1 else list(inputs))
                lines.append(f"Input shape: {given}")
            lines.append(f"Output shape: {shown}")
        if show_dtype and node["dtype"]:
            lines.append(f"Output dtype: {', '.join(node['dtype'])}")
        lines += _details(node["module"], show_layer_activations, show_trainable)
        label = "{" + "|".join(_escape(line) for line in lines) + "}"
        dot.add_node(pydot.Node(_escape_id(node["key"]), label=label))
    for source, target in edges:
        dot.add_edge(pydot.Edge(_escape_id(source), _escape_id(target)))
    return dot


def _escape(text: str) -> str:
    # characters with a meaning inside a Graphviz record label
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text


def _escape_id(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


def plot_model(model: nn.Module, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False) -> None:
    """Draw the model's layer graph into ``to_file`` (Keras's ``plot_model``).

    The format follows the extension (``.png``, ``.svg``, ``.pdf``, ...; none: PNG) and needs
    Graphviz's ``dot`` program; ``.dot`` / ``.gv`` files hold the Graphviz source and need only
    pydot. The other arguments are ``model_to_dot``'s.
    """
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable)
    extension = os.path.splitext(str(to_file))[1].lstrip(".").lower() or "png"
    if extension in ("dot", "gv"):
        dot.write_raw(str(to_file))
        return
    if shutil.which("dot") is None:
        raise OSError(f"plot_model: writing {to_file!r} needs Graphviz's `dot` program, which is "
                      "not on PATH: install Graphviz (apt install graphviz / brew install "
                      "graphviz / conda install graphviz), or save the Graphviz source with "
                      "to_file='model.dot'")
    dot.write(str(to_file), format=extension)
