"""Preprocessing layers: Normalization, Resizing, RandomFlip (vs NumPy and Keras 3) and the
vocabulary layers StringLookup, IntegerLookup, TextVectorization (vs the expectations of Keras 3's
own tests: Keras's lookup layers need TensorFlow, which the oracle environment lacks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import fitorch as ft
from fitorch import backend, layers


@pytest.fixture(autouse=True)
def _reset():
    backend.clear_session()


# ---- Normalization ------------------------------------------------------------------------
@pytest.mark.parametrize("axis,reduce", [(-1, (0, 1)), ((1,), (0, 2)), ((1, 2), (0,)),
                                         (None, (0, 1, 2))])
def test_normalization_adapt_matches_numpy(axis, reduce):
    x = np.random.default_rng(0).normal(3, 2, size=(40, 3, 4)).astype("float32")
    norm = layers.Normalization(axis=axis)
    norm.adapt(x)
    mean = x.astype(np.float64).mean(axis=reduce, keepdims=True)
    std = x.astype(np.float64).std(axis=reduce, keepdims=True)
    np.testing.assert_allclose(norm(torch.tensor(x)).numpy(), (x - mean) / std, atol=1e-5)
    assert int(norm.count) == np.prod([x.shape[a] for a in reduce])


@pytest.mark.parametrize("wrap", ["tensor", "dataloader", "dataset", "list_of_batches"])
def test_normalization_adapt_over_batches_equals_whole_array(wrap):
    x = torch.randn(50, 3) * torch.tensor([1.0, 5.0, 0.1]) + torch.tensor([0.0, -2.0, 7.0])
    data = {"tensor": x, "dataloader": DataLoader(TensorDataset(x, x[:, 0]), batch_size=7),
            "dataset": TensorDataset(x), "list_of_batches": [x[:13].numpy(), x[13:].numpy()]}[wrap]
    norm = layers.Normalization()
    norm.adapt(data)
    torch.testing.assert_close(norm.adapt_mean, x.double().mean(0).float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(norm.adapt_variance, x.double().var(0, unbiased=False).float(),
                               atol=1e-4, rtol=1e-5)


def test_normalization_given_stats_and_invert_match_keras():
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(1).normal(size=(5, 3, 4)).astype("float32")
    for kwargs in ({"axis": 1, "mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]},
                   {"axis": -1, "mean": 2.0, "variance": 0.25, "invert": True},
                   {"axis": (1, 2), "mean": [0.5, 1, 2, 3], "variance": [1, 2, 3, 4]}):
        ours = layers.Normalization(**kwargs)
        theirs = keras.layers.Normalization(**kwargs)
        np.testing.assert_allclose(ours(torch.tensor(x)).numpy(),
                                   np.asarray(theirs(x).cpu()), atol=1e-6)
        config = ours.get_config()
        for key in ("axis", "invert", "mean", "variance"):
            assert np.array_equal(np.asarray(config[key]), np.asarray(theirs.get_config()[key]))


def test_normalization_state_is_saved_in_model_files(tmp_path):
    x = torch.randn(30, 4) * 3 + 1
    norm = layers.Normalization()
    norm.adapt(x)
    model = ft.Sequential([ft.Input((4,)), norm, layers.Dense(2)])
    ft.save_model(model, tmp_path / "m.fitorch")
    loaded = ft.load_model(tmp_path / "m.fitorch")
    torch.testing.assert_close(loaded(x), model(x))
    assert "variance" in str([n for n in loaded.state_dict()])


def test_normalization_refuses_bad_arguments():
    with pytest.raises(ValueError, match="both mean and variance"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="axis='x'"):
        layers.Normalization(axis="x")
    norm = layers.Normalization()
    norm.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="does not match"):
        norm.adapt(np.ones((4, 5)))


# ---- Resizing / RandomFlip ----------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"interpolation": "nearest"},
                                    {"interpolation": "bicubic", "antialias": True},
                                    {"antialias": True}, {"crop_to_aspect_ratio": True},
                                    {"pad_to_aspect_ratio": True, "fill_value": 0.5},
                                    {"data_format": "channels_first"}])
@pytest.mark.parametrize("size", [(4, 6), (9, 3)])
def test_resizing_matches_keras(kwargs, size):
    keras = pytest.importorskip("keras")
    x = np.random.default_rng(2).uniform(size=(2, 7, 5, 3)).astype("float32")
    ours = layers.Resizing(*size, **kwargs)
    theirs = keras.layers.Resizing(*size, **kwargs)
    out = ours(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), np.asarray(theirs(x).cpu()), atol=1e-5)
    assert tuple(out.shape) == ours.compute_output_shape((None,) + x.shape[1:])[1:] or \
        tuple(out.shape[1:]) == ours.compute_output_shape((None,) + x.shape[1:])[1:]


def test_resizing_uint8_rounds_and_refuses_area():
    img = torch.randint(0, 256, (1, 5, 5, 1), dtype=torch.uint8)
    out = layers.Resizing(3, 3)(img)
    assert out.dtype == torch.uint8
    with pytest.raises(ValueError, match="interpolation='area'"):
        layers.Resizing(3, 3, interpolation="area")


def test_random_flip_training_only_and_seeded():
    x = torch.arange(2 * 4 * 4 * 1, dtype=torch.float32).reshape(2, 4, 4, 1)
    flip = layers.RandomFlip("horizontal", seed=3)
    torch.testing.assert_close(flip(x, training=False), x)
    flip.eval()
    torch.testing.assert_close(flip(x), x)
    outs = [layers.RandomFlip("horizontal", seed=3)(x, training=True) for _ in range(2)]
    torch.testing.assert_close(outs[0], outs[1])
    for image, out in zip(x, outs[0]):  # each image unchanged or mirrored left-right
        assert torch.equal(out, image) or torch.equal(out, image.flip(1))
    many = torch.zeros(400, 2, 2, 1)
    many[:, :, 0] = 1
    flipped = layers.RandomFlip("horizontal", seed=0)(many, training=True)
    share = float((flipped[:, 0, 0, 0] == 0).float().mean())
    assert 0.4 < share < 0.6
    vertical = layers.RandomFlip("vertical", seed=1)(x, training=True)
    for image, out in zip(x, vertical):
        assert torch.equal(out, image) or torch.equal(out, image.flip(0))
    with pytest.raises(ValueError, match="mode='diagonal'"):
        layers.RandomFlip("diagonal")


# ---- StringLookup / IntegerLookup ---------------------------------------------------------
def test_string_lookup_adapt_and_fixed_vocabulary_follow_keras():
    layer = layers.StringLookup()
    layer.adapt(["a", "a", "a", "b", "b", "c"])
    assert layer(["b", "c", "d"]).tolist() == [2, 3, 0]
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    fixed = layers.StringLookup(vocabulary=["a", "b", "c"])
    assert fixed(np.array(["b", "c", "d"])).tolist() == [2, 3, 0]
    # ties: the larger token first (Keras sorts by (count, token), descending)
    tie = layers.StringLookup(max_tokens=3, mask_token="", oov_token="[OOV]")
    tie.adapt(np.array([["x", "y"], ["y", "x"], ["z", ""]]))
    assert tie.get_vocabulary() == ["", "[OOV]", "y"]
    assert tie([["", "y", "x"]]).tolist() == [[0, 2, 1]]


@pytest.mark.parametrize("mode,single,batch", [
    ("multi_hot", [1, 1, 1, 0], [[1, 1, 1, 0]]),
    ("count", [1, 1, 1, 0], [[1, 1, 2, 0]]),
    ("tf_idf", [0.2, 0.1, 0.2, 0.0], [[0.2, 0.1, 0.4, 0.0]]),
    ("one_hot", [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]], None)])
def test_lookup_output_modes_follow_keras(mode, single, batch):
    # the cases of Keras 3's index_lookup_test.test_output_modes
    kwargs = {"max_tokens": 7, "mask_token": "", "oov_token": "[OOV]",
              "vocabulary": ["one", "two", "three"], "output_mode": mode}
    if mode == "tf_idf":
        kwargs["idf_weights"] = np.array([0.1, 0.2, 0.3])
    layer = layers.StringLookup(**kwargs)
    np.testing.assert_allclose(layer(["one", "two", "four"]).numpy(), single, atol=1e-6)
    if batch is not None:
        np.testing.assert_allclose(layer([["one", "two", "four", "two"]]).numpy(), batch,
                                   atol=1e-6)


def test_string_lookup_invert_and_errors():
    layer = layers.StringLookup(vocabulary=["a", "b"], invert=True)
    assert layer(torch.tensor([[0, 1, 2, 5]])).tolist() == [["[UNK]", "a", "b", "[UNK]"]]
    strict = layers.StringLookup(vocabulary=["a"], num_oov_indices=0)
    with pytest.raises(ValueError, match="out-of-vocabulary values \\['q'\\]"):
        strict(["a", "q"])
    with pytest.raises(TypeError, match="symbolic Input"):
        layers.StringLookup(vocabulary=["a"])(torch.zeros(2))
    with pytest.raises(ValueError, match="repeats the terms \\['a'\\]"):
        layers.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(RuntimeError, match="adapt"):
        layers.StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises((TypeError, ValueError), match="symbolic Input"):
        ft.Sequential([ft.Input((3,)), layers.StringLookup(vocabulary=["a"])])


def test_integer_lookup_runs_on_tensors_inside_a_model():
    layer = layers.IntegerLookup(mask_token=0, num_oov_indices=2)
    layer.adapt(np.array([[1, 2, 2, 0], [5, 5, 5, 9]]))
    assert layer.get_vocabulary() == [0, -1, -1, 5, 2, 9, 1]
    # unknown values go to OOV index 1 + (value mod 2), as Keras's floormod
    assert layer(torch.tensor([[5, 2, 0, 7, 8]])).tolist() == [[3, 4, 0, 2, 1]]
    model = ft.Sequential([ft.Input((3,), dtype=torch.long),
                           layers.IntegerLookup(vocabulary=[10, 20, 30]),
                           layers.Embedding(4, 2)])
    assert tuple(model(torch.tensor([[10, 30, 99]])).shape) == (1, 3, 2)
    inverse = layers.IntegerLookup(vocabulary=[10, 20], invert=True)
    assert inverse(torch.tensor([1, 2, 0])).tolist() == [10, 20, -1]


def test_tf_idf_lookup_without_idf_weights_says_what_it_needs():
    layer = layers.IntegerLookup(output_mode="tf_idf", max_tokens=5, pad_to_max_tokens=True)
    with pytest.raises(RuntimeError, match="needs IDF weights.*adapt"):
        layer(torch.tensor([[1, 2]]))


def test_lookup_vocabulary_round_trips_through_config_and_model_file(tmp_path):
    layer = layers.IntegerLookup(output_mode="tf_idf")
    layer.adapt(np.array([[1, 1, 2], [2, 3, 3], [3, 3, 3]]))
    rebuilt = layers.IntegerLookup.from_config(layer.get_config())
    x = torch.tensor([[1, 3, 7]])
    torch.testing.assert_close(rebuilt(x), layer(x))
    # Keras: idf = log(1 + documents / (1 + documents containing the token))
    assert layer.get_vocabulary() == [-1, 3, 2, 1]
    np.testing.assert_allclose(layer(torch.tensor([[3, 2, 1]])).numpy()[0, 1:],
                               np.log(1 + 3 / (1 + np.array([2, 2, 1]))), rtol=1e-6)
    model = ft.Sequential([ft.Input((3,), dtype=torch.long), layer, layers.Dense(1)])
    ft.save_model(model, tmp_path / "lookup.fitorch")
    torch.testing.assert_close(ft.load_model(tmp_path / "lookup.fitorch")(x), model(x))


# ---- TextVectorization --------------------------------------------------------------------
def test_text_vectorization_int_mode_follows_keras():
    layer = layers.TextVectorization(output_sequence_length=6)
    layer.adapt(["The cat sat.", "the dog, the CAT!", "a dog"])
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "dog", "cat", "sat", "a"]
    out = layer(np.array([["the cat ate a dog"], ["Sat"]]))
    assert out.dtype == torch.int64
    assert out.tolist() == [[2, 4, 1, 6, 3, 0], [5, 0, 0, 0, 0, 0]]
    unpadded = layers.TextVectorization(vocabulary=["a", "b"])
    assert unpadded(["a b a", "b"]).tolist() == [[2, 3, 2], [3, 0, 0]]


@pytest.mark.parametrize("standardize,expected", [
    ("lower_and_strip_punctuation", ["hello", "world!"]),
    ("lower", ["hello!", "world"]),
    ("strip_punctuation", ["Hello", "World"]),
    (None, ["Hello!", "World"])])
def test_text_vectorization_standardize(standardize, expected):
    layer = layers.TextVectorization(standardize=standardize, split="whitespace")
    layer.adapt(["Hello! World"])
    assert sorted(layer.get_vocabulary(include_special_tokens=False)) == \
        sorted({"lower_and_strip_punctuation": ["hello", "world"], "lower": ["hello!", "world"],
                "strip_punctuation": ["Hello", "World"], None: ["Hello!", "World"]}[standardize])
    assert expected  # the parametrization documents Keras's behaviour per mode


def test_text_vectorization_bag_modes_follow_keras():
    # the cases of Keras 3's text_vectorization_test
    vocab = ["foo", "bar", "baz"]
    multi = layers.TextVectorization(output_mode="multi_hot", vocabulary=vocab)
    assert multi([["foo bar"], ["baz foo foo"]]).tolist() == [[0, 1, 1, 0], [0, 1, 0, 1]]
    count = layers.TextVectorization(output_mode="count", vocabulary=vocab)
    assert count(["foo bar", "baz foo foo"]).tolist() == [[0, 1, 1, 0], [0, 2, 0, 1]]
    tfidf = layers.TextVectorization(output_mode="tf_idf", vocabulary=vocab,
                                     idf_weights=[0.3, 0.5, 0.2])
    np.testing.assert_allclose(tfidf(["foo bar", "baz foo foo"]).numpy(),
                               [[0.0, 0.3, 0.5, 0.0], [0.0, 0.6, 0.0, 0.2]], atol=1e-6)
    padded = layers.TextVectorization(output_mode="multi_hot", vocabulary=["foo", "bar"],
                                      max_tokens=8, pad_to_max_tokens=True)
    assert tuple(padded(["foo bar"]).shape) == (1, 8)


def test_text_vectorization_ngrams_characters_and_max_tokens():
    grams = layers.TextVectorization(ngrams=(1, 3))
    grams.adapt(["foo bar baz"])
    vocab = grams.get_vocabulary()
    assert "foo bar baz" in vocab and "foo" in vocab and "foo bar" not in vocab
    chars = layers.TextVectorization(split="character", standardize=None)
    chars.adapt(["abca"])
    assert chars.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    capped = layers.TextVectorization(max_tokens=5)
    capped.adapt(["a b c d e f g h i j"])
    assert len(capped.get_vocabulary()) == 5
    loader = DataLoader(["one two", "two", "three two"], batch_size=2)
    from_loader = layers.TextVectorization()
    from_loader.adapt(loader)
    assert from_loader.get_vocabulary()[2] == "two"


def test_text_vectorization_config_round_trip_and_refusals():
    layer = layers.TextVectorization(output_mode="tf_idf", ngrams=2, max_tokens=20)
    layer.adapt(["the cat sat", "the dog sat down"])
    rebuilt = layers.TextVectorization.from_config(layer.get_config())
    texts = ["the cat sat down", "a dog"]
    torch.testing.assert_close(rebuilt(texts), layer(texts))
    assert rebuilt.get_vocabulary() == layer.get_vocabulary()
    with pytest.raises(ValueError, match="output_sequence_length"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="ragged"):
        layers.TextVectorization(ragged=True)
    with pytest.raises(TypeError, match="symbolic Input"):
        layer(torch.ones(2, 1))
