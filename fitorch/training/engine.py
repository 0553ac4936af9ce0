"""Device and precision: where the model runs and in which number format.

Single-process runs use torch directly: accelerate's wrappers add Python work to every step and
bring nothing there. Multi-process runs (torchrun / ``accelerate launch``) are the one place
accelerate is imported, from this module only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

import torch

PRECISIONS = {"32": None, "32-true": None, "bf16-mixed": torch.bfloat16,
              "16-mixed": torch.float16}


def available_devices() -> list[str]:
    """Names of the devices this process can use, e.g. ``["cpu", "cuda:0"]``."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names


def resolve_device(device: Any = None) -> torch.device:
    """``None`` -> cuda, then mps, then cpu; a name or ``torch.device`` must exist here."""
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device={device!r} is not a device name; available here: "
                         f"{available_devices()}") from err
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r}: CUDA is not available on this machine; "
                             f"available here: {available_devices()}")
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r}: there are {torch.cuda.device_count()} CUDA "
                             f"devices; available here: {available_devices()}")
        return torch.device("cuda", index)
    if dev.type == "mps" and "mps" not in available_devices():
        raise ValueError(f"device={device!r}: MPS is not available; available here: "
                         f"{available_devices()}")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device={device!r}: fitorch trains on cpu, cuda or mps; available "
                         f"here: {available_devices()}")
    return dev


class Precision:
    """Autocast and (for fp16) loss scaling for one device."""

    def __init__(self, precision: str | None, device: torch.device) -> None:
        name = "32" if precision is None else str(precision)
        if name not in PRECISIONS:
            raise ValueError(f"precision={precision!r}: expected one of {sorted(PRECISIONS)}")
        self.name = name
        self.dtype = PRECISIONS[name]
        if self.dtype is torch.float16 and device.type == "cpu":
            raise ValueError("precision='16-mixed' needs a GPU: CPUs have no fast float16 "
                             "matmul; use precision='bf16-mixed' on CPU")
        self.device_type = device.type
        # fp16 gradients underflow without loss scaling; bf16 has fp32's range and needs none.
        self.scaler = (torch.amp.GradScaler(device.type)
                       if self.dtype is torch.float16 else None)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)


# ---------------------------------------------------------------------------- several processes
STRATEGIES = ("auto", "ddp", "fsdp")


def is_main_process() -> bool:
    """True unless ``torch.distributed`` is initialized and this process is not rank 0."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def check_strategy(strategy: Any) -> None:
    """Refuse an unknown ``compile(strategy=...)`` on any number of processes, so a typo fails
    on a laptop rather than on the cluster."""
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise ValueError(f"compile: strategy={strategy!r}: expected one of {list(STRATEGIES)} "
                             "or an accelerate FullyShardedDataParallelPlugin")
        return
    # by name: importing accelerate to check costs a second, and only this branch needs it
    if type(strategy).__name__ != "FullyShardedDataParallelPlugin":
        raise TypeError(f"compile: strategy={strategy!r} ({type(strategy).__name__}): expected "
                        f"one of {list(STRATEGIES)} or an accelerate "
                        "FullyShardedDataParallelPlugin")


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "false").strip().lower() in ("1", "true", "yes")


#: The oldest torch on which fitorch's FSDP runs are tested to match one process. CI's
#: lowest-versions job found torch 2.7.1 (with accelerate 1.11) sharding without error but to
#: weights that differ from one process, so older torch is refused rather than trusted.
FSDP_MIN_TORCH = "2.13"


def check_fsdp_torch(version: Any = None) -> None:
    """Refuse FSDP on a torch older than :data:`FSDP_MIN_TORCH`."""
    version = torch.torch_version.TorchVersion(version or torch.__version__)
    if version < FSDP_MIN_TORCH:
        raise ValueError(f"compile: strategy='fsdp' needs torch >= {FSDP_MIN_TORCH}; this is torch "
                         f"{version}, on which fitorch's FSDP tests do not match one process. "
                         "Use strategy='ddp' (tested from torch 2.7.1) or upgrade torch")


def fsdp_plugin(strategy: Any) -> Any:
    """The FSDP configuration to train with, or ``None`` for DDP.

    ``"fsdp"`` and ``"auto"`` under ``accelerate launch`` with an FSDP config file read that
    file's settings (accelerate passes them as ``FSDP_*`` environment variables); a
    ``FullyShardedDataParallelPlugin`` is used as given.
    """
    if _env_flag("ACCELERATE_USE_DEEPSPEED"):
        raise ValueError("compile: this script was launched with an accelerate DeepSpeed config, "
                         "and fitorch does not train with DeepSpeed; use an FSDP config "
                         "(distributed_type: FSDP, fsdp_version: 2) or strategy='fsdp' for "
                         "sharded training")
    if strategy == "ddp" or (strategy == "auto" and not _env_flag("ACCELERATE_USE_FSDP")):
        return None
    if launched_world_size() > 1:  # on one process the strategy changes nothing
        check_fsdp_torch()
    from accelerate.utils import FullyShardedDataParallelPlugin

    if isinstance(strategy, str):
        try:
            strategy = FullyShardedDataParallelPlugin(fsdp_version=2)
        except ValueError as err:
            raise ValueError(f"compile: the accelerate FSDP configuration of this run is not "
                             f"one fitorch can use ({err}); fitorch shards with FSDP2: set "
                             "fsdp_version: 2 in the accelerate config") from err
    refused = [name for name, bad in (
        ("fsdp_version", strategy.fsdp_version != 2),
        ("activation_checkpointing", bool(strategy.activation_checkpointing)),
        ("cpu_ram_efficient_loading", bool(strategy.cpu_ram_efficient_loading))) if bad]
    if refused:
        raise ValueError(f"compile: strategy: fitorch shards with FSDP2 (fsdp_version=2) and "
                         f"does not support {refused} of this FullyShardedDataParallelPlugin; "
                         "leave them at their defaults")
    return strategy


def launched_world_size() -> int:
    """How many processes the launcher (torchrun, ``accelerate launch``, ``ft.launch``) started."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


