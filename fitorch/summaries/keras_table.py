"""Keras's ``model.summary()`` table, drawn from what a model knows without running it."""

from __future__ import annotations

import io
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from fitorch.summaries.summary_utils import count_weights, emit, shapes_of_output
from fitorch.summaries.torchsummary import summary

__all__ = ["model_summary"]


def _readable_size(size: float) -> str:
    # Keras's readable_memory_size
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _format_shape(shape: Any) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    if isinstance(shape, tuple):
        return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
            ("," if len(shape) == 1 else "") + ")"
    return str(shape)


def _use_ascii(ascii: bool | None, stream: Any) -> bool:
    if ascii is not None:
        return bool(ascii)
    encoding = getattr(stream, "encoding", None) or ""
    return "utf" not in encoding.lower()


# --------------------------------------------------------------------------- Keras table
@dataclass
class _Row:
    name: str
    type: str
    shape: str
    params: str
    connected: list[str] = field(default_factory=list)
    trainable: str = ""


def _layer_params(module: nn.Module) -> str:
    if getattr(module, "built", True) is False:
        return "0 (unbuilt)"
    trainable, frozen, _, _ = count_weights(module)
    return f"{trainable + frozen:,}"


def _layer_label(module: nn.Module, fallback: str) -> str:
    from fitorch.models.symbolic import module_name
    name = getattr(module, "name", None)
    if isinstance(name, str) and name:
        return name
    return fallback if fallback and not fallback.isdigit() else module_name(module)


def _functional_rows(model: Any) -> tuple[list[_Row], bool]:
    nodes = model.graph_nodes
    depth: list[int] = []
    consumers: dict[int, int] = {}
    for node in nodes:
        refs = node.refs()
        depth.append(1 + max((depth[r.node] for r in refs), default=-1))
        for r in refs:
            consumers[r.node] = consumers.get(r.node, 0) + 1
    sequential_like = all(len(n.refs()) <= 1 for n in nodes) and all(
        c <= 1 for c in consumers.values()) and sum(n.kind == "input" for n in nodes) == 1
    # which call of its layer each node is (Keras's node index), and output positions
    call_index: list[int] = []
    seen: dict[Any, int] = {}
    for node in nodes:
        key = (node.kind, node.target) if node.kind == "module" else id(node)
        call_index.append(seen.get(key, 0))
        seen[key] = seen.get(key, 0) + 1
    rows: dict[Any, _Row] = {}
    order = sorted(range(len(nodes)), key=lambda i: (depth[i], i))
    for i in order:
        node = nodes[i]
        connected = []
        for ref in node.refs():
            source = nodes[ref.node]
            paths = [p for p, _, _ in source.outputs]
            connected.append(f"{source.name}[{call_index[ref.node]}][{paths.index(ref.path)}]")
        shapes = [s for _, s, _ in node.outputs]
        shape = _format_shape(shapes[0] if len(shapes) == 1 else shapes)
        if node.kind == "input":
            rows[id(node)] = _Row(node.name, "InputLayer", shape, "0", ["-"])
            continue
        key = node.target if node.kind == "module" else id(node)
        if key in rows:  # a shared layer: one row, every call's inputs
            row = rows[key]
            row.connected += connected
            if row.shape != shape:
                row.shape = "multiple"
            continue
        if node.kind == "module":
            module = model._modules[node.target]
            rows[key] = _Row(node.name, type(module).__name__, shape, _layer_params(module),
                             connected, _trainable_flag(module))
        else:
            label = node.target if isinstance(node.target, str) else getattr(
                node.target, "__name__", type(node.target).__name__)
            rows[key] = _Row(node.name, label, shape, "0", connected)
    return list(rows.values()), sequential_like


def _trainable_flag(module: nn.Module) -> str:
    params = list(module.parameters())
    if not params:
        return "-"
    return "Y" if all(p.requires_grad for p in params) else "N"


def _sequential_rows(model: Any) -> list[_Row]:
    try:
        shapes = model.layer_output_shapes()
    except Exception:  # shapes are information here; a layer that cannot run shows "?"
        shapes = None
    rows = []
    for position, (key, layer) in enumerate(model._modules.items()):
        shape = _format_shape(shapes[position]) if shapes else "?"
        rows.append(_Row(_layer_label(layer, key), type(layer).__name__, shape,
                         _layer_params(layer), [], _trainable_flag(layer)))
    return rows


def _child_shapes(model: nn.Module) -> dict[str, str]:
    """Output shapes of the direct children for the input shape a Keras ``build`` was given."""
    shape = model.__dict__.get("_build_input_shape")
    if not isinstance(shape, (tuple, list)) or not all(d is None or isinstance(d, int)
                                                       for d in shape):
        return {}
    from fitorch.models.sequential import _input_dtype
    from fitorch.models.symbolic import _UNKNOWN_SIZES, _fake_mode

    children = dict(model.named_children())
    seen: dict[str, list] = {name: [] for name in children}
    handles = [child.register_forward_hook(
        lambda m, a, out, name=name: seen[name].append(shapes_of_output(out)))
        for name, child in children.items()]
    saved = [(b, b.detach().clone()) for b in model.buffers()]
    first = next(iter(children.values()), model)
    try:
        with torch.no_grad():
            for size in _UNKNOWN_SIZES:
                with _fake_mode():
                    x = torch.zeros([size if d is None else d for d in shape],
                                    dtype=_input_dtype(first))
                model(x)
    except Exception:  # the shapes are only shown; "multiple" is Keras's fallback
        return {}
    finally:
        for handle in handles:
            handle.remove()
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
    result = {}
    for name, calls in seen.items():
        if len(calls) == 2:
            result[name] = _format_shape(_merge_shapes(calls[0], calls[1]))
    return result


