"""ft.Model: the three ways in, and that training configuration stays beside the module."""

import copy

import torch
from torch import nn

import fitorch as ft

from .conftest import TinyNet


def test_wrapped_module_keeps_its_repr_state_dict_and_parameters():
    net = TinyNet()
    model = ft.Model(net)
    assert repr(model) == repr(net)
    assert list(model.state_dict()) == list(net.state_dict())
    assert [id(p) for p in model.parameters()] == [id(p) for p in net.parameters()]
    assert isinstance(model, TinyNet) and isinstance(model, ft.Model)
    x = torch.randn(4, 3)
    torch.testing.assert_close(model(x), net(x))


def test_compile_state_is_invisible_to_torch():
    net = TinyNet()
    before = (repr(net), list(net.state_dict()), len(list(net.parameters())))
    model = ft.Model(net)
    model.compile(optimizer="adam", loss=nn.MSELoss(), metrics=["mae"], device="cpu")
    assert (repr(model), list(model.state_dict()), len(list(model.parameters()))) == before
    assert isinstance(model.optimizer, torch.optim.Adam)
    assert len(list(model.modules())) == len(list(net.modules()))


def test_subclass_with_forward_trains():
    class Net(ft.Model):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1)

        def forward(self, x):
            return self.fc(x)

    model = Net()
    assert repr(model).startswith("Net(")
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    history = model.fit(torch.randn(20, 2), torch.randn(20, 1), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_keras_subclass_with_build_and_call_builds_on_first_call():
    class DNNModel(ft.Model):
        def build(self, input_shape):
            self.dense1 = nn.Linear(input_shape[-1], 4)
            self.dense2 = nn.Linear(4, 1)
            super().build(input_shape)

        def call(self, x):
            return torch.sigmoid(self.dense2(torch.relu(self.dense1(x))))

    model = DNNModel()
    assert not model.built
    model.build(input_shape=(None, 2))
    assert model.built and model.count_params() == 2 * 4 + 4 + 4 + 1
    lazy = DNNModel()
    out = lazy(torch.randn(5, 2))  # built by the first call, as in Keras
    assert out.shape == (5, 1) and lazy.built


def test_deepcopy_of_wrapped_model_is_independent():
    model = ft.Model(TinyNet())
    clone = copy.deepcopy(model)
    with torch.no_grad():
        clone.fc1.weight.add_(1.0)
    assert not torch.equal(clone.fc1.weight, model.fc1.weight)
    assert repr(clone) == repr(model)


def test_model_rejects_unexpected_arguments():
    import pytest

    with pytest.raises(TypeError, match="Model"):
        ft.Model(3)


def test_model_from_config_builds_a_functional_model():
    from fitorch import layers

    x = ft.Input(shape=(3,))
    model = ft.Model(x, layers.Dense(2)(layers.Dense(4, activation="relu")(x)))
    clone = ft.models.Model.from_config(model.get_config())
    assert type(clone).__name__ == "Functional"
    assert clone.count_params() == model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    clone.load_state_dict(model.state_dict())
    data = torch.randn(5, 3)
    torch.testing.assert_close(clone(data), model(data))


def _fitted_with_a_lambda_metric():
    torch.manual_seed(0)
    net = TinyNet()
    model = ft.Model(net)
    model.compile(optimizer="adam", loss="mse", device="cpu",
                  metrics={"mean_gap": lambda p, t: (p - t).abs().mean()})
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return net, model, history, x


def test_training_state_is_left_out_of_torch_save():
    import io

    net, model, history, x = _fitted_with_a_lambda_metric()
    buffer = io.BytesIO()
    torch.save(net, buffer)  # the lambda metric made this a PicklingError
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert type(loaded) is TinyNet
    torch.testing.assert_close(loaded(x), net(x))
    assert not ft.Model(loaded).compiled and ft.Model(loaded).history is None
    assert model.compiled and model.history is history  # the original keeps its state


def test_deepcopy_after_fit_copies_the_module_not_its_training_state():
    net, model, history, x = _fitted_with_a_lambda_metric()
    clone = copy.deepcopy(net)
    torch.testing.assert_close(clone(x), net(x))
    copied = ft.Model(clone)
    assert not copied.compiled and copied.history is None and copied.optimizer is None
    # the original trains on with its own optimizer, which holds only its own parameters
    assert {id(p) for g in model.optimizer.param_groups for p in g["params"]} == \
        {id(p) for p in net.parameters()}
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    assert not torch.equal(clone.fc1.weight, net.fc1.weight)
    copied.compile(optimizer="sgd", loss="mse", device="cpu")  # and the copy compiles afresh
    assert copied.fit(x, x[:, :1], epochs=1, verbose=0).epoch == [0]


def test_torch_compile_after_fit():
    net, model, _, x = _fitted_with_a_lambda_metric()
    compiled = torch.compile(net, backend="eager")
    torch.testing.assert_close(compiled(x), net(x))
    model.fit(x, x[:, :1], epochs=1, verbose=0)  # fit still works beside the compiled module
    torch.testing.assert_close(compiled(x), net(x))


def test_stop_training_outside_fit_says_so():
    import pytest

    with pytest.raises(RuntimeError, match="not compiled"):
        ft.Model(TinyNet()).stop_training = True
