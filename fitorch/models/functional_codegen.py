"""Code generation: a functional model's graph -> the Python source of its ``forward``.

The source is what a person would write by hand (``self.dense(x)``, ``x[:, 0]``, ``a + b``),
compiled once into a class made for the model, so a call costs what a hand-written forward
costs and ``torch.compile``, ``torch.export`` and DDP see a plain module. The names the
generated code calls (``_unpack_inputs``, ``_tensor``, ``_output_mask``, ...) live here.
"""

from __future__ import annotations

import builtins
import keyword
import linecache
import math
import operator
import re
from typing import Any

import torch
from torch import nn

from fitorch.layers.base import Layer
from fitorch.layers.call_context import run_in_mode
from fitorch.layers.masking import mask_at, may_create_mask, output_mask, takes_mask
from fitorch.models.configs import Ref, tensor_attribute, tensor_method
from fitorch.models.functional_trace import GraphNode
from fitorch.models.model import submodules
from fitorch.models.symbolic import KerasTensor

__all__ = ["generate_source", "generated_base", "install_forward"]


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


def _identifier(name: str, used: set[str]) -> str:
    base = re.sub(r"\W", "_", name) or "v"
    if base[0].isdigit() or keyword.iskeyword(base) or hasattr(builtins, base):
        base = f"{base}_"
    candidate, n = base, 1
    while candidate in used:
        candidate, n = f"{base}_{n}", n + 1
    used.add(candidate)
    return candidate


def generated_base(cls: type) -> type:
    """The class a model's generated class was made from (``cls`` itself if not generated)."""
    return next(c for c in cls.__mro__ if not c.__dict__.get("_fitorch_generated"))


def install_forward(model: nn.Module, spec: dict, name: str) -> None:
    """Generate the forward of ``model`` (called ``name``, graph ``spec``) and give ``model`` a
    class of its own that has it: a subclass of its class that shows itself under its name."""
    base = generated_base(type(model))
    source, namespace = generate_source(model, spec)
    filename = f"<fitorch functional {name} {id(model):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    model.__class__ = type(base.__name__, (base,), {
        "forward": namespace["forward"], "_source": source, "_fitorch_generated": True,
        "__module__": base.__module__, "__qualname__": base.__qualname__})


def generate_source(model: nn.Module, spec: dict) -> tuple[str, dict]:
    """(source of the forward of ``model``, whose graph is ``spec``, and the globals it runs
    with); tensors the graph holds as constants become ``model``'s (non-persistent) buffers or
    its parameters."""
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
        for attr, existing in list(model._parameters.items()) + list(model._buffers.items()):
            if existing is value:
                return f"self.{attr}"
        attr = f"_tensor_constant{len(model._parameters) + len(model._buffers)}"
        if isinstance(value, nn.Parameter):
            model.register_parameter(attr, value)
        else:
            model.register_buffer(attr, value, persistent=False)
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
            module = submodules(model)[node.target]
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
            call = (f"_tensor({expr(node.args[0])}).{tensor_method(node.target)}"
                    f"({call_args(node.args[1:], node.kwargs)})")
        elif node.target is getattr and len(node.args) == 2 and not node.kwargs and \
                isinstance(node.args[1], str):
            call = f"_tensor({expr(node.args[0])}).{tensor_attribute(node.args[1])}"
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


_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
          operator.floordiv: "//", operator.mod: "%", operator.pow: "**", operator.matmul: "@",
          operator.and_: "&", operator.or_: "|", operator.xor: "^", operator.lt: "<",
          operator.le: "<=", operator.gt: ">", operator.ge: ">=", operator.ne: "!="}


def _tensor(value: Any) -> torch.Tensor | KerasTensor:
    """``value``, which a generated forward is about to call a tensor method on, if it is a
    tensor, or a symbolic one (a copy or an unpickled model rebuilds its graph by running its
    forward on new ``Input`` s); else ``TypeError``."""
    if isinstance(value, torch.Tensor) or isinstance(value, KerasTensor):
        return value
    raise TypeError(f"the model's graph calls a tensor method on a {type(value).__name__}; "
                    "only tensors are allowed")


def _atom(text: str) -> str:
    # -1 ** x would parse as -(1 ** x)
    return f"({text})" if text.startswith("-") else text


def _function_hint(target: Any) -> str:
    name = getattr(target, "__name__", None)
    return name.strip("_") if isinstance(name, str) and name.strip("_") else "fn"

