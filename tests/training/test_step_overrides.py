"""Keras 3's customizable steps: train_step / test_step / predict_step / compute_loss /
compute_metrics overrides are run by fit / evaluate / predict (and *_on_batch), with the torch
backend's contract, checked against hand-written torch loops; models without an override keep
the built-in step."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch.training import keras_steps


class Net(ft.Model):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.dense = nn.Linear(3, 1)

    def forward(self, x):
        return self.dense(x)


class TrainStep(Net):
    """The guide's train_step, written with torch names (parameters, .grad)."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        weights = [p for p in self.parameters() if p.requires_grad]
        with torch.no_grad():
            self.optimizer.apply([w.value.grad for w in weights], weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _data(n=16):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, generator=g), torch.randn(n, 1, generator=g)


def _torch_loop(batches, epochs, lr, loss_fn=nn.functional.mse_loss):
    """What the steps above do, by hand: SGD on each batch in order."""
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(epochs):
        for x, y in batches:
            opt.zero_grad()
            loss_fn(net(x), y).backward()
            opt.step()
    return net


def test_train_step_override_runs_in_fit_like_a_torch_loop():
    x, y = _data()
    model = TrainStep()
    model.compile(optimizer=ft.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0).history
    reference = _torch_loop([(x[i:i + 4], y[i:i + 4]) for i in range(0, 16, 4)], 3, 0.1)
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b)
    # the logs are the step's own dict as Keras's callbacks see it: keys sorted, then nested
    # dicts flattened ("compile_metrics" -> "mae" comes before "loss"), as in Keras's History
    assert list(history) == ["mae", "loss"]
    assert history["loss"][-1] < history["loss"][0]
    assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]


def test_epoch_logs_are_the_metrics_of_that_epoch_only():
    x, y = _data()
    model = TrainStep()
    model.compile(optimizer=ft.optimizers.SGD(0.0), loss="mse", metrics=["mae"])  # frozen
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    with torch.no_grad():
        pred = model(x)
    # lr 0: every epoch sees the same model, so each epoch's mean is the whole data's; the
    # tracker counted 4 batches (one epoch), not 8: it was reset when the second began
    assert history["mae"] == pytest.approx([float((pred - y).abs().mean())] * 2, rel=1e-5)
    assert history["loss"] == pytest.approx([float(((pred - y) ** 2).mean())] * 2, rel=1e-5)
    assert model.metrics[0].unweighted_count + float(model.metrics[0].count or 0) == 4


def test_compute_loss_override_alone_is_honoured_by_the_default_train_step():
    class L1(Net):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return (y_pred - y).abs().mean()

    x, y = _data()
    model = L1()
    model.compile(optimizer=ft.optimizers.SGD(0.1), loss="mse")  # the override wins
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    reference = _torch_loop([(x[:8], y[:8]), (x[8:], y[8:])], 2, 0.1,
                            loss_fn=lambda p, t: (p - t).abs().mean())
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b)
    assert list(history) == ["loss"]


def test_an_override_without_the_training_argument_still_works():
    class Old(Net):  # written before Keras 3.3
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):
            return ((y_pred - y) ** 2).mean()

    x, y = _data()
    model = Old()
    model.compile(optimizer="sgd")
    assert model.evaluate(x, y, verbose=0) > 0


def test_test_step_override_runs_in_evaluate_and_in_validation():
    calls = []

    class Custom(Net):
        def test_step(self, data):
            x, y = data
            calls.append(torch.is_grad_enabled())
            y_pred = self(x)
            return {"l1": (y_pred - y).abs().mean(), "nested": {"n": torch.tensor(float(len(x)))}}

    x, y = _data()
    model = Custom()
    model.compile(optimizer="sgd", loss="mse")
    results = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    with torch.no_grad():
        expected = float((model(x) - y).abs().mean())
    assert results == {"l1": pytest.approx(expected), "n": 16.0}  # nested dicts flattened
    assert calls == [False]  # no gradients in a test step
    history = model.fit(x, y, batch_size=8, epochs=1, validation_data=(x, y), verbose=0)
    assert sorted(history.history) == ["loss", "val_l1", "val_n"]  # training: built-in step


