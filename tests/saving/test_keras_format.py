"""Keras's own files both ways, with Keras 3 itself (torch backend) as the oracle: .keras
models, .weights.h5 weights, legacy .h5, ModelCheckpoint, and hostile files."""

from __future__ import annotations

import io
import os
import warnings
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported anywhere in this process
keras = pytest.importorskip("keras", reason="Keras 3 is the oracle for Keras files (dev extra)")
h5py = pytest.importorskip("h5py")
if keras.backend.backend() != "torch":  # pragma: no cover - keras imported earlier elsewhere
    pytest.skip("keras was imported with another backend", allow_module_level=True)

import fitorch as ft  # noqa: E402
from fitorch import backend  # noqa: E402
from fitorch import layers as fl  # noqa: E402
from fitorch.callbacks import ModelCheckpoint  # noqa: E402

kl = keras.layers
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(autouse=True)
def _fresh_names():
    backend.clear_session()
    keras.backend.clear_session()
    torch.manual_seed(0)
    keras.utils.set_random_seed(0)


def _rand(*shape):
    return np.random.default_rng(sum(shape)).random(shape, dtype=np.float32)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _fitorch_predict(model, xs):
    model.eval()
    with torch.no_grad():
        out = model(*[torch.as_tensor(x) for x in _as_list(xs)])
    return [o.numpy() for o in _as_list(out)]


def _keras_predict(model, xs):
    return [np.asarray(o) for o in _as_list(model.predict(xs, verbose=0))]


def _assert_same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5, rtol=0)


