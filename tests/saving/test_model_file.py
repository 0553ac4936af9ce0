"""save_model / load_model: round trips, compile state, registration, wrappers, bad files."""

from __future__ import annotations

import json
import os
import zipfile

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch import layers
from fitorch.saving import load_weights, register_serializable, save_weights


def _data():
    torch.manual_seed(0)
    x = torch.randn(48, 4)
    return x, (x[:, :1] * 2 - x[:, 1:2]).clone()


def _sequential():
    return ft.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                          layers.BatchNormalization(), layers.Dense(1)])


def _same(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_sequential_round_trip_continues_training_exactly(tmp_path):
    x, y = _data()
    model = _sequential()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    path = tmp_path / "m.fitorch"
    model.save(path)
    loaded = ft.load_model(path)
    assert type(loaded) is ft.Sequential and loaded.compiled
    _same(model, loaded)
    assert torch.equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.optimizer.state_dict()["param_groups"] == \
        model.optimizer.state_dict()["param_groups"]
    # the same next epoch from both: optimizer moments and step counts came back
    torch.manual_seed(5)
    h1 = model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    torch.manual_seed(5)
    h2 = loaded.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert h1.history == h2.history
    _same(model, loaded)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == \
        model.evaluate(x, y, verbose=0, return_dict=True)


def test_file_layout_is_json_and_safetensors_only(tmp_path):
    model = _sequential()
    model.compile(optimizer="sgd", loss="mse",
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 3))
    path = tmp_path / "m.fitorch"
    ft.save_model(model, path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["compile.json", "compile.safetensors", "config.json",
                                         "metadata.json", "model.safetensors"]
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
        compile_state = json.loads(zf.read("compile.json"))
    assert meta["format"] == "fitorch.model" and meta["format_version"] == 1
    assert meta["torch_version"] == torch.__version__ and meta["fitorch_version"]
    assert config["class_name"] == "Sequential"
    assert [entry["class_name"] for entry in config["config"]["layers"]] == \
        ["Dense", "BatchNormalization", "Dense"]
    assert compile_state["compile"]["loss"] == "mse"
    assert compile_state["compile"]["lr_scheduler"] == "StepLR"
    loaded = ft.load_model(path)
    assert type(loaded.lr_scheduler) is torch.optim.lr_scheduler.StepLR
    assert loaded.lr_scheduler.step_size == 3


def test_functional_model_round_trip(tmp_path):
    x, _ = _data()
    inputs = ft.Input(shape=(4,))
    h = layers.Dense(6)(inputs)
    # a torch function, operators, indexing, a tensor method and a property: what safe_mode allows
    outputs = layers.Dense(1)((torch.relu(h) + h[:, :1] * 2).flatten(1).T.T)
    model = ft.Model(inputs=inputs, outputs=outputs)
    ft.save_model(model, tmp_path / "f.fitorch")
    loaded = ft.load_model(tmp_path / "f.fitorch")
    assert not loaded.compiled
    kinds = {node["kind"] for node in model.get_config()["nodes"]}
    assert kinds == {"input", "module", "function", "method"}
    _same(model, loaded)
    assert torch.equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


class Tower(ft.Model):
    def __init__(self, width: int = 5) -> None:
        super().__init__()
        self.width = width
        self.body = nn.Sequential(nn.Linear(4, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x):
        return self.body(x)

    def get_config(self):
        return {"width": self.width}


def test_subclassed_model_needs_registration_and_says_how(tmp_path):
    model = Tower(width=7)
    path = tmp_path / "t.fitorch"
    model.save(path)
    with pytest.raises(ValueError, match=r"Tower.*register_serializable.*custom_objects"):
        ft.load_model(path)
    loaded = ft.load_model(path, custom_objects={"Tower": Tower})
    assert isinstance(loaded, Tower) and loaded.width == 7
    _same(model, loaded)


def test_registered_subclass_loads_by_name(tmp_path):
    @register_serializable(package="tests")
    class Registered(ft.Model):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

    model = Registered()
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(torch.randn(4, 3), torch.randn(4, 2))
    ft.save_model(model, tmp_path / "r.fitorch")
    loaded = ft.load_model(tmp_path / "r.fitorch")
    assert type(loaded) is Registered and loaded.compiled
    _same(model, loaded)
    state = loaded.optimizer.state_dict()["state"]
    assert torch.equal(state[0]["exp_avg"], model.optimizer.state_dict()["state"][0]["exp_avg"])


def test_wrapped_plain_module_loads_whole_and_as_weights(tmp_path):
    torch.manual_seed(0)
    net = ft.Model(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)))
    path = tmp_path / "w.fitorch"
    net.save(path)
    _same(net, ft.load_model(path))  # standard torch modules are stored by their arguments
    fresh = ft.Model(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1)))
    load_weights(fresh, path)  # a .fitorch file holds weights load_weights can read
    _same(net, fresh)


