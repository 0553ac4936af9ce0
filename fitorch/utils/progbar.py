"""Keras's ``Progbar`` utility, and the bar drawing it shares with the ``ProgressBar`` callback.

The drawing lives here, below ``fitorch.callbacks``, so that both the utility and the callback
use the same code without ``utils`` importing anything from above it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

import numpy as np

_BAR_WIDTH = 20


def make_console(file: IO[str] | None) -> Any:
    from rich.console import Console  # deferred: only a bar that shows anything needs rich

    # Console() without a file follows sys.stdout as it is when written to (pytest, Jupyter).
    return Console(file=file) if file is not None else Console()


def is_live(console: Any) -> bool:
    """Whether lines can be redrawn in place: a notebook, or an interactive terminal (not a
    'dumb' one, nor one marked TTY_INTERACTIVE=0 as some CI systems do)."""
    interactive = getattr(console, "is_interactive",
                          console.is_terminal and not console.is_dumb_terminal)
    return bool(console.is_jupyter or interactive)


def resolve_verbose(verbose: int | str, console: Any = None) -> int:
    """``verbose`` as 0, 1 or 2. ``"auto"`` is 1 (a live bar) when the output (``console``, a
    rich Console; default: stdout) is a terminal or a notebook, and 2 (one line per epoch)
    otherwise, e.g. in CI logs or a file."""
    if verbose == "auto":
        return 1 if is_live(console if console is not None else make_console(None)) else 2
    if verbose in (0, 1, 2) and not isinstance(verbose, bool):
        return int(verbose)
    raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")


def format_value(value: Any) -> str:
    """A logged number as Keras prints it: 4 decimals, scientific when tiny."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_logs(logs: Mapping[str, Any] | None) -> str:
    """`` - loss: 0.1234 - accuracy: 0.9500`` (reading ``logs``, so it syncs lazy batch logs)."""
    return "".join(f" - {key}: {format_value(value)}" for key, value in (logs or {}).items())


def format_time_per_step(seconds: float, unit: str = "step") -> str:
    """``2s/step``, ``37ms/step`` or ``850us/step``."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds: float) -> str:
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds




def count_text(seen: int, target: int | None) -> str:
    """``" 7/40"``: steps done over the target, right-aligned to the target's width."""
    digits = len(str(target))
    return f"{seen:>{digits}}/{target}"


def bar_text(seen: int, target: int | None, elapsed: float, per_step: float,
             logs: Mapping[str, Any] | None, final: bool, width: int = _BAR_WIDTH,
             unit: str = "step") -> Any:
    """One bar line as rich ``Text``: count, bar, ETA (or elapsed time), time per step, logs."""
    from rich.text import Text

    text = Text()
    if target:
        text.append(count_text(seen, target), style="bold")
        text.append(" ")
        done = int(width * min(seen / target, 1.0))
        text.append("━" * done, style="green")
        text.append("━" * (width - done), style="bright_black")
    else:
        text.append(f"{seen:7d}/Unknown", style="bold")
    if final or not target:
        text.append(f" {elapsed:.0f}s", style="bold")
    else:
        text.append(" " + format_eta(per_step * (target - seen)), style="bold")
    text.append(" " + format_time_per_step(per_step, unit) + format_logs(logs))
    return text


def draw_line(console: Any, text: Any, prev_width: int, final: bool) -> tuple[str, int]:
    """What to write to redraw the line in place, and the width the next redraw must cover."""
    if not final and not console.is_jupyter:
        # A line wider than the terminal wraps, and "\r" could no longer redraw it.
        text.truncate(max(console.width - 1, 1), overflow="ellipsis")
    with console.capture() as captured:
        console.print(text, end="", soft_wrap=True, highlight=False)
    # Spaces blank out what is left of a longer previous line ("\x1b[K" would do it too,
    # but notebooks do not understand it).
    pad = " " * max(0, prev_width - text.cell_len)
    line = "\r" + captured.get() + pad + ("\n" if final else "")
    return line, 0 if final else text.cell_len


