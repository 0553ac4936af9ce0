"""Who is using a model right now, so that threads sharing one model cannot corrupt it.

``predict`` and ``evaluate`` need the model in eval mode, and ``fit`` needs it in train mode;
both are flags on the modules themselves. If each call saved the flag, switched it and put it
back, two overlapping calls from different threads would restore each other's flags at the
wrong time: a forward would run half in train mode (Dropout active, BatchNorm statistics
moving) and the model would be left in eval mode. Here the first inference call to arrive saves
every submodule's flag and switches to eval; later ones share that; the last one to leave
restores the flags. ``fit`` owns the model: inference from another thread while it runs, or
``fit`` while inference runs elsewhere, is refused with a ``ConcurrentUseError`` (a
``RuntimeError``). ``evaluate`` also
serializes on the model, because its loss and metric sums are the model's own.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import Counter
from collections.abc import Iterator

from torch import nn


class ConcurrentUseError(RuntimeError):
    """A call that would change a model another thread is using right now."""


class _Usage:
    """The bookkeeping of one model (guarded by ``lock``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.evaluating = threading.RLock()  # one evaluate at a time: the sums are shared
        self.readers: Counter[int] = Counter()  # inference calls in progress, per thread
        self.saved_modes: list[tuple[nn.Module, bool]] | None = None
        self.trainer: int | None = None  # the thread running fit
        self.fit_depth = 0


_USAGE: weakref.WeakKeyDictionary[nn.Module, _Usage] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def _usage(model: nn.Module) -> _Usage:
    with _REGISTRY_LOCK:
        usage = _USAGE.get(model)
        if usage is None:
            usage = _USAGE[model] = _Usage()
        return usage


def _thread_name(ident: int) -> str:
    for thread in threading.enumerate():
        if thread.ident == ident:
            return repr(thread.name)
    return str(ident)


def _restore_modes(saved: list[tuple[nn.Module, bool]]) -> None:
    # train() on the root first (a module may override it), then any submodule whose own flag
    # differed from the root's, e.g. a BatchNorm the user froze in eval mode.
    saved[0][0].train(saved[0][1])
    for m, mode in saved[1:]:
        if m.training != mode:
            m.training = mode


@contextlib.contextmanager
def inference(model: nn.Module, module: nn.Module, what: str) -> Iterator[None]:
    """Run the body with ``module`` (``model`` or its wrapper) in eval mode, shared safely
    with other threads; ``what`` names the call in errors."""
    usage = _usage(model)
    me = threading.get_ident()
    with usage.lock:
        if usage.trainer is not None and usage.trainer != me:
            raise ConcurrentUseError(
                f"{what}: the model is being trained by fit in thread "
                f"{_thread_name(usage.trainer)}; calling {what} from another thread now would "
                "switch it to eval mode mid-training. Wait for fit to return, or use a copy "
                "of the model (copy.deepcopy) in this thread")
        if not usage.readers:
            usage.saved_modes = [(m, m.training) for m in module.modules()]
            module.eval()
        usage.readers[me] += 1
    try:
        yield
    finally:
        with usage.lock:
            usage.readers[me] -= 1
            if not usage.readers[me]:
                del usage.readers[me]
            if not usage.readers and usage.saved_modes is not None:
                _restore_modes(usage.saved_modes)
                usage.saved_modes = None


@contextlib.contextmanager
def evaluation(model: nn.Module, module: nn.Module, what: str) -> Iterator[None]:
    """``inference`` for a call that accumulates the model's test loss and metrics: one such
    call at a time (others wait for it)."""
    usage = _usage(model)
    with usage.evaluating, inference(model, module, what):
        yield


@contextlib.contextmanager
def training(model: nn.Module) -> Iterator[None]:
    """Mark ``fit`` as running in this thread; refuse if another thread uses the model."""
    usage = _usage(model)
    me = threading.get_ident()
    with usage.lock:
        others = [t for t in usage.readers if t != me]
        if usage.trainer is not None and usage.trainer != me:
            raise ConcurrentUseError(f"fit: the model is already being trained by fit in thread "
                               f"{_thread_name(usage.trainer)}; one fit at a time per model")
        if others:
            raise ConcurrentUseError(f"fit: the model is in use by predict/evaluate in thread "
                               f"{_thread_name(others[0])}; training now would change it under "
                               "that call. Wait for it to return first")
        usage.trainer = me
        usage.fit_depth += 1
    try:
        yield
    finally:
        with usage.lock:
            usage.fit_depth -= 1
            if not usage.fit_depth:
                usage.trainer = None


__all__ = ["ConcurrentUseError", "inference", "evaluation", "training"]
