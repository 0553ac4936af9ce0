"""Standard ``torch.nn`` modules as JSON: their constructor arguments, never pickle.

A module is described by the arguments its class's constructor takes, read back from the
module's own attributes (``Linear`` -> ``in_features``, ``out_features``, ``bias is not None``),
plus the dtype of each tensor and which parameters are frozen. Every description is checked when
it is made: the module is rebuilt from it on the ``meta`` device (no memory) and must match the
original in submodules, tensor names, shapes, dtypes and attributes, so a model is never saved
with an architecture that would load back differently.

Rebuilding only instantiates the classes in :data:`SUPPORTED` (a fixed table), after checking
every argument's type and range; under :func:`allocation_budget` (what ``load_model`` sets) a
module must also fit in the bytes of weights the file actually holds, measured on the ``meta``
device before anything real is allocated.

Containers (``Sequential``, ``ModuleList``, ``ModuleDict``) may hold fitorch layers and models
and registered classes as well; this module describes those through their own configs.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import math
import sys
import types
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from fitorch.models import configs
from fitorch.saving.registry import registered_name, resolve_class, serializable_objects

__all__ = ["SUPPORTED", "PREFIX", "own_class", "UnsupportedModuleError", "describe_module",
           "rebuild_module", "is_module_entry", "allocation_budget", "ways_out"]

PREFIX = "torch.nn."
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def _dims(*stems: str) -> list[str]:
    return [f"{stem}{d}d" for stem in stems for d in (1, 2, 3)]


_LEAF_NAMES = [
    "Identity", "Linear", "Bilinear", "Flatten", "Unflatten",
    *_dims("Conv", "ConvTranspose", "BatchNorm", "InstanceNorm"),
    "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm", "CrossMapLRN2d",
    "Dropout", *_dims("Dropout"), "AlphaDropout", "FeatureAlphaDropout",
    "Embedding", "EmbeddingBag", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "TransformerDecoderLayer", "TransformerDecoder",
    *_dims("MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool", "LPPool", "MaxUnpool"),
    *_dims("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"),
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
    "ChannelShuffle", "Fold", "Unfold", "CosineSimilarity", "PairwiseDistance",
]


def _activation_names() -> list[str]:
    """Every module class ``torch.nn.modules.activation`` defines (so a new torch activation is
    either supported or fails the test that enumerates them)."""
    from torch.nn.modules import activation

    return sorted(name for name, obj in vars(activation).items()
                  if isinstance(obj, type) and issubclass(obj, nn.Module)
                  and obj.__module__ == activation.__name__ and getattr(nn, name, None) is obj)


# ---------------------------------------------------------------------------- the table
def _bias(m: nn.Module) -> bool:
    value = getattr(m, "bias", None)
    return value if isinstance(value, bool) else value is not None


def _transformer_activation(m: nn.Module) -> Any:
    act = m.activation
    if isinstance(act, nn.Module):
        return act  # described as a nested module
    for name, fn in (("relu", F.relu), ("gelu", F.gelu)):
        if act is fn:
            return name
    raise UnsupportedModuleError(
        f"its activation {act!r} is a Python callable, which a file cannot hold (only 'relu', "
        "'gelu' or a torch.nn activation module can be stored)")


_TRANSFORMER_LAYER = {
    "d_model": lambda m: m.self_attn.embed_dim, "nhead": lambda m: m.self_attn.num_heads,
    "dim_feedforward": lambda m: m.linear1.out_features, "dropout": lambda m: m.dropout.p,
    "activation": _transformer_activation, "layer_norm_eps": lambda m: m.norm1.eps,
    "batch_first": lambda m: m.self_attn.batch_first, "bias": lambda m: m.linear1.bias is not None,
}
# class name -> {argument: how to read it back} where it is not simply the attribute of that name
_GETTERS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "MultiheadAttention": {"bias": lambda m: m.in_proj_bias is not None,
                           "add_bias_kv": lambda m: m.bias_k is not None},
    "TransformerEncoderLayer": _TRANSFORMER_LAYER,
    "TransformerDecoderLayer": _TRANSFORMER_LAYER,
    "TransformerEncoder": {"encoder_layer": lambda m: m.layers[0]},
    "TransformerDecoder": {"decoder_layer": lambda m: m.layers[0]},
    "PairwiseDistance": {"p": lambda m: m.norm},
}
_RNN_ARGS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
             "bidirectional")
# classes whose constructor takes *args/**kwargs: their arguments, spelled out
_ARGS: dict[str, tuple[str, ...]] = {
    "RNN": (*_RNN_ARGS, "nonlinearity"), "LSTM": (*_RNN_ARGS, "proj_size"), "GRU": _RNN_ARGS,
}
# constructor parameters that are not architecture: factory kwargs, initial values (the weights
# come from the file), Hardtanh's deprecated aliases of min_val / max_val
_NOT_ARGS = {"device", "dtype", "_weight", "_freeze", "min_value", "max_value", "args", "kwargs"}
# arguments that hold modules, rebuilt from nested descriptions
_MODULE_ARGS = {("TransformerEncoderLayer", "activation"),
                ("TransformerDecoderLayer", "activation"),
                ("TransformerEncoder", "encoder_layer"), ("TransformerEncoder", "norm"),
                ("TransformerDecoder", "decoder_layer"), ("TransformerDecoder", "norm")}


def _arguments(cls: type) -> tuple[str, ...]:
    if cls.__name__ in _ARGS:
        return _ARGS[cls.__name__]
    params = inspect.signature(cls).parameters.values()
    return tuple(p.name for p in params if p.name != "self" and p.name not in _NOT_ARGS
                 and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def _table() -> dict[str, tuple[type, tuple[str, ...]]]:
    table = {}
    for name in _LEAF_NAMES + _activation_names():
        cls = getattr(nn, name, None)
        if isinstance(cls, type):  # RMSNorm, CircularPad, ... exist in recent torch only
            table[name] = (cls, _arguments(cls))
    return table


SUPPORTED: dict[str, tuple[type, tuple[str, ...]]] = _table()
"""class name -> (class, constructor arguments) of the leaf modules fitorch describes."""
_CONTAINER_NAMES = {c.__name__: c for c in _CONTAINERS}
_BY_CLASS = {cls: name for name, (cls, _) in SUPPORTED.items()}
_BY_CLASS.update({cls: name for name, cls in _CONTAINER_NAMES.items()})

# bounds on values a file may ask for: how large a layer count or an output-growing size can be
_MAX_INT = 2 ** 40
_CAPS = {"num_layers": 10_000, "padding": 1 << 16, "output_padding": 1 << 16,
         "output_size": 1 << 16, "size": 1 << 16, "scale_factor": 1024.0}
_MAX_STRING, _MAX_ITEMS, _MAX_DEPTH, _MAX_MODULES = 64, 64, 64, 100_000
_DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64,
    torch.complex128, torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool)}


class UnsupportedModuleError(ValueError):
    """A module whose architecture fitorch cannot store (say which, and why)."""


def ways_out(path: str) -> str:
    """The three ways to save a model whose architecture cannot be stored."""
    return ("Ways out: register the class with @fitorch.saving.register_serializable() (it is "
            "then rebuilt by its class, from get_config() when it has one); save the weights "
            f"only with model.save_weights(...); or save({path!r}, include_architecture=False), "
            "which keeps the weights and training state without the architecture (build the "
            "model in code and call model.load_weights on that file)")


# ---------------------------------------------------------------------------- describing
def own_class(module: nn.Module) -> type:
    """The class a user wrote: not ``ft.Model(net)``'s wrapper, a functional model's generated
    class, nor FSDP2's ``FSDP<Class>``."""
    # a module can only be sharded once FSDP was imported; importing it here would cost seconds
    fsdp = sys.modules.get("torch.distributed.fsdp")
    sharded: tuple[type, ...] = (fsdp.FSDPModule,) if fsdp is not None else ()
    for cls in type(module).__mro__:
        if cls.__dict__.get("_fitorch_generated") or cls.__dict__.get("_fitorch_wrapped"):
            continue
        if issubclass(cls, sharded):
            continue
        return cls
    return type(module)  # pragma: no cover - object is always in the mro