class Progbar:
    """A progress bar for your own loops (Keras's ``keras.utils.Progbar``)::

        bar = Progbar(target=len(batches))
        for i, batch in enumerate(batches):
            ...
            bar.update(i + 1, values=[("loss", loss.item())])

    Args:
        target: total number of steps, or ``None`` when unknown.
        width: bar width in characters.
        verbose: 1 = a bar redrawn in place (in a terminal or notebook; elsewhere one line at
            the end), 2 = one line at the end, 0 = silent.
        interval: least number of seconds between two redraws.
        stateful_metrics: names whose values are shown as given; the others are averaged over
            the steps seen (weighted by the steps each ``update`` advances), as in Keras. The
            final update's values are shown as given too (they are epoch results in Keras).
        stateless_metrics: the reverse: only these names are averaged.
        unit_name: what a step is called in the time per step (``"step"``).
    """

    def __init__(self, target: int | None, width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics: Sequence[str] | None = None,
                 stateless_metrics: Sequence[str] | None = None, unit_name: str = "step") -> None:
        if target is not None and (isinstance(target, bool) or not isinstance(target, int)
                                   or target < 0):
            raise ValueError(f"Progbar: target={target!r} must be a non-negative int or None")
        if verbose not in (0, 1, 2) or isinstance(verbose, bool):
            raise ValueError(f"Progbar: verbose={verbose!r} must be 0, 1 or 2")
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"Progbar: width={width!r} must be a positive int")
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = float(interval), unit_name
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar: pass stateful_metrics (the others are averaged) or "
                             "stateless_metrics (only those are averaged), not both")
        self.stateful_metrics = None if stateless_metrics is not None else set(
            stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self._values: dict[str, list[float]] = {}
        self._seen_so_far = 0
        self._start = time.monotonic()
        self._last_update = float("-inf")
        self._prev_width = 0
        self._finalized = False
        self._console: Any = None

    def update(self, current: int, values: Sequence[tuple[str, Any]] | None = None,
               finalize: bool | None = None) -> None:
        """Move to step ``current`` and record ``values`` (a list of ``(name, number)``)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        step_count = max(current - self._seen_so_far, 1)
        for name, value in values or ():
            value = float(value.item() if hasattr(value, "item") else value)
            stateless = (name not in self.stateful_metrics if self.stateful_metrics is not None
                         else name in self.stateless_metrics)  # type: ignore[operator]
            if not stateless or finalize:
                self._values[name] = [value, 1]
            elif name in self._values:
                self._values[name][0] += value * step_count
                self._values[name][1] += step_count
            else:
                self._values[name] = [value * step_count, step_count]
        self._seen_so_far = current
        now = time.monotonic()
        if self.verbose == 0 or self._finalized:
            return
        if self._console is None:
            self._console = make_console(None)
        live = self.verbose == 1 and is_live(self._console)
        per_step = (now - self._start) / current if current else 0.0
        if live and (finalize or now - self._last_update >= self.interval):
            text = bar_text(current, self.target, now - self._start, per_step, self.averages(),
                            finalize, self.width, self.unit_name)
            line, self._prev_width = draw_line(self._console, text, self._prev_width, finalize)
            self._write(line)
            self._last_update = now
        elif finalize and not live:
            target = self.target if self.target is not None else current
            self._write(f"{count_text(current, target)} - {now - self._start:.0f}s - "
                        f"{format_time_per_step(per_step, self.unit_name)}"
                        f"{format_logs(self.averages())}\n")
        self._finalized = bool(finalize)

    def add(self, n: int, values: Sequence[tuple[str, Any]] | None = None) -> None:
        """Advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def averages(self) -> dict[str, float]:
        """The values shown: averages over the steps seen, stateful metrics as last given."""
        return {name: float(np.mean(total / max(1, count)))
                for name, (total, count) in self._values.items()}

    def _write(self, s: str) -> None:
        out = self._console.file
        out.write(s)
        out.flush()