class Distributed:
    """This process's share of a data-parallel run.

    accelerate's ``PartialState`` sets up the process group from the launcher's environment
    (gloo on CPUs, NCCL on GPUs) and picks this process's device; collectives are then plain
    ``torch.distributed`` calls. Every global batch is split in rank order across processes, so
    a run on N processes sees the same batches, in the same order, as a run on one.
    """

    def __init__(self) -> None:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", launched_world_size()))
        if torch.cuda.is_available() and local > torch.cuda.device_count():
            # accelerate would give the extra processes GPUs that do not exist (a CUDA error)
            raise ValueError(f"{local} processes were launched on this machine but it has "
                             f"{torch.cuda.device_count()} CUDA devices; launch at most one "
                             "process per GPU (torchrun --nproc_per_node=N)")
        from accelerate import PartialState

        # accelerate only sets up CPU (gloo) process groups when asked for the CPU explicitly
        state = PartialState(cpu=not torch.cuda.is_available())
        self.rank = state.process_index
        self.world_size = state.num_processes
        self.device = state.device
        self.is_main = state.is_main_process
        # A process group left to the interpreter's shutdown can abort the process ("terminate
        # called without an active exception") while gloo's threads still run.
        import atexit

        atexit.register(_destroy_process_group)

    # -- models
    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """``model`` inside ``DistributedDataParallel`` (it broadcasts rank 0's weights)."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    @staticmethod
    def no_sync(module: torch.nn.Module) -> contextlib.AbstractContextManager:
        """Backward passes that keep gradients local (DDP's ``no_sync``), for all but the last
        batch of an accumulation window; the window's last backward all-reduces their sum.
        FSDP is left as it is: holding unsharded gradients would undo what sharding saves."""
        from torch.nn.parallel import DistributedDataParallel

        module = getattr(module, "_orig_mod", module)  # under torch.compile's wrapper
        if isinstance(module, DistributedDataParallel):
            return module.no_sync()
        return contextlib.nullcontext()

    def shard(self, model: torch.nn.Module, plugin: Any) -> dict[int, torch.nn.Parameter]:
        """Shard ``model`` in place as accelerate's FSDP ``plugin`` says (its wrap policy,
        ``reshard_after_forward``, CPU offload, mixed-precision policy and ignored modules);
        returns ``{id(old parameter): sharded parameter}``."""
        from accelerate.utils.fsdp_utils import (fsdp2_prepare_auto_wrap_policy,
                                                 get_parameters_from_modules)
        from torch.distributed.fsdp import MixedPrecisionPolicy

        from fitorch.training import sharding

        plugin.set_auto_wrap_policy(model)  # resolves layer class names against this model
        kwargs: dict[str, Any] = {
            "reshard_after_forward": plugin.reshard_after_forward,
            "offload_policy": plugin.cpu_offload,
            "mp_policy": plugin.mixed_precision_policy or MixedPrecisionPolicy()}
        if plugin.ignored_modules is not None:
            kwargs["ignored_params"] = get_parameters_from_modules(
                plugin.ignored_modules, model, self.device)
        return sharding.shard(model, fsdp2_prepare_auto_wrap_policy(plugin, model), **kwargs)

    # -- data
    def split(self, value: Any) -> Any:
        """This process's contiguous share of every tensor of a batch (in rank order)."""
        if isinstance(value, torch.Tensor):
            return torch.tensor_split(value, self.world_size)[self.rank]
        if isinstance(value, dict):
            return {k: self.split(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.split(v) for v in value)
        return value

    def sync_rng(self) -> None:
        """Give every process rank 0's torch RNG state, so they draw the same data order."""
        import torch.distributed as dist

        state = torch.get_rng_state()
        dist.broadcast(state, src=0)
        torch.set_rng_state(state)

    # -- values
    def all_reduce_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """The sum over processes (a new tensor; gloo needs it on the CPU)."""
        import torch.distributed as dist

        out = tensor.detach().clone()
        if self.device.type != "cuda":
            out = out.cpu()
        dist.all_reduce(out)
        return out.to(tensor.device)

    def gather_cat(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every process's tensor, concatenated along dim 0 in rank order (sizes may differ)."""
        import torch.distributed as dist

        local = tensor.detach()
        wire = local if self.device.type == "cuda" else local.cpu()
        size = torch.tensor([wire.shape[0]], device=wire.device)
        sizes = [torch.zeros_like(size) for _ in range(self.world_size)]
        dist.all_gather(sizes, size)
        longest = int(max(s.item() for s in sizes))
        padded = torch.zeros((longest, *wire.shape[1:]), dtype=wire.dtype, device=wire.device)
        padded[:wire.shape[0]] = wire
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded)
        return torch.cat([p[:int(s.item())] for p, s in zip(parts, sizes)]).to(tensor.device)


def _destroy_process_group() -> None:
    import gc

    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        # Garbage in reference cycles (say, the frames of a fit interrupted by an exception)
        # may hold collective work; freed after the group is gone, it aborts the process.
        gc.collect()
        dist.barrier()  # nobody tears down connections a peer still uses
        dist.destroy_process_group()


_DISTRIBUTED: Distributed | None = None


def distributed() -> Distributed | None:
    """The process group of this run when launched on several processes, else ``None``."""
    global _DISTRIBUTED
    if _DISTRIBUTED is None and launched_world_size() > 1:
        _DISTRIBUTED = Distributed()
    return _DISTRIBUTED


def launch(fn: Callable[..., Any], *args: Any, num_processes: int = 2,
           start_method: str = "spawn") -> None:
    """Run ``fn(*args)`` in ``num_processes`` data-parallel processes (one machine).

    The analogue of the seed's ``MirroredStrategy``: code inside ``fn`` that builds, compiles and
    fits a model runs on every process, each on its share of every batch. ``fn`` must be
    importable (defined in a module, not a notebook cell, with the spawn start method).
    """
    if not isinstance(num_processes, int) or isinstance(num_processes, bool) or num_processes < 1:
        raise ValueError(f"launch: num_processes={num_processes!r}: expected an int >= 1")
    if torch.cuda.is_available():
        if num_processes > torch.cuda.device_count():
            raise ValueError(f"launch: num_processes={num_processes} but this machine has "
                             f"{torch.cuda.device_count()} CUDA devices")
    elif num_processes > (os.cpu_count() or 1):
        raise ValueError(f"launch: num_processes={num_processes} but this machine has "
                         f"{os.cpu_count()} CPU cores; start at most one process per core")
    if num_processes == 1:
        fn(*args)
        return
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as sock:  # a free port for the rendezvous
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mp.start_processes(_launched, args=(fn, args, num_processes, port), nprocs=num_processes,
                       start_method=start_method, join=True)


def _launched(rank: int, fn: Callable[..., Any], args: tuple, world_size: int, port: int) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
                       "LOCAL_WORLD_SIZE": str(world_size)})
    fn(*args)
