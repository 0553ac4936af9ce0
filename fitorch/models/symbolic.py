"""Symbolic tensors (``ft.Input``) and the recording of calls made on them.

How a call on a symbolic tensor is recorded, and why this way:

* ``KerasTensor`` is *not* a ``torch.Tensor``. It carries a shape with ``None`` for unknown
  dimensions (a ``torch.Size`` cannot), and two *fake* values (``FakeTensor`` s: metadata only, no
  storage, no compute) in which every unknown dimension has size 83 in the first and 89 in the
  second. Running code on both values and comparing the results says exactly which output
  dimensions are unknown -- no guessing from shapes, nothing computed on data.
* Torch functions and Python operators on a ``KerasTensor`` reach its ``__torch_function__`` (torch
  dispatches there for any argument defining it, tensor or not) and are recorded as graph nodes.
* Calls of *modules* (fitorch layers or any ``nn.Module``) are recorded whole, so a model knows its
  layers, shares their weights and can print them. A module call cannot be seen without a hook, so
  two global module hooks are installed while graph building is going on, and only then: when a
  ``KerasTensor`` is created or used, and removed at the first module call that carries no
  symbolic tensor (the code has moved on to real computation), or when the last ``KerasTensor`` is
  garbage collected. Ordinary PyTorch code therefore never runs with a global hook, and
  ``nn.Module.__call__`` is never patched. The pre-hook builds fitorch layers from the symbolic
  shape (``maybe_build``), runs the module on both fake values (errors name the module and the
  shapes), and hands fake arguments to the forward torch runs next; the post-hook replaces that
  forward's result with the recorded ``KerasTensor`` s.
* If a module is called on a ``KerasTensor`` while the hooks are away (a symbolic tensor kept past
  real computation), its forward sees the ``KerasTensor`` itself: the torch functions it calls are
  then recorded one by one (with its weights as constants), so the graph still computes the same
  thing; the hooks come back for the next call.
"""

from __future__ import annotations

import itertools
import operator
import sys
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn
from torch.nn.modules import module as _torch_module
from torch.overrides import TorchFunctionMode

from fitorch.layers.base import Transient, yields_to_attribute
from fitorch.torch_utils import leaves, map_structure, module_device

__all__ = ["KerasTensor", "Node", "Input", "is_keras_tensor"]

# Stand-in sizes of unknown dimensions in the two fake runs (the pair Keras uses).
_UNKNOWN_SIZES = (83, 89)
_node_ids = itertools.count()
_STAND_IN_NOTE = (f" (sizes {_UNKNOWN_SIZES[0]} and {_UNKNOWN_SIZES[1]} in torch's message stand "
                  "for the unknown dimensions)")


class _State(threading.local):
    # per thread: a recording in one thread must not see another thread's calls as its own
    def __init__(self) -> None:
        self.depth = 0             # > 0 while a recorded module call is running
        self.active: Any = None    # (module, args, saved buffers, error mode, hooks)
        self.live: Any = None      # (device,) while torch's forward of a recorded call runs
        self.recording = False     # inside record()


_state = _State()
# process-wide, like the module hooks themselves
_hooks: dict[str, Any] = {"handles": None, "live": 0}
_fake_mode_cache: list = []


def _fake_mode() -> Any:
    if not _fake_mode_cache:
        import logging

        from torch._subclasses.fake_tensor import FakeTensorMode
        # Real tensors (weights, constants made inside forward) mix with fake inputs freely.
        _fake_mode_cache.append(FakeTensorMode(allow_non_fake_inputs=True))
        # A shape error while recording is reported by our own exception; fake mode would also
        # log it with a traceback at ERROR level.
        logging.getLogger("torch._subclasses.fake_tensor").addFilter(_quiet_while_recording)
    return _fake_mode_cache[0]


def _quiet_while_recording(record: Any) -> bool:
    return not (_state.depth or _state.recording)


