"""Learning-rate schedules give Keras 3's rates, and an optimizer following one updates weights
as Keras's does."""

import numpy as np
import pytest
import torch

from fitorch import optimizers
from fitorch.optimizers import schedules

keras = pytest.importorskip("keras")

SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "decay_rate": 0.5,
                          "staircase": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.3}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.3,
                          "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [10, 25], "values": [0.1, 0.05, 0.01]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 20}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 20, "power": 2.0,
                         "end_learning_rate": 0.01, "cycle": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 30, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 30, "warmup_target": 0.1,
                     "warmup_steps": 8}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 6}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 6,
                             "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(SCHEDULES)]


@pytest.mark.parametrize("name,kwargs", SCHEDULES, ids=IDS)
def test_rates_match_keras(name, kwargs):
    ours = getattr(schedules, name)(**kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    for step in range(60):
        expected = float(keras.ops.convert_to_numpy(theirs(step)))
        assert ours(step) == pytest.approx(expected, rel=1e-5, abs=1e-8), step
    assert schedules.deserialize(schedules.serialize(ours)).get_config() == ours.get_config()


@pytest.mark.parametrize("name,kwargs", SCHEDULES[::3], ids=IDS[::3])
def test_optimizer_following_a_schedule_matches_keras(name, kwargs):
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(3, 2)).astype("float32")
    grads = [rng.normal(size=(3, 2)).astype("float32") for _ in range(40)]
    variable = keras.Variable(w0.copy())
    keras_opt = keras.optimizers.Adam(
        learning_rate=getattr(keras.optimizers.schedules, name)(**kwargs), beta_1=0.5,
        weight_decay=0.01)
    for g in grads:
        keras_opt.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
    param = torch.nn.Parameter(torch.tensor(w0.copy()))
    torch_opt = optimizers.Adam(learning_rate=getattr(schedules, name)(**kwargs), beta_1=0.5,
                               weight_decay=0.01).build([param])
    for g in grads:
        param.grad = torch.tensor(g)
        torch_opt.step()
    # Keras computes the rate in float32, fitorch in float64: 40 steps of ~0.1 drift by ~2e-5
    np.testing.assert_allclose(param.detach().numpy(), keras.ops.convert_to_numpy(variable),
                               rtol=1e-4, atol=1e-4)