def test_data_parallel_and_compiled_wrappers_save_inner_names(tmp_path):
    model = _sequential()
    wrapped = nn.DataParallel(model)
    save_weights(wrapped, tmp_path / "dp.safetensors")
    ft.save_model(wrapped, tmp_path / "dp.fitorch")
    plain = _sequential()
    load_weights(plain, tmp_path / "dp.safetensors")
    _same(model, plain)
    _same(model, ft.load_model(tmp_path / "dp.fitorch"))
    compiled = torch.compile(model)
    ft.save_model(compiled, tmp_path / "c.fitorch")
    _same(model, ft.load_model(tmp_path / "c.fitorch"))


def double(t):
    return t * 2


def test_lambda_layer_is_not_stored_as_code(tmp_path):
    model = ft.Sequential([layers.Dense(2, input_shape=(3,)), layers.Lambda(double)])
    path = tmp_path / "l.fitorch"
    model.save(path)  # the weights are kept
    assert b"t * 2" not in path.read_bytes()  # the file names the function, never its code
    with pytest.raises(ValueError, match=r"Lambda.*'double'.*safe_mode=False"):
        ft.load_model(path)
    with pytest.raises(ValueError, match=r"custom_objects=\{'double'"):
        ft.load_model(path, safe_mode=False)
    loaded = ft.load_model(path, safe_mode=False, custom_objects={"double": double})
    x = torch.randn(4, 3)
    torch.testing.assert_close(loaded(x), model(x))
    assert ft.backend.in_safe_mode()  # the scope ended with the load


def test_overwrite_and_paths(tmp_path):
    model = _sequential()
    path = tmp_path / "m.fitorch"
    model.save(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save(path)
    assert path.read_bytes() == before
    model.save(path, overwrite=True)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ft.save_model(model, tmp_path / "no" / "such" / "m.fitorch")
    with pytest.raises(ValueError, match=r"must end in '\.fitorch'"):
        ft.save_model(model, tmp_path / "m.pt")
    with pytest.raises(FileNotFoundError, match="no such file"):
        ft.load_model(tmp_path / "missing.fitorch")


def test_mismatched_architecture_lists_every_key_and_changes_nothing(tmp_path):
    small = ft.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(1)])
    path = tmp_path / "s.safetensors"
    small.save_weights(path)
    other = ft.Sequential([layers.Dense(5, input_shape=(4,)), layers.Dense(1),
                           layers.Dense(2)])
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError) as info:
        other.load_weights(path)
    message = str(info.value)
    assert "0.kernel: file (3, 4) vs model (5, 4)" in message
    assert "1.kernel: file (1, 3) vs model (1, 5)" in message
    assert "missing keys" in message and "2.kernel" in message
    for key, value in before.items():
        assert torch.equal(other.state_dict()[key], value)


