"""TensorBoard: write the training curves for TensorBoard (needs the tensorboard package)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from fitorch.callbacks._dist import is_main_process
from fitorch.callbacks.callback import Callback


class TensorBoard(Callback):
    """Log epoch values (and optionally batch values and weight histograms) for TensorBoard.

    As in Keras, training values go to ``<log_dir>/train`` and validation values to
    ``<log_dir>/validation`` under the same tag (``epoch_loss``, ``epoch_accuracy``...), so
    TensorBoard draws both curves in one chart: run ``tensorboard --logdir <log_dir>``. Needs the
    ``tensorboard`` package (an ``ImportError`` says so). Only the main process writes under
    distributed training.

    Args:
        log_dir: folder for the event files.
        histogram_freq: every that many epochs, write a histogram of every parameter (0 = never).
        update_freq: ``"epoch"``; or ``"batch"`` / an int N to also write ``batch_<name>`` values
            every N training batches (reading batch logs waits for the device, so keep N large).

    Example:

    >>> import os, tempfile
    >>> log_dir = tempfile.mkdtemp()
    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> _ = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
    ...               callbacks=[ft.callbacks.TensorBoard(log_dir)])
    >>> sorted(os.listdir(log_dir))
    ['train', 'validation']
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0,
                 update_freq: str | int = "epoch") -> None:
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (not isinstance(update_freq, int)
                                       or isinstance(update_freq, bool) or update_freq < 1):
            raise ValueError(f"update_freq must be 'epoch', 'batch' or an int >= 1, "
                             f"got {update_freq!r}")
        if not isinstance(histogram_freq, int) or isinstance(histogram_freq, bool) \
                or histogram_freq < 0:
            raise ValueError(f"histogram_freq must be an int >= 0, got {histogram_freq!r}")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:
            raise ImportError("the TensorBoard callback needs the tensorboard package: "
                              "pip install tensorboard") from e
        super().__init__()
        self._writer_class = SummaryWriter
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = update_freq
        self._writers: dict[str, Any] = {}
        # Counts training batches across fit() calls, the x axis of the batch curves.
        self._train_step = 0

    @property
    def _wants_main_process_only(self) -> bool:
        return True

    def _overrides(self, hook: str) -> bool:
        if hook == "on_train_batch_end":
            return self.update_freq != "epoch"
        return super()._overrides(hook)

    def _writer(self, name: str) -> Any:
        if name not in self._writers:
            self._writers[name] = self._writer_class(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_train_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        self._train_step += 1
        # (only called with an int update_freq: see _overrides; the isinstance is for mypy)
        if isinstance(self.update_freq, str) or self._train_step % self.update_freq \
                or not is_main_process():
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            writer.add_scalar(f"batch_{key}", value, self._train_step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not is_main_process():
            return
        for key, value in (logs or {}).items():
            if key.startswith("val_"):
                self._writer("validation").add_scalar(f"epoch_{key[4:]}", value, epoch)
            else:
                self._writer("train").add_scalar(f"epoch_{key}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, param in self.model.named_parameters():
                writer.add_histogram(name, param.detach().float().cpu(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