# --------------------------------------------------------------------------- graph records
@dataclass(eq=False)
class Node:
    """One recorded call: an input, a module call, a torch function or a tensor method.

    ``args``/``kwargs`` are the call's arguments with ``KerasTensor`` leaves; ``outputs`` describes
    each tensor of its result as ``(path, name, shape, dtype)`` (tensors point to their node, not
    the reverse, so a graph is freed as soon as its tensors are). ``kind`` is ``"input"``,
    ``"module"``, ``"function"`` or ``"method"``; ``target`` the module, the function, or the
    method's name.
    """

    kind: str
    target: Any
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)
    name: str = ""
    id: int = field(default_factory=lambda: next(_node_ids))
    # inputs only
    batch_size: int | None = None

    def input_tensors(self) -> list[KerasTensor]:
        """The ``KerasTensor`` s this call consumed, in argument order."""
        return [t for t in leaves((self.args, self.kwargs)) if isinstance(t, KerasTensor)]



def _with_paths(tree: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    if isinstance(tree, (list, tuple)):
        return [p for i, item in enumerate(tree) for p in _with_paths(item, path + (i,))]
    if isinstance(tree, dict):
        return [p for k, item in tree.items() for p in _with_paths(item, path + (k,))]
    return [(path, tree)]


# --------------------------------------------------------------------------- KerasTensor
class KerasTensor:
    """A symbolic tensor: a placeholder in a graph being built, with ``shape`` and ``dtype``.

    Made by ``ft.Input`` and by calling layers, modules, torch functions or operators on other
    ``KerasTensor`` s. Unknown dimensions (the batch) are ``None`` in ``shape``.
    """

    __slots__ = ("_values", "node", "path", "name", "__weakref__")

    def __init__(self, values: tuple, node: Node, path: tuple, name: str) -> None:
        self._values = values
        self.node = node
        self.path = path
        self.name = name
        _hooks["live"] += 1
        weakref.finalize(self, _tensor_released)
        _install_hooks()

    def _live(self) -> Any:
        # Inside torch's forward of a recorded module call (reached as a keyword argument, which
        # the global pre-hook cannot replace), the tensor acts as its first fake value.
        live = _state.live
        return None if live is None else _substitute(self, 0, live[0])

    # ---- metadata ----------------------------------------------------------------------
    @property
    def shape(self) -> Any:
        """The shape, ``None`` for dimensions unknown until run time (the batch)."""
        live = self._live()
        return _symbolic_shape(self) if live is None else live.shape

    @property
    def dtype(self) -> torch.dtype:
        """The element type."""
        return self._values[0].dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions, batch included."""
        return self._values[0].dim()

    def dim(self) -> int:
        """Number of dimensions, batch included."""
        return self.ndim

    def size(self, dim: int | None = None) -> Any:
        """``shape``, or one of its entries (``None`` when unknown)."""
        return self.shape if dim is None else self.shape[dim]

    def __len__(self) -> int:
        live = self._live()
        if live is not None:
            return len(live)
        first = self.shape[0] if self.shape else None
        if first is None:
            raise TypeError(f"len() of symbolic tensor {self.name!r} with shape {self.shape}: "
                            "the first dimension is unknown until run time")
        return first

    def __iter__(self) -> Any:
        live = self._live()
        if live is not None:
            return iter(live)
        raise TypeError(f"symbolic tensor {self.name!r} (shape {self.shape}) cannot be iterated; "
                        "index it (x[:, 0]) or use torch.unbind / torch.split")

    def __bool__(self) -> bool:
        live = self._live()
        if live is not None:
            return bool(live)
        raise TypeError(f"symbolic tensor {self.name!r} has no truth value until run time: "
                        "Python control flow on it cannot be recorded; use torch.where")

    def __repr__(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        return f"<KerasTensor shape={_symbolic_shape(self)}, dtype={dtype}, name={self.name}>"

    __hash__ = object.__hash__

    # ---- recording -----------------------------------------------------------------------
    @classmethod
    def __torch_function__(cls, func: Callable, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        return record("function", func, tuple(args), dict(kwargs or {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = getattr(torch.Tensor, name, None)
        if attribute is None:
            raise AttributeError(f"'KerasTensor' object (symbolic tensor {self.name!r}) has no "
                                 f"attribute {name!r}")
        if callable(attribute):
            def method(*args: Any, **kwargs: Any) -> Any:
                return record("method", name, (self,) + args, kwargs)

            method.__name__ = name
            return method
        return record("function", getattr, (self, name), {})  # properties: .T, .mT, .real ...

    def __getitem__(self, index: Any) -> Any:
        return record("function", operator.getitem, (self, index), {})


def _binary(op: Callable, reflected: bool = False) -> Callable:
    if reflected:
        def method(self: KerasTensor, other: Any) -> Any:
            return record("function", op, (other, self), {})
    else:
        def method(self: KerasTensor, other: Any) -> Any:
            return record("function", op, (self, other), {})
    return method


def _unary(op: Callable) -> Callable:
    def method(self: KerasTensor) -> Any:
        return record("function", op, (self,), {})
    return method


for _name, _op in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv),
                   ("mod", operator.mod), ("pow", operator.pow), ("matmul", operator.matmul),
                   ("and", operator.and_), ("or", operator.or_), ("xor", operator.xor)):
    setattr(KerasTensor, f"__{_name}__", _binary(_op))
    setattr(KerasTensor, f"__r{_name}__", _binary(_op, reflected=True))
# As in Keras 3, != is recorded but == is not: == stays identity (with __hash__ above), which
# dicts, sets, `in` and list.index rely on; torch.eq(x, y) records an element-wise ==.
# (Python reflects x != y itself, as y != x, when only y is symbolic.)
for _name, _op in (("lt", operator.lt), ("le", operator.le), ("gt", operator.gt),
                   ("ge", operator.ge), ("ne", operator.ne)):
    setattr(KerasTensor, f"__{_name}__", _binary(_op))
for _uname, _uop in (("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs),
                     ("invert", operator.invert)):
    setattr(KerasTensor, f"__{_uname}__", _unary(_uop))


def _symbolic_shape(tensor: KerasTensor) -> tuple:
    first = tensor._values[0].shape
    if len(tensor._values) == 1:
        return tuple(first)
    return tuple(a if a == b else None for a, b in zip(first, tensor._values[1].shape))


def is_keras_tensor(value: Any) -> bool:
    """Whether ``value`` is a symbolic tensor (``ft.Input`` or a result computed from one)."""
    return isinstance(value, KerasTensor)


def _tensor_released() -> None:
    _hooks["live"] -= 1
    if _hooks["live"] <= 0 and _state.depth == 0:
        _remove_hooks()


# --------------------------------------------------------------------------- Input
def Input(shape: Any = None, dtype: Any = torch.float32, name: str | None = None,
          batch_size: int | None = None, batch_shape: Any = None) -> KerasTensor:
    """A symbolic input of ``shape`` (without the batch axis) from which a functional model is built.

    Calling layers, any ``nn.Module``, torch functions or operators on it records a graph that
    ``ft.Model(inputs, outputs)`` turns into a module. No data flows: sizes are tracked with
    stand-in values, so ``None`` axes stay unknown.

    Args:
        shape: the input's shape without the batch axis, a tuple of positive ints or ``None`` for
            a variable size (an int means a 1-tuple).
        dtype: a ``torch.dtype`` or its name (``"int64"``), the dtype of the data the model takes
            (default ``torch.float32``; e.g. ``torch.long`` for token ids).
        name: a non-empty string naming the input (default ``input_layer``, ``input_layer_1``,
            ...), shown in ``summary()``.
        batch_size: a fixed batch size, or ``None`` (any).
        batch_shape: Keras's shape with the batch axis, instead of ``shape`` and ``batch_size``.

    Returns:
        A ``KerasTensor`` whose ``.shape`` has ``None`` (or ``batch_size``) for the batch axis and
        whose ``.dtype`` is ``dtype``.

    Example:

    >>> inputs = ft.layers.Input(shape=(3,))
    >>> inputs.shape, inputs.dtype
    ((None, 3), torch.float32)
    >>> model = ft.Model(inputs, ft.layers.Dense(2)(inputs))
    >>> tuple(model(torch.ones(4, 3)).shape)
    (4, 2)
    >>> ft.layers.Input(batch_shape=(8, None, 16), dtype="int64").shape
    (8, None, 16)
    """
    from fitorch import backend

    if batch_shape is not None:
        if shape is not None or batch_size is not None:
            raise ValueError(f"Input: batch_shape={batch_shape!r} includes the batch axis; pass "
                             f"it alone, not with shape={shape!r} or batch_size={batch_size!r}")
        if not isinstance(batch_shape, (tuple, list, torch.Size)) or not batch_shape:
            raise ValueError(f"Input: batch_shape={batch_shape!r} must be a non-empty tuple "
                             "(batch, ...), e.g. batch_shape=(None, 200)")
        batch_size, shape = batch_shape[0], tuple(batch_shape[1:])
    elif shape is None:
        raise ValueError("Input: pass shape= (without the batch axis), e.g. Input(shape=(200,)), "
                         "or batch_shape= (with it)")
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list, torch.Size)):
        raise ValueError(f"Input: shape={shape!r} must be a tuple of positive ints (or None), "
                         "without the batch axis, e.g. shape=(200,)")
    for axis, size in enumerate(shape):
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size <= 0):
            raise ValueError(f"Input: shape={tuple(shape)!r} has {size!r} at axis {axis}; every "
                             "dimension must be a positive int or None")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                   or batch_size <= 0):
        raise ValueError(f"Input: batch_size={batch_size!r} must be a positive int or None")
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, dtype)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"Input: dtype={dtype!r} is not a torch.dtype or a dtype name")
    if name is not None and not (isinstance(name, str) and name):
        raise ValueError(f"Input: name={name!r} must be a non-empty string")
    name = name or backend.unique_name("input_layer")
    full = (batch_size,) + tuple(shape)
    mode = _fake_mode()
    values = []
    for stand_in in (_UNKNOWN_SIZES if None in full else _UNKNOWN_SIZES[:1]):
        with mode:
            values.append(torch.empty([stand_in if d is None else d for d in full], dtype=dtype))
    node = Node("input", None, name=name, batch_size=batch_size)
    tensor = KerasTensor(tuple(values), node, (), name)
    node.outputs = [((), name, tensor.shape, dtype)]
    return tensor


# --------------------------------------------------------------------------- recording
def _describe(target: Any) -> str:
    if isinstance(target, nn.Module):
        from fitorch.layers.naming import describe
        return describe(target)
    if isinstance(target, str):
        return f"method Tensor.{target}"
    return getattr(target, "__name__", repr(target))


def _shapes_of(args: Any) -> str:
    shapes = [_symbolic_shape(t) for t in leaves(args) if isinstance(t, KerasTensor)]
    return ", ".join(str(s) for s in shapes)


def _substitute(tree: Any, index: int, device: torch.device | None = None) -> Any:
    """``tree`` with each KerasTensor replaced by its fake value number ``index`` (on ``device``:
    a module whose weights live on a GPU gets fake GPU inputs)."""
    def value(v: Any) -> Any:
        if not isinstance(v, KerasTensor):
            return v
        fake = v._values[min(index, len(v._values) - 1)]
        if device is not None and fake.device != device:
            with _fake_mode():
                fake = fake.to(device)
        return fake
    return map_structure(value, tree)


def _runs(tree: Any) -> int:
    return max((len(t._values) for t in leaves(tree) if isinstance(t, KerasTensor)), default=1)


def _wrap_results(node: Node, results: list, base_name: str) -> Any:
    """KerasTensors for the tensors in ``results`` (one result per fake run)."""
    first = results[0]
    entries = _with_paths(first)
    tensors = [(p, v) for p, v in entries if isinstance(v, torch.Tensor)]
    multiple = len(entries) > 1 or bool(tensors and tensors[0][0])
    by_path = {}
    for path, value in tensors:
        values = [value]
        for other in results[1:]:
            item = other
            for key in path:
                item = item[key]
            values.append(item)
        by_path[path] = KerasTensor(tuple(values), node, path,
                                    base_name + "".join(f"[{p!r}]" for p in path) if multiple
                                    else base_name)
    if not by_path:
        raise TypeError(f"{_describe(node.target)} returned {type(first).__name__} with no "
                        "tensor in it; only calls that return tensors can be part of a graph")

    node.outputs = [(t.path, t.name, t.shape, t.dtype) for t in by_path.values()]
    return _rebuild(first, (), by_path)


def _remember_call(module: nn.Module, node: Node, output: Any) -> None:
    """Let ``module.input`` / ``module.output`` (Keras's) find this call while its output
    tensors live. Held weakly: the graph stays owned by whoever holds its tensors (a model, the
    user's variables), and a module never keeps a graph alive by itself."""

    tensors = [t for t in leaves(output) if isinstance(t, KerasTensor)]
    refs = [weakref.ref(t) for t in tensors]
    slots = {id(t): i for i, t in enumerate(tensors)}
    template = map_structure(lambda v: _Slot(slots[id(v)]) if isinstance(v, KerasTensor) else v,
                             output)

    def resolve() -> tuple[Any, Any] | None:
        alive = [t for t in (ref() for ref in refs) if t is not None]
        if len(alive) != len(refs):
            return None
        args = alive[0].node.args or tuple(alive[0].node.kwargs.values())
        resume_recording()  # these tensors may be called on again, after real computation
        return (args[0] if len(args) == 1 else list(args),
                map_structure(lambda v: alive[v.index] if isinstance(v, _Slot) else v, template))

    calls = module.__dict__.get("_symbolic_calls")
    if calls is None:
        calls = module.__dict__["_symbolic_calls"] = Transient()
    calls[:] = [c for c in calls if c() is not None]  # forget calls whose graph is gone
    calls.append(resolve)


@dataclass(frozen=True)
class _Slot:
    index: int


def resume_recording() -> None:
    """Record module calls on ``KerasTensor`` s again: graph building stops at the first real
    computation, and a model's held tensors (``model.inputs``, ``layer.output``) may be used
    to build a new graph after that."""
    _install_hooks()


def _rebuild(tree: Any, path: tuple, by_path: dict) -> Any:
    # module level, not a closure: a recursive closure is a reference cycle that would keep every
    # KerasTensor (and the graph-building hooks) alive until the cyclic GC runs
    if path in by_path:
        return by_path[path]
    if isinstance(tree, list):
        return [_rebuild(v, path + (i,), by_path) for i, v in enumerate(tree)]
    if isinstance(tree, tuple):
        items = [_rebuild(v, path + (i,), by_path) for i, v in enumerate(tree)]
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    if isinstance(tree, dict):
        return type(tree)((k, _rebuild(v, path + (k,), by_path)) for k, v in tree.items())
    return tree


def _function_name(target: Any) -> str:
    if isinstance(target, str):
        return target
    return getattr(target, "__name__", type(target).__name__).strip("_") or "op"


def record(kind: str, target: Any, args: tuple, kwargs: dict) -> Any:
    """Record a torch function / tensor method call on ``KerasTensor`` s and return its result."""
    if _state.live is not None:  # inside a recorded module's forward: compute on fake values
        a, k = _substitute(args, 0, _state.live[0]), _substitute(kwargs, 0, _state.live[0])
        return getattr(a[0], target)(*a[1:], **k) if kind == "method" else target(*a, **k)
    _install_hooks()
    runs = _runs((args, kwargs))
    results = []
    outer, _state.recording = _state.recording, True
    try:
        with torch.no_grad():
            for i in range(runs):
                a, k = _substitute(args, i), _substitute(kwargs, i)
                try:
                    results.append(getattr(a[0], target)(*a[1:], **k) if kind == "method"
                                   else target(*a, **k))
                except Exception as exc:
                    raise ValueError(f"{_describe(target)} cannot be applied to symbolic inputs "
                                     f"with shapes {_shapes_of((args, kwargs))}: {exc}"
                                     f"{_STAND_IN_NOTE}") from exc
    finally:
        _state.recording = outer
    node = Node(kind, target, args, kwargs)
    from fitorch import backend
    return _wrap_results(node, results, backend.unique_name(_function_name(target)))


def module_name(module: nn.Module) -> str:
    """The Keras name of a module: a fitorch layer's ``name``; for any other module a snake-cased
    class name made unique once (``linear``, ``linear_1``) and remembered."""
    name = getattr(module, "name", None)
    if isinstance(name, str) and name:
        return name
    known = _module_names.get(module)
    if known is None:
        from fitorch import backend
        from fitorch.layers.naming import to_snake_case
        known = _module_names[module] = backend.unique_name(to_snake_case(type(module).__name__))
    return known


_module_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def set_module_name(module: nn.Module, name: str) -> None:
    """Give a module without a ``name`` attribute (a plain torch module) its Keras name, so a
    graph rebuilt from a config keeps its layer names and ``state_dict`` keys."""
    if not isinstance(getattr(module, "name", None), str):
        _module_names[module] = name


def _first_shape_structure(args: tuple, kwargs: dict) -> Any:
    # Keras builds and checks a layer from its first argument: one shape, or a list of shapes
    first = args[0] if args else next(iter(kwargs.values()), None)
    if isinstance(first, KerasTensor):
        return first.shape
    if isinstance(first, (list, tuple)) and first and all(isinstance(t, KerasTensor) for t in first):
        return [t.shape for t in first]
    return None


def _check_layer_input(module: nn.Module, args: tuple, kwargs: dict) -> None:
    """A built fitorch layer checks the symbolic shape itself (Keras's error, naming the shape it
    was built for)."""
    from fitorch.layers.base import Layer

    if isinstance(module, Layer) and module.built:
        shapes = _first_shape_structure(args, kwargs)
        if shapes is not None:
            module.check_input_shape(shapes)


def _run_module(module: nn.Module, args: tuple, kwargs: dict, runs: range) -> list:
    """``module`` on the fake values number ``runs`` of ``args``; errors name module and shapes."""
    from fitorch.layers.base import IncompatibleInputError

    results = []
    device = module_device(module)
    with torch.no_grad():
        for i in runs:
            try:
                results.append(module(*_substitute(args, i, device),
                                      **_substitute(kwargs, i, device)))
            except IncompatibleInputError:
                raise
            except Exception as exc:
                raise _call_error(module, (args, kwargs), exc) from exc
    return results


def _restore(saved: list) -> None:
    # Real-only ops in a forward (BatchNorm's num_batches_tracked += 1) must not leave a trace.
    with torch.no_grad():
        for buffer, value in saved:
            if buffer.shape == value.shape:
                buffer.copy_(value)


# --------------------------------------------------------------------------- global hooks
def _install_hooks() -> None:
    if _hooks["handles"] is None:
        _hooks["handles"] = (_torch_module.register_module_forward_pre_hook(_pre_hook),)


def _remove_hooks() -> None:
    handles, _hooks["handles"] = _hooks["handles"], None
    for handle in handles or ():
        handle.remove()


def hooks_installed() -> bool:
    """Whether the graph-building module hooks are currently installed (for tests)."""
    return _hooks["handles"] is not None


class _NameErrors(TorchFunctionMode):
    """Turns an error of a torch function in a recorded module's forward into a ``ValueError``
    naming the module and the symbolic shapes (a torch function mode: torch's public hook on
    every torch function call)."""

    def __init__(self, module: nn.Module, args: tuple) -> None:
        super().__init__()
        self.module, self.args = module, args

    def __torch_function__(self, func: Callable, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        from fitorch.layers.base import IncompatibleInputError

        try:
            return func(*args, **(kwargs or {}))
        except IncompatibleInputError:
            raise
        except Exception as exc:
            if getattr(exc, "_names_symbolic_call", False):
                raise
            raise _call_error(self.module, self.args, exc) from exc


def _call_error(module: nn.Module, args: Any, exc: Exception) -> ValueError:
    error = ValueError(f"{_describe(module)} cannot be called on symbolic inputs with shapes "
                       f"{_shapes_of(args)}: {type(exc).__name__}: {exc}{_STAND_IN_NOTE}")
    error._names_symbolic_call = True  # type: ignore[attr-defined]  # no second note
    return error


def _pre_hook(module: nn.Module, args: tuple) -> Any:
    # Every module call while graph building is a candidate: torch's forward runs on the first
    # fake values (run 0); the post-hook, which sees the keyword arguments, decides whether the
    # call was symbolic at all and runs the other fake values.
    if _state.depth or torch.compiler.is_compiling():
        return None
    symbolic = any(isinstance(v, KerasTensor) for v in leaves(args))
    _state.depth += 1
    saved = [(b, b.detach().clone()) for b in module.buffers()]
    try:
        if symbolic:
            _check_layer_input(module, args, {})
    except BaseException:
        _state.depth -= 1
        raise
    device = module_device(module)
    mode = _NameErrors(module, args) if symbolic else None
    # A global pre-hook is given no kwargs, so symbolic keyword arguments are first seen by this
    # with_kwargs hook, after the forward (in which they stand in for their fake values, see
    # KerasTensor._live). Both hooks are on this module only, for this call: torch does not fully
    # remove a global with_kwargs forward hook, and a leftover one makes compiled modules warn.
    handles = (module.register_forward_hook(_post_hook, with_kwargs=True, prepend=True),
               module.register_forward_hook(_error_hook, always_call=True))
    _state.active = (module, args, saved, mode, handles)
    _state.live = (device,)
    if mode is not None:
        mode.__enter__()
        return _substitute(args, 0, device)
    return None


def _leave(active: tuple) -> None:
    _state.active = None
    _state.live = None
    for handle in active[4]:
        handle.remove()
    mode = active[3]
    if mode is not None:
        mode.__exit__(None, None, None)


def _post_hook(module: nn.Module, args: tuple, kwargs: dict, result: Any) -> Any:
    active = _state.active
    if active is None or active[0] is not module:
        return None
    _leave(active)
    sym_args, saved = active[1], active[2]
    symbolic = any(isinstance(v, KerasTensor) for v in leaves((sym_args, kwargs)))
    try:
        if not symbolic:
            saved.clear()  # a real call: its buffer updates stand
            _remove_hooks()  # real computation: graph building is over
            return None
        results = [result] + _run_module(module, sym_args, kwargs,
                                         range(1, _runs((sym_args, kwargs))))
        node = Node("module", module, sym_args, dict(kwargs))
        output = _wrap_results(node, results, module_name(module))
        _remember_call(module, node, output)
        return output
    finally:
        _restore(saved)
        _state.depth -= 1


def _error_hook(module: nn.Module, args: tuple, result: Any) -> Any:
    active = _state.active
    if active is None or active[0] is not module:
        return None  # the post-hook ran (or the call was not ours)
    _leave(active)
    sym_args, saved = active[1], active[2]
    try:
        error = sys.exc_info()[1]
        if error is not None and any(isinstance(v, KerasTensor) for v in leaves(sym_args)) \
                and not getattr(error, "_names_symbolic_call", False):
            error.add_note(f"(raised by {_describe(module)} called on symbolic inputs with "
                           f"shapes {_shapes_of(sym_args)})")
    finally:
        _restore(saved)
        _state.depth -= 1
    return None


# --------------------------------------------------------------------------- model inputs/outputs
class GraphIO:
    """Keras's ``model.inputs`` / ``outputs`` (flat lists of ``KerasTensor`` s) and ``input`` /
    ``output`` (their structures) for models that are graphs (functional, Sequential with a
    known input shape). The tensors are kept on the model (not copied or pickled: a copy
    rebuilds them by running its forward on new ``Input`` s); every layer reached from them
    has its ``layer.input`` / ``layer.output``, so
    ``ft.Model(m.inputs, [l.output for l in m.layers])`` extracts intermediate outputs.
    """

    def _graph_key(self) -> Any:
        """What the held graph was built from (a stale key rebuilds it)."""
        return None

    def _build_graph(self) -> tuple[Any, Any]:
        """(input structure, output structure) of a fresh symbolic run of the model."""
        raise NotImplementedError

    def _symbolic_graph(self) -> tuple[Any, Any]:
        held = self.__dict__.get("_symbolic_io")
        key = self._graph_key()
        if not held or held[0] != key:
            held = Transient([key, *self._build_graph()])
            self.__dict__["_symbolic_io"] = held
        resume_recording()  # the tensors may be called on to build a new graph
        return held[1], held[2]

    def _hold_graph(self, inputs: Any, outputs: Any) -> None:
        self.__dict__["_symbolic_io"] = Transient([self._graph_key(), inputs, outputs])

    @property
    def inputs(self) -> list[KerasTensor]:
        """The model's symbolic inputs, as a flat list."""
        return [t for t in leaves(self._symbolic_graph()[0]) if isinstance(t, KerasTensor)]

    @property
    def outputs(self) -> list[KerasTensor]:
        """The model's symbolic outputs, as a flat list."""
        return [t for t in leaves(self._symbolic_graph()[1]) if isinstance(t, KerasTensor)]

    # input / output give way to a submodule of that name (an OrderedDict key, an attribute)
    @yields_to_attribute
    def input(self) -> Any:
        """The model's symbolic input(s), in the structure it was built with."""
        return self._symbolic_graph()[0]

    @yields_to_attribute
    def output(self) -> Any:
        """The model's symbolic output(s), in the structure it was built with."""
        return self._symbolic_graph()[1]
