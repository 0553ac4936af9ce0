"""Model introspection (weights, layers, get_layer) and ``trainable = False`` on every model kind,
checked against Keras 3."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import fitorch as ft
from tests.keras_oracle import keras  # noqa: F401  (fixture)


def _stack(lib):
    return [lib.layers.Dense(4, name="d1"), lib.layers.BatchNormalization(name="bn"),
            lib.layers.Dense(1, name="d2")]


def _models(lib):
    seq = lib.Sequential([lib.Input((3,)), *_stack(lib)])
    inputs = lib.Input((3,))
    x = inputs
    for layer in _stack(lib):
        x = layer(x)
    func = lib.Model(inputs, x)

    class Sub(lib.Model):
        def __init__(self):
            super().__init__()
            self.d1, self.bn, self.d2 = _stack(lib)

        def call(self, x, training=None):
            return self.d2(self.bn(self.d1(x)))
    sub = Sub()
    sub(lib.ops.ones((2, 3)) if lib is keras_module() else torch.ones(2, 3))
    return {"sequential": seq, "functional": func, "subclass": sub}


def keras_module():
    import keras
    return keras


def _shapes(weights):
    return [tuple(w.shape) for w in weights]


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclass"])
def test_weights_and_layers_match_keras(keras, kind):
    k, f = _models(keras)[kind], _models(ft)[kind]
    # fitorch stores Dense kernels as torch does, (out, in): compare element counts per weight
    # and the Keras-layout shapes from each layer's get_weights
    assert [w.numel() for w in f.weights] == [int(np.prod(w.shape)) for w in k.weights]
    assert len(f.trainable_weights) == len(k.trainable_weights) == 6
    assert len(f.non_trainable_weights) == len(k.non_trainable_weights) == 2
    # Keras lists a functional model's InputLayer too; fitorch's inputs are not modules
    assert [type(layer).__name__ for layer in f.layers] == \
        [type(layer).__name__ for layer in k.layers if type(layer).__name__ != "InputLayer"]
    assert f.get_layer("bn") is f.layers[1] and f.get_layer(index=-1) is f.layers[-1]
    assert _shapes(f.get_layer("d1").get_weights()) == _shapes(k.get_layer("d1").get_weights())


def test_get_layer_errors_name_the_problem():
    model = ft.Sequential([ft.Input((3,)), ft.layers.Dense(2, name="a")])
    with pytest.raises(ValueError, match="no layer named 'b'.*'a'"):
        model.get_layer("b")
    with pytest.raises(ValueError, match="index=5 is out of range for 1 layers"):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="exactly one of name= or index="):
        model.get_layer()
    with pytest.raises(ValueError, match="trainable='no' must be a bool"):
        model.trainable = "no"


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclass"])
def test_layers_frozen_before_compile_stay_unchanged(kind):
    model = _models(ft)[kind]
    x, y = torch.randn(32, 3) * 3 + 1, torch.randn(32, 1)
    for name in ("d1", "bn"):
        model.get_layer(name).trainable = False
    model.compile(optimizer="sgd", loss="mse")
    before = [w.detach().clone() for w in model.weights]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = model.weights
    assert all(torch.equal(a, b) for a, b in zip(before[:6], after[:6]))  # BN stats included
    assert not torch.equal(before[6], after[6])  # the head trains
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 6


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclass"])
def test_model_frozen_after_compile_stays_unchanged(kind):
    model = _models(ft)[kind]
    x, y = torch.randn(32, 3) * 3 + 1, torch.randn(32, 1)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # the optimizer has momentum state
    model.trainable = False
    before = [w.detach().clone() for w in model.weights]
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.weights))
    assert np.isfinite(history.history["loss"]).all()
    assert model.trainable_weights == [] and not model.get_layer("bn").trainable
    model.trainable = True
    assert len(model.trainable_weights) == 6
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not torch.equal(before[0], model.weights[0])


def test_fully_frozen_model_refuses_compile():
    model = _models(ft)["sequential"]
    model.trainable = False
    with pytest.raises(ValueError, match="no trainable parameters"):
        model.compile(optimizer="sgd", loss="mse")


def test_trainable_false_matches_keras_batchnorm_inference(keras):
    x = np.random.default_rng(1).normal(2.0, 3.0, size=(16, 3)).astype("float32")
    k = keras.Sequential([keras.Input((3,)), keras.layers.BatchNormalization()])
    f = ft.Sequential([ft.Input((3,)), ft.layers.BatchNormalization()])
    k.trainable = False
    f.trainable = False
    # frozen BN normalizes with its moving statistics even when called in training mode
    out_k = keras.ops.convert_to_numpy(k(x, training=True))
    out_f = f(torch.from_numpy(x), training=True).detach().numpy()
    np.testing.assert_allclose(out_f, out_k, atol=1e-5)


def test_wrapped_module_weights_are_its_state():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    model = ft.Model(net)
    assert len(model.weights) == len(net.state_dict())
    model.trainable = False
    assert not any(p.requires_grad for p in net.parameters())
    assert model.layers == list(net.children()) and model.get_layer("0") is net[0]


# ---------------------------------------------------------------- get_weights / set_weights
def _keras_to_fitorch(k_model, f_model):
    f_model.set_weights(k_model.get_weights())


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclass"])
def test_get_weights_is_keras_layout_and_loads_keras_arrays(keras, kind):
    k, f = _models(keras)[kind], _models(ft)[kind]
    k_weights = k.get_weights()
    assert [w.shape for w in f.get_weights()] == [w.shape for w in k_weights]
    # the model's list is its layers' lists, one after the other
    per_layer = [w for layer in f.layers for w in layer.get_weights()]
    assert all(np.array_equal(a, b) for a, b in zip(f.get_weights(), per_layer))
    _keras_to_fitorch(k, f)
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    f.eval()
    np.testing.assert_allclose(f(torch.from_numpy(x)).detach().numpy(),
                               keras.ops.convert_to_numpy(k(x, training=False)), atol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(f.get_weights(), k_weights))


def test_set_weights_checks_every_array_before_writing():
    model = _models(ft)["sequential"]
    before = [w.copy() for w in model.get_weights()]
    bad = [np.ones_like(w) for w in before]
    bad[-2] = np.ones((1, 4), dtype="float32")  # d2's kernel is (4, 1) in Keras's layout
    with pytest.raises(ValueError, match=r"weight '2.kernel' expects Keras shape \(4, 1\), "
                                         r"got \(1, 4\)"):
        model.set_weights(bad)
    with pytest.raises(ValueError, match="expects 8 arrays"):
        model.set_weights(before[:3])
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


@pytest.mark.parametrize("kind", ["sequential", "functional", "subclass"])
def test_get_weights_returns_copies_as_keras_does(keras, kind):
    """Writing into the arrays of get_weights leaves the model unchanged, in Keras and here
    (on the CPU a plain ``.numpy()`` shares the parameter's memory)."""
    for lib in (keras, ft):
        model = _models(lib)[kind]
        before = [w.copy() for w in model.get_weights()]
        for w in model.get_weights():
            w[...] = 7.0
        assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before)), lib


