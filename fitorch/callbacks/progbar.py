"""ProgressBar: Keras-style progress output for ``fit``, ``evaluate`` and ``predict``.

In a terminal or a notebook one line is redrawn in place::

    12/40 ━━━━━━━━━━━━━━━━━━━━ 1s 37ms/step - loss: 0.1234 - accuracy: 0.9500

Anywhere else (CI logs, a file) each epoch prints one finished line instead::

    Epoch 1/3
    40/40 - 1s - 25ms/step - loss: 0.1234 - accuracy: 0.9500 - val_loss: 0.2345

The bar redraws by time (every ``refresh_interval`` seconds and on the last step), and only a
redraw reads the batch logs, so the device is waited on a few times a second, never per step.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import IO, Any

from fitorch.callbacks._dist import is_main_process
from fitorch.callbacks.callback import Callback
from fitorch.utils.progbar import (bar_text, count_text, draw_line,  # noqa: F401 (re-exported)
                                   format_logs, format_time_per_step, format_value,
                                   resolve_verbose)
from fitorch.utils.progbar import format_eta as _format_eta  # noqa: F401
from fitorch.utils.progbar import is_live as _is_live
from fitorch.utils.progbar import make_console as _make_console

# The clock, looked up at call time so tests can drive the bar with a fake one.
_now = time.monotonic


class ProgressBar(Callback):
    """Show Keras's progress display for ``fit``, ``evaluate`` and ``predict`` (``ProgbarLogger``).

    ``fit(verbose=...)`` adds one by itself; pass one in ``callbacks`` to choose where it writes
    or how often it redraws. The live bar redraws by time, and only a redraw reads the batch logs,
    so the device is waited on a few times a second, never on every step. Validation inside
    ``fit`` draws no bar of its own (its values join the epoch's line), as in Keras. Only the main
    process prints under distributed training.

    Args:
        count_mode: ``"steps"``, the only mode (fitorch counts batches, not samples); anything
            else raises.
        verbose: 1 = a live bar per epoch (one line per epoch when the output is not a terminal
            or notebook), 2 = one line per epoch, 0 = nothing, ``"auto"`` = 1 in a
            terminal / notebook, else 2. ``None`` takes ``params["verbose"]`` from the loop.
        file: text stream to write to (default: ``sys.stdout`` at the time of writing).
        console: a ``rich.console.Console`` to write to instead of ``file``; its
            ``is_interactive`` / ``is_jupyter`` decide between the live bar and plain lines.
        refresh_interval: least number of seconds between two redraws of the live bar.

    Example:

    >>> import io
    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = torch.randn(8, 4), torch.randn(8, 1)
    >>> out = io.StringIO()
    >>> bar = ft.callbacks.ProgressBar(verbose=2, file=out)
    >>> _ = model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[bar])
    >>> print(out.getvalue(), end="")
    Epoch 1/2
    2/2 - ...s - ...s/step - loss: ...
    Epoch 2/2
    2/2 - ...s - ...s/step - loss: ...
    """

    def __init__(self, count_mode: str = "steps", verbose: int | str | None = None,
                 file: IO[str] | None = None, console: Any = None,
                 refresh_interval: float = 0.1) -> None:
        if count_mode != "steps":
            raise ValueError(f"count_mode must be 'steps' (fitorch counts batches), "
                             f"got {count_mode!r}")
        if verbose is not None and verbose != "auto" and (
                verbose not in (0, 1, 2) or isinstance(verbose, bool)):
            raise ValueError(f"verbose must be 0, 1, 2, 'auto' or None, got {verbose!r}")
        if file is not None and console is not None:
            raise ValueError("pass either file or console to ProgressBar, not both")
        if not isinstance(refresh_interval, (int, float)) or refresh_interval < 0:
            raise ValueError(f"refresh_interval must be a number of seconds >= 0, "
                             f"got {refresh_interval!r}")
        super().__init__()
        self.verbose = verbose
        self.file = file
        self.console = console
        self.refresh_interval = float(refresh_interval)
        self._in_fit = False
        self._known_target: int | None = None
        self._active = self._live = False
        self._prev_width = 0
        self._line_done = False  # finish_epoch_line ran for this epoch

    @property
    def _wants_main_process_only(self) -> bool:
        return True

    # -- run setup -------------------------------------------------------------------------

    def _open(self) -> None:
        """Pick the output and the style for one fit / evaluate / predict run."""
        self._console = self.console if self.console is not None else _make_console(self.file)
        verbose = self.verbose if self.verbose is not None else self.params.get("verbose", 1)
        self._mode = resolve_verbose(verbose, self._console)
        self._live = self._mode == 1 and _is_live(self._console)
        self._active = self._mode != 0 and is_main_process()

    def _start_bar(self) -> None:
        steps = self.params.get("steps")
        self._target = steps if steps else self._known_target
        self._seen = 0
        self._start = _now()
        self._first_step_time: float | None = None
        self._last_step_time = self._start
        self._last_draw = float("-inf")
        self._prev_width = 0

    # -- drawing ---------------------------------------------------------------------------

    def _time_per_step(self) -> float:
        current, now = self._seen, self._last_step_time
        if not current:
            return 0.0
        # Leaves out the first step, which carries one-off costs (compilation, warm-up).
        if self._first_step_time is not None and current > 1:
            return (now - self._first_step_time) / (current - 1)
        return (now - self._start) / current

    def _count(self) -> str:
        return count_text(self._seen, self._target)

    def _redraw(self, logs: Mapping[str, Any] | None, now: float, final: bool) -> None:
        text = bar_text(self._seen, self._target, now - self._start, self._time_per_step(), logs,
                        final)
        line, self._prev_width = draw_line(self._console, text, self._prev_width, final)
        self._write(line)
        self._last_draw = now

    def _write(self, s: str) -> None:
        out = self._console.file
        out.write(s)
        out.flush()

    def _update(self, batch: int, logs: Mapping[str, Any] | None) -> None:
        if not self._active:
            return
        now = _now()
        self._seen = batch + 1
        self._last_step_time = now
        if self._seen == 1:
            self._first_step_time = now
        if not self._live:
            return
        last = self._target is not None and self._seen >= self._target
        if last or now - self._last_draw >= self.refresh_interval:
            self._redraw(logs, now, final=False)

    def _finish(self, logs: Mapping[str, Any] | None) -> None:
        if not self._active:
            return
        if not self._target:
            self._target = self._known_target = self._seen
        now = _now()
        if self._live:
            self._redraw(logs, now, final=True)
        else:
            self._write(f"{self._count()} - {now - self._start:.0f}s - "
                        f"{format_time_per_step(self._time_per_step())}{format_logs(logs)}\n")

    # -- hooks -----------------------------------------------------------------------------

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._in_fit = True  # validation inside fit draws no bar of its own
        self._open()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._in_fit = False
        if self._active and self._live and self._prev_width:
            # fit ended inside an epoch (the trainer raised on a NaN loss): end the bar's line
            # so that what is printed next starts on a line of its own.
            self._write("\n")
            self._prev_width = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self._active:
            return
        self._start_bar()
        epochs = self.params.get("epochs") or 1
        if epochs > 1:  # Keras prints no header for a single epoch
            self._write(f"Epoch {epoch + 1}/{epochs}\n")

    def on_train_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        self._update(batch, logs)

    def finish_epoch_line(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Draw the live bar's final line now, with the epoch's values, and end it: called
        before the other callbacks' ``on_epoch_end``, so whatever they print starts on a line of
        its own instead of at the end of the bar (values they add to ``logs`` there, such as
        ``learning_rate``, are in the History but not on a live line)."""
        if self._active and self._live and not self._line_done:
            self._finish(logs)
            self._line_done = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._line_done:
            self._line_done = False
            return
        self._finish(logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._in_fit:
            self._open()
            if self._active:
                self._start_bar()

    def on_test_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._open()
        if self._active:
            self._start_bar()

    def on_predict_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        self._update(batch, None)  # predict logs hold outputs, not values to show

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._finish(None)
