"""Every callback hook gets a dict ``logs`` (Keras never passes None), and predict calls
``on_predict_batch_begin`` as well as ``on_predict_batch_end``, once per batch in order."""

import torch
from torch import nn

import fitorch as ft


class Recorder(ft.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def __getattribute__(self, name):
        if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
            def hook(*args, **kwargs):
                # logs come by keyword to batch hooks (as Keras passes them), else positionally
                logs = kwargs["logs"] if "logs" in kwargs else args[-1]
                args = args if "logs" in kwargs else args[:-1]
                assert isinstance(logs, dict) or hasattr(logs, "keys"), (name, logs)
                self.seen.append((name, *args))
            return hook
        return super().__getattribute__(name)

    def _overrides(self, hook):
        return True


def test_every_hook_gets_a_dict_and_predict_batches_begin_and_end():
    model = ft.Model(nn.Linear(3, 1))
    model.compile(optimizer="sgd", loss="mse")
    x, y = torch.randn(10, 3), torch.randn(10, 1)
    recorder = Recorder()
    model.fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=[recorder])
    model.predict(x, batch_size=4, verbose=0, callbacks=[recorder])
    assert ("on_train_begin",) in recorder.seen and ("on_epoch_begin", 0) in recorder.seen
    predict = [entry for entry in recorder.seen if entry[0].startswith("on_predict")]
    assert predict == [("on_predict_begin",)] + [
        (f"on_predict_batch_{when}", step) for step in range(3) for when in ("begin", "end")
    ] + [("on_predict_end",)]
