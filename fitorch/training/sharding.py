"""FSDP: sharding a model, and whole weights and optimizer state out of (and into) a sharded one.

A model trained with ``strategy="fsdp"`` holds on each process only a slice of every parameter
(torch's FSDP2 ``fully_shard``: parameters become ``DTensor`` shards). Anything that needs the
whole weights — saving, ``get_weights``, a checkpoint — gathers them here, which is a collective:
every process must call it, and only rank 0 receives the tensors. Unsharded models (one process,
DDP) pass straight through to ``state_dict`` / ``load_state_dict``.

Only torch is used here; accelerate's FSDP configuration is translated in ``engine.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import torch
from torch import nn


def is_sharded(module: nn.Module) -> bool:
    """Whether ``module`` holds parameters sharded by FSDP2's ``fully_shard``."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return False  # no process group, no shards: and no need to import DTensor
    from torch.distributed.tensor import DTensor

    # Parameters, not module classes: ``ft.Model(net)`` is a second object sharing net's
    # state, so when the model was sharded, ``net`` holds the shards without FSDP's class.
    return any(isinstance(p, DTensor) for p in module.parameters())


def shard(model: nn.Module, wrap: Callable[[nn.Module], bool] | None,
          **fully_shard_kwargs: Any) -> dict[int, nn.Parameter]:
    """Shard ``model`` in place across the process group; ``{id(old parameter): new one}``.

    Every process first takes rank 0's weights (as ``DistributedDataParallel`` does), so
    processes that initialized differently still train one model. Submodules for which
    ``wrap(module)`` is true become their own FSDP unit (gathered only while they run), from the
    leaves up; the root is always one. A model sharded before is left as it is.
    """
    import torch.distributed as dist
    from torch.distributed.fsdp import FSDPModule, fully_shard

    if isinstance(model, FSDPModule):
        return {}
    with torch.no_grad():
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)
    before = dict(model.named_parameters())
    # modules() lists every module before its descendants, so reversed is leaves first
    for module in reversed(list(model.modules())[1:]):
        if wrap is not None and wrap(module) and not isinstance(module, FSDPModule):
            fully_shard(module, **fully_shard_kwargs)
    root_kwargs = {k: v for k, v in fully_shard_kwargs.items() if k != "reshard_after_forward"}
    fully_shard(model, **root_kwargs)  # torch keeps the root gathered between forward and backward
    after = dict(model.named_parameters())
    return {id(before[name]): after[name] for name in before}


def adopt_parameters(optimizer: torch.optim.Optimizer, moved: Mapping[int, nn.Parameter]) -> None:
    """Point an optimizer built before sharding at the sharded parameters.

    A user's ``torch.optim.Adam(model.parameters())`` holds the full tensors that ``fully_shard``
    replaced; stepping it would update tensors the model no longer uses.
    """
    if not moved:
        return
    stale = [p for group in optimizer.param_groups for p in group["params"]
             if id(p) in moved and p in optimizer.state]
    if stale:
        raise ValueError(f"compile: the {type(optimizer).__name__} passed as optimizer= has "
                         "already taken steps; with strategy='fsdp' pass a fresh optimizer (or a "
                         "name such as 'adam'), so its state can be built on the sharded weights")
    for group in optimizer.param_groups:
        group["params"] = [moved.get(id(p), p) for p in group["params"]]


def reshard(module: nn.Module) -> nn.Module:
    """``module`` with every FSDP unit holding its shards only. The root stays gathered after
    a forward without backward (``evaluate``, ``predict``): its state dict would hand out the
    gathered tensors, which FSDP frees at the next step."""
    from torch.distributed.fsdp import FSDPModule

    for unit in module.modules():
        if isinstance(unit, FSDPModule):
            unit.reshard()
    return module


def _options(**kwargs: Any) -> Any:
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, **kwargs)


