import json
from collections import OrderedDict

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch import backend, layers

SEED_REPR = """Sequential(
  (conv1): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))
  (pool1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (conv2): Conv2d(32, 64, kernel_size=(5, 5), stride=(1, 1))
  (pool2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (dropout): Dropout2d(p=0.1, inplace=False)
  (adaptive_pool): AdaptiveMaxPool2d(output_size=(1, 1))
  (flatten): Flatten()
  (linear1): Linear(in_features=64, out_features=32, bias=True)
  (relu): ReLU()
  (linear2): Linear(in_features=32, out_features=1, bias=True)
  (sigmoid): Sigmoid()
)""".replace("Flatten()", repr(nn.Flatten()))  # the seed's torch printed Flatten's defaults tersely


def seed_modules():
    return [("conv1", nn.Conv2d(in_channels=3, out_channels=32, kernel_size=3)),
            ("pool1", nn.MaxPool2d(kernel_size=2, stride=2)),
            ("conv2", nn.Conv2d(in_channels=32, out_channels=64, kernel_size=5)),
            ("pool2", nn.MaxPool2d(kernel_size=2, stride=2)),
            ("dropout", nn.Dropout2d(p=0.1)),
            ("adaptive_pool", nn.AdaptiveMaxPool2d((1, 1))),
            ("flatten", nn.Flatten()),
            ("linear1", nn.Linear(64, 32)),
            ("relu", nn.ReLU()),
            ("linear2", nn.Linear(32, 1)),
            ("sigmoid", nn.Sigmoid())]


# ---------------------------------------------------------------- torch's forms
def test_add_module_prints_the_seed_repr_and_is_an_nn_sequential():
    net = ft.Sequential()
    for name, module in seed_modules():
        net.add_module(name, module)
    assert repr(net) == SEED_REPR
    assert isinstance(net, nn.Sequential) and isinstance(net, ft.Model)
    assert isinstance(ft.models.Sequential(), ft.Sequential)


def test_ordered_dict_and_positional_forms_print_as_torch():
    modules = seed_modules()
    assert repr(ft.Sequential(OrderedDict(modules))) == SEED_REPR
    positional = ft.Sequential(*[m for _, m in modules])
    assert repr(positional) == repr(nn.Sequential(*[m for _, m in modules]))
    assert repr(positional).splitlines()[1] == \
        "  (0): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))"


def test_indexing_slicing_and_forward_are_torch_semantics():
    torch.manual_seed(0)
    net = ft.Sequential(OrderedDict(seed_modules())).eval()
    x = torch.randn(2, 3, 32, 32)
    assert net[0] is net.conv1 and net[-1] is net.sigmoid and len(net) == 11
    head, tail = net[:7], net[7:]
    assert isinstance(head, ft.Sequential) and list(tail._modules) == [
        "linear1", "relu", "linear2", "sigmoid"]
    torch.testing.assert_close(net(x), tail(head(x)))
    reference = nn.Sequential(OrderedDict(seed_modules())).eval()
    reference.load_state_dict(net.state_dict())
    torch.testing.assert_close(net(x), reference(x))
    conv1 = net.conv1
    assert net.pop(0) is conv1 and len(net) == 10 and net[0] is not conv1  # torch's pop(key)


