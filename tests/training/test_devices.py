"""Devices, precision, torch.compile and wrapped modules."""

import warnings

import pytest
import torch
from torch import nn

import fitorch as ft

from .conftest import TinyNet, compiled


def test_default_device_is_the_best_available(regression_data):
    model = ft.Model(TinyNet())
    model.compile(optimizer="sgd", loss="mse")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device.type == expected and model._config.device.type == expected


def test_jit_compile_gives_eager_results(regression_data):
    x, y = regression_data
    eager = compiled(optimizer=ft.optimizers.SGD(learning_rate=0.05))
    jit = compiled(optimizer=ft.optimizers.SGD(learning_rate=0.05), jit_compile="aot_eager")
    eager.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    jit.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for p, q in zip(eager.parameters(), jit.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(jit.predict(x, verbose=0), eager.predict(x, verbose=0))


def failing_backend(graph_module, example_inputs):
    raise RuntimeError("this compiler cannot compile anything")


def test_jit_compile_falls_back_to_eager_with_a_warning(regression_data):
    x, y = regression_data
    model = compiled(jit_compile=failing_backend)
    with pytest.warns(UserWarning, match="jit_compile"):
        history = model.fit(x, y, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and model._config.jit_compile is False


def test_jit_compile_rejects_a_wrong_type_or_backend():
    with pytest.raises(ValueError, match="jit_compile"):
        ft.Model(TinyNet()).compile(optimizer="sgd", loss="mse", jit_compile=3)
    with pytest.raises(ValueError, match="aot_eager"):
        ft.Model(TinyNet()).compile(optimizer="sgd", loss="mse", jit_compile="no_such_backend")


def test_data_parallel_module_trains_with_a_warning(regression_data):
    x, y = regression_data
    model = ft.Model(nn.DataParallel(TinyNet()))
    with pytest.warns(UserWarning, match="DistributedDataParallel"):
        model.compile(optimizer="adam", loss="mse", device="cpu")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_fit_twice_with_different_settings(regression_data):
    x, y = regression_data
    model = compiled(optimizer="adam")
    model.fit(x, y, epochs=1, verbose=0)
    model.compile(optimizer="sgd", loss="mae", precision="bf16-mixed", device="cpu",
                  gradient_accumulation_steps=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(x, y, epochs=1, verbose=0)
    assert isinstance(model.optimizer, torch.optim.SGD) and "loss" in history.history
