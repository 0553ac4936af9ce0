"""CSVLogger: write each epoch's logs as a row of a CSV file."""

from __future__ import annotations

import csv
import io
import os

from fitorch.callbacks._dist import is_main_process
from fitorch.callbacks.callback import Callback
from fitorch.saving import atomic_write


def _cell(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)  # str(float) is the shortest text that reads back to the same float


class CSVLogger(Callback):
    """Write one row per epoch to a CSV file: the epoch (from 0, as in Keras), then the logs.

    The first column is ``epoch``, the others the logged values in sorted order (``NA`` where an
    epoch did not log one). The whole file is rewritten atomically every epoch, so a reader never
    sees a torn last row. Only the main process writes under distributed training.

    Args:
        filename: the CSV file; its folder must exist.
        separator: the one-character column separator.
        append: keep the rows already in the file (e.g. when resuming) instead of replacing it.

    Example:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> _ = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
    ...               callbacks=[ft.callbacks.CSVLogger(path)])
    >>> [line.split(",")[0] for line in open(path).read().splitlines()]
    ['epoch', '0', '1']
    >>> open(path).readline().strip()
    'epoch,loss,val_loss'
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",",
                 append: bool = False) -> None:
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"separator must be a single character, got {separator!r}")
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self._keys: list[str] = []
        self._rows: list[dict[str, str]] = []

    @property
    def _wants_main_process_only(self) -> bool:
        return True

    def _read_existing(self) -> None:
        with open(self.filename, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter=self.sep)
            header = list(reader.fieldnames or [])
            self._rows = [dict(row) for row in reader]
        self._keys = [k for k in header if k != "epoch"]

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._keys, self._rows = [], []
        if self.append and os.path.isfile(self.filename):
            self._read_existing()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not is_main_process():
            return
        logs = logs or {}
        self._keys = sorted(set(self._keys) | set(logs))
        self._rows.append({"epoch": str(epoch), **{k: _cell(v) for k, v in logs.items()}})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["epoch", *self._keys], delimiter=self.sep,
                                restval="NA", lineterminator="\n")
        writer.writeheader()
        writer.writerows(self._rows)
        # The whole file is rewritten atomically every epoch rather than appended to: a crash or
        # Ctrl-C mid-write can never leave a torn last row, a reader (pandas in a notebook, a
        # dashboard) always sees a complete table, and a column that first appears in a later
        # epoch (validation every few epochs, a learning rate) gets a proper header. The file is
        # a few bytes per epoch, so rewriting it costs nothing next to an epoch of training.
        with atomic_write(self.filename, "w", newline="") as f:
            f.write(buffer.getvalue())
