"""Model summaries: Keras's ``model.summary()`` table and ``ft.summary(any_module, ...)``.

``model_summary`` (behind ``Model.summary()``) prints Keras's table from what the model knows
without running it: the recorded graph of a functional model, the inferred shapes of a
``Sequential``, the direct children of any other module. ``summary`` runs one forward pass with
hooks on every submodule and prints the torchsummary table the seed shows, leaving the module as
it found it.

Weights are counted as Keras counts them: parameters shared by several layers once, and the
statistics buffers Keras calls weights (BatchNorm's moving mean and variance) as non-trainable.
"""

from __future__ import annotations

import io
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from fitorch.models import providers
from fitorch.torch_utils import module_device

__all__ = ["summary", "model_summary", "count_weights", "ModuleSummary"]

_STAT_BUFFERS = ("running_mean", "running_var")
# torch's norm layers with running statistics, by their public names (their common base
# ``_NormBase`` is private; tests/test_private_torch.py checks this list against it).
_NORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
                nn.LazyBatchNorm1d, nn.LazyBatchNorm2d, nn.LazyBatchNorm3d,
                nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
                nn.LazyInstanceNorm1d, nn.LazyInstanceNorm2d, nn.LazyInstanceNorm3d)


# --------------------------------------------------------------------------- weight counting
def _weights(module: nn.Module) -> dict[int, tuple[torch.Tensor, bool]]:
    """id -> (tensor, trainable) for every weight of ``module``, each tensor once."""
    found: dict[int, tuple[torch.Tensor, bool]] = {}
    for param in module.parameters():
        found.setdefault(id(param), (param, param.requires_grad))
    for sub in module.modules():
        names = list(getattr(sub, "_weight_names", ()))  # fitorch layers: add_weight buffers
        if isinstance(sub, _NORM_LAYERS):
            names += list(_STAT_BUFFERS)
        for name in names:
            buffer = sub._buffers.get(name)
            if buffer is not None:
                found.setdefault(id(buffer), (buffer, False))
    return found


def count_weights(module: nn.Module) -> tuple[int, int, int, int]:
    """``(trainable, non_trainable, trainable_bytes, non_trainable_bytes)`` as Keras counts them."""
    counts = [0, 0, 0, 0]
    for tensor, trainable in _weights(module).values():
        if isinstance(tensor, nn.parameter.UninitializedParameter):
            continue
        slot = 0 if trainable else 1
        counts[slot] += tensor.numel()
        counts[slot + 2] += tensor.numel() * tensor.element_size()
    return counts[0], counts[1], counts[2], counts[3]


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


def _emit(text: str, print_fn: Callable | None) -> None:
    if print_fn is not None:
        print_fn(text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


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
        lambda m, a, out, name=name: seen[name].append(_shapes_of_output(out)))
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


def _shapes_of_output(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return tuple(out.shape)
    if isinstance(out, (list, tuple)):
        return [_shapes_of_output(o) for o in out]
    if isinstance(out, dict):
        return {k: _shapes_of_output(o) for k, o in out.items()}
    return None


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
        from fitorch.layers.base import to_snake_case
        name = to_snake_case(type(model).__name__)
    text = _render_table(f'Model: "{name}"', rows, connected, show_trainable, footer, width,
                         _use_ascii(ascii, sys.stdout))
    _emit(text, print_fn)
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


# --------------------------------------------------------------------------- ft.summary
@dataclass
class ModuleSummary:
    """The figures ``ft.summary`` prints: one dict per row and the totals (sizes in MB)."""

    rows: list[dict[str, Any]]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    input_size_mb: float
    forward_backward_size_mb: float
    params_size_mb: float
    estimated_total_size_mb: float
    text: str = field(default="", repr=False)

    def __str__(self) -> str:
        return self.text


def _guess_dtype(module: nn.Module) -> torch.dtype:
    from fitorch.models.sequential import _input_dtype
    for sub in module.modules():
        if not list(sub.children()):
            return _input_dtype(sub)
    return _input_dtype(module)


def _needs_copy(module: nn.Module) -> bool:
    # Running an unbuilt layer would build it: summarize a copy so the module stays as it was.
    for sub in module.modules():
        if getattr(sub, "built", True) is False:
            return True
        if isinstance(sub, nn.modules.lazy.LazyModuleMixin) and sub.has_uninitialized_params():
            return True
    return False


def _device_of(module: nn.Module) -> torch.device:
    return module_device(module) or torch.device("cpu")


def _make_inputs(input_shape: Any, dtypes: Any, batch: int, device: torch.device,
                 module: nn.Module) -> list[torch.Tensor]:
    if isinstance(input_shape, (tuple, torch.Size)) and all(isinstance(d, int)
                                                            for d in input_shape):
        shapes = [tuple(input_shape)]
    elif isinstance(input_shape, list) and all(isinstance(s, (tuple, list)) for s in input_shape):
        shapes = [tuple(s) for s in input_shape]
    else:
        raise ValueError(f"summary: input_shape={input_shape!r} must be a tuple of positive ints "
                         "without the batch axis, e.g. (3, 32, 32), or a list of such tuples")
    for shape in shapes:
        if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape):
            raise ValueError(f"summary: input_shape={input_shape!r} has a dimension that is not "
                             "a positive int")
    if dtypes is None:
        dtypes = [_guess_dtype(module)] + [torch.float32] * (len(shapes) - 1)
    elif isinstance(dtypes, torch.dtype):
        dtypes = [dtypes] * len(shapes)
    if len(dtypes) != len(shapes):
        raise ValueError(f"summary: dtypes={dtypes!r} has {len(dtypes)} entries for "
                         f"{len(shapes)} inputs")
    return [torch.zeros((batch,) + s, dtype=d, device=device) for s, d in zip(shapes, dtypes)]