def test_gpu_saved_optimizer_state_is_cpu_after_loading(tmp_path):
    # (on a CPU-only machine: the file stores CPU tensors and loading maps to the model's device)
    model = _sequential()
    model.compile(optimizer="adam", loss="mse")
    x, y = _data()
    model.train_on_batch(x, y)
    ft.save_model(model, tmp_path / "m.fitorch")
    loaded = ft.load_model(tmp_path / "m.fitorch")
    for state in loaded.optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor):
                assert value.device == loaded.device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_gpu_model_file_loads_on_cpu(tmp_path):
    model = _sequential()
    model.compile(optimizer="adam", loss="mse", device="cuda")
    x, y = _data()
    model.train_on_batch(x, y)
    ft.save_model(model, tmp_path / "g.fitorch")
    loaded = ft.load_model(tmp_path / "g.fitorch", compile=False)
    assert loaded.device.type == "cpu"
    assert torch.equal(loaded.predict(x, verbose=0), model.to("cpu").predict(x, verbose=0))


def test_torch_loss_objects_are_stored_and_python_losses_warn(tmp_path):
    model = _sequential()
    model.compile(optimizer=ft.optimizers.Adam(learning_rate=3e-3),
                  loss=nn.SmoothL1Loss(beta=0.5, reduction="sum"),
                  lr_scheduler=lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, 0.75))
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    ft.save_model(model, tmp_path / "a.fitorch")
    loaded = ft.load_model(tmp_path / "a.fitorch")
    assert isinstance(loaded.loss, nn.SmoothL1Loss)
    assert (loaded.loss.beta, loaded.loss.reduction) == (0.5, "sum")
    assert loaded.optimizer.param_groups[0]["lr"] == pytest.approx(3e-3 * 0.75 ** 2)
    assert loaded.lr_scheduler.last_epoch == 2
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)

    model.compile(optimizer="sgd", loss=lambda pred, true: ((pred - true) ** 4).mean())
    ft.save_model(model, tmp_path / "b.fitorch")
    with pytest.warns(UserWarning, match="returned uncompiled"):
        plain = ft.load_model(tmp_path / "b.fitorch")
    assert not plain.compiled
    _same(model, plain)
    assert not ft.load_model(tmp_path / "a.fitorch", compile=False).compiled


class Scale(layers.Layer):
    """A custom layer: its constructor arguments are its config."""

    def __init__(self, factor: float = 2.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.factor = factor
        self.offset = nn.Parameter(torch.zeros(1))

    def call(self, x):
        return x * self.factor + self.offset


def test_custom_layer_round_trip_and_unknown_layer_named(tmp_path):
    model = ft.Sequential([layers.Dense(3, input_shape=(4,)), Scale(factor=3.0)])
    with torch.no_grad():
        model[1].offset.fill_(0.5)
    path = tmp_path / "c.fitorch"
    model.save(path)
    loaded = ft.load_model(path, custom_objects={"Scale": Scale})
    assert isinstance(loaded[1], Scale) and loaded[1].factor == 3.0
    _same(model, loaded)

    def rename(config):
        config["config"]["layers"][1]["class_name"] = "MissingScale"

    from tests.saving.test_file_safety import _rewrite_config

    renamed = tmp_path / "renamed.fitorch"
    _rewrite_config(path, renamed, rename)
    with pytest.raises(ValueError, match=r"MissingScale.*register_serializable.*custom_objects"):
        ft.load_model(renamed)


def scale(t, factor):
    return t * factor


def test_lambda_arguments_round_trip(tmp_path):
    # Keras's Lambda config keeps `arguments`; without them the function can't be called again
    model = ft.Sequential([layers.Dense(2, input_shape=(3,)),
                           layers.Lambda(scale, arguments={"factor": 3.0})])
    assert model.layers[-1].get_config()["arguments"] == {"factor": 3.0}
    path = tmp_path / "args.fitorch"
    model.save(path)
    loaded = ft.load_model(path, safe_mode=False, custom_objects={"scale": scale})
    x = torch.randn(4, 3)
    torch.testing.assert_close(loaded(x), model(x))
