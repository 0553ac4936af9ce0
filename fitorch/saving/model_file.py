"""``save_model`` / ``load_model``: one ``.fitorch`` file with architecture, weights, compile state.

The file is a zip of ``metadata.json``, ``config.json`` (the architecture: class name and
``get_config()``), ``model.safetensors`` (weights and buffers) and, for a compiled model,
``compile.json`` + ``compile.safetensors`` (compile arguments, optimizer and LR-scheduler state).
Nothing in it is pickled, and loading resolves classes and functions only against what the running
program registered or fitorch and torch define: a file cannot make the loader run its code.
"""

from __future__ import annotations

import inspect
import os
import warnings
from typing import Any

import torch
from torch import nn

from fitorch.saving import archive, torch_modules
from fitorch.saving.atomic import require_folder
from fitorch.saving.registry import registered_name, resolve_class, serializable_objects
from fitorch.saving.training_state import (compile_from_spec, compile_spec, pack_training_state,
                                           restore_training_state)
from fitorch.saving.weights import (load_state_checked, state_from_bytes, state_to_bytes,
                                    unwrap_module)
from fitorch.training.engine import is_main_process
from fitorch.training.sharding import full_state_dict

__all__ = ["save_model", "load_model", "MODEL_SUFFIX"]

MODEL_SUFFIX = ".fitorch"
_FORMAT = "fitorch.model"


_model_class = torch_modules.own_class


def _architecture(model: nn.Module) -> dict[str, Any]:
    """``config.json``: what ``load_model`` rebuilds the model from. Raises ``ValueError``
    saying why when the architecture cannot be stored (``save_model`` adds the ways out)."""
    from fitorch.models.functional import Functional
    from fitorch.models.sequential import Sequential

    cls = _model_class(model)
    entry: dict[str, Any] = {"format_version": archive.FORMAT_VERSION, "class_name": cls.__name__,
                             "module": cls.__module__, "registered_name": registered_name(cls),
                             "config": None}
    if isinstance(model, (Sequential, Functional)) and entry["registered_name"] is None:
        from fitorch.models.configs import serialize_module

        serialized = serialize_module(model)
        entry["class_name"], entry["config"] = serialized["class_name"], serialized["config"]
    elif hasattr(model, "get_config"):
        entry["config"] = model.get_config()
    elif entry["registered_name"] is None:  # plain torch modules; any other class raises
        described = torch_modules.describe_module(model)
        entry["class_name"], entry["config"] = described["class_name"], described["config"]
    shape = model.__dict__.get("_build_input_shape")
    if shape is not None and not isinstance(model, Sequential):
        entry["build_input_shape"] = archive.pack(shape, {}, "build_input_shape")
    return entry


