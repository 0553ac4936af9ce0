"""EarlyStopping: stop training when a monitored value stops improving."""

from __future__ import annotations

from fitorch.callbacks._dist import print_msg
from fitorch.callbacks.monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop ``fit`` when ``monitor`` has not improved for ``patience`` epochs (Keras 3 semantics).

    Args:
        monitor: logged value to watch, e.g. ``"val_loss"`` or ``"val_accuracy"``; an epoch that
            did not log it is skipped with a warning.
        min_delta: an epoch improves only if it beats the best by more than this.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints when training stops and when weights are restored.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (accuracy/AUC-like names are maximized, the
            rest minimized).
        baseline: the counter of epochs without improvement only resets once the value also
            beats this baseline.
        restore_best_weights: at the end of training, load the weights of the best epoch
            (kept as a CPU copy of ``model.state_dict()``; under FSDP each process keeps its
            shards), whether or not training stopped early.
        start_from_epoch: epochs (warm-up) to ignore before watching the value.

    Example:

    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> # min_delta so large that no epoch counts as an improvement after the first
    >>> stop = ft.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=2)
    >>> history = model.fit(x, y, epochs=10, verbose=0, callbacks=[stop])
    >>> history.epoch, stop.stopped_epoch
    ([0, 1, 2], 2)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        for name, value in (("patience", patience), ("start_from_epoch", start_from_epoch)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        super().__init__(monitor, mode, min_delta=min_delta)
        self.baseline = None if baseline is None else float(baseline)
        self.patience = patience
        self.verbose = verbose
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights: dict | None = None
        self._last_epoch: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        # The same instance may be passed to several fit() calls.
        self._reset()

    def _snapshot(self) -> dict:
        from fitorch.training.sharding import snapshot

        return snapshot(self.model)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._last_epoch = epoch
        current = self._monitor_value(logs, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until something improves, the first watched epoch's weights are the best known.
            self.best_weights = self._snapshot()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._snapshot()
            # Restart the count only when the value beats both the baseline and the best.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg("Restoring model weights from the end of the best epoch: "
                          f"{self.best_epoch + 1}.")
            # When the last epoch was the best, the model already holds those weights.
            if self.best_epoch != self._last_epoch:
                self.model.load_state_dict(self.best_weights)