def _merge_shapes(a: Any, b: Any) -> Any:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return tuple(x if x == y else None for x, y in zip(a, b))
    if isinstance(a, list) and isinstance(b, list):
        return [_merge_shapes(x, y) for x, y in zip(a, b)]
    return a


def _module_rows(model: nn.Module) -> list[_Row]:
    shapes = _child_shapes(model)
    return [_Row(_layer_label(child, name), type(child).__name__, shapes.get(name, "multiple"),
                 _layer_params(child), [], _trainable_flag(child))
            for name, child in model.named_children()]


def _render_table(title: str, rows: list[_Row], connected: bool, show_trainable: bool,
                  footer: list[str], width: int, ascii: bool) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.ASCII2 if ascii else box.HEAVY_HEAD, show_lines=False,
                  header_style="bold", expand=False, safe_box=ascii)
    table.add_column("Layer (type)", overflow="fold", ratio=3)
    table.add_column("Output Shape", overflow="fold", ratio=2)
    table.add_column("Param #", justify="right", overflow="fold", ratio=1)
    if connected:
        table.add_column("Connected to", overflow="fold", ratio=3)
    if show_trainable:
        table.add_column("Trainable", justify="center")
    for row in rows:
        cells = [f"{row.name} ({row.type})", row.shape, row.params]
        if connected:
            cells.append("\n".join(row.connected) or "-")
        if show_trainable:
            cells.append(row.trainable or "-")
        table.add_row(*cells)
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None,
                      legacy_windows=False, emoji=False, highlight=False, soft_wrap=False)
    console.print(title)
    console.print(table)
    for line in footer:
        console.print(line)
    return buffer.getvalue()


def model_summary(model: nn.Module, line_length: int | None = None, positions: Any = None,
                  print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Any = None,
                  ascii: bool | None = None, input_shape: Any = None, input_data: Any = None,
                  **kwargs: Any) -> Any:
    """Print Keras's summary table of ``model`` (``Model.summary()``).

    Columns ``Layer (type)``, ``Output Shape``, ``Param #`` (and ``Connected to`` for graphs that
    are not a simple chain), then total / trainable / non-trainable counts with their size.
    ``line_length`` sets the width (default: Keras's, narrowed to the terminal); ``ascii=True``
    draws with ASCII only (the default when the output is not UTF-8). Given ``input_shape`` or
    ``input_data`` it prints the torchsummary table of ``ft.summary`` instead and returns its data.
    """
    del positions, expand_nested  # Keras layout knobs: rich sizes the columns itself
    if input_shape is not None or input_data is not None:
        return summary(model, input_shape=input_shape, input_data=input_data,
                       print_fn=print_fn, **kwargs)
    if kwargs:
        raise TypeError(f"summary() got unexpected keyword arguments {sorted(kwargs)}")
    if line_length is not None and (not isinstance(line_length, int) or line_length < 40):
        raise ValueError(f"summary: line_length={line_length!r} must be an int >= 40")
    from fitorch.models.functional import Functional
    from fitorch.models.sequential import Sequential

    connected = False
    if isinstance(model, Functional):
        rows, sequential_like = _functional_rows(model)
        connected = not sequential_like
    elif isinstance(model, Sequential):
        rows = _sequential_rows(model)
    else:
        rows = _module_rows(model)
    if layer_range is not None:
        rows = _select_range(rows, layer_range)
    trainable, frozen, trainable_bytes, frozen_bytes = count_weights(model)
    footer = [f" Total params: {trainable + frozen:,} "
              f"({_readable_size(trainable_bytes + frozen_bytes)})",
              f" Trainable params: {trainable:,} ({_readable_size(trainable_bytes)})",
              f" Non-trainable params: {frozen:,} ({_readable_size(frozen_bytes)})"]
    default = 108 if connected else 88
    terminal = shutil.get_terminal_size((default, 24)).columns
    width = line_length or max(40, min(default, terminal))
    name = getattr(model, "name", None)
    if not isinstance(name, str):
        from fitorch.layers.naming import to_snake_case
        name = to_snake_case(type(model).__name__)
    text = _render_table(f'Model: "{name}"', rows, connected, show_trainable, footer, width,
                         _use_ascii(ascii, sys.stdout))
    emit(text, print_fn)
    return None


def _select_range(rows: list[_Row], layer_range: Any) -> list[_Row]:
    if not (isinstance(layer_range, (list, tuple)) and len(layer_range) == 2):
        raise ValueError(f"summary: layer_range={layer_range!r} must be [first_name, last_name]")
    names = [r.name for r in rows]
    for name in layer_range:
        if name not in names:
            raise ValueError(f"summary: layer_range names {name!r}, which is not a layer "
                             f"({names})")
    return rows[names.index(layer_range[0]): names.index(layer_range[1]) + 1]

