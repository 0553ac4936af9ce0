"""A callback that kills a run mid-epoch, for tests of resuming from backups."""

import fitorch as ft


class Crash(ft.callbacks.Callback):
    """Dies (without ``on_train_end``) after batch ``step`` of ``epoch``, on every process."""

    def __init__(self, epoch: int, step: int) -> None:
        super().__init__()
        self.at, self.epoch = (epoch, step), -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            raise KeyboardInterrupt  # the run dies without on_train_end