def summary(module: nn.Module, input_shape: Any = None, input_data: Any = None,
            batch_size: int = -1, depth: int = 3, dtypes: Any = None,
            device: Any = None, print_fn: Callable[[str], Any] | None = None,
            verbose: int = 1) -> ModuleSummary:
    """Summarize any ``nn.Module`` by one forward pass with hooks (torchsummary's table).

    ``input_shape``: one shape without the batch axis, e.g. ``(3, 32, 32)``, or a list of shapes
    for several inputs (zeros of ``dtypes``; default long for a model starting with an embedding,
    else floatx); or ``input_data``: the actual input (a tensor, a tuple/list of positional
    inputs, or a dict of keyword inputs). Rows are the submodules called, nested ones indented,
    down to ``depth``; ``batch_size`` -1 shows the batch as ``-1`` and sizes per sample. The module
    is left exactly as found: training flags, buffers (BatchNorm statistics), RNG state and unbuilt
    lazy layers are untouched, and no gradient is recorded. Returns the figures as data.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"summary: module={module!r} is not an nn.Module")
    if (input_shape is None) == (input_data is None):
        raise ValueError("summary: pass exactly one of input_shape= (e.g. (3, 32, 32)) or "
                         "input_data= (a real input batch)")
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"summary: depth={depth!r} must be an int >= 1")
    if not isinstance(batch_size, int) or batch_size == 0 or batch_size < -1:
        raise ValueError(f"summary: batch_size={batch_size!r} must be -1 or a positive int")
    target = module
    if _needs_copy(module):
        import copy
        target = copy.deepcopy(module)
    device = torch.device(device) if device is not None else _device_of(target)
    run_batch = 2 if batch_size == -1 else batch_size
    if input_data is None:
        inputs: Any = _make_inputs(input_shape, dtypes, run_batch, device, target)
        call_args, call_kwargs = tuple(inputs), {}
    elif isinstance(input_data, dict):
        call_args, call_kwargs = (), dict(input_data)
    elif isinstance(input_data, (list, tuple)):
        call_args, call_kwargs = tuple(input_data), {}
    else:
        call_args, call_kwargs = (input_data,), {}
    given = [t for t in list(call_args) + list(call_kwargs.values())
             if isinstance(t, torch.Tensor)]
    if input_data is not None and given:
        run_batch = given[0].shape[0] if given[0].dim() else 1
    records = _run_with_hooks(target, call_args, call_kwargs)
    rows, leaf_bytes = _module_summary_rows(records, target, run_batch, batch_size, depth)
    trainable, frozen, trainable_bytes, frozen_bytes = count_weights(module)
    per = abs(batch_size) if batch_size != -1 else 1
    input_bytes = sum(t.numel() * t.element_size() for t in given) / max(run_batch, 1) * per \
        if input_data is not None else sum(t.numel() * t.element_size()
                                           for t in call_args) / run_batch * per
    mb = 1024 ** 2
    input_mb = input_bytes / mb
    forward_mb = 2 * leaf_bytes / run_batch * per / mb  # torchsummary: outputs and grads
    params_mb = (trainable_bytes + frozen_bytes) / mb
    result = ModuleSummary(rows, trainable + frozen, trainable, frozen, input_mb, forward_mb,
                           params_mb, input_mb + forward_mb + params_mb)
    result.text = _render_module_summary(result)
    if verbose:
        _emit(result.text, print_fn)
    return result


def _run_with_hooks(module: nn.Module, args: tuple, kwargs: dict) -> list[dict]:
    """One forward with a hook on every submodule (the module itself if it has none)."""
    paths: dict[int, str] = {}
    for name, sub in module.named_modules():
        if sub is not module and id(sub) not in paths:
            paths[id(sub)] = name
    targets = [sub for sub in module.modules() if id(sub) in paths] or [module]
    paths.setdefault(id(module), type(module).__name__)
    records: list[dict] = []
    stacks: dict[int, list[int]] = {}

    def pre(m: nn.Module, a: tuple) -> None:
        records.append({"module": m, "output": None, "bytes": 0, "path": paths[id(m)],
                        "depth": paths[id(m)].count(".") + 1})
        stacks.setdefault(id(m), []).append(len(records) - 1)

    def post(m: nn.Module, a: tuple, out: Any) -> None:
        index = stacks[id(m)].pop()
        records[index]["output"] = _shapes_of_output(out)
        records[index]["bytes"] = sum(t.numel() * t.element_size() for t in _tensors_in(out))

    handles = []
    for sub in targets:
        handles.append(sub.register_forward_pre_hook(pre))
        handles.append(sub.register_forward_hook(post, always_call=True))
    training = [(m, m.training) for m in module.modules()]
    saved = [(b, b.detach().clone()) for b in module.buffers()]
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() and \
        torch.cuda.is_initialized() else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            module(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
        for m, mode in training:
            m.training = mode
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
    return records


def _tensors_in(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _tensors_in(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _tensors_in(o)]
    return []


def _module_summary_rows(records: list[dict], root: nn.Module, run_batch: int,
                         batch_size: int, max_depth: int) -> tuple[list[dict], int]:
    rows = []
    counter = 0
    shown_containers: set[str] = set()
    called = {r["path"] for r in records}
    # activation memory: outputs of the innermost modules, whatever depth is displayed
    leaf_bytes = sum(r["bytes"] for r in records if not list(r["module"].children()))
    for record in records:
        if record["depth"] > max_depth:
            continue
        # containers that are never called (ModuleList, ModuleDict) get a row before their
        # first called child
        parts = record["path"].split(".")
        for i in range(1, len(parts)):
            prefix = ".".join(parts[:i])
            if prefix not in shown_containers and prefix not in called:
                shown_containers.add(prefix)
                container = root.get_submodule(prefix)
                trainable, frozen, _, _ = count_weights(container)
                rows.append({"name": f"{type(container).__name__} ({prefix})", "type": "",
                             "depth": i, "output_shape": None, "params": trainable + frozen,
                             "path": prefix})
        counter += 1
        module = record["module"]
        trainable, frozen, _, _ = count_weights(module)
        rows.append({"name": f"{type(module).__name__}-{counter}", "type": type(module).__name__,
                     "depth": record["depth"],
                     "output_shape": _display_shape(record["output"], run_batch, batch_size),
                     "params": trainable + frozen, "path": record["path"]})
    return rows, leaf_bytes


def _display_shape(shape: Any, run_batch: int, batch_size: int) -> Any:
    if isinstance(shape, tuple):
        if shape and shape[0] == run_batch:
            return [batch_size if batch_size != -1 else -1] + list(shape[1:])
        return list(shape)
    if isinstance(shape, list):
        return [_display_shape(s, run_batch, batch_size) for s in shape]
    if isinstance(shape, dict):
        return {k: _display_shape(s, run_batch, batch_size) for k, s in shape.items()}
    return shape


def _render_module_summary(result: ModuleSummary) -> str:
    rows = result.rows
    nested = any(r["depth"] > 1 for r in rows)
    labels = []
    for row in rows:
        label = row["name"]
        labels.append(("  " * (row["depth"] - 1) + label) if nested else label)
    name_width = max([20] + [len(label) + 1 for label in labels]) if nested else 20
    shape_texts = [str(r["output_shape"]) if r["output_shape"] is not None else "--"
                   for r in rows]
    shape_width = max([25] + [len(s) + 1 for s in shape_texts])
    width = name_width + shape_width + 19  # torchsummary's rules are one wider than its rows
    rule, double = "-" * width, "=" * width
    header = (f"{'Layer (type)':<{name_width}}" if nested else f"{'Layer (type)':>{name_width}}")
    lines = [rule, f"{header}  {'Output Shape':>{shape_width}} {'Param #':>15}", double]
    for label, shape, row in zip(labels, shape_texts, rows):
        params = "--" if row["params"] is None else f"{row['params']:,}"
        name = f"{label:<{name_width}}" if nested else f"{label:>{name_width}}"
        lines.append(f"{name}  {shape:>{shape_width}} {params:>15}")
    lines += [double, f"Total params: {result.total_params:,}",
              f"Trainable params: {result.trainable_params:,}",
              f"Non-trainable params: {result.non_trainable_params:,}", rule,
              f"Input size (MB): {result.input_size_mb:.6f}",
              f"Forward/backward pass size (MB): {result.forward_backward_size_mb:.6f}",
              f"Params size (MB): {result.params_size_mb:.6f}",
              f"Estimated Total Size (MB): {result.estimated_total_size_mb:.6f}", rule]
    return "\n".join(lines) + "\n"


providers.provide("model_summary", model_summary)  # Model.summary (models sit below this module)
