"""``save_model`` / ``load_model``: one ``.fitorch`` file with architecture, weights, compile state.

The file is a zip of ``metadata.json``, ``config.json`` (the architecture: class name and
``get_config()``), ``model.safetensors`` (weights and buffers) and, for a compiled model,
``compile.json`` + ``compile.safetensors`` (compile arguments, optimizer and LR-scheduler state).
Nothing in it is pickled, and loading resolves classes and functions only against what the running
program registered or fitorch and torch define: a file cannot make the loader run its code.
"""

from __future__ import annotations

import inspect
import operator
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
    elif callable(get_config := getattr(model, "get_config", None)):
        entry["config"] = get_config()
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
    if path.endswith(".keras"):  # Keras's own format (fitorch.saving.keras_format)
        from fitorch.saving.keras_format import save_keras_model

        return save_keras_model(model, path, overwrite, include_optimizer)
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(f"save_model: path {path!r} must end in {MODEL_SUFFIX!r} (fitorch's "
                         "format, any model) or '.keras' (Keras's, models of Keras layers)")
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
    ``custom_objects`` (``{"ClassName": cls}``) and fitorch's layers and models; graph functions
    only from a fixed table of torch and operator functions. Nothing named by the file is ever
    imported. ``safe_mode=False`` lets Python functions come from ``custom_objects`` too (for
    ``Lambda`` layers and graph functions outside the table). Files with a pickle, foreign,
    damaged or crafted files, files from a newer fitorch, FIFOs, devices and directories are
    refused with a ``ValueError`` naming the file, the member and the problem; a missing file
    raises ``FileNotFoundError``. ``compile=False`` ignores ``compile.json``.
    """
    path = os.fspath(path)
    source = f"load_model: {path!r}"
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"load_model: custom_objects must be a dict name -> class, got "
                        f"{type(custom_objects).__name__}")
    from fitorch.saving.keras_format import is_keras_file, load_keras_model

    if is_keras_file(path):  # a Keras .keras or .h5 file: rebuilt from Keras's config
        return load_keras_model(path, custom_objects, compile, safe_mode)
    members = archive.read_archive(path, "load_model", _FORMAT)
    objects = serializable_objects(custom_objects)
    entry = members.get("config.json")
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"{source}: config.json lacks the model's class_name; the file is "
                         "damaged")
    if archive.WEIGHTS_MEMBER not in members:
        raise ValueError(f"{source}: the file has no {archive.WEIGHTS_MEMBER} member; the file "
                         "is damaged")
    training = members.get("compile.json") if compile else None
    if training is not None and not (isinstance(training, dict)
                                     and isinstance(training.get("compile"), dict)):
        raise ValueError(f"{source}: compile.json does not hold a 'compile' entry; the file is "
                         "damaged (load_model(..., compile=False) ignores it)")
    if safe_mode:
        check_config_safe(entry.get("config"), source)
    from fitorch.backend import deserialization_scope

    state = state_from_bytes(members[archive.WEIGHTS_MEMBER], f"{source}: member "
                             f"{archive.WEIGHTS_MEMBER!r}")
    # torch modules a file names may allocate no more than the weights it holds
    budget = sum(t.numel() * t.element_size() for t in state.values())
    with deserialization_scope(safe_mode, custom_objects), \
            torch_modules.allocation_budget(budget, source):  # Lambda functions come from here
        model = _rebuild(entry, objects, path)
    if "build_input_shape" in entry and not getattr(model, "built", True):
        try:
            model.build(archive.unpack(entry["build_input_shape"], {}))
        except Exception as e:  # a crafted shape: any error building from it is a refusal
            raise ValueError(f"{source}: config.json: cannot build the model for its "
                             f"build_input_shape ({type(e).__name__}: {e})") from e
    load_state_checked(model, state, source)
    if training is not None:
        _compile_from_file(model, training, members, objects, source, path)
    return model


def _compile_from_file(model: Any, training: dict, members: dict, objects: dict, source: str,
                       path: str) -> None:
    """Compile ``model`` as ``compile.json`` says and restore its optimizer / scheduler state;
    whatever a damaged or crafted member makes fail is a ``ValueError`` naming the member."""
    lost = training.get("not_saved") or []
    if not isinstance(lost, list):
        raise ValueError(f"{source}: compile.json: 'not_saved' is a {type(lost).__name__}, "
                         "expected a list; the file is damaged")
    if lost:
        warnings.warn(f"load_model: {path!r} was saved from a model compiled with "
                      f"{', '.join(str(x) for x in lost)[:500]}, which a file cannot hold; the "
                      "model is returned uncompiled: call model.compile(...) yourself",
                      stacklevel=3)
        return
    try:
        tensors = state_from_bytes(members["compile.safetensors"], f"{source}: member "
                                   "'compile.safetensors'") \
            if members.get("compile.safetensors") else {}
        state = training.get("state") or {}
        if not isinstance(state, dict):
            raise ValueError(f"'state' is a {type(state).__name__}, expected a dict")
        if training["compile"].get("lr_scheduler") is not None and "lr_scheduler" not in state:
            # the scheduler's settings live only in its state
            raise ValueError("it names an LR scheduler but holds no state for it")
        compile_from_spec(model, training["compile"], objects, f"{source}: compile.json")
        restore_training_state(model, state, tensors, f"{source}: compile.json")
    except Exception as e:  # a crafted compile.json: whatever fails deep inside is a refusal
        if isinstance(e, ValueError) and str(e).startswith(source):
            raise
        raise ValueError(f"{source}: compile.json cannot be restored ({type(e).__name__}: "
                         f"{e}); load with compile=False and compile the model yourself") from e


def _rebuild(entry: dict, objects: dict[str, Any], path: str) -> Any:
    from fitorch.models.model import Model

    class_name, registered = str(entry["class_name"]), entry.get("registered_name")
    if registered is not None and not isinstance(registered, str):
        raise ValueError(f"load_model: {path!r}: config.json has registered_name "
                         f"{registered!r:.80}, not a string; the file is damaged")
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
    except Exception as e:  # a crafted config: any error in rebuilding from it is a refusal
        raise ValueError(f"load_model: {path!r}: could not rebuild {class_name} from its "
                         f"config ({type(e).__name__}: {e}). Register the classes it names with "
                         "@fitorch.saving.register_serializable() or pass them in "
                         "custom_objects={'Name': cls}; or build the model in code and call "
                         f"model.load_weights({path!r})") from e
    if not isinstance(model, Model):
        model = Model(model)
    return model


# ---------------------------------------------------------------------------- config safety
def _function_allowlist() -> dict[str, Any]:
    """Dotted name -> function for what a functional graph may call: torch's overridable
    functions (what ``ft.Input`` records), the operators it records, and ``getattr`` (the fixed
    table ``Functional.from_config`` resolves names against)."""
    from fitorch.models.configs import function_table

    return function_table()


def check_config_safe(config: Any, source: str) -> None:
    """Refuse, before anything is built, a config whose graph calls something other than torch /
    operator functions, or tensor methods and attributes on anything but graph tensors
    (``Functional.from_config`` enforces the same again while it rebuilds)."""
    stack = [config]
    while stack:  # iterative: a config's depth is bounded, but no recursion is needed
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        nodes = value.get("nodes")
        if isinstance(nodes, list):
            for number, node in enumerate(nodes):
                _check_node(node, number, source)
        stack.extend(value.values())


def _check_node(node: Any, number: int, source: str) -> None:
    from fitorch.models.configs import tensor_attribute, tensor_method
    from fitorch.models.configs import Ref

    if not isinstance(node, dict):
        raise ValueError(f"{source}: config.json: graph node {number} ({node!r:.80}) is not a "
                         "dict; the file is damaged")
    kind = node.get("kind")
    where = f"{source}: config.json: graph node {number}"
    if kind == "function":
        name = node.get("function")
        fn = _function_allowlist().get(name) if isinstance(name, str) else None
        if fn is None:
            raise ValueError(f"{where} calls {name!r:.120}, which is not a torch or operator "
                             "function; refused (safe_mode=True)")
        if fn is getattr or fn is operator.getitem:
            if not isinstance(_decoded_arg(node, 0), Ref):
                raise ValueError(f"{where}: {name} must apply to a graph tensor; refused "
                                 "(safe_mode=True)")
        if fn is getattr:
            try:
                tensor_attribute(_decoded_arg(node, 1))
            except ValueError as e:
                raise ValueError(f"{where}: {e} (safe_mode=True)") from None
    elif kind == "method":
        try:
            tensor_method(node.get("method"))
        except ValueError as e:
            raise ValueError(f"{where}: {e} (safe_mode=True)") from None
        if not isinstance(_decoded_arg(node, 0), Ref):
            raise ValueError(f"{where}: method {node.get('method')!r} must be called on a "
                             "graph tensor; refused (safe_mode=True)")
    elif kind not in ("input", "module"):
        raise ValueError(f"{where}: unknown graph node kind {kind!r:.40}; the file is damaged")


def _decoded_arg(node: dict, index: int) -> Any:
    """Argument ``index`` of a graph node as ``from_config`` will see it (``None`` if absent)."""
    from fitorch.models.configs import decode_value

    try:
        args = decode_value(node.get("args"))
        return args[index]
    except (ValueError, TypeError, IndexError, KeyError):
        return None
