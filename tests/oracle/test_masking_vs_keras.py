"""Keras masks (``Embedding(mask_zero=True)``, ``Masking``) give Keras 3's outputs, weights copied.

The same layer stacks are built with ``keras.layers`` and ``fitorch.layers`` (one API), as a
Sequential and as a functional model, and run on padded sequences: right padding, a gap in the
middle, left padding and a row with no real step.
"""

import warnings

import numpy as np
import pytest
import torch

import fitorch as ft
from fitorch import backend, layers

keras = pytest.importorskip("keras")

T, V, D, U = 6, 12, 4, 3
IDS = np.array([[3, 5, 2, 0, 0, 0],     # right padded
                [1, 7, 0, 9, 4, 0],     # a masked step in the middle
                [0, 0, 6, 6, 11, 2],    # left padded
                [0, 0, 0, 0, 0, 0],     # nothing real
                [8, 1, 2, 3, 4, 5]])    # no padding


def _floats():
    rng = np.random.default_rng(1)
    x = rng.normal(size=IDS.shape + (D,)).astype("float32")
    return np.where(IDS[..., None] == 0, np.float32(0.5), x)  # masked steps hold mask_value


STACKS = {
    "lstm": lambda L: [L.Embedding(V, D, mask_zero=True), L.LSTM(U)],
    "lstm_sequences_backwards": lambda L: [L.Embedding(V, D, mask_zero=True),
                                           L.LSTM(U, return_sequences=True, go_backwards=True)],
    "gru_sequences": lambda L: [L.Embedding(V, D, mask_zero=True),
                                L.GRU(U, return_sequences=True)],
    "gru_zero_output": lambda L: [L.Embedding(V, D, mask_zero=True),
                                  L.GRU(U, return_sequences=True, zero_output_for_mask=True)],
    "gru_no_reset_after": lambda L: [L.Embedding(V, D, mask_zero=True),
                                     L.GRU(U, reset_after=False)],
    "bidirectional_lstm": lambda L: [L.Embedding(V, D, mask_zero=True),
                                     L.Bidirectional(L.LSTM(U))],
    "bidirectional_sequences_sum": lambda L: [
        L.Embedding(V, D, mask_zero=True),
        L.Bidirectional(L.GRU(U, return_sequences=True), merge_mode="sum")],
    "average_pooling": lambda L: [L.Embedding(V, D, mask_zero=True),
                                  L.GlobalAveragePooling1D()],
    # the mask passes Dense and Dropout unchanged, then two RNNs in a row use it
    "through_dense_and_stacked_rnns": lambda L: [
        L.Embedding(V, D, mask_zero=True), L.Dense(5, activation="tanh"), L.Dropout(0.5),
        L.SimpleRNN(U, return_sequences=True), L.LSTM(U, return_sequences=True),
        L.GlobalAveragePooling1D()],
    "masking_simple_rnn": lambda L: [L.Masking(mask_value=0.5),
                                     L.SimpleRNN(U, return_sequences=True)],
}


def _input(lib, case):
    if case.startswith("masking"):
        return lib.Input((T, D)), _floats()
    return lib.Input((T,), dtype="int32" if lib is keras else torch.long), IDS


def _pair(case, form):
    """(keras model, fitorch model) with the same layers and weights."""
    backend.clear_session()
    theirs, ours = STACKS[case](keras.layers), STACKS[case](layers)
    models = []
    for lib, stack, Model, Sequential in ((keras, theirs, keras.Model, keras.Sequential),
                                          (ft, ours, ft.Model, ft.Sequential)):
        x, data = _input(lib, case)
        if form == "sequential":
            models.append(Sequential([x] + stack))
        else:
            y = x
            for layer in stack:
                y = layer(y)
            models.append(Model(x, y))
    for k, f in zip(theirs, ours):
        f.set_weights(k.get_weights())
    return models[0], models[1], data