def is_module_entry(entry: Any) -> bool:
    """Whether ``entry`` is one :func:`describe_module` makes (a torch module or a registered
    class) rather than a fitorch layer's config."""
    return isinstance(entry, dict) and (str(entry.get("class_name", "")).startswith(PREFIX)
                                        or entry.get("registered_name") is not None)


def describe_module(module: nn.Module, path: str = "") -> dict[str, Any]:
    """``{"class_name", "config"}`` for a standard torch module (containers may hold fitorch
    layers and registered classes too). Raises :class:`UnsupportedModuleError` naming the
    submodule (by its dotted ``path``) that cannot be described."""
    described = _describe(module, path)
    _check_untied(module, path)
    return described


def _describe(module: nn.Module, path: str) -> dict[str, Any]:
    cls = own_class(module)
    where = f"module {path!r}" if path else "the model"
    key = registered_name(cls)
    if key is not None:
        config = getattr(module, "get_config")() if hasattr(module, "get_config") else None
        return {"class_name": cls.__name__, "registered_name": key, "config": config}
    name = _BY_CLASS.get(cls)
    if name is None:
        from fitorch.layers.base import Layer
        from fitorch.models.model import Model

        if isinstance(module, Layer) or (isinstance(module, Model)
                                         and hasattr(module, "get_config")):
            entry = configs.serialize_module(module)
            shape = module.__dict__.get("_build_input_shape")
            if isinstance(module, Layer) and module.built and shape is not None:
                entry["build_input_shape"] = configs.encode_value(shape, where)
            return entry
        raise UnsupportedModuleError(
            f"{where} is a {cls.__module__}.{cls.__qualname__}, which fitorch cannot store as "
            "an architecture: it stores the standard torch.nn modules listed in "
            "docs/saving.md, fitorch layers and models, and registered classes")
    if cls in _CONTAINERS:
        _check_no_own_tensors(module, where)
        children = [[child_name, _describe(child, _join(path, child_name))]
                    for child_name, child in module.named_children()]
        if cls is nn.ModuleList:
            return {"class_name": PREFIX + name, "config": {"modules": [c for _, c in children]}}
        return {"class_name": PREFIX + name, "config": {"modules": children}}
    try:
        entry = {"class_name": PREFIX + name, "config": _leaf_config(module, name, path)}
    except UnsupportedModuleError as e:
        raise UnsupportedModuleError(f"{where} ({name}) cannot be stored: {e}") from None
    _check_rebuilds(module, entry, where)
    return entry


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _leaf_config(module: nn.Module, name: str, path: str) -> dict[str, Any]:
    getters = _GETTERS.get(name, {})
    args: dict[str, Any] = {}
    for arg in SUPPORTED[name][1]:
        if arg in getters:
            value = getters[arg](module)
        elif arg == "bias":
            value = _bias(module)
        elif hasattr(module, arg):
            value = getattr(module, arg)
        else:  # pragma: no cover - the table test covers every class
            raise UnsupportedModuleError(f"its argument {arg!r} cannot be read back")
        if isinstance(value, nn.Module):
            if (name, arg) not in _MODULE_ARGS:  # pragma: no cover - table error
                raise UnsupportedModuleError(f"argument {arg!r} holds a module")
            args[arg] = {"__module__": _describe(value, _join(path, arg))}
        else:
            try:
                args[arg] = configs.encode_value(value, f"{name}.{arg}")
            except ValueError as e:
                raise UnsupportedModuleError(str(e)) from None
    tensors = {k: str(t.dtype).removeprefix("torch.")
               for k, t in module.state_dict(keep_vars=True).items()}
    frozen = [k for k, p in module.named_parameters() if not p.requires_grad]
    return {"args": args, "tensors": tensors, "frozen": frozen}


