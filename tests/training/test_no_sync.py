"""The training step never reads a value back to the host: reads happen per epoch."""

import torch

from .conftest import compiled

_READS = ("item", "__float__", "__bool__", "tolist", "__int__")


def count_reads(monkeypatch):
    counter = {"n": 0}
    for name in _READS:
        original = getattr(torch.Tensor, name)

        def wrapped(self, *a, _original=original, **k):
            counter["n"] += 1
            return _original(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, wrapped)
    return counter


def test_fit_reads_the_device_per_epoch_not_per_step(monkeypatch, binary_data):
    x, y = binary_data
    x, y = x.repeat(10, 1), y.repeat(10, 1)  # 960 samples, 120 steps per epoch at bs 8
    model = compiled(loss="binary_crossentropy", metrics=["accuracy", "mae"],
                     module=torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Sigmoid()))
    model.fit(x[:8], y[:8], epochs=1, verbose=0)  # first batch: shape checks, metric building
    counter = count_reads(monkeypatch)
    model.fit(x, y, batch_size=8, epochs=3, verbose=0)
    # a handful of reads per epoch (loss, NaN check, metrics), nowhere near 120 per epoch
    assert counter["n"] <= 3 * 10, counter["n"]


def test_progress_bar_reads_by_time_not_per_step(monkeypatch, binary_data, capsys):
    x, y = binary_data
    x, y = x.repeat(10, 1), y.repeat(10, 1)
    model = compiled(loss="binary_crossentropy", metrics=["accuracy"],
                     module=torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Sigmoid()))
    model.fit(x[:8], y[:8], epochs=1, verbose=0)
    counter = count_reads(monkeypatch)
    model.fit(x, y, batch_size=8, epochs=2, verbose=1)
    assert counter["n"] <= 2 * 20, counter["n"]
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "accuracy" in out