def test_layer_get_weights_returns_copies_as_keras_does(keras):
    """The same for one layer's get_weights (a Dense kernel, a BatchNormalization's buffers)."""
    for lib in (keras, ft):
        for layer in (lib.layers.Dense(2), lib.layers.BatchNormalization()):
            layer(lib.ops.ones((4, 3)))
            before = [w.copy() for w in layer.get_weights()]
            for w in layer.get_weights():
                w[...] = 7.0
            assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), before)), lib


def test_wrapped_torch_module_keeps_torch_layout_and_order():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    model = ft.Model(net)
    state = net.state_dict()
    assert [w.shape for w in model.get_weights()] == [tuple(t.shape) for t in state.values()]
    new = [np.full(w.shape, 0.5, dtype=w.dtype) for w in model.get_weights()]
    model.set_weights(new)
    assert torch.equal(net[0].weight, torch.full((2, 3), 0.5))


def test_fitorch_layers_inside_torch_containers_use_keras_layout():
    net = torch.nn.Sequential(ft.layers.Dense(2), torch.nn.Linear(2, 5))
    net(torch.ones(1, 3))
    model = ft.Model(net)
    assert [w.shape for w in model.get_weights()] == [(3, 2), (2,), (5, 2), (5,)]


# ---------------------------------------------------------------- inputs / outputs
def _features(lib, kind):
    model = _models(lib)[kind]
    return model, lib.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_feature_extractor_matches_keras(keras, kind):
    k_model, k_features = _features(keras, kind)
    f_model, f_features = _features(ft, kind)
    _keras_to_fitorch(k_model, f_model)
    x = np.random.default_rng(2).normal(size=(5, 3)).astype("float32")
    f_model.eval()
    ours = f_features(torch.from_numpy(x))
    theirs = k_features(x, training=False)
    if kind == "functional":  # Keras lists the InputLayer first (its output is the input)
        theirs = theirs[1:]
    assert len(ours) == len(theirs) == 3
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.detach().numpy(), keras.ops.convert_to_numpy(b),
                                   atol=1e-5)
    # the extractor shares the model's layers: its last output is the model's output
    torch.testing.assert_close(ours[-1], f_model(torch.from_numpy(x)))