def _check_no_own_tensors(module: nn.Module, where: str) -> None:
    own = [n for n, _ in module.named_parameters(recurse=False)] + \
        [n for n, _ in module.named_buffers(recurse=False)]
    if own:
        raise UnsupportedModuleError(f"{where} ({type(module).__name__}) holds its own tensors "
                                     f"{own}, which its constructor does not create")


def _check_untied(module: nn.Module, path: str) -> None:
    seen: dict[int, str] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        if id(p) in seen:
            raise UnsupportedModuleError(
                f"parameters {_join(path, seen[id(p)])!r} and {_join(path, name)!r} are the same "
                "tensor (tied weights), which constructor arguments cannot express")
        seen[id(p)] = name


def _check_rebuilds(module: nn.Module, entry: dict, where: str) -> None:
    """Rebuild ``entry`` on the meta device and compare it with ``module``: anything a
    constructor argument does not capture shows up here, at save time."""
    bare = {**entry, "config": {**entry["config"], "tensors": {}, "frozen": []}}
    try:
        copy = _build(bare, {}, probe=True, where=f"{where}: ")
    except ValueError as e:  # pragma: no cover - a description that cannot be rebuilt
        raise UnsupportedModuleError(f"{where} cannot be rebuilt from its description: {e}") \
            from None
    problem = _difference(module, copy)
    if problem:
        raise UnsupportedModuleError(
            f"{where} ({type(copy).__name__}) differs from what its constructor arguments "
            f"rebuild: {problem}")


