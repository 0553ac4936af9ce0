"""Each Keras optimizer name builds a torch optimizer that updates weights as Keras 3 does."""

import numpy as np
import pytest
import torch

from fitorch import optimizers

keras = pytest.importorskip("keras")

CASES = [
    ("SGD", {"learning_rate": 0.05}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.01}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "weight_decay": 0.1}),
    ("Adamax", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Nadam", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_thirty_steps_match_keras(name, kwargs):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3)).astype("float32")
    grads = [rng.normal(size=(4, 3)).astype("float32") for _ in range(30)]

    variable = keras.Variable(w0.copy())
    keras_opt = getattr(keras.optimizers, name)(**kwargs)
    for g in grads:
        keras_opt.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])

    param = torch.nn.Parameter(torch.tensor(w0.copy()))
    torch_opt = getattr(optimizers, name)(**kwargs).build([param])
    for g in grads:
        param.grad = torch.tensor(g)
        torch_opt.step()

    np.testing.assert_allclose(param.detach().numpy(), keras.ops.convert_to_numpy(variable),
                               rtol=1e-5, atol=2e-6)