@pytest.mark.parametrize("form", ["sequential", "functional"])
@pytest.mark.parametrize("case", sorted(STACKS))
def test_masked_outputs_match_keras(case, form):
    theirs, ours, data = _pair(case, form)
    expected = theirs.predict(data, verbose=0)
    got = ours.predict(data, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # and the mask really changes the result (the test would catch a dropped mask)
    unmasked = ours.predict(np.where(IDS == 0, 1, IDS) if data is IDS else
                            np.where(data == 0.5, 0.25, data), verbose=0)
    assert not np.allclose(unmasked[0], expected[0], atol=1e-4)


def test_direct_calls_take_the_mask_explicitly_as_in_keras():
    backend.clear_session()
    k_emb, k_rnn = keras.layers.Embedding(V, D, mask_zero=True), keras.layers.LSTM(U)
    f_emb, f_rnn = layers.Embedding(V, D, mask_zero=True), layers.LSTM(U)
    ids = torch.as_tensor(IDS)
    k_out = k_rnn(k_emb(ids), mask=k_emb.compute_mask(ids))
    mask = f_emb.compute_mask(ids)
    f_emb(ids)
    f_rnn.maybe_build((None, T, D))
    f_emb.set_weights(k_emb.get_weights())
    f_rnn.set_weights(k_rnn.get_weights())
    assert torch.equal(mask, ids != 0)
    torch.testing.assert_close(f_rnn(f_emb(ids), mask=mask), torch.as_tensor(
        keras.ops.convert_to_numpy(k_out)), rtol=1e-5, atol=1e-6)


def test_initial_state_with_masked_first_steps_matches_keras():
    # masked steps before any real one output zeros but keep the given initial state
    backend.clear_session()
    k, f = keras.layers.GRU(U, return_sequences=True), layers.GRU(U, return_sequences=True)
    x = np.random.default_rng(2).normal(size=(2, 4, D)).astype("float32")
    h0 = np.random.default_rng(3).normal(size=(2, U)).astype("float32")
    mask = np.array([[0, 0, 1, 1], [1, 0, 1, 0]], dtype=bool)
    expected = keras.ops.convert_to_numpy(k(x, initial_state=[h0], mask=mask))
    f.maybe_build((None, 4, D))
    f.set_weights(k.get_weights())
    got = f(torch.as_tensor(x), initial_state=[torch.as_tensor(h0)], mask=torch.as_tensor(mask))
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("form", ["sequential", "functional"])
def test_global_max_pooling_drops_the_mask_with_keras_warning(form):
    # Keras 3's GlobalMaxPooling1D takes no mask: it pools every step and warns
    backend.clear_session()
    stack = lambda L: [L.Embedding(V, D, mask_zero=True), L.GlobalMaxPooling1D()]  # noqa: E731
    theirs, ours = stack(keras.layers), stack(layers)
    k_model = keras.Sequential([keras.Input((T,), dtype="int32")] + theirs)
    if form == "sequential":
        f_model = ft.Sequential([ft.Input((T,), dtype=torch.long)] + ours)
    else:
        x = ft.Input((T,), dtype=torch.long)
        f_model = ft.Model(x, ours[1](ours[0](x)))
    ours[0].set_weights(theirs[0].get_weights())
    with pytest.warns(UserWarning, match="does not support masking"):
        got = f_model(torch.as_tensor(IDS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = k_model.predict(IDS, verbose=0)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-6)


def test_compute_mask_and_supports_masking_match_keras():
    ids = torch.as_tensor(IDS)
    for name, kwargs in [("Embedding", {"input_dim": V, "output_dim": D}),
                         ("Embedding", {"input_dim": V, "output_dim": D, "mask_zero": True}),
                         ("Dense", {"units": 2}), ("Dropout", {"rate": 0.1}), ("Masking", {}),
                         ("LSTM", {"units": 2}), ("GRU", {"units": 2, "return_sequences": True}),
                         ("GlobalAveragePooling1D", {}), ("GlobalMaxPooling1D", {}),
                         ("LayerNormalization", {}), ("Softmax", {}), ("Flatten", {})]:
        theirs, ours = getattr(keras.layers, name)(**kwargs), getattr(layers, name)(**kwargs)
        assert ours.supports_masking == theirs.supports_masking, (name, kwargs)
    emb_mask = layers.Embedding(V, D, mask_zero=True).compute_mask(ids)
    assert torch.equal(emb_mask, ids != 0)
    x = torch.as_tensor(_floats())
    assert torch.equal(layers.Masking(0.5).compute_mask(x),
                       torch.as_tensor(keras.ops.convert_to_numpy(
                           keras.layers.Masking(0.5).compute_mask(x))))
    lstm = layers.LSTM(2, return_sequences=True, return_state=True)
    assert lstm.compute_mask(x, emb_mask)[0] is emb_mask
    assert lstm.compute_mask(x, emb_mask)[1:] == [None, None]
    assert layers.LSTM(2).compute_mask(x, emb_mask) is None


def test_fit_from_keras_weights_matches_keras():
    """Five epochs of SGD on padded sequences from the same weights: the same predictions."""
    backend.clear_session()
    stack = lambda L: [L.Embedding(V, D, mask_zero=True),  # noqa: E731
                       L.Bidirectional(L.GRU(U)), L.Dense(1, activation="sigmoid")]
    theirs, ours = stack(keras.layers), stack(layers)
    k_model = keras.Sequential([keras.Input((T,), dtype="int32")] + theirs)
    f_model = ft.Sequential([ft.Input((T,), dtype=torch.long)] + ours)
    for k, f in zip(theirs, ours):
        f.set_weights(k.get_weights())
    y = np.array([[1.0], [0.0], [1.0], [0.0], [1.0]], dtype="float32")
    for model, opt in ((k_model, keras.optimizers.SGD(0.5)), (f_model, ft.optimizers.SGD(0.5))):
        model.compile(optimizer=opt, loss="binary_crossentropy")
        model.fit(IDS, y, batch_size=2, epochs=5, shuffle=False, verbose=0)
    np.testing.assert_allclose(f_model.predict(IDS, verbose=0), k_model.predict(IDS, verbose=0),
                               rtol=1e-4, atol=1e-5)


def test_keras_sequential_file_with_mask_zero_loads_and_masks(tmp_path):
    backend.clear_session()
    k_model = keras.Sequential([keras.Input((T,), dtype="int32"),
                                keras.layers.Embedding(V, D, mask_zero=True),
                                keras.layers.GRU(U, return_sequences=True,
                                                 zero_output_for_mask=True),
                                keras.layers.GlobalAveragePooling1D()])
    k_model.save(tmp_path / "masked.keras")
    loaded = ft.load_model(tmp_path / "masked.keras")
    assert loaded.layers[0].mask_zero and loaded.layers[1].zero_output_for_mask
    np.testing.assert_allclose(loaded.predict(IDS, verbose=0), k_model.predict(IDS, verbose=0),
                               rtol=1e-5, atol=1e-6)