def save_model(model: nn.Module, path: str | os.PathLike, overwrite: bool = False,
               include_optimizer: bool = True, include_architecture: bool = True) -> None:
    """Write ``model`` to one ``.fitorch`` file, atomically (readers see the old file or the
    whole new one, even if the process dies while writing).

    Holds the architecture (Sequential and functional models, models of standard ``torch.nn``
    modules, registered classes), the weights and buffers, and, when the model is compiled and
    ``include_optimizer``, the compile arguments with the optimizer and LR-scheduler state, so
    ``load_model`` returns a model that continues ``fit`` where it stopped. Wrappers
    (DataParallel, DDP, ``torch.compile``) are unwrapped. Refuses to replace an existing file
    unless ``overwrite=True``. Under several processes only rank 0 writes; an FSDP-sharded model
    is gathered, so every process must call.

    A model whose architecture cannot be stored (a class that is neither registered nor made of
    standard modules) raises ``ValueError`` naming the module, before anything is written;
    ``include_architecture=False`` then writes the weights and training state alone, a file
    that ``load_weights`` reads into a model built in code and that ``load_model`` refuses.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"save_model: model must be a torch.nn.Module, got {type(model).__name__}")
    path = os.fspath(path)
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(f"save_model: path {path!r} must end in {MODEL_SUFFIX!r}")
    require_folder(path, os.path.dirname(os.path.abspath(path)), "save_model")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"save_model: {path!r} already exists; pass overwrite=True to "
                              "replace it")
    if not isinstance(include_architecture, bool):
        raise TypeError(f"save_model: include_architecture={include_architecture!r} must be a "
                        "bool")
    outer = model
    model = unwrap_module(model)
    if model is not outer and "_ft" in outer.__dict__ and "_ft" not in model.__dict__:
        model = outer  # compiled through the wrapper: its training state lives there
    if include_architecture:
        try:  # before anything is gathered or written, on every process alike
            architecture = _architecture(unwrap_module(model))
        except ValueError as e:
            raise ValueError(f"save_model: the architecture of the model cannot be stored in "
                             f"{path!r}: {e}. {torch_modules.ways_out(path)}") from e
    else:
        cls = _model_class(unwrap_module(model))
        architecture = {"format_version": archive.FORMAT_VERSION, "class_name": cls.__name__,
                        "module": cls.__module__, "registered_name": None, "config": None,
                        "architecture_saved": False}
    weights = full_state_dict(unwrap_module(model))  # every process takes part under FSDP
    if include_optimizer and getattr(model, "compiled", False):
        tensors: dict[str, torch.Tensor] = {}
        state = pack_training_state(model, tensors, strict=False)
    if not is_main_process():
        return  # under several processes rank 0 writes the file
    members: dict[str, Any] = {"config.json": architecture,
                               archive.WEIGHTS_MEMBER: state_to_bytes(weights)}
    if include_optimizer and getattr(model, "compiled", False):
        spec, lost = compile_spec(model)
        if "lr_scheduler" not in state:
            spec.pop("lr_scheduler", None)
        members["compile.json"] = {"compile": spec, "not_saved": lost, "state": state}
        members["compile.safetensors"] = state_to_bytes(tensors)
    archive.write_archive(path, _FORMAT, members)


def load_model(path: str | os.PathLike, custom_objects: dict[str, Any] | None = None,
               compile: bool = True, safe_mode: bool = True) -> Any:
    """Rebuild a model saved by :func:`save_model`: architecture, weights and, with
    ``compile=True``, the compile state (optimizer, scheduler, loss and metrics).

    Classes are found among the registered ones (``@fitorch.saving.register_serializable()``),
    ``custom_objects`` (``{"ClassName": cls}``) and fitorch's layers and models. Files with a
    pickle, foreign or damaged files, and files from a newer fitorch are refused with a
    ``ValueError`` before anything is built. ``safe_mode=True`` (the default) also refuses a
    graph that calls anything but torch and operator functions.
    """
    path = os.fspath(path)
    source = f"load_model: {path!r}"
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"load_model: custom_objects must be a dict name -> class, got "
                        f"{type(custom_objects).__name__}")
    members = archive.read_archive(path, "load_model", _FORMAT)
    objects = serializable_objects(custom_objects)
    entry = members.get("config.json")
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(f"{source}: config.json lacks the model's class_name; the file is "
                         "damaged")
    if safe_mode:
        check_config_safe(entry.get("config"), source)
    from fitorch.backend import deserialization_scope

    state = state_from_bytes(members[archive.WEIGHTS_MEMBER], source)
    # torch modules a file names may allocate no more than the weights it holds
    budget = sum(t.numel() * t.element_size() for t in state.values())
    with deserialization_scope(safe_mode, custom_objects), \
            torch_modules.allocation_budget(budget, source):  # Lambda functions come from here
        model = _rebuild(entry, objects, path)
    if "build_input_shape" in entry and not getattr(model, "built", True):
        model.build(archive.unpack(entry["build_input_shape"], {}))
    load_state_checked(model, state, source)
    training = members.get("compile.json")
    if compile and isinstance(training, dict):
        lost = training.get("not_saved") or []
        if lost:
            warnings.warn(f"load_model: {path!r} was saved from a model compiled with "
                          f"{', '.join(lost)}, which a file cannot hold; the model is returned "
                          "uncompiled: call model.compile(...) yourself", stacklevel=2)
        else:
            compile_from_spec(model, training["compile"], objects, source)
            tensors = state_from_bytes(members.get("compile.safetensors", b""), source) \
                if members.get("compile.safetensors") else {}
            restore_training_state(model, training.get("state") or {}, tensors, source)
    return model


def _rebuild(entry: dict, objects: dict[str, Any], path: str) -> Any:
    from fitorch.models.model import Model

    class_name, registered = str(entry["class_name"]), entry.get("registered_name")
    in_code = (f"build the model in code and call model.load_weights({path!r}) (a .fitorch file "
               "holds its weights)")
    if entry.get("architecture_saved") is False:
        raise ValueError(f"load_model: {path!r} was saved with include_architecture=False: it "
                         f"holds the weights of a {class_name} but not its architecture; {in_code}")
    if class_name.startswith(torch_modules.PREFIX):
        return Model(torch_modules.rebuild_module(entry, objects))
    if str(entry.get("module", "")).startswith("torch.") and entry.get("config_error"):
        raise ValueError(f"load_model: {path!r} holds a torch.nn {class_name} saved by an older "
                         "fitorch, which could not store plain torch modules; "
                         f"{in_code}. Saved again with this fitorch, it loads as a whole model")
    cls = resolve_class(class_name, registered, objects)
    advice = (f"decorate the class with @fitorch.saving.register_serializable() or pass "
              f"custom_objects={{{class_name!r}: {class_name}}}; or {in_code}")
    if cls is None:
        raise ValueError(f"load_model: {path!r} holds a {class_name} (from module "
                         f"{entry.get('module')!r}), a class this program has not registered: "
                         f"{advice}")
    config = entry.get("config")
    if config is None and entry.get("config_error") and registered is None:
        raise ValueError(f"load_model: {path!r}: the architecture of the {class_name} model "
                         f"could not be stored when it was saved ({entry['config_error']}); "
                         f"{advice}")
    try:
        if config is None:
            model = cls()
        elif hasattr(cls, "from_config"):
            # Sequential/Functional resolve nested layers against custom_objects too
            takes = "custom_objects" in inspect.signature(cls.from_config).parameters
            model = cls.from_config(config, custom_objects=objects) if takes \
                else cls.from_config(config)
        else:
            model = cls(**config)
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"load_model: {path!r}: could not rebuild {class_name} from its "
                         f"config ({type(e).__name__}: {e}). Register the classes it names with "
                         "@fitorch.saving.register_serializable() or pass them in "
                         "custom_objects={'Name': cls}; or build the model in code and call "
                         f"model.load_weights({path!r})") from e
    if not isinstance(model, Model):
        model = Model(model)
    return model


# ---------------------------------------------------------------------------- config safety
_OPERATORS = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_",
              "xor", "lt", "le", "gt", "ge", "neg", "pos", "abs", "invert", "getitem")
_allowed_functions: dict[str, Any] | None = None


def _function_allowlist() -> dict[str, Any]:
    """Dotted name -> function for what a functional graph may call: torch's overridable
    functions (what ``ft.Input`` records), the operators it records, and ``getattr``."""
    global _allowed_functions
    if _allowed_functions is None:
        import operator

        from fitorch.models.configs import function_name

        allowed: dict[str, Any] = {}
        functions = [getattr(operator, n) for n in _OPERATORS] + [getattr]
        for group in torch.overrides.get_overridable_functions().values():
            functions += group
        for fn in functions:
            try:  # keyed by the name get_config stores
                allowed[function_name(fn)] = fn
            except ValueError:
                continue
        _allowed_functions = allowed
    return _allowed_functions


def check_config_safe(config: Any, source: str) -> None:
    """Refuse a config whose graph calls something other than torch / operator functions and
    public tensor methods (a crafted ``config.json`` could otherwise chain calls into any
    Python function)."""
    if isinstance(config, list):
        for value in config:
            check_config_safe(value, source)
        return
    if not isinstance(config, dict):
        return
    nodes = config.get("nodes")
    if isinstance(nodes, list):
        for node in nodes:
            _check_node(node, source)
    for value in config.values():
        check_config_safe(value, source)


def _check_node(node: Any, source: str) -> None:
    from fitorch.models.functional import Ref

    if not isinstance(node, dict):
        raise ValueError(f"{source}: a graph node {node!r:.80} is not a dict; the file is damaged")
    kind = node.get("kind")
    if kind == "function":
        name = node.get("function")
        if name not in _function_allowlist():
            raise ValueError(f"{source}: the model graph calls {name!r}, which is not a torch or "
                             "operator function; refused (safe_mode=True)")
        if _function_allowlist()[name] is getattr:
            attr = _decoded_arg(node, 1)
            if not isinstance(_decoded_arg(node, 0), Ref) or not isinstance(attr, str) or \
                    attr.startswith("_"):
                raise ValueError(f"{source}: the model graph reads attribute {attr!r}, which is "
                                 "not a public tensor attribute; refused (safe_mode=True)")
    elif kind == "method":
        name = node.get("method")
        if not isinstance(name, str) or name.startswith("_") or \
                not callable(getattr(torch.Tensor, name, None)) or \
                not isinstance(_decoded_arg(node, 0), Ref):
            raise ValueError(f"{source}: the model graph calls method {name!r}, which is not a "
                             "public tensor method; refused (safe_mode=True)")
    elif kind not in ("input", "module"):
        raise ValueError(f"{source}: unknown graph node kind {kind!r}; the file is damaged")


def _decoded_arg(node: dict, index: int) -> Any:
    """Argument ``index`` of a graph node as ``from_config`` will see it (``None`` if absent)."""
    from fitorch.models.configs import decode_value

    try:
        args = decode_value(node.get("args"))
        return args[index]
    except (ValueError, TypeError, IndexError, KeyError):
        return None
