"""Per-batch logs hold the values of their batch, read when a callback looks (no host read
otherwise), and take keys that callbacks write, as Keras's do."""

import pytest
import torch

import fitorch as ft

from .conftest import TinyNet
from .test_no_sync import count_reads


class Keeper(ft.callbacks.Callback):
    """Keeps every batch's logs and reads them only after fit."""

    def __init__(self):
        super().__init__()
        self.kept = []

    def on_train_batch_end(self, batch, logs=None):
        self.kept.append(logs)


class Reader(ft.callbacks.Callback):
    """Reads every batch's logs at once: the values a callback sees at that batch."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(dict(logs))


def fitted(callbacks, metrics, epochs=2, module=None, batches=16):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(8 * batches, 3, generator=g)
    y = (x[:, :1] - x[:, 1:2] > 0).float()
    model = ft.Model(module or TinyNet())
    model.compile(optimizer=ft.optimizers.SGD(learning_rate=0.5), loss="binary_crossentropy",
                  metrics=metrics, device="cpu")
    torch.manual_seed(1)
    return model.fit(x, torch.sigmoid(y * 4 - 2), batch_size=8, epochs=epochs, verbose=0,
                     callbacks=callbacks)


@pytest.mark.parametrize("metrics", [
    ["accuracy", "mae"],  # accumulating metrics, updated in groups of batches
    {"gap": lambda p, t: (p - t).abs().mean()},  # a function metric, updated every step
    None,
])
def test_logs_kept_and_read_later_hold_their_own_batch(metrics):
    reader, keeper = Reader(), Keeper()
    fitted([reader], metrics)
    fitted([keeper], metrics)  # the same run, logs read only now
    later = [dict(logs) for logs in keeper.kept]
    assert len(later) == 32 and len({round(v["loss"], 6) for v in later}) > 10
    assert later == [pytest.approx(seen, rel=1e-6) for seen in reader.seen]


def test_reading_the_logs_of_every_batch_after_the_epoch_costs_no_reads_during_it(monkeypatch):
    keeper = Keeper()
    counter = count_reads(monkeypatch)
    fitted([keeper], ["accuracy"], epochs=1, batches=64)
    during = counter["n"]
    assert during <= 10, during  # a handful per epoch, not one per batch
    assert keeper.kept[0]["loss"] != keeper.kept[-1]["loss"]


def test_callbacks_write_keys_into_batch_logs():
    class Writer(ft.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            logs["batch_number"] = batch
            logs["loss"] = -1.0  # replacing a value, as Keras callbacks may

    class After(Keeper):
        pass

    after = After()
    fitted([Writer(), after], ["accuracy"], epochs=1)
    assert [logs["batch_number"] for logs in after.kept] == list(range(16))
    logs = after.kept[3]
    assert logs["loss"] == -1.0 and set(logs) == {"loss", "accuracy", "batch_number"}
    del logs["batch_number"]
    assert "batch_number" not in logs
