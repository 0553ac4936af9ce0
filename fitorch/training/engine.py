"""Device and precision: where the model runs and in which number format.

Single-process runs use torch directly: accelerate's wrappers add Python work to every step and
bring nothing there. Multi-process runs (torchrun / ``accelerate launch``) are the one place
accelerate is imported, from this module only.
"""

from __future__ import annotations

import contextlib
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
