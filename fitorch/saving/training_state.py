"""Optimizer and LR-scheduler state, and the ``compile`` arguments, as JSON + tensors."""

from __future__ import annotations

import warnings
from typing import Any, TypeGuard

import torch

from fitorch.saving.archive import pack, unpack

__all__ = ["pack_training_state", "restore_training_state", "compile_spec", "compile_from_spec"]


def pack_training_state(model: Any, tensors: dict[str, torch.Tensor], strict: bool) -> dict:
    """``{"optimizer": ..., "lr_scheduler": ...}`` of a compiled model, tensors into ``tensors``.

    With ``strict=False`` a scheduler whose state holds Python objects is left out with a
    warning; with ``strict=True`` (backups, which must resume exactly) it raises.
    """
    from fitorch.training.sharding import optimizer_state_dict

    state: dict[str, Any] = {}
    optimizer = model.optimizer
    if optimizer is not None:
        # gathered from every process when the model is sharded (all must call this)
        state["optimizer"] = pack(optimizer_state_dict(model, optimizer), tensors, "optimizer")
    scheduler = model.lr_scheduler
    if scheduler is not None and hasattr(scheduler, "state_dict"):
        try:
            scratch: dict[str, torch.Tensor] = {}
            state["lr_scheduler"] = pack(scheduler.state_dict(), scratch, "lr_scheduler")
            tensors.update(scratch)
        except TypeError as e:
            if strict:
                raise TypeError(f"the LR scheduler {type(scheduler).__name__} holds state "
                                f"fitorch cannot store: {e}") from e
            warnings.warn(f"save_model: the state of LR scheduler {type(scheduler).__name__} "
                          f"was not saved ({e})", stacklevel=4)
    return state


def restore_training_state(model: Any, state: dict, tensors: dict[str, torch.Tensor],
                           source: str) -> None:
    """Load ``pack_training_state``'s output into the model's optimizer and scheduler (which
    must exist); optimizer tensors go to their parameters' device (a GPU file loads on CPU)."""
    from fitorch.training.sharding import load_optimizer_state_dict

    if "optimizer" in state:
        if model.optimizer is None:
            raise ValueError(f"{source}: the file holds optimizer state but the model has no "
                             "optimizer yet (lazy layers are built at the first batch): build "
                             "the model (model.build(input_shape)) before compile")
        try:
            load_optimizer_state_dict(model, model.optimizer, unpack(state["optimizer"], tensors))
        except (ValueError, KeyError) as e:
            raise ValueError(f"{source}: the saved optimizer state does not fit the model's "
                             f"{type(model.optimizer).__name__}: {e}") from e
    if "lr_scheduler" in state and model.lr_scheduler is not None:
        scheduler = model.lr_scheduler
        saved = unpack(state["lr_scheduler"], tensors)
        if not isinstance(saved, dict):
            raise ValueError(f"{source}: the saved LR-scheduler state is a "
                             f"{type(saved).__name__}, expected a dict")
        # torch's load_state_dict is __dict__.update: a crafted key could replace the
        # scheduler's optimizer or shadow one of its methods
        bad = [k for k in saved if not isinstance(k, str) or k == "optimizer"
               or callable(getattr(type(scheduler), k, None))]
        if bad:
            raise ValueError(f"{source}: the saved LR-scheduler state sets {bad[:5]!r:.200}, "
                             f"which are not state of {type(scheduler).__name__}; refused")
        missing = sorted({"last_epoch", "_last_lr"} - set(saved))
        if missing:  # every torch scheduler's state_dict has them
            raise ValueError(f"{source}: the saved LR-scheduler state lacks {missing}")
        scheduler.load_state_dict(saved)