def _difference(original: nn.Module, copy: nn.Module) -> str | None:
    mods, copies = dict(original.named_modules()), dict(copy.named_modules())
    if list(mods) != list(copies):
        return f"submodules {list(mods)} vs {list(copies)}"
    for name, sub in mods.items():
        if own_class(sub) is not type(copies[name]):
            return f"{name or 'it'} is a {type(sub).__name__}, not a {type(copies[name]).__name__}"
        for attr, value in vars(copies[name]).items():
            if attr == "training" or not _plain(value):
                continue
            if not _same_value(vars(sub).get(attr, _MISSING), value):
                return (f"attribute {_join(name, attr)} is {vars(sub).get(attr)!r}, rebuilt as "
                        f"{value!r}")
    state, rebuilt = original.state_dict(keep_vars=True), copy.state_dict(keep_vars=True)
    if list(state) != list(rebuilt):
        return f"tensors {list(state)} vs {list(rebuilt)}"
    for key, t in state.items():
        if tuple(t.shape) != tuple(rebuilt[key].shape):
            return f"tensor {key} has shape {tuple(t.shape)}, rebuilt {tuple(rebuilt[key].shape)}"
    return None


_MISSING = object()


def _plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, torch.dtype,
                                            types.FunctionType, types.BuiltinFunctionType)):
        return True
    return isinstance(value, (tuple, list)) and all(_plain(v) for v in value)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (types.FunctionType, types.BuiltinFunctionType)):
        return a is b
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_value, a, b))
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------- rebuilding
class _Budget:
    def __init__(self, nbytes: int, source: str) -> None:
        self.left, self.total, self.source = nbytes, nbytes, source


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("fitorch_budget",
                                                                         default=None)


@contextlib.contextmanager
def allocation_budget(nbytes: int, source: str) -> Iterator[None]:
    """Within this block, rebuilt torch modules may allocate at most ``nbytes`` of parameters
    and buffers in all (``load_model`` passes the size of the file's weights), measured on the
    ``meta`` device first; more raises ``ValueError`` naming ``source`` before allocating."""
    token = _BUDGET.set(_Budget(int(nbytes), source))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def rebuild_module(entry: dict[str, Any], custom_objects: dict[str, Any] | None = None
                   ) -> nn.Module:
    """Rebuild what :func:`describe_module` described (fresh weights, the described dtypes and
    frozen parameters). Raises ``ValueError`` naming the entry for anything outside the table,
    badly typed or out of range."""
    objects = serializable_objects(custom_objects)  # registered classes, also without load_model
    budget = _BUDGET.get()
    where = f"{budget.source}: " if budget is not None else ""
    _check_shape_of_entry(entry, where)
    if budget is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe = _build(entry, objects, probe=True, where=where)
        nbytes = sum(t.numel() * t.element_size()
                     for t in list(probe.parameters()) + list(probe.buffers()))
        if nbytes > budget.left:
            raise ValueError(
                f"{where}the architecture entry {_label(entry)} would allocate {nbytes} bytes "
                f"of parameters and buffers, but the file holds only {budget.total} bytes of "
                "weights; refused (the file is damaged or crafted)")
        budget.left -= nbytes
    return _build(entry, objects, probe=False, where=where)


