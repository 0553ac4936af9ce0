"""TerminateOnNaN: stop training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from fitorch.callbacks._dist import print_msg
from fitorch.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stop ``fit`` as soon as a batch's loss is NaN or infinite.

    This reads ``logs["loss"]`` after every training batch, which waits for the device on every
    step (a host sync): it is opt-in for that reason. Without it, ``fit`` still stops at the end
    of an epoch whose loss is NaN. ``raise_error=True`` raises a ``RuntimeError`` instead of
    stopping quietly.
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. "
                               f"Loss value: {loss}. Terminating training immediately.")
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
