"""fitorch.optimizers: Keras defaults, the torch classes they build, Keras's lr variable, get()."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch
from torch import nn

from fitorch import optimizers


def params(seed: int = 0) -> list[nn.Parameter]:
    torch.manual_seed(seed)
    return list(nn.Linear(3, 2).parameters())


def step(optimizer: torch.optim.Optimizer, ps: list[nn.Parameter], times: int = 3) -> None:
    for i in range(times):
        for j, p in enumerate(ps):
            p.grad = torch.full_like(p, 0.1 * (i + 1) * (j + 1))
        optimizer.step()


# Keras 3's documented defaults
KERAS_DEFAULTS = {
    optimizers.SGD: {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": None},
    optimizers.Adam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7,
                      "amsgrad": False, "weight_decay": None},
    optimizers.AdamW: {"learning_rate": 0.001, "weight_decay": 0.004, "beta_1": 0.9, "beta_2": 0.999,
                       "epsilon": 1e-7, "amsgrad": False},
    optimizers.Nadam: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    optimizers.Adamax: {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
    optimizers.RMSprop: {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7,
                         "centered": False},
    optimizers.Adagrad: {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    optimizers.Adadelta: {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
}

TORCH_EQUIVALENT = {
    optimizers.SGD: lambda ps: torch.optim.SGD(ps, lr=0.01),
    optimizers.Adam: lambda ps: torch.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-7),
    optimizers.AdamW: lambda ps: torch.optim.AdamW(ps, lr=1e-3, eps=1e-7, weight_decay=0.004),
    optimizers.Nadam: lambda ps: torch.optim.NAdam(ps, lr=1e-3, eps=1e-7, momentum_decay=1.0),
    optimizers.Adamax: lambda ps: torch.optim.Adamax(ps, lr=1e-3, eps=1e-7),
    optimizers.RMSprop: lambda ps: torch.optim.RMSprop(ps, lr=1e-3, alpha=0.9, eps=1e-7),
    optimizers.Adagrad: lambda ps: torch.optim.Adagrad(ps, lr=1e-3, initial_accumulator_value=0.1, eps=1e-7),
    optimizers.Adadelta: lambda ps: torch.optim.Adadelta(ps, lr=1e-3, rho=0.95, eps=1e-7),
}


@pytest.mark.parametrize("spec_class", list(KERAS_DEFAULTS))
def test_defaults_are_keras_and_build_the_torch_class(spec_class):
    spec = spec_class()
    config = spec.get_config()
    for key, value in KERAS_DEFAULTS[spec_class].items():
        assert config[key] == value, key
    ours, theirs = params(), params()
    built = spec.build(ours)
    reference = TORCH_EQUIVALENT[spec_class](theirs)
    assert isinstance(built, type(reference))
    step(built, ours)
    step(reference, theirs)
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)
    assert spec_class.from_config(config).get_config() == config


def test_sgd_momentum_follows_keras_update_rule():
    # Keras: v = momentum * v - lr * g; w += v  (same trajectory as torch's rule for a fixed lr)
    p = nn.Parameter(torch.tensor([1.0]))
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9).build([p])
    w, v = 1.0, 0.0
    for g in (0.5, -0.2, 0.3):
        p.grad = torch.tensor([g])
        opt.step()
        v = 0.9 * v - 0.1 * g
        w += v
    assert p.item() == pytest.approx(w, rel=1e-6)


def test_adam_follows_keras_update_rule():
    # Keras 3: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t); w -= alpha * m / (sqrt(v) + eps)
    p = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = optimizers.Adam(learning_rate=0.01).build([p])
    w, m, v = 1.0, 0.0, 0.0
    for t, g in enumerate((0.5, -0.2, 0.3), start=1):
        p.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        alpha = 0.01 * (1 - 0.999 ** t) ** 0.5 / (1 - 0.9 ** t)
        w -= alpha * m / (v ** 0.5 + 1e-7)
    assert p.item() == pytest.approx(w, rel=1e-6)


def test_weight_decay_mapping():
    adam = optimizers.Adam(weight_decay=0.1).build(params())
    assert adam.param_groups[0]["weight_decay"] == 0.1 and adam.param_groups[0]["decoupled_weight_decay"]
    nadam = optimizers.Nadam(weight_decay=0.1).build(params())
    assert nadam.param_groups[0]["decoupled_weight_decay"]
    # Keras 3 decays every optimizer's weights decoupled, w -= w * wd * lr, before the update;
    # torch's SGD would add wd * w to the gradient, so fitorch does the decay in a pre-hook
    weight = nn.Parameter(torch.ones(3))
    sgd = optimizers.SGD(learning_rate=0.5, momentum=0.9, nesterov=True,
                         weight_decay=0.1).build([weight])
    assert sgd.param_groups[0]["nesterov"] and sgd.param_groups[0]["weight_decay"] == 0.0
    weight.grad = torch.zeros(3)
    sgd.step()
    assert torch.allclose(weight.detach(), torch.full((3,), 1 - 0.5 * 0.1))
    assert optimizers.RMSprop(rho=0.8).build(params()).param_groups[0]["alpha"] == 0.8


def test_keras_lr_variable_on_built_optimizers():
    model = nn.Linear(2, 2)
    opt = optimizers.get(optimizers.Nadam(), [{"params": [model.weight]}, {"params": [model.bias], "lr": 0.5}])
    assert isinstance(opt, torch.optim.NAdam)
    assert opt.lr.numpy() == pytest.approx(0.001)
    opt.lr.assign(opt.lr / 2.0)  # the seed's line
    assert [g["lr"] for g in opt.param_groups] == [0.0005, 0.0005]
    assert float(opt.learning_rate) == 0.0005 and opt.lr == 0.0005 and opt.lr < 1
    assert opt.lr * 2 == pytest.approx(0.001) and 1 - opt.lr == pytest.approx(0.9995)
    opt.learning_rate = 0.01
    assert opt.param_groups[1]["lr"] == 0.01
    opt.lr.assign(torch.tensor(0.02))
    opt.lr.assign_add(0.01)
    assert opt.lr.numpy() == pytest.approx(0.03)
    assert f"{opt.lr:.3f}" == "0.030"
    with pytest.raises(ValueError, match=">= 0"):
        opt.lr.assign(-1.0)
    with pytest.raises(TypeError, match="not a number"):
        opt.lr.assign("fast")
    state = opt.state_dict()
    plain = torch.optim.NAdam([{"params": [model.weight]}, {"params": [model.bias]}])
    plain.load_state_dict(state)
    assert plain.param_groups[0]["lr"] == pytest.approx(0.03)


def test_built_optimizers_pickle_and_copy():
    opt = optimizers.Adam(learning_rate=0.02).build(params())
    again = pickle.loads(pickle.dumps(opt))
    assert isinstance(again, torch.optim.Adam) and again.lr.numpy() == pytest.approx(0.02)
    assert copy.deepcopy(opt).lr.numpy() == pytest.approx(0.02)
    assert type(opt).__name__ == "Adam"
    assert optimizers.keras_optimizer_class(torch.optim.Adam) is type(opt)


def test_wrap_keras_lr_keeps_the_object():
    ps = params()
    opt = torch.optim.SGD(ps, lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    same = optimizers.wrap_keras_lr(opt)
    assert same is opt and isinstance(opt, torch.optim.SGD)
    opt.step()
    scheduler.step()
    assert opt.lr.numpy() == pytest.approx(0.05)


def test_spec_arguments_are_checked():
    spec = optimizers.Adam(learning_rate=0.01, clipnorm=1.0, clipvalue=0.5)
    assert (spec.clipnorm, spec.clipvalue, spec.global_clipnorm) == (1.0, 0.5, None)
    assert optimizers.SGD(global_clipnorm=2.0).global_clipnorm == 2.0
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="nesterov"):
        optimizers.SGD(nesterov=True)
    with pytest.raises(ValueError, match="learning_rate=-0.1"):
        optimizers.Adam(learning_rate=-0.1)
    with pytest.raises(TypeError, match="callable with no arguments"):
        optimizers.Adam(learning_rate=lambda step: 0.1)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Adam(beta_1=1.5)
    with pytest.raises(TypeError):
        optimizers.Adam(use_ema=True)


def test_apply_gradients_like_a_keras_custom_loop():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    reference = copy.deepcopy(model)
    optimizer = optimizers.Nadam()
    torch_opt = torch.optim.NAdam(reference.parameters(), lr=1e-3, eps=1e-7, momentum_decay=1.0)
    x = torch.randn(8, 3)
    for _ in range(3):
        grads = torch.autograd.grad(model(x).square().mean(), list(model.parameters()))
        optimizer.apply_gradients(zip(grads, model.parameters()))
        torch_opt.zero_grad()
        reference(x).square().mean().backward()
        torch_opt.step()
    for a, b in zip(model.parameters(), reference.parameters()):
        assert torch.allclose(a, b)
    assert optimizer.learning_rate.numpy() == pytest.approx(1e-3)


# ---------------------------------------------------------------------------- get()

def test_get_names_case_insensitive_and_closest_suggestions():
    for name, cls in (("sgd", torch.optim.SGD), ("Adam", torch.optim.Adam), ("ADAMW", torch.optim.AdamW),
                      ("nadam", torch.optim.NAdam), ("RMSprop", torch.optim.RMSprop),
                      ("adagrad", torch.optim.Adagrad), ("adadelta", torch.optim.Adadelta),
                      ("adamax", torch.optim.Adamax)):
        opt = optimizers.get(name, params())
        assert isinstance(opt, cls) and hasattr(opt, "lr")
    assert optimizers.get("rmsprop", params()).param_groups[0]["alpha"] == 0.9
    with pytest.raises(ValueError, match="'adam'"):
        optimizers.get("adm", params())
    with pytest.raises(ValueError, match="rmsprop"):
        optimizers.check_name("rmsprob")
    optimizers.check_name("Nadam")


def test_get_torch_instances_classes_and_callables():
    model = nn.Linear(2, 1)
    mine = torch.optim.Adam(model.parameters(), lr=0.05)
    got = optimizers.get(mine, model.parameters())
    assert got is mine and got.lr.numpy() == 0.05
    with pytest.raises(ValueError, match="none of them"):
        optimizers.get(torch.optim.Adam(nn.Linear(2, 1).parameters()), model.parameters())
    other = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="not parameters of the model"):
        optimizers.get(torch.optim.SGD([*model.parameters(), *other.parameters()], lr=0.1),
                       model.parameters())
    from_class = optimizers.get(torch.optim.RMSprop, model.parameters())
    assert isinstance(from_class, torch.optim.RMSprop) and from_class.lr.numpy() == 0.01
    assert isinstance(optimizers.get(optimizers.Adagrad, model.parameters()), torch.optim.Adagrad)
    made = optimizers.get(lambda ps: torch.optim.SGD(ps, lr=0.3, momentum=0.9), model.parameters())
    assert isinstance(made, torch.optim.SGD) and made.lr.numpy() == 0.3
    with pytest.raises(TypeError, match="returned int"):
        optimizers.get(lambda ps: 3, model.parameters())
    with pytest.raises(TypeError, match="not an optimizer"):
        optimizers.get(3.0, model.parameters())


# ---------------------------------------------------------------------------- schedules
def test_schedule_sets_the_rate_per_step_and_resumes_from_the_state_dict():
    schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    weight = nn.Parameter(torch.zeros(2))
    opt = optimizers.SGD(learning_rate=schedule).build([weight])
    seen = []
    for _ in range(3):
        weight.grad = torch.ones(2)
        opt.step()
        seen.append(-weight.detach()[0].item())
    assert seen == pytest.approx([0.1, 0.15, 0.175])  # steps at lr 0.1, 0.05, 0.025
    with pytest.raises(TypeError, match="follows the schedule"):
        opt.lr.assign(0.3)  # a ReduceLROnPlateau-style write would be overwritten next step
    # the step count is in the state dict: a rebuilt optimizer continues at lr 0.0125
    again = optimizers.SGD(learning_rate=schedule).build([weight])
    again.load_state_dict(opt.state_dict())
    weight.grad = torch.ones(2)
    again.step()
    assert -weight.detach()[0].item() == pytest.approx(0.1875)


def test_callable_learning_rate_is_called_each_step():
    rates = iter([0.5, 0.25])
    weight = nn.Parameter(torch.zeros(1))
    # Keras calls a callable learning rate with no arguments; the first call gives the start
    opt = optimizers.SGD(learning_rate=lambda: next(rates)).build([weight])
    weight.grad = torch.ones(1)
    opt.step()
    assert weight.item() == pytest.approx(-0.25)


def test_schedule_survives_a_model_file(tmp_path):
    import fitorch as ft
    from fitorch import layers

    torch.manual_seed(0)
    x, y = torch.randn(64, 3), torch.randn(64, 1)
    schedule = optimizers.schedules.CosineDecay(0.05, decay_steps=20)
    model = ft.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.Adam(learning_rate=schedule), loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    model.save(tmp_path / "m.fitorch")
    loaded = ft.load_model(tmp_path / "m.fitorch")
    torch.manual_seed(1)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    torch.manual_seed(1)
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0)
    # 12 steps taken (4 per epoch): the last one ran at schedule(11)
    assert loaded.optimizer.param_groups[0]["lr"] == pytest.approx(schedule(11))
    for a, b in zip(model.parameters(), loaded.parameters()):
        assert torch.equal(a, b)


def test_callable_learning_rate_is_reported_lost_when_saving(tmp_path):
    import fitorch as ft
    from fitorch import layers

    model = ft.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.SGD(learning_rate=lambda: 0.01), loss="mse")
    model.fit(torch.randn(8, 3), torch.randn(8, 1), verbose=0)
    model.save(tmp_path / "m.fitorch")
    with pytest.warns(UserWarning, match="optimizer SGD"):
        ft.load_model(tmp_path / "m.fitorch")


def test_a_schedule_and_an_lr_scheduler_are_not_combined():
    import fitorch as ft

    model = ft.Model(nn.Linear(3, 1))
    schedule = optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    with pytest.raises(ValueError, match="keep one of the two"):
        model.compile(optimizer=optimizers.SGD(learning_rate=schedule), loss="mse",
                      lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 2))