def _storable(value: Any) -> bool:
    """A loss / metric spec that is plain data (names, lists, dicts of names)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_storable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _storable(v) for k, v in value.items())
    return False


def _is_torch_loss_class(cls: Any) -> TypeGuard[type[torch.nn.Module]]:
    # A loss class torch.nn exports by name (its private base ``_Loss`` is not public API).
    return (isinstance(cls, type) and issubclass(cls, torch.nn.Module)
            and cls.__module__ == "torch.nn.modules.loss" and getattr(torch.nn, cls.__name__, None) is cls)


def _torch_loss_entry(loss: Any) -> dict | None:
    """``{"torch_loss": name, "kwargs": ...}`` for a ``torch.nn`` loss module that its plain
    constructor arguments rebuild exactly (checked by rebuilding it), else ``None``."""
    import inspect

    cls = type(loss)
    if not _is_torch_loss_class(cls):
        return None
    kwargs = {}
    for name in list(inspect.signature(cls.__init__).parameters)[1:]:
        value = loss.__dict__.get(name)
        if name not in ("size_average", "reduce") and isinstance(value, (int, float, str, bool)):
            kwargs[name] = value
    try:
        rebuilt = cls(**kwargs)
    except (TypeError, ValueError):
        return None
    same = all(rebuilt.__dict__.get(k) == v for k, v in loss.__dict__.items()
               if isinstance(v, (int, float, str, bool, type(None))))
    buffers_same = all(b is None for b in loss._buffers.values())  # e.g. no class weights
    return {"torch_loss": cls.__name__, "kwargs": kwargs} if same and buffers_same else None


def _loss_spec(value: Any) -> Any:
    """A loss spec as data: names as they are, torch loss modules as ``_torch_loss_entry``;
    raises ``TypeError`` for anything else."""
    if isinstance(value, (list, tuple)):
        return [_loss_spec(v) for v in value]
    if isinstance(value, dict):
        return {k: _loss_spec(v) for k, v in value.items()}
    if value is None or isinstance(value, str):
        return value
    entry = _torch_loss_entry(value)
    if entry is None:
        raise TypeError(repr(value))
    return entry


def _loss_from_spec(value: Any) -> Any:
    if isinstance(value, list):
        return [_loss_from_spec(v) for v in value]
    if isinstance(value, dict) and "torch_loss" in value:
        cls = getattr(torch.nn, str(value["torch_loss"]), None)
        if not _is_torch_loss_class(cls):
            raise ValueError(f"unknown torch loss {value['torch_loss']!r:.80}")
        kwargs = value.get("kwargs", {})
        if not (isinstance(kwargs, dict) and all(
                isinstance(v, (int, float, str, bool, type(None))) for v in kwargs.values())):
            raise ValueError(f"torch loss {cls.__name__}: kwargs {kwargs!r:.80} must be a dict "
                             "of plain values")
        return cls(**kwargs)
    if isinstance(value, dict):
        return {k: _loss_from_spec(v) for k, v in value.items()}
    return value


def _optimizer_spec(config: Any) -> dict | None:
    from fitorch.optimizers import Optimizer

    spec = config.optimizer_spec
    if isinstance(spec, str):
        return {"name": spec}
    if isinstance(spec, Optimizer) and hasattr(spec, "get_config"):
        config = spec.get_config()
        # not storable with a Python callable as the learning rate
        return {"spec": type(spec).__name__, "config": config} if _storable(config) else None
    optimizer = config.optimizer
    if optimizer is None:
        return None
    # The torch class under fitorch's Keras-lr subclass; its hyper-parameters come back with
    # load_state_dict (param_groups), so the class name is enough.
    base = next((c for c in type(optimizer).__mro__
                 if c.__module__.startswith("torch.optim") and c is not torch.optim.Optimizer),
                None)
    if base is not None and len(optimizer.param_groups) == 1:
        name = base.__name__
        if getattr(torch.optim, name, None) is base:
            return {"torch": name}
    return None


def compile_spec(model: Any) -> tuple[dict, list[str]]:
    """The ``compile`` arguments that can be stored, and the names of those that cannot."""
    config = model._config
    spec: dict[str, Any] = {"gradient_accumulation_steps": config.accumulation}
    lost = []
    optimizer = _optimizer_spec(config)
    if optimizer is None:
        lost.append(f"optimizer {config.optimizer_spec!r}")
    else:
        spec["optimizer"] = optimizer
    try:
        spec["loss"] = _loss_spec(config.loss_spec)
    except TypeError:
        lost.append(f"loss {config.loss_spec!r}")
    for key, value in (("metrics", config.metrics_spec),
                       ("weighted_metrics", config.weighted_metrics_spec)):
        if _storable(value):
            spec[key] = pack(value, {}, key)
        else:
            lost.append(f"{key} {value!r}")
    weights = config.compiled_loss.loss_weights if config.compiled_loss is not None and \
        hasattr(config.compiled_loss, "loss_weights") else None
    if _storable(weights):
        spec["loss_weights"] = pack(weights, {}, "loss_weights")
    scheduler = config.lr_scheduler
    if scheduler is not None:
        cls = type(scheduler)
        if getattr(torch.optim.lr_scheduler, cls.__name__, None) is cls:
            spec["lr_scheduler"] = cls.__name__
        else:
            lost.append(f"lr_scheduler {cls.__name__}")
    return spec, lost


def compile_from_spec(model: Any, spec: dict, custom_objects: dict[str, Any],
                      source: str) -> None:
    """``model.compile(...)`` from ``compile_spec``'s output; optimizer and scheduler classes
    come from fitorch's and torch's own names (or ``custom_objects``), never from imports."""
    from fitorch import optimizers

    if not isinstance(spec, dict):
        raise ValueError(f"{source}: the compile arguments are a {type(spec).__name__}, "
                         "expected a dict")
    optimizer_entry = spec.get("optimizer")
    optimizer: Any
    if optimizer_entry is None:
        optimizer = "rmsprop"
    elif not isinstance(optimizer_entry, dict):
        raise ValueError(f"{source}: the optimizer entry {optimizer_entry!r:.80} is not a dict")
    elif "name" in optimizer_entry:
        optimizer = _name(optimizer_entry, "name", source)
    elif "spec" in optimizer_entry:
        name = _name(optimizer_entry, "spec", source)
        cls = custom_objects.get(name) or next(
            (c for c in optimizers.SPECS.values() if c.__name__ == name), None)
        if cls is None:
            raise ValueError(f"{source}: unknown optimizer spec {name!r:.80}; "
                             "pass it in custom_objects")
        config = optimizer_entry.get("config", {})
        if not isinstance(config, dict):
            raise ValueError(f"{source}: the config of optimizer {name} is not a dict")
        optimizer = cls.from_config(config)
    else:
        name = _name(optimizer_entry, "torch", source)
        cls = custom_objects.get(name) or getattr(torch.optim, name, None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)
                and cls is not torch.optim.Optimizer):
            raise ValueError(f"{source}: unknown optimizer class {name!r:.80}; "
                             "pass it in custom_objects")
        optimizer = cls
    scheduler = None
    if spec.get("lr_scheduler") is not None:
        name = _name(spec, "lr_scheduler", source)
        cls = custom_objects.get(name) or getattr(torch.optim.lr_scheduler, name, None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.lr_scheduler.LRScheduler)
                and cls is not torch.optim.lr_scheduler.LRScheduler):
            raise ValueError(f"{source}: unknown LR scheduler {name!r:.80}; pass it in "
                             "custom_objects")
        scheduler = _scheduler_factory(cls)
    steps = spec.get("gradient_accumulation_steps", 1)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{source}: gradient_accumulation_steps={steps!r:.40} is not an int "
                         ">= 1")
    model.compile(optimizer=optimizer, loss=_loss_from_spec(spec.get("loss")),
                  metrics=unpack(spec.get("metrics"), {}),
                  weighted_metrics=unpack(spec.get("weighted_metrics"), {}),
                  loss_weights=unpack(spec.get("loss_weights"), {}), lr_scheduler=scheduler,
                  gradient_accumulation_steps=steps)


def _name(entry: dict, key: str, source: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{source}: {key} {value!r:.80} is not a name")
    return value


def _scheduler_factory(cls: type[torch.optim.lr_scheduler.LRScheduler]) -> Any:
    """A callable optimizer -> scheduler of class ``cls`` whose settings then come from the
    saved ``state_dict`` (every torch scheduler keeps its settings there)."""
    def build(optimizer: torch.optim.Optimizer) -> Any:
        scheduler: torch.optim.lr_scheduler.LRScheduler = object.__new__(cls)
        scheduler.optimizer = optimizer
        return scheduler

    return build
