"""BatchNormalization, LayerNormalization and MultiHeadAttention vs hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from fitorch import backend, layers


@pytest.fixture(autouse=True)
def _reset():
    backend.clear_session()


def test_batch_norm_training_step_and_moving_stats_follow_keras():
    bn = layers.BatchNormalization()
    x = torch.randn(6, 4, 3) * 2 + 1
    out = bn(x)  # training mode: batch statistics over every axis but the last
    flat = x.reshape(-1, 3)
    mean, var = flat.mean(0), flat.var(0, unbiased=False)
    torch.testing.assert_close(out, (x - mean) / torch.sqrt(var + 1e-3))
    # Keras: moving = 0.99 * moving + 0.01 * batch statistic (biased variance)
    torch.testing.assert_close(bn.moving_mean, 0.01 * mean)
    torch.testing.assert_close(bn.moving_variance, 0.99 + 0.01 * var)
    bn.eval()
    with torch.no_grad():
        inference = bn(x)
    torch.testing.assert_close(inference, (x - bn.moving_mean) /
                               torch.sqrt(bn.moving_variance + 1e-3))
    assert bn.count_params() == 12 and len(bn.trainable_weights) == 2
    assert [n for n in bn.state_dict()] == ["gamma", "beta", "moving_mean", "moving_variance"]


def test_batch_norm_gradients_match_torch_batch_norm():
    bn = layers.BatchNormalization()
    ref = torch.nn.BatchNorm1d(3, eps=1e-3)
    x = torch.randn(8, 3, requires_grad=True)
    (bn(x) ** 3).sum().backward()
    grad = x.grad.clone()
    x.grad = None
    (ref(x) ** 3).sum().backward()
    torch.testing.assert_close(grad, x.grad)
    torch.testing.assert_close(bn.gamma.grad, ref.weight.grad)
    shared = layers.BatchNormalization()  # one layer used twice in one graph
    y = torch.randn(4, 3, requires_grad=True)
    (shared(y).sum() + (shared(y) ** 2).sum()).backward()
    assert y.grad is not None


def test_batch_norm_frozen_runs_in_inference_mode_and_axis_1():
    bn = layers.BatchNormalization(axis=1)
    bn.maybe_build((None, 3, 5, 5))
    bn.trainable = False
    x = torch.randn(4, 3, 5, 5)
    out = bn(x)  # module in train mode, but frozen: Keras uses the moving statistics
    torch.testing.assert_close(out, x / math.sqrt(1 + 1e-3))
    assert torch.equal(bn.moving_mean, torch.zeros(3))
    with pytest.raises(layers.IncompatibleInputError, match="axis -3 of size 3"):
        bn.maybe_build((None, 4, 5, 5))


def test_layer_normalization_fused_and_general_axes():
    x = torch.randn(2, 3, 4)
    ln = layers.LayerNormalization()
    ln.maybe_build((None, 3, 4))
    with torch.no_grad():
        ln.gamma.uniform_(0.5, 1.5)
        ln.beta.uniform_(-1, 1)
        out = ln(x)
    mean, var = x.mean(-1, keepdim=True), x.var(-1, unbiased=False, keepdim=True)
    torch.testing.assert_close(out, (x - mean) / torch.sqrt(var + 1e-3) * ln.gamma + ln.beta)
    multi = layers.LayerNormalization(axis=[1, 2])
    multi.maybe_build((None, 3, 4))
    assert multi.gamma.shape == (3, 4)
    mean, var = x.mean((1, 2), keepdim=True), x.var((1, 2), unbiased=False, keepdim=True)
    with torch.no_grad():
        torch.testing.assert_close(multi(x), (x - mean) / torch.sqrt(var + 1e-3))
    middle = layers.LayerNormalization(axis=1)
    with torch.no_grad():
        got = middle(x)
    mean, var = x.mean(1, keepdim=True), x.var(1, unbiased=False, keepdim=True)
    torch.testing.assert_close(got, (x - mean) / torch.sqrt(var + 1e-3))


def _mha_reference(mha, q, v, mask=None):
    wq, bq, wk, bk, wv, bv, wo, bo = (torch.from_numpy(w) for w in mha.get_weights())
    query = torch.einsum("btd,dhk->bhtk", q, wq) + bq[None, :, None]
    key = torch.einsum("btd,dhk->bhtk", v, wk) + bk[None, :, None]
    value = torch.einsum("btd,dhk->bhtk", v, wv) + bv[None, :, None]
    scores = query @ key.transpose(-1, -2) / math.sqrt(mha.key_dim)
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None], -1e9)
    probs = scores.softmax(-1)
    return torch.einsum("bhtk,hko->bto", probs @ value, wo) + bo, probs


def test_multi_head_attention_matches_keras_formula():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    q, v = torch.randn(2, 5, 6), torch.randn(2, 7, 8)
    with torch.no_grad():
        out, scores = mha(q, v, return_attention_scores=True)
        fused = mha(q, v)
    ref, probs = _mha_reference(mha, q, v)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(fused, ref)
    torch.testing.assert_close(scores, probs)
    shapes = [w.shape for w in mha.get_weights()]
    assert shapes == [(6, 2, 3), (2, 3), (8, 2, 3), (2, 3), (8, 2, 4), (2, 4), (2, 4, 6), (6,)]
    assert mha.count_params() == sum(math.prod(s) for s in shapes)
    assert mha.compute_output_shape([(None, 5, 6), (None, 7, 8)]) == (None, 5, 6)


def test_multi_head_attention_masks():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    x = torch.randn(2, 5, 8)
    mask = torch.rand(2, 5, 5) > 0.3
    mask[..., 0] = True
    with torch.no_grad():
        out = mha(x, x, attention_mask=mask)
        causal = mha(x, x, use_causal_mask=True)
    torch.testing.assert_close(out, _mha_reference(mha, x, x, mask)[0])
    tril = torch.ones(5, 5, dtype=torch.bool).tril().expand(2, 5, 5)
    torch.testing.assert_close(causal, _mha_reference(mha, x, x, tril)[0])
    with pytest.raises(layers.IncompatibleInputError, match="built for feature sizes"):
        mha.maybe_build([(None, 5, 7), (None, 5, 8)])
