"""ModelCheckpoint writing whole-model .fitorch files and weights, with Keras filename templates."""

from __future__ import annotations

import os

import pytest
import torch

import fitorch as ft
from fitorch import callbacks, layers


def _fit(tmp_path, checkpoint, epochs=3):
    torch.manual_seed(0)
    x = torch.randn(40, 3)
    y = x.sum(1, keepdim=True)
    model = ft.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, batch_size=10, epochs=epochs, validation_split=0.25, verbose=0,
                        callbacks=[checkpoint])
    return model, history


def test_templated_fitorch_checkpoints_load_as_models(tmp_path):
    template = str(tmp_path / "ckpt" / "ckpt-{epoch:02d}-{val_loss:.3f}.fitorch")
    model, history = _fit(tmp_path, callbacks.ModelCheckpoint(template))
    expected = [f"ckpt-{e + 1:02d}-{v:.3f}.fitorch"
                for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path / "ckpt")) == sorted(expected)
    last = ft.load_model(tmp_path / "ckpt" / expected[-1])
    assert last.compiled
    for key, value in model.state_dict().items():
        assert torch.equal(last.state_dict()[key], value)


def test_save_best_only_keeps_the_best_epoch(tmp_path):
    path = tmp_path / "best.fitorch"
    best = {}

    class Remember(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if not best or logs["val_loss"] < best["val_loss"]:
                best.update(val_loss=logs["val_loss"], epoch=epoch,
                            state={k: v.clone() for k, v in self.model.state_dict().items()})

    checkpoint = callbacks.ModelCheckpoint(path, monitor="val_loss", save_best_only=True)
    torch.manual_seed(0)
    x = torch.randn(40, 3)
    y = x.sum(1, keepdim=True) + torch.randn(40, 1)  # noisy: val_loss is best after epoch 1
    model = ft.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    model.compile(optimizer=ft.optimizers.SGD(0.02), loss="mse")
    model.fit(x, y, batch_size=5, epochs=6, validation_split=0.25, verbose=0,
              callbacks=[checkpoint, Remember()])
    loaded = ft.load_model(path)
    assert best["epoch"] == 0 and not torch.equal(loaded[0].kernel, model[0].kernel)
    for key, value in best["state"].items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_batch_frequency_and_weights_only(tmp_path):
    template = str(tmp_path / "w-{epoch}-{batch}.safetensors")
    _fit(tmp_path, callbacks.ModelCheckpoint(template, save_weights_only=True, save_freq=2),
         epochs=2)
    # 3 training batches an epoch: a save after batches 2, 4 (epoch 2, batch 1), 6
    assert sorted(os.listdir(tmp_path)) == ["w-1-2.safetensors", "w-2-1.safetensors",
                                            "w-2-3.safetensors"]
    with pytest.raises(ValueError, match="must end in '.safetensors' when save_weights_only"):
        callbacks.ModelCheckpoint(tmp_path / "m.fitorch", save_weights_only=True)
