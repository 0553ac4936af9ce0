"""Masks in fitorch's own terms: padding ignored after training, model files, bad input, and
unmasked models left as they were (Keras parity is in tests/oracle/test_masking_vs_keras.py)."""

import numpy as np
import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch import backend, layers


@pytest.fixture(autouse=True)
def _reset():
    backend.clear_session()


def _padded_task(n=64, max_len=7, seed=0):
    # label: whether token 1 occurs in the sequence; lengths vary, padding id 0 on the right
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, max_len + 1, size=n)
    seqs = [rng.integers(1, 6, size=k) for k in lengths]
    ids = np.zeros((n, max_len), dtype=np.int64)
    for row, seq in zip(ids, seqs):
        row[:len(seq)] = seq
    y = np.array([[float(1 in s)] for s in seqs], dtype=np.float32)
    return seqs, ids, y


@pytest.mark.parametrize("form", ["sequential", "functional"])
def test_trained_padded_model_predicts_what_it_predicts_on_unpadded_sequences(form):
    torch.manual_seed(0)
    seqs, ids, y = _padded_task()
    stack = [layers.Embedding(6, 8, mask_zero=True), layers.LSTM(8, return_sequences=True),
             layers.GRU(4), layers.Dense(1, activation="sigmoid")]
    if form == "sequential":
        model = ft.Sequential(stack)
    else:
        x = ft.Input((None,), dtype=torch.long)
        out = x
        for layer in stack:
            out = layer(out)
        model = ft.Model(x, out)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(ids, y, batch_size=16, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    padded = model.predict(ids, verbose=0)
    for row, seq in enumerate(seqs[:12]):
        alone = model.predict(torch.as_tensor(seq)[None], verbose=0)
        np.testing.assert_allclose(padded[row], alone[0], rtol=1e-5, atol=1e-6)


def test_model_files_keep_mask_zero_and_mask_value(tmp_path):
    x = ft.Input((5,), dtype=torch.long)
    emb = layers.Embedding(9, 3, mask_zero=True)
    model = ft.Model(x, layers.GlobalAveragePooling1D()(layers.SimpleRNN(
        2, return_sequences=True)(emb(x))))
    seq = ft.Sequential([layers.Masking(mask_value=-1.0, input_shape=(4, 2)), layers.LSTM(2)])
    ids = torch.tensor([[1, 2, 0, 0, 0], [3, 0, 4, 0, 8]])
    floats = torch.tensor([[[1.0, 2.0], [-1.0, -1.0], [3.0, 4.0], [-1.0, -1.0]]])
    for original, data in ((model, ids), (seq, floats)):
        path = tmp_path / f"{original.name}.fitorch"
        ft.save_model(original, path)
        loaded = ft.load_model(path)
        torch.testing.assert_close(loaded(data), original(data))
    assert ft.load_model(tmp_path / f"{model.name}.fitorch").get_layer(emb.name).mask_zero
    assert ft.load_model(tmp_path / f"{seq.name}.fitorch")[0].mask_value == -1.0
    assert layers.Masking(-1.0).get_config()["mask_value"] == -1.0


def test_unmasked_functional_model_code_is_unchanged_and_masked_code_threads_masks():
    x = ft.Input((5,), dtype=torch.long)
    plain = ft.Model(x, layers.LSTM(2)(layers.Embedding(9, 3)(x)))
    assert "mask" not in plain.code
    x = ft.Input((5,), dtype=torch.long)
    masked = ft.Model(x, layers.LSTM(2)(layers.Dense(3)(layers.Embedding(9, 3, mask_zero=True)(x))))
    assert "mask=embedding_1_mask" in masked.code  # passed past Dense without a call
    assert "dense_mask" not in masked.code


def test_sequential_notices_layers_added_the_torch_way():
    torch.manual_seed(0)
    ids = torch.tensor([[1, 2, 0, 0]])
    emb, rnn = layers.Embedding(5, 3), layers.SimpleRNN(2)
    model = ft.Sequential(emb, rnn)
    unmasked = model(ids)
    masked_emb = layers.Embedding(5, 3, mask_zero=True)
    masked_emb(ids)
    masked_emb.set_weights(emb.get_weights())
    model[0] = masked_emb  # torch's __setitem__, not add()
    expected = rnn(emb(ids)[:, :2])
    torch.testing.assert_close(model(ids), expected)
    assert not torch.allclose(model(ids), unmasked)
    del model[0]
    model.insert(0, emb)  # back to no mask-creating layer
    torch.testing.assert_close(model(ids), unmasked)


def test_plain_torch_module_drops_the_mask_with_a_warning():
    model = ft.Sequential([layers.Embedding(5, 3, mask_zero=True), nn.Identity(),
                           layers.SimpleRNN(2)])
    with pytest.warns(UserWarning, match="Identity was passed an input with a mask"):
        model(torch.tensor([[1, 2, 0]]))


def test_bad_masks_and_arguments_are_refused():
    lstm = layers.LSTM(2)
    x = torch.zeros(2, 4, 3)
    with pytest.raises(ValueError, match=r"mask of shape \(2, 3\) does not match.*\(2, 4\)"):
        lstm(x, mask=torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask must be a tensor"):
        lstm(x, mask=[[True] * 4] * 2)
    # a 0/1 mask works like a boolean one
    torch.testing.assert_close(lstm(x, mask=torch.ones(2, 4)), lstm(x, mask=torch.ones(
        2, 4, dtype=torch.bool)))
    with pytest.raises(ValueError, match="mask_zero='yes' must be a bool"):
        layers.Embedding(5, 3, mask_zero="yes")
    with pytest.raises(ValueError, match="mask_value='0' must be a number"):
        layers.Masking(mask_value="0")


def test_masking_layer_zeroes_masked_steps_and_average_pooling_skips_them():
    x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
    masking = layers.Masking()
    torch.testing.assert_close(masking(x), x)
    assert masking.compute_mask(x).tolist() == [[True, False, True]]
    pooled = layers.GlobalAveragePooling1D()(x, mask=masking.compute_mask(x))
    torch.testing.assert_close(pooled, torch.tensor([[2.0, 1.0]]))
    channels_first = layers.GlobalAveragePooling1D(data_format="channels_first")
    torch.testing.assert_close(channels_first(x.transpose(1, 2), mask=masking.compute_mask(x)),
                               pooled)


def test_masked_models_compile_to_one_graph():
    ids = torch.tensor([[1, 2, 0], [3, 0, 0]])
    seq = ft.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.LSTM(3)])
    x = ft.Input((3,), dtype=torch.long)
    functional = ft.Model(x, layers.GRU(2)(layers.Embedding(10, 4, mask_zero=True)(x)))
    for model in (seq, functional):
        expected = model(ids)
        compiled = torch.compile(model, fullgraph=True, backend="eager")
        torch.testing.assert_close(compiled(ids), expected)
