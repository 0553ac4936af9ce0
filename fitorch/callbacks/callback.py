"""The callback base class, with every Keras hook."""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class of callbacks: subclass it and override the hooks you need.

    ``fit`` calls ``on_train_begin/end``, ``on_epoch_begin/end(epoch, logs)`` and
    ``on_train_batch_begin/end(batch, logs)`` (epochs and batches counted from 0), and for its
    validation the ``on_test_*`` hooks; ``evaluate`` calls the ``on_test_*`` hooks and ``predict``
    the ``on_predict_*`` ones. Keras 2's ``on_batch_begin/end`` run as training-batch hooks.

    ``self.model`` is the model being trained (set with ``set_model``) and ``self.params`` holds
    ``epochs``, ``steps`` (per epoch, ``None`` when unknown) and ``verbose``. ``logs`` are dicts
    of Python floats; a callback may add keys to the epoch logs (``History`` records them). Setting
    ``self.model.stop_training = True`` stops ``fit`` after the current batch. Batch hooks that a
    subclass does not override are never called, so they cost nothing per step.

    Example:

    >>> class CountBatches(ft.callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.batches = 0
    ...     def on_train_batch_end(self, batch, logs=None):
    ...         self.batches += 1
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         logs["batches"] = self.batches
    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[CountBatches()])
    >>> history.history["batches"]
    [2, 4]
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # Keras 2 names, kept so that older callbacks run unchanged.
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def _overrides(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(Callback, hook)

    @property
    def _wants_main_process_only(self) -> bool:
        """Callbacks that write files or print run on the main process only under DDP."""
        return False
