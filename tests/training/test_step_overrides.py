"""Keras's train_step / test_step / predict_step overrides are not run by fitorch's loops yet:
each entry point that would ignore one refuses it, before anything changes."""

from __future__ import annotations

import pytest
import torch

import fitorch as ft


class Subclassed(ft.Model):
    def __init__(self):
        super().__init__()
        self.dense = ft.layers.Dense(1)

    def forward(self, x):
        return self.dense(x)


def _data():
    torch.manual_seed(0)
    return torch.randn(16, 3), torch.randn(16, 1)


def _compiled(cls):
    model = cls()
    model.compile(optimizer="sgd", loss="mse")
    model(torch.zeros(1, 3))  # built
    return model


@pytest.mark.parametrize("step,calls", [
    ("train_step", ["fit", "train_on_batch"]),
    ("test_step", ["evaluate", "test_on_batch"]),
    ("predict_step", ["predict", "predict_on_batch"]),
])
def test_an_override_is_refused_not_ignored(step, calls):
    cls = type("Custom", (Subclassed,), {step: lambda self, data: {}})
    model = _compiled(cls)
    x, y = _data()
    before = [p.detach().clone() for p in model.parameters()]
    for call in calls:
        args = (x,) if call.startswith("predict") else (x, y)
        kwargs = {"verbose": 0} if call in ("fit", "evaluate", "predict") else {}
        with pytest.raises(NotImplementedError, match=rf"{call}: Custom overrides {step}\(\)"):
            getattr(model, call)(*args, **kwargs)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_test_step_override_only_matters_to_fit_with_validation():
    model = _compiled(type("Custom", (Subclassed,), {"test_step": lambda self, data: {}}))
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)  # Keras would not call test_step here either
    with pytest.raises(NotImplementedError, match="fit: Custom overrides test_step"):
        model.fit(x, y, epochs=1, verbose=0, validation_split=0.25)
    assert len(model.predict(x, verbose=0)) == 16


def test_functional_construction_of_a_subclass_is_refused_too():
    class CustomModel(ft.Model):
        def train_step(self, data):
            return {}

    inputs = ft.Input((3,))
    model = CustomModel(inputs, ft.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    with pytest.raises(NotImplementedError, match="train_step"):
        model.fit(x, y, verbose=0)


def test_a_subclass_built_from_inputs_and_outputs_is_a_graph_model():
    class CustomModel(ft.Model):
        def describe(self):
            return f"{type(self).__name__} with {len(self.layers)} layers"

    inputs = ft.Input((3,))
    outputs = ft.layers.Dense(1)(ft.layers.Dense(4, activation="relu")(inputs))
    model = CustomModel(inputs, outputs)
    reference = ft.Model(inputs, outputs)  # the same layers, so the same weights
    assert isinstance(model, CustomModel) and type(model).__name__ == "CustomModel"
    assert model.describe() == f"CustomModel with {len(reference.layers)} layers"
    x, y = _data()
    torch.testing.assert_close(model(x), reference(x))
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    keyword = CustomModel(inputs=inputs, outputs=outputs)
    assert isinstance(keyword, CustomModel)
    torch.testing.assert_close(keyword(x), model(x))
