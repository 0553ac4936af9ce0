"""MultiHeadAttention's initial weights and the Keras config keys of layers, against Keras 3."""

import numpy as np
import pytest
import torch

from fitorch import backend, layers

keras = pytest.importorskip("keras")


@pytest.fixture(autouse=True)
def _reset():
    backend.clear_session()


def _built_mha(module, dim=64, heads=4, key_dim=16, out=None):
    query = np.zeros((1, 3, dim), "float32")
    if module is layers:
        mha = layers.MultiHeadAttention(heads, key_dim, output_shape=out)
        mha(torch.tensor(query), torch.tensor(query))
    else:
        mha = keras.layers.MultiHeadAttention(heads, key_dim, output_shape=out)
        mha(query, query)
    return [np.asarray(w) for w in mha.get_weights()]


@pytest.mark.parametrize("dim,heads,key_dim,out", [(64, 4, 16, None), (32, 8, 8, 48)])
def test_mha_initial_kernels_have_keras_spread(dim, heads, key_dim, out):
    # Keras counts the einsum kernels' fans over their input/output axes: glorot's limit is
    # sqrt(6 / (dim + heads * key_dim)) for q/k/v and sqrt(6 / (heads * key_dim + out)) after
    torch.manual_seed(0)
    ours = _built_mha(layers, dim, heads, key_dim, out)
    keras.utils.set_random_seed(0)
    theirs = _built_mha(keras, dim, heads, key_dim, out)
    assert [w.shape for w in ours] == [w.shape for w in theirs]
    for mine, ref in zip(ours, theirs):
        if ref.ndim < 3:
            continue  # biases: zeros in both
        limit = np.sqrt(6 / (np.prod(ref.shape[:1 if ref.shape[0] == dim else 2]) +
                             np.prod(ref.shape[1 if ref.shape[0] == dim else 2:])))
        assert np.abs(mine).max() <= limit + 1e-6
        np.testing.assert_allclose(mine.std(), ref.std(), rtol=0.1)
        np.testing.assert_allclose(mine.std(), limit / np.sqrt(3), rtol=0.1)


def test_mha_keeps_an_initializer_that_names_its_axes():
    init = keras.initializers.GlorotUniform()
    ours = layers.MultiHeadAttention(2, 4, kernel_initializer="glorot_uniform")
    ours(torch.zeros(1, 2, 8), torch.zeros(1, 2, 8))
    assert ours.kernel_initializer.input_axes is None  # the user's object is not changed
    assert init.input_axes is None


CASES = {"MultiHeadAttention": {"num_heads": 2, "key_dim": 4}, "SimpleRNN": {"units": 3},
         "LSTM": {"units": 3}, "GRU": {"units": 3}, "LayerNormalization": {},
         "Dense": {"units": 2}, "Embedding": {"input_dim": 5, "output_dim": 2}}
KEYS = ["seed", "unroll", "zero_output_for_mask", "rms_scaling", "use_gate",
        "quantization_config", "sliding_window"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_has_keras_keys_and_loads_keras_configs(name):
    theirs = getattr(keras.layers, name)(**CASES[name]).get_config()
    ours = getattr(layers, name)(**CASES[name]).get_config()
    for key in KEYS:
        if key in theirs:
            assert ours[key] == theirs[key], key
    # a Keras config's values for these keys are accepted as they are
    accepted = {k: theirs[k] for k in KEYS if k in theirs}
    rebuilt = getattr(layers, name)(**CASES[name], **accepted)
    assert {k: rebuilt.get_config()[k] for k in accepted} == accepted


@pytest.mark.parametrize("name,key,value,match", [
    ("MultiHeadAttention", "use_gate", True, "use_gate=True is not supported"),
    ("MultiHeadAttention", "seed", 3, "seed=3 is not supported"),
    ("MultiHeadAttention", "sliding_window", 4, "sliding_window=4"),
    ("LayerNormalization", "rms_scaling", True, "rms_scaling=True"),
    ("Dense", "quantization_config", {"mode": "int8"}, "quantization_config"),
    ("Embedding", "quantization_config", {"mode": "int8"}, "quantization_config"),
    ("LSTM", "unroll", "yes", "unroll='yes' must be a bool")])
def test_unsupported_values_are_refused(name, key, value, match):
    with pytest.raises(ValueError, match=match):
        getattr(layers, name)(**CASES[name], **{key: value})


def test_rnn_seed_makes_dropout_reproducible():
    x = torch.randn(4, 5, 3)
    outs = []
    for _ in range(2):
        backend.clear_session()
        torch.manual_seed(0)
        lstm = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=7)
        lstm(x)  # build with the same weights
        torch.manual_seed(123 + len(outs))  # global RNG differs; the layer's seed decides
        outs.append(lstm(x, training=True))
    torch.testing.assert_close(outs[0], outs[1])
