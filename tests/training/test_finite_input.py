"""A one-shot generator with epochs > 1: as Keras, fit warns that the input ran out of data,
stops, and returns the History of the epochs it trained."""

import pytest
import torch

import fitorch as ft

from .conftest import TinyNet


def batches(x, y, n):
    for i in range(n):
        yield x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]


class Epochs(ft.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.ended, self.train_end = [], None

    def on_epoch_end(self, epoch, logs=None):
        self.ended.append(epoch)

    def on_train_end(self, logs=None):
        self.train_end = dict(logs)


def model():
    torch.manual_seed(0)
    net = ft.Model(TinyNet())
    net.compile(optimizer="sgd", loss="mse", metrics=["mae"], device="cpu")
    return net


def test_a_generator_that_runs_out_stops_training_and_keeps_the_history(regression_data):
    x, y = regression_data
    net, seen = model(), Epochs()
    with pytest.warns(UserWarning, match="ran out of data in epoch 2; interrupting training "
                                         "after epoch 1"):
        history = net.fit(batches(x, y, 3), epochs=3, verbose=0, callbacks=[seen])
    assert history.epoch == [0] and len(history.history["loss"]) == 1
    assert net.history is history
    assert seen.ended == [0]
    assert seen.train_end["loss"] == history.history["loss"][0]
    # what it trained on is the same as one epoch on those batches
    reference = model()
    reference.fit(batches(x, y, 3), epochs=1, verbose=0)
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(net.state_dict()[key], value)


def test_steps_per_epoch_beyond_the_data_finishes_the_short_epoch_then_stops(regression_data):
    x, y = regression_data
    net = model()
    with pytest.warns(UserWarning, match="ran out of data in epoch 2; interrupting training "
                                         "after epoch 2"):
        history = net.fit(batches(x, y, 3), epochs=4, steps_per_epoch=2, verbose=0)
    assert history.epoch == [0, 1]


def test_an_empty_input_is_still_an_error(regression_data):
    x, y = regression_data
    with pytest.raises(ValueError, match="no batches in epoch 1"):
        model().fit(batches(x, y, 0), epochs=2, verbose=0)
