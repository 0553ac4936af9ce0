"""A small training run for the resume tests: ``python resume_script.py BACKUP_DIR OUT [KILL]``.

Deterministic (seeded) ring data, an MLP with Dropout (so the RNG matters), shuffling, Adam with a
StepLR schedule and BackupAndRestore every 3 batches. With KILL=``epoch:step`` the process
SIGKILLs itself after that training batch (0-based), as a crash would.
"""

from __future__ import annotations

import os
import signal
import sys

import torch
from torch import nn

import fitorch as ft
from fitorch import callbacks, layers


class KillAt(callbacks.Callback):
    """SIGKILL this process after batch ``step`` of epoch ``epoch``."""

    def __init__(self, epoch: int, step: int) -> None:
        super().__init__()
        self.at, self.epoch = (epoch, step), -1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    backup_dir, out = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    angle = torch.rand(120) * 6.2832
    radius = torch.cat([torch.rand(60) * 0.5, 1 + torch.rand(60) * 0.5])
    x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    y = (radius > 0.75).float().unsqueeze(1)
    model = ft.Sequential([layers.Dense(16, activation="relu", input_shape=(2,)),
                           layers.Dropout(0.3), layers.Dense(1)])
    model.compile(optimizer="adam", loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"],
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 2, 0.5))
    cbs: list = [callbacks.BackupAndRestore(backup_dir, save_freq=3)]
    if len(sys.argv) > 3:
        epoch, step = (int(v) for v in sys.argv[3].split(":"))
        cbs.append(KillAt(epoch, step))
    history = model.fit(x, y, batch_size=16, epochs=4, shuffle=True, verbose=0, callbacks=cbs,
                        validation_split=0.2)
    model.save_weights(out)
    with open(out + ".epochs", "w") as f:  # the epochs and every logged value
        f.write(repr((history.epoch, history.history)))


if __name__ == "__main__":
    main()
