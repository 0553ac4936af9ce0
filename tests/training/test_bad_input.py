"""Bad input: a clear error naming the argument and value, raised before anything changes."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fitorch as ft
from fitorch.training.trainer import NonFiniteLossError

from .conftest import TinyNet, compiled


def snapshot(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    after = model.state_dict()
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k


def test_fit_before_compile():
    model = ft.Model(TinyNet())
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(torch.randn(4, 3), torch.randn(4, 1), verbose=0)


def test_compile_without_loss_then_fit():
    model = ft.Model(TinyNet())
    model.compile(optimizer="sgd", device="cpu")
    with pytest.raises(RuntimeError, match="loss"):
        model.fit(torch.randn(4, 3), torch.randn(4, 1), verbose=0)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(optimizer="adamm", loss="mse"), "adam"),
    (dict(optimizer="adam", loss="mean_sqared_error"), "mean_squared_error"),
    (dict(optimizer="adam", loss="mse", metrics=["acuracy"]), "accuracy"),
    (dict(optimizer="adam", loss="mse", gradient_accumulation_steps=0),
     "gradient_accumulation_steps"),
    (dict(optimizer="adam", loss="mse", precision="8-bit"), "precision"),
    (dict(optimizer="adam", loss="mse", device="tpu"), "device"),
])
def test_compile_rejects_bad_arguments_and_keeps_the_model(kwargs, pattern):
    model = ft.Model(TinyNet())
    with pytest.raises((ValueError, TypeError), match=pattern):
        model.compile(**kwargs)
    assert not model.compiled


def test_cuda_on_a_cpu_only_machine_lists_devices():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match=r"CUDA is not available.*\['cpu'"):
        ft.Model(TinyNet()).compile(optimizer="sgd", loss="mse", device="cuda")


def test_fp16_on_cpu_is_refused():
    with pytest.raises(ValueError, match="bf16-mixed"):
        ft.Model(TinyNet()).compile(optimizer="sgd", loss="mse", device="cpu",
                                    precision="16-mixed")


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(x=torch.randn(10, 3), y=torch.randn(9, 1)), r"10 samples but y has 9"),
    (dict(x=torch.randn(0, 3), y=torch.randn(0, 1)), "empty"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), validation_split=1.0), "validation_split"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), validation_split=-0.1),
     "validation_split"),
    (dict(x=DataLoader(TensorDataset(torch.randn(8, 3), torch.randn(8, 1))),
          validation_split=0.2), "validation_split"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), batch_size=0), "batch_size=0"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), epochs=-1), "epochs=-1"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), verbose=5), "verbose.*5"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), callbacks=[print]), "callbacks"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), sample_weight=torch.ones(3)),
     "sample_weight"),
    (dict(x=torch.randn(10, 3), y=torch.randn(10, 1), class_weight={"a": 1.0}), "class_weight"),
    (dict(x=np.array([object()] * 10), y=torch.randn(10, 1)), "object"),
])
def test_fit_rejects_bad_data_before_training(kwargs, pattern):
    model = compiled()
    before = snapshot(model)
    with pytest.raises((ValueError, TypeError), match=pattern):
        model.fit(**{"verbose": 0, **kwargs})
    assert_unchanged(model, before)


def test_fractional_labels_for_sparse_crossentropy_are_refused():
    # whole-number float labels are cast, as in Keras (tests/training/test_refused_calls.py)
    model = compiled(loss="sparse_categorical_crossentropy",
                     module=nn.Sequential(nn.Linear(3, 4), nn.Softmax(-1)))
    before = snapshot(model)
    with pytest.raises(ValueError, match="not a whole number"):
        model.fit(torch.randn(8, 3), torch.tensor([0.0, 1, 2, 3, 0, 1, 2.5, 3]), verbose=0)
    assert_unchanged(model, before)


def test_wrong_target_shape_for_bce_is_not_broadcast():
    model = compiled(loss="binary_crossentropy",
                     module=nn.Sequential(nn.Linear(3, 1), nn.Sigmoid()))
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"\(8, 1\).*\(8, 3\)|\(8, 3\).*\(8, 1\)"):
        model.fit(torch.randn(8, 3), torch.ones(8, 3), verbose=0)
    assert_unchanged(model, before)


def test_nan_loss_stops_with_epoch_and_step_named():
    x = torch.randn(40, 3)
    y = torch.randn(40, 1)
    y[25] = float("nan")  # batch 4 of 5 (batch_size 8), epoch 1
    with pytest.raises(ValueError, match="y contains NaN"):  # refused up front by default
        compiled().fit(x, y, batch_size=8, verbose=0)
    model = compiled()
    with pytest.raises(NonFiniteLossError, match="epoch 1, step 4") as info:
        model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, check_finite=False)
    assert info.value.history.epoch == [0]
    with pytest.warns(UserWarning, match="epoch 1, step 4"):
        history = compiled().fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0,
                                 on_nan="stop", check_finite=False)
    assert history.epoch == [0]
    history = compiled().fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                             on_nan="ignore", check_finite=False)
    assert history.epoch == [0, 1]


def test_evaluate_and_predict_bad_input():
    model = compiled()
    with pytest.raises(ValueError, match="x is None"):
        model.predict(None)
    with pytest.raises(ValueError, match="steps=0"):
        model.evaluate(torch.randn(4, 3), torch.randn(4, 1), steps=0)


def test_batch_size_with_batched_data_warns_and_is_ignored():
    # as Keras with a dataset: batch_size is ignored, and fitorch says so
    torch.manual_seed(0)
    x, y = torch.randn(12, 3), torch.randn(12, 1)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    model = compiled()
    with pytest.warns(UserWarning, match="batch_size=32 is ignored with a DataLoader"):
        history = model.fit(loader, batch_size=32, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    seen = []

    class Count(ft.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    with pytest.warns(UserWarning, match="batch_size=32 is ignored with a DataLoader"):
        model.fit(loader, batch_size=32, epochs=1, verbose=0, callbacks=[Count()])
    assert len(seen) == 3  # the loader's own batches of 4

    def batches():
        for i in range(0, 12, 6):
            yield x[i:i + 6], y[i:i + 6]

    with pytest.warns(UserWarning, match="batch_size=5 is ignored with a generator"):
        model.evaluate(batches(), batch_size=5, verbose=0)
