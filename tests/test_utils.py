"""fitorch.utils against Keras 3 (and NumPy where Keras needs TensorFlow)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

import fitorch as ft
from fitorch import layers, utils
from tests.keras_oracle import keras, to_numpy  # noqa: F401  (fixture)


# ---------------------------------------------------------------- arrays
@pytest.mark.parametrize("labels,num_classes", [([0, 2, 1, 2], None), ([[1], [0], [3]], 5),
                                                (np.array([[0, 1], [2, 0]]), None)])
def test_to_categorical_matches_keras(keras, labels, num_classes):
    expected = keras.utils.to_categorical(labels, num_classes)
    ours = utils.to_categorical(labels, num_classes)
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    np.testing.assert_array_equal(ours, expected)


def test_to_categorical_on_tensors_and_bad_labels():
    out = utils.to_categorical(torch.tensor([2, 0]), 3)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.tensor([[0., 0., 1.], [1., 0., 0.]]))
    with pytest.raises(ValueError, match="from 0 to 3"):
        utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="num_classes=0"):
        utils.to_categorical([0], num_classes=0)


@pytest.mark.parametrize("axis,order", [(-1, 2), (1, 1), (-1, np.inf)])
def test_normalize_matches_keras(keras, axis, order):
    x = np.random.default_rng(0).normal(size=(4, 5))
    x[1] = 0
    np.testing.assert_allclose(utils.normalize(x, axis, order),
                               keras.utils.normalize(x, axis, order))
    if order == 2:
        np.testing.assert_allclose(utils.normalize(torch.tensor(x), axis, order).numpy(),
                                   keras.utils.normalize(x, axis, order), atol=1e-12)


def test_normalize_along_axis_0():
    # Keras 3.15 turns axis=0 into -1 (``axis or -1``) and fails; fitorch normalizes columns
    x = np.random.default_rng(1).normal(size=(4, 5))
    np.testing.assert_allclose(utils.normalize(x, axis=0), x / np.linalg.norm(x, axis=0))


SEQUENCES = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10]]


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 4, 7])
def test_pad_sequences_matches_keras(keras, padding, truncating, maxlen):
    args = dict(maxlen=maxlen, padding=padding, truncating=truncating)
    expected = keras.utils.pad_sequences(SEQUENCES, **args)
    ours = utils.pad_sequences(SEQUENCES, **args)
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("kwargs", [{"value": -1.5, "dtype": "float32"},
                                    {"value": 9, "dtype": "int64", "padding": "post"},
                                    {"value": "<pad>", "dtype": object}])
def test_pad_sequences_value_and_dtype_match_keras(keras, kwargs):
    sequences = [["a", "b"], ["c"]] if kwargs["dtype"] is object else SEQUENCES
    expected = keras.utils.pad_sequences(sequences, **kwargs)
    ours = utils.pad_sequences(sequences, **kwargs)
    assert ours.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)


def test_pad_sequences_of_vectors_and_errors():
    seqs = [np.ones((2, 3)), np.zeros((4, 3))]
    out = utils.pad_sequences(seqs, dtype="float32")
    assert out.shape == (2, 4, 3) and out[0, :2].sum() == 0 and out[0, 2:].sum() == 6
    with pytest.raises(ValueError, match="padding='middle'"):
        utils.pad_sequences(SEQUENCES, padding="middle")
    with pytest.raises(ValueError, match="value='x'"):
        utils.pad_sequences(SEQUENCES, value="x")
    with pytest.raises(ValueError, match=r"sequences\[1\]"):
        utils.pad_sequences([np.ones((2, 3)), np.ones((1, 4))])


# ---------------------------------------------------------------- datasets
def _keras_windows(data, targets, length, stride, rate, start, end):
    # Keras's documented window rule (its implementation needs TensorFlow or grain)
    start, end = start or 0, end or len(data)
    count = end - start - (length - 1) * rate
    if targets is not None:
        count = min(count, len(targets))
    starts = start + np.arange(0, count, stride)
    xs = np.stack([data[s:s + length * rate:rate] for s in starts])
    return xs, (None if targets is None else targets[starts])


@pytest.mark.parametrize("length,stride,rate,start,end,batch", [
    (10, 1, 1, None, None, 128), (5, 3, 2, None, None, 7), (4, 2, 3, 10, 80, 5),
    (6, 1, 1, 5, None, 16)])
def test_timeseries_dataset_windows(length, stride, rate, start, end, batch):
    data = np.arange(100 * 2).reshape(100, 2).astype("float32")
    targets = np.arange(100) * 10
    expected_x, expected_y = _keras_windows(data, targets, length, stride, rate, start, end)
    loader = utils.timeseries_dataset_from_array(data, targets, length, sequence_stride=stride,
                                                 sampling_rate=rate, batch_size=batch,
                                                 start_index=start, end_index=end)
    batches = list(loader)
    assert len(batches) == len(loader) == math.ceil(len(expected_x) / batch)
    np.testing.assert_array_equal(torch.cat([b[0] for b in batches]).numpy(), expected_x)
    np.testing.assert_array_equal(torch.cat([b[1] for b in batches]).numpy(), expected_y)


def test_timeseries_keras_docstring_example():
    # keras.utils.timeseries_dataset_from_array's own example: windows of 10 steps starting at
    # 0..90, each with the target data[i + 10]
    data = np.arange(100)
    ds = utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    (x, y), = list(ds)
    np.testing.assert_array_equal(x[0].numpy(), np.arange(10))
    assert int(y[0]) == 10 and x.shape == (81, 10) and int(y[-1]) == 90


def test_timeseries_shuffle_is_seeded_and_trains():
    data = np.random.default_rng(0).normal(size=(60, 3)).astype("float32")
    targets = (data[:, 0] > 0).astype("float32")
    a = utils.timeseries_dataset_from_array(data, targets, 5, batch_size=8, shuffle=True, seed=3)
    b = utils.timeseries_dataset_from_array(data, targets, 5, batch_size=8, shuffle=True, seed=3)
    xa, xb = torch.cat([x for x, _ in a]), torch.cat([x for x, _ in b])
    torch.testing.assert_close(xa, xb)
    ordered = utils.timeseries_dataset_from_array(data, targets, 5, batch_size=8)
    xo = torch.cat([x for x, _ in ordered])
    assert not torch.equal(xa, xo)
    assert sorted(map(tuple, xa[:, 0].tolist())) == sorted(map(tuple, xo[:, 0].tolist()))
    model = ft.Sequential([layers.Input(shape=(5, 3)), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(a, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="sampling_rate=0"):
        utils.timeseries_dataset_from_array(data, None, 5, sampling_rate=0)
    single = utils.timeseries_dataset_from_array(data, None, 5, batch_size=None)
    assert len(single) == 56 and single[0].shape == (5, 3)


@pytest.mark.parametrize("left,right", [(0.8, None), (None, 0.25), (30, None), (None, 7),
                                        (0.5, 0.5)])
def test_split_dataset_sizes_match_keras(keras, left, right):
    x, y = np.arange(40 * 3).reshape(40, 3), np.arange(40)
    kl, kr = keras.utils.split_dataset((x, y), left_size=left, right_size=right)
    ol, orr = utils.split_dataset((x, y), left_size=left, right_size=right)
    assert (len(ol), len(orr)) == (len(kl), len(kr))
    # without shuffle the order is kept: left is the head, right the tail
    np.testing.assert_array_equal(torch.stack([ol[i][1] for i in range(len(ol))]).numpy(),
                                  y[:len(ol)])
    np.testing.assert_array_equal(torch.stack([orr[i][1] for i in range(len(orr))]).numpy(),
                                  y[len(y) - len(orr):])


def test_split_dataset_shuffled_matches_keras(keras):
    x = np.arange(50)
    kl, kr = keras.utils.split_dataset(x, left_size=0.6, shuffle=True, seed=11)
    ol, orr = utils.split_dataset(x, left_size=0.6, shuffle=True, seed=11)
    assert [int(kl[i][0]) for i in range(len(kl))] == [int(ol[i][0]) for i in range(len(ol))]
    assert [int(kr[i][0]) for i in range(len(kr))] == [int(orr[i][0]) for i in range(len(orr))]


def test_split_dataset_errors_and_torch_datasets():
    ds = torch.utils.data.TensorDataset(torch.arange(10.))
    left, right = utils.split_dataset(ds, right_size=3)
    assert len(left) == 7 and len(right) == 3
    with pytest.raises(ValueError, match="left_size=1.5"):
        utils.split_dataset(ds, left_size=1.5)
    with pytest.raises(ValueError, match="give 8 \\+ 5"):
        utils.split_dataset(ds, left_size=8, right_size=5)
    with pytest.raises(TypeError, match="str"):
        utils.split_dataset("abc")


# ---------------------------------------------------------------- PyDataset in fit
class Batches(utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model(seed=0):
    torch.manual_seed(seed)
    return ft.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(1)])


@pytest.mark.parametrize("workers,processes", [(1, False), (3, False), (2, True)])
def test_pydataset_in_fit_matches_the_same_tensors(workers, processes):
    x = np.random.default_rng(0).normal(size=(50, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    a, b = _model(), _model()
    for m in (a, b):
        m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    ds = Batches(x, y, 8, workers=workers, use_multiprocessing=processes)
    ha = a.fit(ds, epochs=3, shuffle=False, verbose=0, validation_data=Batches(x, y, 16))
    hb = b.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0, validation_data=(x, y))
    for key in ("loss", "mae", "val_loss"):
        np.testing.assert_allclose(ha.history[key], hb.history[key], rtol=1e-5)
    assert ds.epochs_ended == 3
    np.testing.assert_allclose(a.evaluate(ds, verbose=0), b.evaluate(x, y, verbose=0),
                               rtol=1e-5)
    torch.testing.assert_close(torch.as_tensor(a.predict(Batches(x, y, 8), verbose=0)),
                               torch.as_tensor(b.predict(x, verbose=0)))


def test_pydataset_shuffle_visits_every_batch_in_a_new_order():
    seen = []

    class Recording(Batches):
        def __getitem__(self, i):
            seen.append(i)
            return super().__getitem__(i)

    x = np.zeros((40, 3), "float32")
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(Recording(x, x[:, :1], 4), epochs=2, verbose=0)
    first, second = seen[:10], seen[10:]
    assert sorted(first) == sorted(second) == list(range(10))
    assert first != list(range(10)) or second != list(range(10))


def test_pydataset_refuses_targets_warns_on_batch_size_and_sequence_alias():
    x = np.zeros((8, 3), "float32")
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="y was given with a PyDataset"):
        model.fit(Batches(x, x, 4), x, verbose=0)
    with pytest.warns(UserWarning, match="batch_size=4 is ignored"):
        model.fit(Batches(x, x[:, :1], 4), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(Batches(x, x[:, :1], 4), validation_split=0.5, verbose=0)
    assert utils.Sequence is utils.PyDataset
    with pytest.raises(ValueError, match="workers=-1"):
        Batches(x, x, 4, workers=-1)


# ---------------------------------------------------------------- Progbar
def test_progbar_averages_like_keras(keras, capsys):
    updates = [(1, [("loss", 4.0), ("acc", 0.5)]), (3, [("loss", 2.0), ("acc", 0.7)]),
               (5, [("loss", 1.0), ("acc", 0.9)])]
    theirs = keras.utils.Progbar(6, verbose=0, stateful_metrics=["acc"])
    ours = utils.Progbar(6, verbose=2, stateful_metrics=["acc"])
    for current, values in updates:
        theirs.update(current, values)
        ours.update(current, values)
        expected = {k: float(np.mean(v[0] / max(1, v[1]))) for k, v in theirs._values.items()}
        assert ours.averages() == pytest.approx(expected)
    assert ours.averages()["loss"] == pytest.approx((4 + 2 * 2 + 1 * 2) / 5)
    assert capsys.readouterr().out == ""  # verbose=2 prints once, at the end
    theirs.update(6, [("loss", 0.5)])  # the final update's values are shown as given
    ours.update(6, [("loss", 0.5)])
    assert ours.averages() == pytest.approx(
        {k: float(np.mean(v[0] / max(1, v[1]))) for k, v in theirs._values.items()})
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("6/6 - ")
    assert "loss: 0.5000" in out and "acc: 0.9000" in out


def test_progbar_add_and_unknown_target(capsys):
    bar = utils.Progbar(None, verbose=2, unit_name="sample")
    bar.add(5, [("loss", 1.0)])
    bar.update(9, [("loss", 3.0)])
    assert bar.averages()["loss"] == pytest.approx((5 * 1.0 + 4 * 3.0) / 9)
    assert capsys.readouterr().out == ""  # no target: only an explicit finalize ends the bar
    bar.update(9, finalize=True)
    out = capsys.readouterr().out
    assert out.startswith("9/9 - ") and "/sample" in out and "loss: 1.8889" in out
    with pytest.raises(ValueError, match="verbose=3"):
        utils.Progbar(3, verbose=3)


# ---------------------------------------------------------------- plot_model
def _functional():
    x = ft.Input(shape=(8,))
    a = layers.Dense(4, activation="relu", name="a")(x)
    b = layers.Dense(4, name="b")(x)
    return ft.Model(x, layers.Dense(1, name="out")(layers.Add(name="add")([a, b])))


def test_plot_model_writes_the_graph_source(tmp_path):
    path = tmp_path / "model.dot"
    utils.plot_model(_functional(), str(path), show_shapes=True, show_layer_activations=True)
    text = path.read_text()
    assert '"module:a" -> "module:add"' in text and '"module:b" -> "module:add"' in text
    assert "Output shape: (None, 4)" in text and "Activation: relu" in text
    assert "Input shape: [(None, 4), (None, 4)]" in text
    dot = utils.model_to_dot(ft.Sequential([layers.Dense(3, input_shape=(5,)), layers.Dense(2)]),
                             show_shapes=True)
    assert len(dot.get_edges()) == 2


def test_plot_model_errors_name_what_to_install(tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(OSError, match="Graphviz's `dot` program.*model.dot"):
        utils.plot_model(_functional(), str(tmp_path / "m.png"))
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match="pip install pydot"):
        utils.plot_model(_functional(), str(tmp_path / "m.dot"))
    monkeypatch.delitem(sys.modules, "pydot")
    with pytest.raises(ValueError, match="show_shapes"):
        utils.model_to_dot(torch.nn.Sequential(torch.nn.Linear(2, 2)), show_shapes=True)


def test_set_random_seed_makes_runs_repeat():
    utils.set_random_seed(5)
    a = (torch.rand(3), np.random.rand(3))
    utils.set_random_seed(5)
    b = (torch.rand(3), np.random.rand(3))
    torch.testing.assert_close(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