def test_inputs_outputs_and_layer_io_of_a_functional_model():
    inputs = ft.Input((3,), name="features")
    hidden = ft.layers.Dense(4, name="hidden")(inputs)
    outputs = ft.layers.Dense(1, name="head")(hidden)
    model = ft.Model(inputs, outputs)
    assert model.inputs == [inputs] and model.outputs == [outputs]
    assert model.input is inputs and model.output is outputs
    assert model.get_layer("hidden").input is inputs
    assert model.get_layer("head").input is hidden
    model(torch.randn(2, 3))  # real computation in between: the graph still grows
    extended = ft.Model(model.input, ft.layers.Dense(2)(model.output))
    assert extended(torch.randn(2, 3)).shape == (2, 2)


def test_copies_rebuild_their_graph():
    import copy

    model = _models(ft)["functional"]
    clone = copy.deepcopy(model)
    features = ft.Model(clone.inputs, [layer.output for layer in clone.layers])
    x = torch.randn(4, 3)
    clone.eval()
    torch.testing.assert_close(features(x)[-1], clone(x))
    assert features.get_layer("d1") is clone.get_layer("d1")


def test_missing_inputs_and_outputs_say_why():
    with pytest.raises(ValueError, match="input shape is unknown"):
        ft.Sequential([ft.layers.Dense(2)]).inputs
    with pytest.raises(ValueError, match="never called on symbolic tensors"):
        ft.layers.Dense(2).output
    sub = _models(ft)["subclass"]
    assert not hasattr(sub, "inputs")  # as in Keras: a subclassed model has no graph


def test_a_submodule_named_output_keeps_its_name():
    class Net(ft.layers.Layer):
        def __init__(self):
            super().__init__()
            self.output = torch.nn.Linear(3, 2)

        def call(self, x):
            return self.output(x)

    net = Net()
    assert isinstance(net.output, torch.nn.Linear)
    assert net(torch.ones(1, 3)).shape == (1, 2)


# ---------------------------------------------------------------- trainable after compile
def test_unfreezing_after_compile_asks_for_compile():
    model = _models(ft)["sequential"]
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    model.get_layer("d1").trainable = False
    model.compile(optimizer="sgd", loss="mse")
    model.get_layer("d1").trainable = True
    with pytest.raises(ValueError, match=r"\['0.kernel', '0.bias'\].*became trainable after "
                                         r"compile.*compile\(...\) again"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="became trainable after compile"):
        model.train_on_batch(x, y)
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_layer("d1").kernel.detach().clone()
    model.fit(x, y, verbose=0)
    assert not torch.equal(before, model.get_layer("d1").kernel)


def test_frozen_layers_stay_frozen_in_keras_too(keras):
    # the same program under both libraries: the frozen layers' weights (BN statistics
    # included) do not move in fit, the head's do
    x = np.random.default_rng(3).normal(1.0, 2.0, size=(32, 3)).astype("float32")
    y = np.random.default_rng(4).normal(size=(32, 1)).astype("float32")
    for lib in (keras, ft):
        model = _models(lib)["sequential"]
        model.get_layer("d1").trainable = False
        model.get_layer("bn").trainable = False
        model.compile(optimizer="sgd", loss="mse")
        before = [np.array(w) for w in model.get_weights()]
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        after = model.get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(before[:6], after[:6])), lib
        assert not np.array_equal(before[6], after[6]), lib