def full_state_dict(module: nn.Module, rank0_only: bool = True) -> dict[str, torch.Tensor]:
    """``module.state_dict()`` with whole tensors. For a sharded module this gathers from every
    process (all must call it): with ``rank0_only`` rank 0 gets CPU tensors and the others an
    empty dict (enough for writing a file); otherwise every process gets them all."""
    if not is_sharded(module):
        return module.state_dict()
    if not rank0_only:
        from torch.distributed.tensor import DTensor

        # full_tensor() may return a not-yet-waited collective result whose storage cannot be
        # read (safetensors fails on it); the clone waits and gives a plain tensor.
        return {k: v.full_tensor().clone() if isinstance(v, DTensor) else v
                for k, v in reshard(module).state_dict().items()}
    from torch.distributed.checkpoint.state_dict import get_model_state_dict

    # torch types the values as its wide ValueType; a model's state dict holds only tensors
    return cast(dict[str, torch.Tensor],
                get_model_state_dict(reshard(module), options=_options(cpu_offload=True)))


def _local_shard(full: Any, like: Any) -> Any:
    """This process's slice of the whole tensor ``full``, placed as the ``DTensor`` ``like``;
    anything else as it is. Every process holds ``full`` (read from the same file), so each
    cuts its own slice: torch's loaders scatter from rank 0 instead, which gloo aborts on
    when a slice is empty (a 1-row weight over 2 processes)."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    if not (isinstance(like, DTensor) and isinstance(full, torch.Tensor)):
        return full
    return distribute_tensor(full.to(like.device), like.device_mesh, like.placements,
                             src_data_rank=None)


def load_full_state_dict(module: nn.Module, state: Mapping[str, torch.Tensor],
                         strict: bool = True) -> Any:
    """``module.load_state_dict(state)`` from whole tensors; a sharded module keeps its slice
    of each (every process must call it with the same ``state``)."""
    if not is_sharded(module):
        return module.load_state_dict(dict(state), strict=strict)
    current = reshard(module).state_dict()
    return module.load_state_dict(
        {k: _local_shard(v, current.get(k)) for k, v in state.items()}, strict=strict)


def snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the weights to put back later with ``load_state_dict`` (EarlyStopping's best).

    Unsharded: on the CPU, so the device does not hold two models. Sharded: this process's
    slices, which ``load_state_dict`` takes back without any communication.
    """
    if is_sharded(module):
        return {k: v.detach().clone() for k, v in reshard(module).state_dict().items()}
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def optimizer_state_dict(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """``optimizer.state_dict()``, in torch's own layout (parameters numbered in group order)
    even when the model is sharded: a backup made by N processes resumes on any number."""
    if not is_sharded(model):
        return optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict

    # torch's full optimizer state names parameters by their path in the model; a plain
    # optimizer.state_dict() numbers them. Renumbering makes the two interchangeable.
    # torch's OptimizerStateType is a union of containers; its layout is the documented
    # {"state": {name: {...}}, "param_groups": [{"params": [name, ...], ...}]}
    full: dict[str, Any] = get_optimizer_state_dict(reshard(model), optimizer,
                                                    options=_options(cpu_offload=True))
    if not full:  # not rank 0
        return {}
    index = {name: i for i, name in enumerate(
        name for group in full["param_groups"] for name in group["params"])}
    return {"state": {index[name]: value for name, value in full["state"].items()},
            "param_groups": [{**group, "params": [index[n] for n in group["params"]]}
                             for group in full["param_groups"]]}


def load_optimizer_state_dict(model: nn.Module, optimizer: torch.optim.Optimizer,
                              state: Mapping[str, Any]) -> None:
    """``optimizer.load_state_dict(state)`` for a state in torch's layout, sharded or not."""
    if not is_sharded(model):
        optimizer.load_state_dict(dict(state))  # torch wants a dict (it calls .copy())
        return
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved = sum(len(g["params"]) for g in state["param_groups"])
    if saved != len(params):
        raise ValueError(f"the saved optimizer state is for {saved} parameters; the "
                         f"{type(optimizer).__name__} holds {len(params)}")
    # Moments have their parameter's shape and are sliced like it; scalars (Adam's step) not.
    local = {i: {key: _local_shard(value, params[int(i)]) if isinstance(value, torch.Tensor)
                 and value.shape == params[int(i)].shape else value
                 for key, value in per_param.items()}
             for i, per_param in state["state"].items()}
    optimizer.load_state_dict({"state": local, "param_groups": state["param_groups"]})
