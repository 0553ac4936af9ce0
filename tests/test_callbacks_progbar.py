"""ProgressBar output: Keras line format, live redraws by time, and how often logs are read."""

from __future__ import annotations

import re
from io import StringIO

import pytest
import torch
from rich.console import Console

import fitorch.callbacks.progbar as progbar
from fitorch.callbacks import BatchLogs, CallbackList, ProgressBar
from fitorch.callbacks.progbar import format_time_per_step, format_value, resolve_verbose

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
EPOCH_LOGS = {"loss": 0.1234, "accuracy": 0.95, "val_loss": 0.0001234, "val_accuracy": 0.9}
FINAL = "loss: 0.1234 - accuracy: 0.9500 - val_loss: 1.2340e-04 - val_accuracy: 0.9000"


class Clock:
    """A fake time.monotonic that the loop advances: output is exact, never timing-dependent."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(progbar, "_now", c)
    return c


class Reads:
    def __init__(self) -> None:
        self.count = 0

    def logs(self, values):
        def compute():
            self.count += 1
            return dict(values)
        return BatchLogs(compute)


def run_fit(bar, clock, epochs=2, steps=40, known_steps=True, step_time=0.025, val_time=0.3):
    """Calls the hooks as fit does, validation included (3 batches through on_test_*)."""
    reads = Reads()
    cbs = CallbackList([bar], None, {"epochs": epochs, "steps": steps if known_steps else None,
                                     "verbose": 1})
    cbs.on_train_begin()
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch)
        for batch in range(steps):
            clock.t += step_time
            cbs.batch("on_train_batch_end", batch,
                      reads.logs({"loss": 1.0 / (batch + 1), "accuracy": (batch + 1) / steps}))
        cbs.on_test_begin()
        for batch in range(3):
            cbs.batch("on_test_batch_end", batch, reads.logs({"loss": 9.0}))
        clock.t += val_time
        cbs.on_test_end({"loss": 9.0})
        cbs.on_epoch_end(epoch, dict(EPOCH_LOGS))
    cbs.on_train_end()
    return reads.count


def terminal(width=100, **kwargs):
    return Console(file=StringIO(), force_terminal=True, width=width, **kwargs)


def frames(console):
    """The successive states of the live line, ANSI codes removed."""
    text = ANSI.sub("", console.file.getvalue())
    return [f.rstrip(" ") for f in re.split(r"\r", text) if f.strip()]


def test_not_a_terminal_prints_one_line_per_epoch_and_never_reads_batch_logs(clock):
    out = StringIO()
    reads = run_fit(ProgressBar(file=out), clock)
    line = f"40/40 - 1s - 25ms/step - {FINAL}\n"
    assert out.getvalue() == f"Epoch 1/2\n{line}Epoch 2/2\n{line}"
    assert reads == 0


def test_live_bar_format_and_logs_read_per_refresh_not_per_step(clock):
    console = terminal()
    reads = run_fit(ProgressBar(console=console), clock)
    shown = frames(console)
    assert shown[:2] == ["Epoch 1/2\n",
                         f" 1/40 {'━' * 20} 0s 25ms/step - loss: 1.0000 - accuracy: 0.0250"]
    running = re.compile(r"^ ?\d+/40 ━{20} \d+s 25ms/step - loss: \d\.\d{4} - accuracy: \d\.\d{4}$")
    bars = [f for f in shown if "Epoch" not in f and "val_loss" not in f]
    assert len(bars) > 4 and all(running.match(f) for f in bars)
    final = f"40/40 {'━' * 20} 1s 25ms/step - {FINAL}\n"
    assert [f for f in shown if "val_loss" in f] == [final + "Epoch 2/2\n", final]
    assert "\x1b[32m" in console.file.getvalue()  # the done part of the bar is green
    # 2 epochs x 1 s of steps, redrawn at most every 0.1 s plus the first and last steps:
    # reads follow the clock, not the 80 steps.
    assert 2 <= reads <= 2 * (1.0 / 0.1 + 2)


def test_refresh_interval_sets_how_often_logs_are_read(clock):
    reads = run_fit(ProgressBar(console=terminal(), refresh_interval=0.5), clock, epochs=1,
                    steps=400, step_time=0.01)
    assert reads <= 4 / 0.5 + 2  # 4 s of steps


def test_validation_inside_fit_draws_no_bar(clock):
    console = terminal()
    run_fit(ProgressBar(console=console), clock, epochs=1)
    assert "/3 " not in ANSI.sub("", console.file.getvalue())


def test_eta_while_running_and_elapsed_at_the_end(clock):
    console = terminal()
    run_fit(ProgressBar(console=console), clock, epochs=1, steps=40, step_time=5.0)
    shown = frames(console)
    assert shown[0].startswith(" 1/40 " + "━" * 20 + " 3:15 5s/step")  # 39 steps x 5 s left
    assert f"40/40 {'━' * 20} 200s 5s/step - {FINAL}" in shown[-1]


def test_unknown_steps_learns_the_count_from_the_first_epoch(clock):
    console = terminal()
    run_fit(ProgressBar(console=console), clock, epochs=2, steps=40, known_steps=False)
    shown = frames(console)
    assert shown[1] == "      1/Unknown 0s 25ms/step - loss: 1.0000 - accuracy: 0.0250"
    epoch2 = [i for i, f in enumerate(shown) if "Epoch 2/2" in f][0]
    assert re.match(r"^ +\d+/Unknown ", shown[epoch2 - 1])
    assert shown[epoch2].startswith(f"40/40 {'━' * 20} 1s 25ms/step")  # the finished line
    assert shown[epoch2 + 1].startswith(" 1/40 ")  # the second epoch knows the target


def test_line_wider_than_the_terminal_is_truncated_while_live(clock):
    console = terminal(width=50)
    run_fit(ProgressBar(console=console), clock, epochs=1)
    shown = frames(console)
    assert all(len(f) <= 49 and f.endswith("…") for f in shown[1:-1])
    assert FINAL in shown[-1]  # the finished line is kept whole


def test_notebook_redraws_with_carriage_returns_without_truncating(clock):
    console = Console(file=StringIO(), force_jupyter=True, width=40)
    run_fit(ProgressBar(console=console), clock, epochs=1)
    raw = console.file.getvalue()
    assert raw.count("\r") > 2 and "…" not in raw
    assert FINAL in ANSI.sub("", raw)


def test_verbose_2_prints_plain_lines_even_in_a_terminal(clock):
    console = terminal()
    reads = run_fit(ProgressBar(verbose=2, console=console), clock, epochs=1)
    assert console.file.getvalue() == f"40/40 - 1s - 25ms/step - {FINAL}\n"  # no header: 1 epoch
    assert reads == 0


def test_verbose_0_and_params_verbose(clock):
    console = terminal()
    run_fit(ProgressBar(verbose=0, console=console), clock)
    assert console.file.getvalue() == ""
    out = StringIO()
    bar = ProgressBar(file=out)  # verbose=None: taken from params
    CallbackList([bar], None, {"epochs": 1, "steps": 1, "verbose": 0}).on_train_begin()
    bar.on_epoch_begin(0)
    bar.on_epoch_end(0, {"loss": 1.0})
    assert out.getvalue() == ""


def test_evaluate_and_predict_show_their_own_bar(clock):
    out = StringIO()
    cbs = CallbackList([ProgressBar(file=out)], None, {"steps": 5, "verbose": 1})
    cbs.on_test_begin()
    for batch in range(5):
        clock.t += 0.01
        cbs.batch("on_test_batch_end", batch, None)
    cbs.on_test_end({"loss": 0.5, "accuracy": 0.25})
    assert out.getvalue() == "5/5 - 0s - 10ms/step - loss: 0.5000 - accuracy: 0.2500\n"

    def must_not_read():
        raise AssertionError("predict outputs were read")
    console = terminal()
    cbs = CallbackList([ProgressBar(console=console)], None, {"steps": 4, "verbose": 1})
    cbs.on_predict_begin()
    for batch in range(4):
        clock.t += 2e-4
        cbs.batch("on_predict_batch_end", batch, BatchLogs(must_not_read))
    cbs.on_predict_end()
    assert frames(console)[-1] == f"4/4 {'━' * 20} 0s 200us/step\n"


def test_fit_ending_inside_an_epoch_ends_the_line(clock):
    console = terminal()
    cbs = CallbackList([ProgressBar(console=console)], None, {"epochs": 3, "steps": 10})
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for batch in range(4):
        clock.t += 0.5
        cbs.batch("on_train_batch_end", batch, BatchLogs(lambda: {"loss": 1.0}))
    cbs.on_train_end()
    assert ANSI.sub("", console.file.getvalue()).endswith("loss: 1.0000\n")


def test_default_output_follows_sys_stdout(clock, capsys):
    run_fit(ProgressBar(), clock, epochs=1, steps=2)
    assert capsys.readouterr().out == f"2/2 - 0s - 25ms/step - {FINAL}\n"


def test_only_the_main_process_prints(clock, monkeypatch):
    monkeypatch.setattr(torch.distributed, "is_available", lambda: True)
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "get_rank", lambda: 3)
    console = terminal()
    assert run_fit(ProgressBar(console=console), clock) == 0
    assert console.file.getvalue() == ""


def test_resolve_verbose():
    assert resolve_verbose("auto", terminal()) == 1
    assert resolve_verbose("auto", Console(file=StringIO(), force_jupyter=True)) == 1
    assert resolve_verbose("auto", Console(file=StringIO())) == 2
    assert resolve_verbose("auto", Console(file=StringIO(), force_terminal=True,
                                           _environ={"TERM": "dumb"})) == 2
    assert resolve_verbose("auto", Console(file=StringIO(), force_terminal=True,
                                           _environ={"TTY_INTERACTIVE": "0"})) == 2
    assert [resolve_verbose(v) for v in (0, 1, 2)] == [0, 1, 2]
    with pytest.raises(ValueError, match="verbose must be 0, 1, 2 or 'auto', got 3"):
        resolve_verbose(3)


@pytest.mark.parametrize("kwargs, match", [
    ({"count_mode": "samples"}, "count_mode must be 'steps'"),
    ({"verbose": True}, "verbose must be"),
    ({"file": StringIO(), "console": Console()}, "either file or console"),
    ({"refresh_interval": -1}, "refresh_interval must be")])
def test_progress_bar_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProgressBar(**kwargs)


def test_number_and_time_formats():
    assert [format_value(v) for v in (0.12345, -0.5, 1234.5, 5e-4, 0.0)] == [
        "0.1235", "-0.5000", "1234.5000", "5.0000e-04", "0.0000e+00"]
    assert format_value(float("nan")) == "nan"
    assert [format_time_per_step(s) for s in (2.0, 0.037, 0.00085, 0)] == [
        "2s/step", "37ms/step", "850us/step", "0s/step"]
    assert progbar._format_eta(3700) == "1:01:40" and progbar._format_eta(125) == "2:05"


def test_a_print_at_epoch_end_starts_on_its_own_line_after_the_finished_bar(clock):
    import fitorch as ft

    console = terminal()

    class Printer(ft.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            console.file.write(f"PRINTED {epoch} val_loss={logs['val_loss']:.4f}\n")

    torch.manual_seed(0)
    model = ft.Model(torch.nn.Linear(3, 1))
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    x, y = torch.randn(40, 3), torch.randn(40, 1)
    history = model.fit(x, y, batch_size=10, epochs=2, validation_data=(x, y),
                        callbacks=[Printer(), ProgressBar(verbose=1, console=console)])
    lines = ANSI.sub("", console.file.getvalue()).split("\n")
    for epoch in range(2):
        printed = lines.index(f"PRINTED {epoch} val_loss="
                              f"{history.history['val_loss'][epoch]:.4f}")  # a whole line
        # just above it: the bar's last state, finished, with the validation values
        assert re.search(r"4/4 ━{20} \d+s \d+\w?s/step - loss: [\d.]+ - val_loss: [\d.]+ *$",
                         lines[printed - 1].split("\r")[-1])
        # and the bar is not drawn again after the print
        assert not lines[printed + 1].strip() or lines[printed + 1] == "Epoch 2/2"
    assert sum("val_loss" in line for line in lines if "PRINTED" not in line) == 2