def test_predict_step_override_runs_in_predict_and_predict_on_batch():
    class Doubling(Net):
        def predict_step(self, data):
            return {"y": self(data) * 2}

    x, _ = _data()
    model = Doubling()
    out = model.predict(x, batch_size=5, verbose=0)
    with torch.no_grad():
        torch.testing.assert_close(out["y"], model(x) * 2)
        torch.testing.assert_close(model.predict_on_batch(x)["y"], model(x) * 2)


def test_on_batch_calls_run_the_overrides():
    x, y = _data()
    model = TrainStep()
    model.compile(optimizer=ft.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    before = copy.deepcopy(model.dense)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert sorted(logs) == ["loss", "mae"]
    with torch.no_grad():
        assert logs["loss"] == pytest.approx(float(((before(x) - y) ** 2).mean()), rel=1e-5)
    assert not torch.equal(before.weight, model.dense.weight)


def test_keras2_compiled_loss_and_compiled_metrics():
    class Keras2(Net):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses
                                      if hasattr(self, "losses") else None)
            loss.backward()
            self.optimizer.apply_gradients(zip([p.grad for p in self.parameters()],
                                               self.parameters()))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    x, y = _data()
    model = Keras2()
    model.compile(optimizer=ft.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0).history
    with torch.no_grad():
        pred = model(x)
    assert history["loss"] == pytest.approx([float(((pred - y) ** 2).mean())], rel=1e-5)
    assert history["mae"] == pytest.approx([float((pred - y).abs().mean())], rel=1e-5)
    assert [m.name for m in model.compiled_metrics.metrics] == ["mae"]


def test_metrics_lists_attribute_metrics_and_resets_them_each_epoch():
    class Tracked(Net):
        def __init__(self):
            super().__init__()
            self.seen = ft.metrics.Sum(name="seen")

        def train_step(self, data):
            x, _ = data
            self.seen.update_state(torch.tensor(float(len(x))))
            return {"seen": self.seen.result()}

    x, y = _data()
    model = Tracked()
    model.compile(optimizer="sgd")  # no loss: the step computes none
    assert [m.name for m in model.metrics] == ["loss", "seen"]
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0).history
    assert history["seen"] == [16.0, 16.0]


def test_a_step_returning_no_dict_is_an_error_naming_it():
    class Bad(Net):
        def train_step(self, data):
            return 1.0

    model = Bad()
    model.compile(optimizer="sgd")
    with pytest.raises(TypeError, match=r"Bad\.train_step returned float; it must return a dict"):
        model.fit(*_data(), verbose=0)


def test_no_loss_anywhere_is_an_error_naming_what_to_do():
    class Default(Net):
        def compute_metrics(self, x, y, y_pred, sample_weight=None):
            return super().compute_metrics(x, y, y_pred, sample_weight)

    model = Default()
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="no loss to compute: pass loss=... to compile"):
        model.fit(*_data(), verbose=0)


@pytest.mark.parametrize("compile_kwargs,fit_kwargs,match", [
    ({"gradient_accumulation_steps": 2}, {}, "gradient_accumulation_steps=2"),
    ({}, {"on_nan": "restore"}, "on_nan='restore'"),
])
def test_what_an_own_step_cannot_get_is_refused_before_training(compile_kwargs, fit_kwargs,
                                                                 match):
    model = TrainStep()
    model.compile(optimizer="sgd", loss="mse", **compile_kwargs)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=match):
        model.fit(*_data(), verbose=0, **fit_kwargs)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_models_without_overrides_keep_the_built_in_step(monkeypatch):
    for model in (Net(), ft.Sequential([ft.layers.Dense(1)]), ft.Model(nn.Linear(3, 1))):
        assert keras_steps.own_steps(model) == (False, False, False)
    assert keras_steps.own_steps(TrainStep()) == (True, False, False)

    def never(self, data):
        raise AssertionError("the built-in step must run")

    monkeypatch.setattr(ft.Model, "train_step", never)
    monkeypatch.setattr(ft.Model, "test_step", never)
    model = Net()
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    model.evaluate(x, y, verbose=0)


