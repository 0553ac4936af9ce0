"""``ft.summary(any_module, input_shape=...)``: the torchsummary table of one hooked forward."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from fitorch.summaries.summary_utils import count_weights, emit, shapes_of_output
from fitorch.torch_utils import module_device

__all__ = ["summary", "ModuleSummary"]


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
        emit(result.text, print_fn)
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
        records[index]["output"] = shapes_of_output(out)
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

