"""``layers.Attention`` computes what Keras 3's does, with the same scalar weights."""

import numpy as np
import pytest
import torch

import fitorch as ft
from fitorch import layers

keras = pytest.importorskip("keras")


def _pair(**kwargs):
    ours, theirs = layers.Attention(**kwargs), keras.layers.Attention(**kwargs)
    return ours, theirs


@pytest.mark.parametrize("kwargs", [{}, {"use_scale": True}, {"score_mode": "concat"},
                                    {"score_mode": "concat", "use_scale": True}])
@pytest.mark.parametrize("with_key,masks,causal", [(False, False, False), (True, True, False),
                                                   (False, True, True)])
def test_matches_keras(kwargs, with_key, masks, causal):
    rng = np.random.default_rng(0)
    q = rng.normal(size=(2, 4, 3)).astype("float32")
    v = rng.normal(size=(2, 5, 3)).astype("float32")
    k = rng.normal(size=(2, 5, 3)).astype("float32")
    q_mask = np.array([[1, 1, 1, 0], [1, 0, 1, 1]], dtype=bool)
    v_mask = np.array([[1, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=bool)
    inputs = [q, v, k] if with_key else [q, v]
    mask = [q_mask, v_mask] if masks else None

    ours, theirs = _pair(**kwargs)
    out_theirs, scores_theirs = theirs(
        [keras.ops.convert_to_tensor(a) for a in inputs],
        mask=None if mask is None else [keras.ops.convert_to_tensor(m) for m in mask],
        return_attention_scores=True, use_causal_mask=causal)
    ours.eval()
    out, scores = ours([torch.from_numpy(a) for a in inputs],
                       mask=None if mask is None else [torch.from_numpy(m) for m in mask],
                       return_attention_scores=True, use_causal_mask=causal)
    if ours.use_scale or ours.score_mode == "concat":  # learned scalars: the same values
        for name, value in (("scale", 0.7), ("concat_score_weight", 1.3)):
            if hasattr(ours, name):
                getattr(theirs, name).assign(value)
                with torch.no_grad():
                    getattr(ours, name).fill_(value)
        out_theirs, scores_theirs = theirs(
            [keras.ops.convert_to_tensor(a) for a in inputs],
            mask=None if mask is None else [keras.ops.convert_to_tensor(m) for m in mask],
            return_attention_scores=True, use_causal_mask=causal)
        out, scores = ours([torch.from_numpy(a) for a in inputs],
                           mask=None if mask is None else [torch.from_numpy(m) for m in mask],
                           return_attention_scores=True, use_causal_mask=causal)
    np.testing.assert_allclose(out.detach().numpy(), keras.ops.convert_to_numpy(out_theirs),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.detach().numpy(),
                               keras.ops.convert_to_numpy(scores_theirs), rtol=1e-5, atol=1e-6)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.weights]


def test_in_a_functional_model_and_its_file(tmp_path):
    ft.backend.clear_session()
    query, value = ft.Input((4, 3)), ft.Input((6, 3))
    attended = layers.Attention(use_scale=True)([query, value])
    out = layers.Dense(1)(layers.GlobalAveragePooling1D()(attended))
    model = ft.Model([query, value], out)
    attention = next(lay for lay in model.layers if isinstance(lay, layers.Attention))
    assert attention.compute_output_shape([(None, 4, 3), (None, 6, 3)]) == (None, 4, 3)
    path = tmp_path / "att.fitorch"
    model.save(path)
    loaded = ft.load_model(path)
    x = [torch.randn(2, 4, 3), torch.randn(2, 6, 3)]
    torch.testing.assert_close(loaded(*x), model(*x))


def test_called_wrong():
    with pytest.raises(ValueError, match="score_mode"):
        layers.Attention(score_mode="additive")
    with pytest.raises(ValueError, match=r"\[query, value\]"):
        layers.Attention()(torch.randn(2, 3, 4))