def test_optimizer_apply_moves_only_the_given_variables():
    torch.manual_seed(0)
    a, b = nn.Linear(2, 1), nn.Linear(2, 1)
    opt = ft.optimizers.get("sgd", [*a.parameters(), *b.parameters()])
    (a(torch.ones(1, 2)) + b(torch.ones(1, 2))).sum().backward()
    b_before = [p.detach().clone() for p in b.parameters()]
    grads_before = [p.grad.clone() for p in b.parameters()]
    a_before = [p.detach().clone() for p in a.parameters()]
    opt.apply([p.grad for p in a.parameters()], list(a.parameters()))
    assert all(torch.equal(p, q) for p, q in zip(b.parameters(), b_before))
    assert all(torch.equal(p.grad, g) for p, g in zip(b.parameters(), grads_before))
    lr = 0.01  # Keras's SGD default
    for p, before in zip(a.parameters(), a_before):
        torch.testing.assert_close(p, before - lr * p.grad)
    with pytest.raises(ValueError, match="not held by this SGD"):
        opt.apply([torch.zeros(1)], [nn.Parameter(torch.zeros(1))])
    with pytest.raises(ValueError, match="got 1 gradients for 2 variables"):
        opt.apply([torch.zeros(1)], list(a.parameters()))


def test_a_spec_optimizer_applies_and_clips_like_keras():
    param = nn.Parameter(torch.zeros(3))
    spec = ft.optimizers.SGD(learning_rate=1.0, clipnorm=1.0)
    spec.apply([torch.tensor([3.0, 0.0, 4.0])], [param])  # norm 5 -> clipped to 1
    torch.testing.assert_close(param.detach(), torch.tensor([-0.6, 0.0, -0.8]))
    spec.apply([torch.tensor([0.0, 0.5, 0.0])])  # later calls may leave the variables out
    torch.testing.assert_close(param.detach(), torch.tensor([-0.6, -0.5, -0.8]))
    assert param.grad is None


def test_parameters_have_keras_value():
    p = nn.Parameter(torch.ones(2))
    assert p.value is p
    p.value = "mine"  # an attribute of the same name still wins
    assert p.value == "mine"


def test_metrics_gives_way_to_a_models_own_attribute():
    class WithMetrics(ft.Model):
        def __init__(self):
            super().__init__()
            self.metrics = nn.ModuleDict({"a": nn.Identity()})

        def forward(self, x):
            return x

    assert isinstance(WithMetrics().metrics, nn.ModuleDict)


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


def test_a_functional_subclass_with_its_own_init_and_train_step():
    class CustomModel(ft.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = ft.metrics.Mean(name="loss")
            self.loss_fn = ft.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.loss_fn(y, self(x))
            loss.backward()
            weights = list(self.parameters())
            self.optimizer.apply([w.grad for w in weights], weights)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

    inputs = ft.Input((3,))
    model = CustomModel(inputs, ft.layers.Dense(1)(inputs))
    model.compile(optimizer=ft.optimizers.SGD(0.1))
    x, y = _data()
    history = model.fit(x, y, batch_size=4, epochs=3, verbose=0).history
    assert list(history) == ["loss"] and history["loss"][-1] < history["loss"][0]


def test_the_default_steps_reproduce_the_built_in_step():
    """Overriding compute_metrics with a plain super() call switches fit to the Keras default
    steps; they must train and log exactly what the built-in step does (regularization too)."""

    class Regularized(ft.Model):
        def __init__(self):
            super().__init__()
            torch.manual_seed(3)
            self.dense = ft.layers.Dense(1, kernel_regularizer=ft.regularizers.l2(0.1))

        def forward(self, x):
            return self.dense(x)

    class ViaKerasSteps(Regularized):
        def compute_metrics(self, x, y, y_pred, sample_weight=None):
            return super().compute_metrics(x, y, y_pred, sample_weight)

    x, y = _data(24)
    runs = []
    for cls in (Regularized, ViaKerasSteps):
        model = cls()
        model(x[:1])
        model.compile(optimizer=ft.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
        history = model.fit(x[:16], y[:16], batch_size=5, epochs=2, shuffle=False, verbose=0,
                            validation_data=(x[16:], y[16:])).history
        runs.append((model, history, model.evaluate(x, y, verbose=0, return_dict=True)))
    (built_in, expected, expected_eval), (keras_like, history, evaluated) = runs
    assert keras_steps.own_steps(keras_like) == (True, True, False)
    assert sorted(history) == sorted(expected)
    for key, values in expected.items():
        assert history[key] == pytest.approx(values, rel=1e-5), key
    assert evaluated == pytest.approx(expected_eval, rel=1e-5)
    for a, b in zip(built_in.parameters(), keras_like.parameters()):
        torch.testing.assert_close(a, b)