def _label(entry: dict) -> str:
    return repr(str(entry.get("class_name"))[:80])


def _check_shape_of_entry(entry: Any, where: str) -> None:
    """Bound the nesting depth and the number of modules before building anything."""
    count = 0

    def walk(value: Any, depth: int) -> None:
        nonlocal count
        if depth > _MAX_DEPTH:
            raise ValueError(f"{where}the architecture nests deeper than {_MAX_DEPTH} levels; "
                             "refused")
        if isinstance(value, dict):
            count += "class_name" in value
            if count > _MAX_MODULES:
                raise ValueError(f"{where}the architecture has more than {_MAX_MODULES} "
                                 "modules; refused")
            for v in value.values():
                walk(v, depth + 1)
        elif isinstance(value, list):
            for v in value:
                walk(v, depth + 1)

    walk(entry, 0)


def _build(entry: Any, objects: dict[str, Any], probe: bool, where: str) -> nn.Module:
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"{where}module entry {entry!r:.80} lacks a class_name; the file is "
                         "damaged")
    name = entry["class_name"]
    if entry.get("registered_name") is not None:
        return nn.Identity() if probe else _build_registered(entry, objects, where)
    if not name.startswith(PREFIX):
        return _build_fitorch(entry, objects, probe, where)
    short = name[len(PREFIX):]
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"{where}{name}: its config {config!r:.80} is not a dict")
    if short in _CONTAINER_NAMES:
        return _build_container(short, config, objects, probe, where)
    if short not in SUPPORTED:
        raise ValueError(f"{where}{name!r} is not a torch module fitorch rebuilds (it rebuilds "
                         "only the classes in fitorch.saving.torch_modules.SUPPORTED); refused")
    cls, allowed = SUPPORTED[short]
    args = config.get("args", {})
    if not isinstance(args, dict) or set(args) - set(allowed):
        given = sorted(args) if isinstance(args, dict) else args
        raise ValueError(f"{where}{name}: arguments {given!r:.200} are not among its "
                         f"constructor's {list(allowed)}")
    kwargs = {}
    for arg, value in args.items():
        owner = f"{where}{name}({arg}=...)"
        if (short, arg) in _MODULE_ARGS and isinstance(value, dict) and "__module__" in value:
            kwargs[arg] = _build(value["__module__"], objects, probe, where)
        else:
            kwargs[arg] = _checked_value(_decoded(value, owner), arg, owner, 0)
    try:
        with warnings.catch_warnings():
            if probe:
                warnings.simplefilter("ignore")
            with torch.device("meta") if probe else contextlib.nullcontext():
                module = cls(**kwargs)
    except Exception as e:  # a constructor rejects bad values with many error types
        raise ValueError(f"{where}could not rebuild {name} from arguments {kwargs!r:.300}: "
                         f"{type(e).__name__}: {e}") from None
    _apply_tensor_specs(module, config, name, where)
    return module


def _decoded(value: Any, owner: str) -> Any:
    try:
        return configs.decode_value(value)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"{owner}: the value {value!r:.80} is not a valid argument ({e})") \
            from None


