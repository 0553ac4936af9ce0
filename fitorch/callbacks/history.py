"""History: the per-epoch logs of a ``fit`` call."""

from __future__ import annotations

from typing import Any

from fitorch.callbacks.callback import Callback


class History(Callback):
    """Record the logs of every epoch; ``fit`` returns it (and keeps it as ``model.history``).

    ``history.history`` maps each logged name (``loss``, the metrics, ``val_*``, a callback's
    ``learning_rate``...) to a list with one value per epoch (``nan`` for epochs that did not log
    it, e.g. with ``validation_freq > 1``); ``history.epoch`` lists the epochs (from 0). A second
    ``fit`` of the same model goes on recording into the same History, as in Keras.
    ``to_pandas()`` gives the table as a ``pandas.DataFrame`` with an ``epoch`` column counted
    from 1.

    Example:

    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)
    >>> history
    History(epochs=3, keys=['loss', 'val_loss'])
    >>> len(history.history["val_loss"]), history.epoch
    (3, [0, 1, 2])
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        # A second fit() on the same model continues the same History, as in Keras.
        if self.model is not None and getattr(self.model, "history", None) is not self:
            self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, [])
            # Keep the columns aligned when a key appears later (e.g. validation_freq > 1).
            column = self.history[key]
            column.extend([float("nan")] * (len(self.epoch) - 1 - len(column)))
            column.append(value)

    def to_pandas(self) -> Any:
        """The history as a ``pandas.DataFrame`` with an ``epoch`` column (1-based)."""
        import pandas as pd  # deferred: pandas costs ~0.4 s to import

        n = len(self.epoch)
        columns: dict[str, list[float]] = {"epoch": [e + 1 for e in self.epoch]}
        for key, values in self.history.items():
            columns[key] = values + [float("nan")] * (n - len(values))
        return pd.DataFrame(columns)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