# ---------------------------------------------------------------------------- Keras models
def _cnn():
    model = keras.Sequential([keras.Input((8, 8, 3)), kl.Conv2D(4, 3, activation="relu"),
                              kl.BatchNormalization(), kl.MaxPooling2D(), kl.Flatten(),
                              kl.Dropout(0.3), kl.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    # one epoch moves BatchNormalization's moving statistics away from 0 / 1
    model.fit(_rand(16, 8, 8, 3), np.eye(2, dtype=np.float32)[np.arange(16) % 2], epochs=1,
              verbose=0)
    return model, _rand(4, 8, 8, 3)


def _embedding_lstm_two_outputs():
    ids = keras.Input((6,), dtype="int32", name="ids")
    h = kl.LSTM(5)(kl.Embedding(20, 4)(ids))
    model = keras.Model(ids, [kl.Dense(1, name="score")(h),
                              kl.Dense(3, activation="softmax", name="label")(h)])
    return model, np.random.default_rng(1).integers(0, 20, (4, 6)).astype("int32")


def _shared_residual():
    x = keras.Input((5,))
    shared = kl.Dense(5, activation="tanh")
    y = kl.Add()([x, shared(shared(x))])
    return keras.Model(x, kl.Dense(2)(kl.LayerNormalization()(y))), _rand(3, 5)


def _bidirectional_gru():
    x = keras.Input((7, 3))
    return keras.Model(x, kl.Dense(1)(kl.Bidirectional(kl.GRU(4))(x))), _rand(3, 7, 3)


def _attention():
    x = keras.Input((7, 4))
    y = kl.MultiHeadAttention(num_heads=2, key_dim=3)(x, x)
    return keras.Model(x, kl.GlobalAveragePooling1D()(y)), _rand(3, 7, 4)


def _conv1d_simple_rnn():
    x = keras.Input((9, 2))
    y = kl.Conv1D(3, 3, padding="same", activation="relu")(x)
    y = kl.SimpleRNN(4, return_sequences=True)(kl.AveragePooling1D(2)(y))
    return keras.Model(x, kl.Concatenate()([kl.Flatten()(y), kl.Activation("sigmoid")(
        kl.Reshape((16,))(y))])), _rand(2, 9, 2)


def _more_convolutions():
    x = keras.Input((6, 6, 2))
    y = kl.Conv2DTranspose(3, 3, strides=2, padding="same")(kl.ZeroPadding2D(1)(x))
    y = kl.SeparableConv2D(4, 3, padding="same", activation="elu")(kl.DepthwiseConv2D(3)(y))
    y = kl.Cropping2D(1)(kl.AveragePooling2D(2)(kl.UpSampling2D()(y)))
    return keras.Model(x, kl.Dense(2)(kl.GlobalMaxPooling2D()(y))), _rand(2, 6, 6, 2)


def _more_sequences():
    x = keras.Input((5, 3))
    y = kl.LSTM(3, return_sequences=True)(kl.TimeDistributed(kl.Dense(4))(x))
    y = kl.Bidirectional(kl.LSTM(2, return_sequences=True), merge_mode="sum")(y)
    y = kl.GRU(3, reset_after=False)(kl.Conv1DTranspose(2, 2)(kl.Permute((2, 1))(y)))
    return keras.Model(x, kl.Flatten()(kl.RepeatVector(2)(y))), _rand(2, 5, 3)


def _merges_and_activations():
    x = keras.Input((4,))
    a, b = kl.Dense(4, activation="gelu")(x), kl.Dense(4, use_bias=False)(x)
    y = kl.Concatenate()([kl.Subtract()([a, b]), kl.Multiply()([a, b]), kl.Average()([a, b]),
                          kl.Maximum()([a, b]), kl.Minimum()([a, b]), kl.Dot(axes=1)([a, b])])
    y = kl.ReLU(max_value=2.0)(kl.PReLU()(kl.LeakyReLU(0.1)(y)))
    return keras.Model(x, kl.ELU()(kl.Rescaling(2.0, 0.5)(kl.Softmax()(y)))), _rand(2, 4)


KERAS_MODELS = [_cnn, _embedding_lstm_two_outputs, _shared_residual, _bidirectional_gru,
                _attention, _conv1d_simple_rnn, _more_convolutions, _more_sequences,
                _merges_and_activations]


@pytest.mark.parametrize("build", KERAS_MODELS, ids=lambda f: f.__name__.strip("_"))
def test_keras_model_loads_in_fitorch_and_saves_back(build, tmp_path):
    keras_model, x = build()
    expected = _keras_predict(keras_model, x)
    keras_model.save(tmp_path / "k.keras")
    model = ft.load_model(tmp_path / "k.keras")
    assert isinstance(model, ft.Model)
    _assert_same(_fitorch_predict(model, x), expected)
    # and back: the fitorch model written as .keras opens in Keras and predicts the same
    model.save(tmp_path / "f.keras")
    again = keras.models.load_model(tmp_path / "f.keras")
    _assert_same(_keras_predict(again, x), expected)


def test_keras_compile_config_is_restored(tmp_path):
    keras_model, _ = _cnn()
    keras_model.save(tmp_path / "k.keras")
    model = ft.load_model(tmp_path / "k.keras")
    assert model.compiled
    assert isinstance(model.optimizer, torch.optim.Adam)
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
    history = model.fit(_rand(8, 8, 8, 3), np.eye(2, dtype=np.float32)[np.arange(8) % 2],
                        epochs=1, verbose=0)
    assert "accuracy" in history.history
    uncompiled = ft.load_model(tmp_path / "k.keras", compile=False)
    assert not uncompiled.compiled


# ---------------------------------------------------------------------------- fitorch models
def _fitorch_graph():
    a, b = ft.Input((4,), name="a"), ft.Input((3,), name="b")
    h1, h2 = fl.Dense(3, name="late")(a), fl.Dense(3, name="early")(b)
    out = fl.Dense(1)(fl.Concatenate()([fl.Dense(3)(h1), h2]))
    return ft.Model([a, b], out), [_rand(2, 4), _rand(2, 3)]


def test_fitorch_functional_model_opens_in_keras(tmp_path):
    # several Dense layers: Keras numbers them in its own graph order, which the file follows
    model, x = _fitorch_graph()
    model.save(tmp_path / "f.keras")
    _assert_same(_keras_predict(keras.models.load_model(tmp_path / "f.keras"), x),
                 _fitorch_predict(model, x))


def test_fitorch_compiled_sequential_writes_keras_compile_config(tmp_path):
    model = ft.Sequential([ft.Input((3,)), fl.Dense(4, activation="relu"), fl.Dense(1)])
    model.compile(optimizer=ft.optimizers.SGD(0.05, momentum=0.5), loss="mse", metrics=["mae"])
    model.fit(_rand(8, 3), _rand(8, 1), epochs=1, verbose=0)
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras")
    assert type(loaded.optimizer).__name__ == "SGD"
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.05)
    assert float(loaded.optimizer.momentum) == pytest.approx(0.5)
    assert loaded.loss == "mse"
    _assert_same(_keras_predict(loaded, _rand(2, 3)), _fitorch_predict(model, _rand(2, 3)))
    back = ft.load_model(tmp_path / "f.keras")
    assert isinstance(back.optimizer, torch.optim.SGD)
    assert back.optimizer.param_groups[0]["momentum"] == pytest.approx(0.5)


def test_loss_and_metric_objects_are_written_in_the_keras_compile_config(tmp_path):
    model = ft.Sequential([ft.Input((3,)), fl.Dense(4, activation="relu"), fl.Dense(3)])
    model.compile(optimizer="adam",
                  loss=ft.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[ft.metrics.SparseCategoricalAccuracy(name="acc"), "accuracy"])
    x, y = _rand(12, 3), np.arange(12) % 3
    model.fit(x, y, epochs=1, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # before: saved without its compile config, warning
        model.save(tmp_path / "f.keras")
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    loaded = keras.models.load_model(tmp_path / "f.keras")
    assert type(loaded.loss).__name__ == "SparseCategoricalCrossentropy"
    assert loaded.loss.get_config()["from_logits"] is True
    theirs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(theirs) == sorted(expected) == ["acc", "accuracy", "loss"]
    for key, value in expected.items():
        assert theirs[key] == pytest.approx(value, rel=1e-5), key
    back = ft.load_model(tmp_path / "f.keras")
    assert back.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("make", [
    lambda: ft.Model(nn.Sequential(nn.Linear(3, 2))),
    lambda: ft.Sequential([ft.Input((3,)), nn.Linear(3, 2)]),
], ids=["wrapped-torch", "sequential-with-torch-module"])
def test_plain_torch_modules_cannot_be_written_as_keras(make, tmp_path):
    with pytest.raises(ValueError, match=r"\.fitorch"):
        make().save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_torch_function_between_layers_cannot_be_written_as_keras(tmp_path):
    x = ft.Input((3,))
    model = ft.Model(x, fl.Dense(2)(torch.relu(x)))
    with pytest.raises(ValueError, match="relu.*fitorch"):
        model.save(tmp_path / "m.keras")


# ---------------------------------------------------------------------------- weights files
def test_weights_h5_both_ways(tmp_path):
    keras_model, x = _embedding_lstm_two_outputs()
    model = ft.load_model(_saved(keras_model, tmp_path))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1)
    model.save_weights(tmp_path / "f.weights.h5")
    keras_model.load_weights(tmp_path / "f.weights.h5")
    _assert_same(_keras_predict(keras_model, x), _fitorch_predict(model, x))
    fresh, _ = _embedding_lstm_two_outputs()
    fresh.save_weights(tmp_path / "k.weights.h5")
    model.load_weights(tmp_path / "k.weights.h5")
    _assert_same(_fitorch_predict(model, x), _keras_predict(fresh, x))
    with pytest.raises(ValueError, match="weights-only file.*load_weights"):
        ft.load_model(tmp_path / "k.weights.h5")


def _saved(keras_model, tmp_path, name="k.keras"):
    keras_model.save(tmp_path / name)
    return tmp_path / name


def test_weights_h5_from_another_model_is_refused_unchanged(tmp_path):
    keras_model, _ = _shared_residual()
    model = ft.load_model(_saved(keras_model, tmp_path))
    before = [w.copy() for w in model.get_weights()]
    other, _ = _bidirectional_gru()
    other.save_weights(tmp_path / "other.weights.h5")
    with pytest.raises(ValueError, match="nothing was loaded"):
        model.load_weights(tmp_path / "other.weights.h5")
    for w, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(w, b)


def test_legacy_h5_whole_model_and_weights(tmp_path):
    keras_model, x = _cnn()
    keras_model.save(tmp_path / "legacy.h5")
    expected = _keras_predict(keras_model, x)
    model = ft.load_model(tmp_path / "legacy.h5")
    _assert_same(_fitorch_predict(model, x), expected)
    assert model.compiled
    # weights only into a matching model built in code (other layer names: matched in order)
    twin = ft.Sequential([ft.Input((8, 8, 3)), fl.Conv2D(4, 3, activation="relu"),
                          fl.BatchNormalization(), fl.MaxPooling2D(), fl.Flatten(),
                          fl.Dropout(0.3), fl.Dense(2, activation="softmax")])
    twin.load_weights(tmp_path / "legacy.h5")
    _assert_same(_fitorch_predict(twin, x), expected)


def test_model_checkpoint_writes_keras_names(tmp_path):
    model = ft.Sequential([ft.Input((3,)), fl.Dense(4, activation="relu"), fl.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    checkpoints = [ModelCheckpoint(str(tmp_path / "m-{epoch}.keras")),
                   ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)]
    model.fit(_rand(8, 3), _rand(8, 1), epochs=2, verbose=0, callbacks=checkpoints)
    x = _rand(2, 3)
    _assert_same(_keras_predict(keras.models.load_model(tmp_path / "m-2.keras"), x),
                 _fitorch_predict(model, x))
    twin = keras.Sequential([keras.Input((3,)), kl.Dense(4, activation="relu"), kl.Dense(1)])
    twin.load_weights(tmp_path / "w.weights.h5")
    _assert_same(_keras_predict(twin, x), _fitorch_predict(model, x))
    with pytest.raises(ValueError, match="weights.h5"):
        ModelCheckpoint(str(tmp_path / "m.keras"), save_weights_only=True)
    torch_model = ft.Model(nn.Sequential(nn.Linear(3, 1)))
    torch_model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"ModelCheckpoint.*\.fitorch"):  # before any epoch
        torch_model.fit(_rand(8, 3), _rand(8, 1), epochs=1, verbose=0,
                        callbacks=[ModelCheckpoint(str(tmp_path / "t.keras"))])


# ---------------------------------------------------------------------------- refusals
def test_unknown_layer_and_unhonoured_key_are_named(tmp_path):
    x = keras.Input((4,))
    path = _saved(keras.Model(x, kl.LayerNormalization(rms_scaling=True)(x)), tmp_path, "a.keras")
    with pytest.raises(ValueError, match="layer_normalization.*rms_scaling=True"):
        ft.load_model(path)
    path = _saved(keras.Model(x, kl.UnitNormalization()(x)), tmp_path, "b.keras")
    with pytest.raises(ValueError, match="unit_normalization.*UnitNormalization"):
        ft.load_model(path)
    inner = keras.Sequential([keras.Input((4,)), kl.Dense(2)])
    path = _saved(keras.Model(x, inner(x)), tmp_path, "c.keras")
    with pytest.raises(ValueError, match="nested"):
        ft.load_model(path)
    path = _saved(keras.Model(x, kl.Dense(2, kernel_constraint="non_neg")(x)), tmp_path,
                  "d.keras")
    with pytest.raises(ValueError, match="kernel_constraint"):
        ft.load_model(path)


def test_lambda_is_refused_in_safe_mode_and_bytecode_always(tmp_path):
    flag = str(tmp_path / "ran")
    x = keras.Input((3,))
    keras_model = keras.Model(x, kl.Lambda(lambda t: (open(flag, "w").close(), t)[1])(x))
    path = _saved(keras_model, tmp_path)
    os.remove(flag)  # Keras ran it once while building the model
    with pytest.raises(ValueError, match="Lambda.*safe mode"):
        ft.load_model(path)
    with pytest.raises(ValueError, match="bytecode"):
        ft.load_model(path, safe_mode=False)
    assert not os.path.exists(flag)


def test_named_lambda_function_comes_from_custom_objects(tmp_path):
    def double(t):
        return t * 2

    x = keras.Input((3,))
    path = _saved(keras.Model(x, kl.Lambda(double)(x)), tmp_path)
    with pytest.raises(ValueError, match="safe mode"):
        ft.load_model(path)
    model = ft.load_model(path, safe_mode=False, custom_objects={"double": double})
    _assert_same(_fitorch_predict(model, _rand(2, 3)), [_rand(2, 3) * 2])


def _tamper(path, edit, name="bad.keras"):
    """A copy of the .keras file at ``path`` whose weights file went through ``edit(h5)``."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "r+", libver="latest") as f:  # latest: room for big attributes
        edit(f)
    members["model.weights.h5"] = buffer.getvalue()
    out = path.parent / name
    with zipfile.ZipFile(out, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    return out


def _replace(f, path, **kwargs):
    del f[path]
    f.create_dataset(path, **kwargs)


HOSTILE = {
    "lying-shape": (lambda f: _replace(f, "layers/dense/vars/0", shape=(3000, 3000),
                                       dtype="float32"), "shape"),
    "soft-link": (lambda f: (f.__delitem__("layers/dense/vars/0"),
                             f.__setitem__("layers/dense/vars/0",
                                           h5py.SoftLink("/layers/dense/vars/1"))), "SoftLink"),
    "external-link": (lambda f: (f.__delitem__("layers/dense/vars/0"),
                                 f.__setitem__("layers/dense/vars/0",
                                               h5py.ExternalLink("/etc/passwd", "/x"))),
                      "ExternalLink"),
    "aliased-dataset": (lambda f: f.__setitem__("layers/dense/vars/2", f["layers/dense/vars/0"]),
                        "several names"),
    "huge-attribute": (lambda f: f.create_group("layers/big").attrs.__setitem__(
        "x", np.zeros(3 << 20, dtype=np.float32)), "attribute"),
    "object-reference": (lambda f: f["layers/dense/vars"].attrs.create(
        "r", f["layers"].ref, dtype=h5py.ref_dtype), "reference"),
    "string-weights": (lambda f: _replace(f, "layers/dense/vars/1", data=np.array([b"x"] * 2)),
                       "dtype"),
    "extra-variable": (lambda f: f.create_dataset("layers/dense/vars/2", data=np.zeros(2)),
                       "vars"),
    "external-storage": (lambda f: _replace(f, "layers/dense/vars/1", shape=(2,),
                                            dtype="float32",
                                            external=[("/etc/hostname", 0, 8)]), "external"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_keras_files_are_refused(case, tmp_path):
    x = keras.Input((4,))
    path = _saved(keras.Model(x, kl.Dense(2)(x)), tmp_path)
    edit, message = HOSTILE[case]
    bad = _tamper(path, edit)
    with pytest.raises(ValueError, match=message):
        ft.load_model(bad)
    model = ft.Sequential([ft.Input((4,)), fl.Dense(2)])
    with pytest.raises(ValueError):
        model.load_weights(bad)


def test_keras_zip_with_extra_member_or_oversized_config_is_refused(tmp_path, monkeypatch):
    x = keras.Input((4,))
    path = _saved(keras.Model(x, kl.Dense(2)(x)), tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("assets/evil.pkl", b"\x80\x04.")
    with pytest.raises(ValueError, match="evil.pkl"):
        ft.load_model(path)
    from fitorch.saving import keras_format

    path = _saved(keras.Model(x, kl.Dense(2)(x)), tmp_path, "ok.keras")
    monkeypatch.setattr(keras_format, "MAX_JSON_BYTES", 100)
    with pytest.raises(ValueError, match="config.json.* declares .* bytes, more than"):
        ft.load_model(path)


def _dense_entry(name, units, inbound, activation="linear"):
    return {"class_name": "Dense", "name": name, "inbound_nodes": [inbound],
            "config": {"name": name, "trainable": True, "dtype": "float32", "units": units,
                       "activation": activation, "use_bias": True,
                       "kernel_initializer": {"class_name": "GlorotUniform",
                                              "config": {"seed": None}},
                       "bias_initializer": {"class_name": "Zeros", "config": {}},
                       "kernel_regularizer": None, "bias_regularizer": None,
                       "activity_regularizer": None, "kernel_constraint": None,
                       "bias_constraint": None}}


def test_tf_keras_2_h5_with_its_config_and_weight_names(tmp_path):
    # what tf.keras 2 wrote (TensorFlow is not needed to read it): Keras 2 node lists,
    # "batch_input_shape", weights under <layer>/<layer>/kernel:0 listed in weight_names
    import json

    rng = np.random.default_rng(0)
    weights = {"dense": [rng.random((4, 3)), rng.random(3)],
               "dense_1": [rng.random((4, 3)), rng.random(3)],
               "dense_2": [rng.random((3, 2)), rng.random(2)]}
    config = {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 4], "dtype": "float32", "sparse": False,
                    "ragged": False, "name": "input_1"}},
        _dense_entry("dense", 3, [["input_1", 0, 0, {}]], "relu"),
        _dense_entry("dense_1", 3, [["input_1", 0, 0, {}]]),
        {"class_name": "Add", "name": "add", "config": {"name": "add", "trainable": True,
                                                         "dtype": "float32"},
         "inbound_nodes": [[["dense", 0, 0, {}], ["dense_1", 0, 0, {}]]]},
        _dense_entry("dense_2", 2, [["add", 0, 0, {}]])],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_2", 0, 0]]},
        "keras_version": "2.13.1", "backend": "tensorflow"}
    training = {"loss": "mse", "metrics": None, "optimizer_config": {
        "class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.002, "decay": 0.0,
                                         "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                                         "amsgrad": False, "is_legacy_optimizer": False,
                                         "jit_compile": True}}}
    path = tmp_path / "tf2.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["training_config"] = json.dumps(training)
        root = f.create_group("model_weights")
        root.attrs["layer_names"] = [b"input_1", b"dense", b"dense_1", b"add", b"dense_2"]
        for name in ("input_1", "add"):
            root.create_group(name).attrs["weight_names"] = np.array([], dtype="S")
        for name, (kernel, bias) in weights.items():
            group = root.create_group(name)
            group.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group.create_dataset(f"{name}/kernel:0", data=kernel.astype("float32"))
            group.create_dataset(f"{name}/bias:0", data=bias.astype("float32"))
    x = _rand(3, 4).astype(np.float64)
    (k0, b0), (k1, b1), (k2, b2) = weights.values()
    expected = (np.maximum(x @ k0 + b0, 0) + x @ k1 + b1) @ k2 + b2
    model = ft.load_model(path)
    _assert_same(_fitorch_predict(model, x.astype("float32")), [expected.astype("float32")])
    assert isinstance(model.optimizer, torch.optim.Adam)
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.002)


def test_crafted_config_sizes_and_nesting_are_refused(tmp_path):
    import json

    x = keras.Input((4,))
    path = _saved(keras.Model(x, kl.Dense(2)(x)), tmp_path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["units"] = 10 ** 12  # would allocate terabytes
    for name, text in (("big.keras", json.dumps(config)),
                       ("deep.keras", "[" * 100_000 + "]" * 100_000)):
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            for n, data in members.items():
                zf.writestr(n, text if n == "config.json" else data)
        with pytest.raises(ValueError, match="units=1000000000000|JSON|nests"):
            ft.load_model(tmp_path / name)


def test_keras_loss_and_metric_objects_become_fitorch_ones(tmp_path):
    keras_model = keras.Sequential([keras.Input((3,)), kl.Dense(2)])
    keras_model.compile(optimizer="sgd",
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                        metrics=[keras.metrics.SparseCategoricalAccuracy()])
    model = ft.load_model(_saved(keras_model, tmp_path))
    assert isinstance(model._config.loss_spec, ft.losses.SparseCategoricalCrossentropy)
    x, y = _rand(6, 3), np.arange(6) % 2
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = keras_model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(expected["loss"], abs=1e-5)
    assert logs["sparse_categorical_accuracy"] == pytest.approx(
        expected["sparse_categorical_accuracy"])
    keras_model.compile(optimizer=keras.optimizers.Adam(use_ema=True), loss="mse")
    with pytest.warns(UserWarning, match="use_ema=True.*uncompiled"):
        assert not ft.load_model(_saved(keras_model, tmp_path, "ema.keras")).compiled
