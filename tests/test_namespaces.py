"""fitorch.initializers / regularizers / constraints / activations against Keras 3, and weight
constraints applied after each optimizer step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fitorch as ft
from fitorch import activations, constraints, initializers, layers, regularizers
from tests.keras_oracle import keras, to_numpy  # noqa: F401  (fixture)


# ---------------------------------------------------------------- namespaces and old paths
def test_old_layer_paths_are_the_same_modules():
    import fitorch.layers.activations as la
    import fitorch.layers.initializers as li
    import fitorch.layers.regularizers as lr
    from fitorch.layers.initializers import GlorotUniform

    assert li is initializers and lr is regularizers and la is activations
    assert layers.initializers is initializers and layers.constraints is constraints
    assert GlorotUniform is initializers.GlorotUniform
    assert ft.initializers is initializers and ft.constraints is constraints


@pytest.mark.parametrize("module", ["initializers", "regularizers", "constraints", "activations"])
def test_every_keras_public_name_exists(keras, module):
    ours = getattr(ft, module)
    names = [n for n in dir(getattr(keras, module)) if not n.startswith("_")]
    missing = [n for n in names if not hasattr(ours, n) and n not in ("STFT", "STFTInitializer",
                                                                       "stft")]
    assert missing == []


def test_lowercase_aliases_are_the_classes():
    assert regularizers.l2 is regularizers.L2 and regularizers.l1_l2 is regularizers.L1L2
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert constraints.max_norm is constraints.MaxNorm
    assert constraints.min_max_norm is constraints.MinMaxNorm


@pytest.mark.parametrize("module,obj", [
    (regularizers, regularizers.L1L2(0.1, 0.2)),
    (regularizers, regularizers.OrthogonalRegularizer(0.3, "columns")),
    (initializers, initializers.HeNormal(seed=3)),
    (initializers, initializers.VarianceScaling(2.0, "fan_out", "uniform")),
    (constraints, constraints.MinMaxNorm(0.5, 2.0, 0.5, axis=[0, 1])),
    (constraints, constraints.MaxNorm(3, axis=1)),
])
def test_serialize_deserialize_round_trip(module, obj):
    config = module.serialize(obj)
    assert config["class_name"] == type(obj).__name__
    again = module.deserialize(config)
    assert type(again) is type(obj) and again.get_config() == obj.get_config()
    assert type(module.get(type(obj).__name__)) is type(obj)
    assert type(module.get(type(obj))) is type(obj)


def test_get_names_the_bad_value():
    with pytest.raises(ValueError, match="max_nrom"):
        constraints.get("max_nrom")
    with pytest.raises(ValueError, match="axis='x'"):
        constraints.MaxNorm(axis="x")
    with pytest.raises(ValueError, match="max_value=-1"):
        constraints.MaxNorm(-1)


def test_get_reads_keras_config_dicts(keras):
    for module, obj in ((regularizers, keras.regularizers.L2(0.25)),
                        (constraints, keras.constraints.MaxNorm(1.5, axis=1)),
                        (initializers, keras.initializers.HeUniform(seed=1))):
        ours = module.get(getattr(keras, module.__name__.split(".")[-1]).serialize(obj))
        assert ours.get_config() == obj.get_config()


# ---------------------------------------------------------------- values against Keras
@pytest.mark.parametrize("name,kwargs", [
    ("MaxNorm", {"max_value": 1.0}), ("MaxNorm", {"max_value": 0.5, "axis": 1}),
    ("MaxNorm", {"max_value": 2.0, "axis": [0, 1, 2]}), ("NonNeg", {}),
    ("UnitNorm", {}), ("UnitNorm", {"axis": [0, 1]}),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.5, "rate": 0.7}),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 3.0, "axis": 1}),
])
def test_constraints_match_keras(keras, name, kwargs):
    w = torch.randn(3, 4, 5, 6) * 2
    expected = to_numpy(getattr(keras.constraints, name)(**kwargs)(w))
    ours = getattr(constraints, name)(**kwargs)(w)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,kwargs", [
    ("L1", {"l1": 0.3}), ("L2", {"l2": 0.2}), ("L1L2", {"l1": 0.1, "l2": 0.4}), ("L1L2", {}),
    ("OrthogonalRegularizer", {"factor": 0.5}),
    ("OrthogonalRegularizer", {"factor": 0.2, "mode": "columns"}),
])
def test_regularizers_match_keras(keras, name, kwargs):
    w = torch.randn(6, 4)
    expected = float(to_numpy(getattr(keras.regularizers, name)(**kwargs)(w)))
    assert float(getattr(regularizers, name)(**kwargs)(w)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", sorted(set(activations._ACTIVATIONS) - {"linear"}))
def test_activations_match_keras(keras, name):
    x = torch.linspace(-4, 4, 48).reshape(4, 12)
    expected = to_numpy(getattr(keras.activations, name)(x) if name != "threshold" else
                        keras.activations.threshold(x, 0.5, -1.0))
    fn = activations.get(name)
    ours = fn(x) if name != "threshold" else fn(x, 0.5, -1.0)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"negative_slope": 0.1}, {"max_value": 6.0},
                                    {"max_value": 2.5}, {"threshold": 0.5},
                                    {"negative_slope": 0.2, "threshold": -1.0, "max_value": 3.0}])
def test_relu_arguments_match_keras(keras, kwargs):
    x = torch.linspace(-5, 8, 60)
    np.testing.assert_allclose(activations.relu(x, **kwargs).numpy(),
                               to_numpy(keras.activations.relu(x, **kwargs)), rtol=1e-6)


def test_activation_serialize_and_deserialize():
    assert activations.serialize(activations.relu) == "relu"
    assert activations.deserialize("sparsemax") is activations.sparsemax
    assert activations.get({"class_name": "gelu", "config": None}) is activations.gelu


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform",
                                  "lecun_normal", "lecun_uniform", "random_normal",
                                  "random_uniform", "truncated_normal"])
@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 40, 60)])
def test_initializer_statistics_match_keras(keras, name, shape):
    torch.manual_seed(0)
    ours = initializers.get(name)(shape).numpy()
    theirs = to_numpy(keras.initializers.get(name)(shape))
    assert ours.shape == theirs.shape == shape
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert abs(ours.mean() - theirs.mean()) < 0.05 * theirs.std()
    if name != "random_normal":  # the others are bounded: the same range as Keras's draws
        # (a quantile: Keras's truncated normal lets a rare value, p ~ 4e-6, past the bound)
        assert np.abs(ours).max() == pytest.approx(np.quantile(np.abs(theirs), 0.9999),
                                                   rel=0.05)


def test_fans_match_keras(keras):
    from keras.src.initializers.random_initializers import compute_fans

    for shape in [(7,), (5, 3), (3, 5, 7), (3, 3, 16, 32), (2, 3, 3, 4, 8)]:
        assert initializers.compute_fans(shape) == tuple(int(f) for f in compute_fans(shape))


# ---------------------------------------------------------------- constraints in layers
CONSTRAINED = [
    (layers.Dense, (4,), {"kernel_constraint": "max_norm", "bias_constraint": "non_neg"}, (2, 5)),
    (layers.Conv1D, (3, 2), {"kernel_constraint": "unit_norm", "bias_constraint": "non_neg"},
     (2, 6, 3)),
    (layers.Conv2DTranspose, (3, 2), {"kernel_constraint": "max_norm",
                                      "bias_constraint": "non_neg"}, (2, 5, 5, 2)),
    (layers.DepthwiseConv2D, (3,), {"depthwise_constraint": "non_neg",
                                    "bias_constraint": "non_neg"}, (2, 5, 5, 2)),
    (layers.SeparableConv1D, (4, 3), {"depthwise_constraint": "non_neg",
                                      "pointwise_constraint": "unit_norm",
                                      "bias_constraint": "non_neg"}, (2, 6, 3)),
    (layers.Embedding, (10, 4), {"embeddings_constraint": "unit_norm"}, None),
    (layers.BatchNormalization, (), {"gamma_constraint": "non_neg", "beta_constraint": "non_neg"},
     (4, 3)),
    (layers.LayerNormalization, (), {"gamma_constraint": "non_neg",
                                     "beta_constraint": "non_neg"}, (4, 3)),
    (layers.SimpleRNN, (3,), {"kernel_constraint": "non_neg", "recurrent_constraint": "non_neg",
                              "bias_constraint": "non_neg"}, (2, 4, 3)),
    (layers.LSTM, (3,), {"kernel_constraint": "non_neg", "recurrent_constraint": "non_neg",
                         "bias_constraint": "non_neg"}, (2, 4, 3)),
    (layers.GRU, (3,), {"kernel_constraint": "non_neg", "recurrent_constraint": "non_neg",
                        "bias_constraint": "non_neg"}, (2, 4, 3)),
    (layers.PReLU, (), {"alpha_constraint": "non_neg"}, (2, 3)),
]


@pytest.mark.parametrize("cls,args,kwargs,shape", CONSTRAINED, ids=lambda v: getattr(
    v, "__name__", None))
def test_layers_take_keras_constraint_arguments(cls, args, kwargs, shape):
    layer = cls(*args, **kwargs)
    x = torch.randint(0, 10, (2, 5)) if shape is None else torch.randn(shape)
    layer(x)
    assert len(layer._weight_constraints) == len(kwargs)
    config = layer.get_config()
    for key in kwargs:
        assert key in config
    again = cls.from_config(config)
    again(x)
    assert [(n, type(c)) for n, c in again._weight_constraints] == \
        [(n, type(c)) for n, c in layer._weight_constraints]


def test_multi_head_attention_takes_constraints():
    mha = layers.MultiHeadAttention(2, 4, kernel_constraint=constraints.MaxNorm(0.1),
                                    bias_constraint="non_neg")
    x = torch.randn(2, 3, 8)
    mha(x, x)
    assert len(mha._weight_constraints) == 8


def test_constraints_survive_a_model_file(tmp_path):
    model = ft.Sequential([layers.Dense(3, kernel_constraint=constraints.MaxNorm(0.7, axis=0),
                                        input_shape=(4,))])
    ft.save_model(model, tmp_path / "m.fitorch")
    loaded = ft.load_model(tmp_path / "m.fitorch")
    (name, constraint), = loaded[0]._weight_constraints
    assert name == "kernel" and constraint.get_config() == {"max_value": 0.7, "axis": 0}


def test_fit_with_max_norm_matches_a_torch_loop_projecting_after_each_step():
    torch.manual_seed(0)
    x, y = torch.randn(64, 5), torch.randn(64, 3)
    model = ft.Sequential([layers.Dense(3, kernel_constraint=constraints.max_norm(0.3),
                                        bias_constraint="non_neg", input_shape=(5,))])
    w0 = model[0].kernel.detach().clone()
    b0 = model[0].bias.detach().clone()
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.5), loss="mse")
    model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)

    w, b = w0.clone().requires_grad_(), b0.clone().requires_grad_()
    opt = torch.optim.SGD([w, b], lr=0.5)
    for _ in range(3):
        for i in range(0, 64, 16):
            loss = torch.nn.functional.mse_loss(torch.nn.functional.linear(x[i:i + 16], w, b),
                                                y[i:i + 16])
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():  # Keras's MaxNorm on the (in, out) kernel, axis 0
                norms = w.norm(dim=1, keepdim=True)
                w.mul_(norms.clamp(max=0.3) / (1e-7 + norms))
                b.clamp_(min=0)
    torch.testing.assert_close(model[0].kernel.detach(), w.detach())
    torch.testing.assert_close(model[0].bias.detach(), b.detach())
    assert float(model[0].kernel.detach().norm(dim=1).max()) <= 0.3 + 1e-6


def test_constraint_hook_once_per_optimizer_and_none_without_constraints():
    model = ft.Sequential([layers.Dense(2, kernel_constraint="non_neg", input_shape=(3,))])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.compile(optimizer=opt, loss="mse")
    model.compile(optimizer=opt, loss="mse")  # recompiling must not stack a second hook
    assert len(opt._optimizer_step_post_hooks) == 1
    plain = ft.Sequential([layers.Dense(2, input_shape=(3,))])
    plain_opt = torch.optim.SGD(plain.parameters(), lr=0.1)
    plain.compile(optimizer=plain_opt, loss="mse")
    assert len(plain_opt._optimizer_step_post_hooks) == 0


def test_train_on_batch_and_a_hand_written_step_apply_constraints():
    model = ft.Sequential([layers.Dense(2, kernel_constraint="non_neg", input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(torch.randn(8, 3), torch.randn(8, 2))
    assert float(model[0].kernel.detach().min()) >= 0
    with torch.no_grad():
        model[0].kernel.fill_(-1.0)
    model.optimizer.step()  # Keras semantics: any optimizer update projects the weights
    assert float(model[0].kernel.detach().min()) >= 0