def _checked_value(value: Any, arg: str, owner: str, depth: int) -> Any:
    """Plain values only, with integers and output-growing sizes bounded."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        cap = _CAPS.get(arg, _MAX_INT)
        if abs(value) > cap:
            raise ValueError(f"{owner}: {value} is larger than {cap}, the most a fitorch file "
                             "may ask for; refused")
        return value
    if isinstance(value, float):
        bound = _CAPS.get(arg)
        if bound is not None and not abs(value) <= bound:
            raise ValueError(f"{owner}: {value} is outside [-{bound}, {bound}]; refused")
        return value
    if isinstance(value, str):
        if len(value) > _MAX_STRING:
            raise ValueError(f"{owner}: a {len(value)}-character string is not an argument")
        return value
    if isinstance(value, (tuple, list)) and depth < 2 and len(value) <= _MAX_ITEMS:
        return type(value)(_checked_value(v, arg, owner, depth + 1) for v in value)
    raise ValueError(f"{owner}: {value!r:.80} ({type(value).__name__}) is not a valid argument "
                     "(numbers, strings, booleans and short tuples of them are)")


def _apply_tensor_specs(module: nn.Module, config: dict, name: str, where: str) -> None:
    tensors, frozen = config.get("tensors", {}), config.get("frozen", [])
    if not isinstance(tensors, dict) or not isinstance(frozen, list):
        raise ValueError(f"{where}{name}: 'tensors' must map names to dtypes and 'frozen' list "
                         "parameter names")
    state = module.state_dict(keep_vars=True)
    for key, dtype_name in tensors.items():
        if key not in state or not isinstance(dtype_name, str) or dtype_name not in _DTYPES:
            raise ValueError(f"{where}{name}: tensor {key!r:.80} of dtype {dtype_name!r:.40} is "
                             f"not one it has (it has {list(state)})")
        tensor = state[key]
        if tensor is not None and tensor.dtype != _DTYPES[dtype_name]:
            tensor.data = tensor.data.to(_DTYPES[dtype_name])
    params = dict(module.named_parameters())
    for key in frozen:
        if not isinstance(key, str) or key not in params:
            raise ValueError(f"{where}{name}: frozen parameter {key!r:.80} is not one it has")
        params[key].requires_grad_(False)


def _build_container(short: str, config: dict, objects: dict, probe: bool,
                     where: str) -> nn.Module:
    entries = config.get("modules")
    if not isinstance(entries, list):
        raise ValueError(f"{where}torch.nn.{short}: 'modules' must be a list")
    if short == "ModuleList":
        return nn.ModuleList([_build(e, objects, probe, where) for e in entries])
    children = OrderedDict()
    for pair in entries:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                and pair[0] and "." not in pair[0] and pair[0] not in children):
            raise ValueError(f"{where}torch.nn.{short}: entry {pair!r:.80} is not a "
                             "[unique name, module] pair")
        children[pair[0]] = _build(pair[1], objects, probe, where)
    try:
        return nn.Sequential(children) if short == "Sequential" else nn.ModuleDict(children)
    except (KeyError, TypeError) as e:  # a name clashing with a Module attribute
        raise ValueError(f"{where}torch.nn.{short}: {e}") from None


def _build_fitorch(entry: dict, objects: dict, probe: bool, where: str) -> nn.Module:
    """A fitorch layer or model inside a torch container, built for the input shape it had."""
    shape = entry.get("build_input_shape")
    if shape is not None:
        shape = _checked_value(_decoded(shape, where), "build_input_shape", where, 0)
        if not (isinstance(shape, tuple) and all(d is None or (isinstance(d, int) and d > 0)
                                                 for d in shape)):
            raise ValueError(f"{where}{entry['class_name']}: build_input_shape {shape!r:.80} is "
                             "not a shape")
    if probe and shape is None:
        return nn.Identity()  # unbuilt: nothing allocated until it first runs
    entry = {k: v for k, v in entry.items() if k != "build_input_shape"}
    with torch.device("meta") if probe else contextlib.nullcontext():
        layer = configs.deserialize_module(entry, objects)
        if shape is not None and not getattr(layer, "built", True):
            getattr(layer, "build")(shape)
    return layer


def _build_registered(entry: dict, objects: dict, where: str) -> nn.Module:
    class_name, key = entry["class_name"], entry.get("registered_name")
    cls = resolve_class(class_name, key if isinstance(key, str) else None, objects)
    if cls is None:
        raise ValueError(f"{where}the model holds a {class_name} (registered as {key!r}), a "
                         "class this program has not registered: decorate it with "
                         "@fitorch.saving.register_serializable() before loading")
    config = entry.get("config")
    try:
        if config is None:
            return cls()
        if hasattr(cls, "from_config"):
            return cls.from_config(config)
        return cls(**config)
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"{where}could not rebuild {class_name} from its config "
                         f"({type(e).__name__}: {e})") from e


# fitorch's Sequential and functional models hold plain torch modules through this
configs.set_module_codec(describe_module, rebuild_module, is_module_entry)
