"""TerminateOnNaN: stop training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from fitorch.callbacks._dist import print_msg
from fitorch.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stop ``fit`` as soon as a training batch's loss is NaN or infinite.

    It reads ``logs["loss"]`` after every training batch, which waits for the device on every step
    (a host sync): it is opt-in for that reason. Without it ``fit`` still checks the loss, at the
    end of each epoch (``fit``'s ``on_nan``: by default it raises an error naming the epoch and
    step).

    Args:
        raise_error: raise a ``RuntimeError`` instead of stopping quietly (with a message).

    Example:

    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> x[0, 0] = float("nan")  # the first batch's loss is NaN
    >>> model.fit(x, y, batch_size=4, shuffle=False, check_finite=False, verbose=0,
    ...           callbacks=[ft.callbacks.TerminateOnNaN(raise_error=True)])
    Traceback (most recent call last):
    ...
    RuntimeError: NaN or Inf loss encountered at batch 0. Loss value: nan. ...
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