# ---------------------------------------------------------------- Keras forms
def seed_text_model():
    model = ft.Sequential()
    model.add(layers.Embedding(30982, 7, input_shape=(300,)))
    model.add(layers.Conv1D(filters=64, kernel_size=5, activation="relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Conv1D(filters=32, kernel_size=3, activation="relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(46, activation="softmax"))
    return model


def test_seed_text_model_builds_at_add_with_the_seed_shapes():
    model = seed_text_model()
    assert model.built
    assert sum(p.numel() for p in model.parameters()) == 332_856
    assert model.layer_output_shapes() == [
        (None, 300, 7), (None, 296, 64), (None, 148, 64), (None, 146, 32), (None, 73, 32),
        (None, 2336), (None, 46)]
    assert [sum(p.numel() for p in m.parameters()) for m in model] == [
        216_874, 2_304, 0, 6_176, 0, 0, 107_502]
    out = model(torch.randint(0, 30982, (2, 300)))
    torch.testing.assert_close(out.sum(-1), torch.ones(2))


def test_keras_list_build_gives_lazy_layers_weights_before_the_optimizer():
    model = ft.Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
    assert not model.built
    model.build((None, 3))
    assert model.built and model.output_shape == (None, 1)
    assert sum(p.numel() for p in model.parameters()) == 3 * 4 + 4 + 4 + 1
    model.compile(optimizer="adam", loss="mse")
    in_optimizer = {id(p) for g in model.optimizer.param_groups for p in g["params"]}
    assert in_optimizer == {id(p) for p in model.parameters()}


def test_input_first_then_add_infers_each_layer():
    model = ft.Sequential([ft.Input((8,)), layers.Dense(5)])
    assert model.built and model.input_shape == (None, 8)
    model.add(layers.Dense(2))
    assert model.layer_output_shapes() == [(None, 5), (None, 2)]
    assert model[1].kernel.shape is not None and sum(p.numel() for p in model.parameters()) == 57


def test_seed_linear_model_has_three_params():
    model = ft.Sequential()
    model.add(layers.Dense(1, input_shape=(2,)))
    assert sum(p.numel() for p in model.parameters()) == 3
    assert model.output_shape == (None, 1)


def test_pop_removes_the_last_layer():
    model = ft.Sequential([ft.Input((3,)), layers.Dense(4), layers.Dense(2)])
    last = model[1]
    assert model.pop() is last and len(model) == 1
    assert model.output_shape == (None, 4)
    with pytest.raises(IndexError, match="no layers"):
        ft.Sequential().pop()


# ---------------------------------------------------------------- bad input
def test_layer_that_does_not_fit_is_reported_at_add_with_position_and_shape():
    model = ft.Sequential([ft.Input((32, 32, 3)), layers.Conv2D(8, 3)])
    with pytest.raises(ValueError, match=r"layer 1 \(Linear\) cannot take input of shape "
                                         r"\(None, 30, 30, 8\)"):
        model.add(nn.Linear(30 * 30 * 8, 10))  # forgot Flatten
    assert len(model) == 1  # nothing added
    model.add(layers.Flatten())
    model.add(nn.Linear(30 * 30 * 8, 10))
    assert model.output_shape == (None, 10)


def test_build_reports_the_failing_layer_position():
    model = ft.Sequential([nn.Conv2d(3, 8, 3), nn.Linear(64, 10)])
    with pytest.raises(ValueError, match=r"layer 1 \(Linear\).*\(None, 8, 30, 30\)"):
        model.build((None, 3, 32, 32))
    assert model.input_shape is None  # the failed build recorded nothing


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="item 1 is a str"):
        ft.Sequential([layers.Dense(1), "relu"])
    with pytest.raises(ValueError, match="input_shape"):
        ft.Sequential([layers.Dense(1)]).build((None, -3))
    with pytest.raises(ValueError, match="needs input_shape"):
        ft.Sequential([layers.Dense(1)]).build()


# ---------------------------------------------------------------- configs and training
def test_get_config_from_config_round_trip():
    model = ft.Sequential([ft.Input((10, 4)), layers.Conv1D(6, 3, activation="relu"),
                           layers.MaxPool1D(2), layers.Flatten(), layers.Dense(3)])
    config = json.loads(json.dumps(model.get_config()))
    backend.clear_session()
    rebuilt = ft.Sequential.from_config(config)
    assert rebuilt.layer_output_shapes() == model.layer_output_shapes()
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(2, 10, 4)
    torch.testing.assert_close(rebuilt(x), model(x))


def test_fit_trains_a_keras_list_model():
    torch.manual_seed(0)
    x = torch.randn(64, 2)
    y = x @ torch.tensor([[2.0], [-3.0]]) + 1.0
    model = ft.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
