"""Dispatches hooks to a list of callbacks, calling per-batch hooks only where overridden."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any

from fitorch.callbacks.callback import Callback

_BATCH_HOOKS = tuple(f"on_{mode}_batch_{when}" for mode in ("train", "test", "predict")
                     for when in ("begin", "end"))


class BatchLogs(MutableMapping):
    """Batch-level logs that read the device only when a callback looks at them.

    Reading metrics means a host sync; a progress bar that refreshes twice a second should pay for
    that twice a second, not on every step. ``compute`` returns the values *as they were at this
    batch* whenever it is called (the trainer hands it a snapshot), so a callback may keep the logs
    of every batch and read them later. It is a mutable mapping: callbacks may also add or replace
    keys, as Keras callbacks do, and the values so written are kept as given.

    Args:
        compute: a function returning the batch's logs as a dict; called at most once, on the
            first read.

    Example:

    >>> calls = []
    >>> logs = ft.callbacks.BatchLogs(lambda: calls.append(1) or {"loss": 0.5})
    >>> logs["note"] = "kept"
    >>> logs["note"], calls
    ('kept', [])
    >>> dict(logs), calls
    ({'loss': 0.5, 'note': 'kept'}, [1])
    """

    __slots__ = ("_compute", "_values")  # one is made per batch: keep it small and quick

    def __init__(self, compute: Callable[[], dict[str, Any]]) -> None:
        self._compute: Callable[[], dict[str, Any]] | None = compute
        self._values: dict[str, Any] = {}

    def _resolved(self) -> dict[str, Any]:
        if self._compute is not None:
            compute, self._compute = self._compute, None  # also frees the snapshot
            self._values = {**compute(), **self._values}  # keys written so far win
        return self._values

    def __getitem__(self, key: str) -> Any:
        if key in self._values:  # written by a callback: no need to read the device
            return self._values[key]
        return self._resolved()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._values[key] = value

    def __delitem__(self, key: str) -> None:
        del self._resolved()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._resolved())

    def __len__(self) -> int:
        return len(self._resolved())

    def __repr__(self) -> str:
        return repr(self._resolved())


class CallbackList:
    """Dispatch the hooks of one ``fit`` / ``evaluate`` / ``predict`` call to its callbacks.

    The loops build it; it gives each callback the model and the run's parameters, and calls
    ``on_<hook>(...)`` on every callback in order. Per-batch hooks are looked up once and called
    only on callbacks that override them. Under several processes, callbacks that print or write
    files (progress bar, ``CSVLogger``, ``TensorBoard``) are kept on the main process only.

    Args:
        callbacks: the ``Callback`` objects, in calling order.
        model: the model, given to each callback's ``set_model``.
        params: the run's parameters (``epochs``, ``steps``, ``verbose``), given to
            ``set_params``.

    Example:

    >>> history = ft.callbacks.History()
    >>> callbacks = ft.callbacks.CallbackList([history], model=None, params={"epochs": 1})
    >>> callbacks.on_epoch_end(0, {"loss": 0.25})
    >>> history.params, history.history
    ({'epochs': 1}, {'loss': [0.25]})
    """

    def __init__(self, callbacks: list[Callback], model: Any, params: dict[str, Any]) -> None:
        from fitorch.callbacks._dist import is_main_process

        # Under several processes, callbacks that print or write files run on rank 0 only.
        main = is_main_process()
        self.callbacks = [cb for cb in callbacks if main or not cb._wants_main_process_only]
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        # Per-batch hooks are looked up once: a list of bound methods (usually empty).
        self._batch: dict[str, list[Callable]] = {
            hook: [getattr(cb, hook) for cb in self.callbacks if cb._overrides(hook)]
            for hook in _BATCH_HOOKS}
        for old, new in (("on_batch_begin", "on_train_batch_begin"),
                         ("on_batch_end", "on_train_batch_end")):
            self._batch[new] += [getattr(cb, old) for cb in self.callbacks if cb._overrides(old)]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {} if logs is None else logs
        # A live progress bar ends its line before any callback runs, so what callbacks print
        # at the end of an epoch starts on a line of its own.
        for cb in self.callbacks:
            finish = getattr(cb, "finish_epoch_line", None)
            if finish is not None:
                finish(epoch, logs)
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def wants(self, hook: str) -> bool:
        """Whether any callback overrides this per-batch hook."""
        return bool(self._batch[hook])

    def batch(self, hook: str, batch: int, logs: Mapping | None = None) -> None:
        logs = {} if logs is None else logs  # Keras: callbacks always get a logs mapping
        for fn in self._batch[hook]:
            fn(batch, logs=logs)  # by keyword, as Keras calls batch hooks

    def __getattr__(self, hook: str) -> Callable[..., None]:
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        leading = 1 if hook.startswith("on_epoch_") else 0  # the epoch number

        def dispatch(*args: Any, logs: Mapping | None = None) -> None:
            if len(args) > leading:
                args, logs = args[:leading], args[leading]
            logs = {} if logs is None else logs  # Keras: callbacks always get a logs mapping
            for cb in self.callbacks:
                getattr(cb, hook)(*args, logs)
        return dispatch

    def __iter__(self) -> Iterator[Callback]:
        return iter(self.callbacks)
