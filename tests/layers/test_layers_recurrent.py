"""SimpleRNN / LSTM / GRU / Bidirectional / TimeDistributed vs torch.nn and hand-written cells."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fitorch import backend, layers


@pytest.fixture(autouse=True)
def _reset():
    backend.clear_session()


def _keras_weights(layer, x_shape):
    layer.maybe_build(x_shape)
    return [torch.from_numpy(w) for w in layer.get_weights()]


def test_param_counts_match_keras():
    counts = {}
    for layer in (layers.SimpleRNN(32), layers.LSTM(32), layers.GRU(32),
                  layers.GRU(32, reset_after=False)):
        layer.maybe_build((None, 10, 7))
        counts[layer.name] = layer.count_params()
    assert counts == {"simple_rnn": 32 * (7 + 32 + 1), "lstm": 4 * 32 * (7 + 32 + 1),
                      "gru": 3 * 32 * (7 + 32 + 2), "gru_1": 3 * 32 * (7 + 32 + 1)}
    assert counts["lstm"] == 5120 and counts["gru"] == 3936


def test_lstm_matches_torch_lstm_with_keras_gate_order():
    layer = layers.LSTM(5, return_sequences=True, return_state=True)
    kernel, recurrent, bias = _keras_weights(layer, (None, 6, 3))
    # Keras unit_forget_bias: forget block starts at one
    assert torch.equal(bias[5:10], torch.ones(5)) and torch.equal(bias[:5], torch.zeros(5))
    with torch.no_grad():
        bias.uniform_(-1, 1)
    layer.set_weights([kernel.numpy(), recurrent.numpy(), bias.numpy()])
    ref = nn.LSTM(3, 5, batch_first=True)
    with torch.no_grad():  # Keras (i, f, c, o) is torch's (i, f, g, o); only a transpose
        ref.weight_ih_l0.copy_(kernel.T)
        ref.weight_hh_l0.copy_(recurrent.T)
        ref.bias_ih_l0.copy_(bias)
        ref.bias_hh_l0.zero_()
    x = torch.randn(2, 6, 3)
    with torch.no_grad():
        seq, h, c = layer(x)
        ref_seq, (ref_h, ref_c) = ref(x)
    torch.testing.assert_close(seq, ref_seq)
    torch.testing.assert_close(h, ref_h[0])
    torch.testing.assert_close(c, ref_c[0])
    assert layer.compute_output_shape((None, 6, 3)) == [(None, 6, 5), (None, 5), (None, 5)]


def _keras_gru_reference(x, kernel, recurrent, bias, reset_after, h=None):
    # a direct transcription of Keras's GRUCell (gates z, r, h)
    units = recurrent.shape[0]
    h = torch.zeros(x.shape[0], units) if h is None else h
    b_in, b_rec = (bias[0], bias[1]) if reset_after else (bias, torch.zeros(3 * units))
    outs = []
    for t in range(x.shape[1]):
        xz, xr, xh = (x[:, t] @ kernel + b_in).split(units, -1)
        if reset_after:
            hz, hr, hh = (h @ recurrent + b_rec).split(units, -1)
            z, r = torch.sigmoid(xz + hz), torch.sigmoid(xr + hr)
            cand = torch.tanh(xh + r * hh)
        else:
            z = torch.sigmoid(xz + h @ recurrent[:, :units])
            r = torch.sigmoid(xr + h @ recurrent[:, units:2 * units])
            cand = torch.tanh(xh + (r * h) @ recurrent[:, 2 * units:])
        h = z * h + (1 - z) * cand
        outs.append(h)
    return torch.stack(outs, 1)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_keras_cell(reset_after):
    layer = layers.GRU(4, return_sequences=True, reset_after=reset_after)
    kernel, recurrent, bias = _keras_weights(layer, (None, 5, 3))
    assert bias.shape == ((2, 12) if reset_after else (12,))
    bias = torch.randn(bias.shape)
    layer.set_weights([kernel.numpy(), recurrent.numpy(), bias.numpy()])
    np.testing.assert_array_equal(layer.get_weights()[2], bias.numpy())
    x = torch.randn(2, 5, 3)
    with torch.no_grad():
        got = layer(x)
    torch.testing.assert_close(got, _keras_gru_reference(x, kernel, recurrent, bias, reset_after))


def test_simple_rnn_loop_and_fused_paths_agree_with_hand_computation():
    x = torch.randn(2, 4, 3)
    for activation in ("tanh", "sigmoid"):  # fused kernel, then the step loop
        layer = layers.SimpleRNN(3, activation=activation)
        kernel, recurrent, bias = _keras_weights(layer, (None, 4, 3))
        act = torch.tanh if activation == "tanh" else torch.sigmoid
        h = torch.zeros(2, 3)
        for t in range(4):
            h = act(x[:, t] @ kernel + h @ recurrent + bias)
        with torch.no_grad():
            torch.testing.assert_close(layer(x), h)


def test_lstm_custom_activation_loop_and_go_backwards_and_initial_state():
    layer = layers.LSTM(3, activation="relu", go_backwards=True, return_sequences=True)
    kernel, recurrent, bias = _keras_weights(layer, (None, 4, 2))
    x = torch.randn(2, 4, 2)
    h0, c0 = torch.randn(2, 3), torch.randn(2, 3)
    h, c, outs = h0, c0, []
    for t in reversed(range(4)):
        i, f, g, o = (x[:, t] @ kernel + h @ recurrent + bias).split(3, -1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.relu(g)
        h = torch.sigmoid(o) * torch.relu(c)
        outs.append(h)
    with torch.no_grad():
        got = layer(x, initial_state=[h0, c0])
    torch.testing.assert_close(got, torch.stack(outs, 1))  # Keras keeps the reversed order
    with pytest.raises(ValueError, match="initial_state"):
        layer(x, initial_state=[h0])


def test_recurrent_dropout_and_errors():
    layer = layers.GRU(4, dropout=0.3, recurrent_dropout=0.3)
    x = torch.randn(2, 5, 3)
    assert layer(x).shape == (2, 4)
    layer.eval()
    with torch.no_grad():
        torch.testing.assert_close(layer(x), layer(x))
    with pytest.raises(ValueError, match="stateful"):
        layers.LSTM(2, stateful=True)
    with pytest.raises(layers.IncompatibleInputError, match=r"LSTM 'lstm'.*rank 3"):
        layers.LSTM(2)(torch.randn(2, 3))


def test_bidirectional_concat_matches_two_directions():
    bi = layers.Bidirectional(layers.GRU(3, return_sequences=True))
    x = torch.randn(2, 5, 4)
    with torch.no_grad():
        out = bi(x)
        fwd = bi.forward_layer(x)
        bwd = bi.backward_layer(x).flip(1)
    assert bi.forward_layer.name == "forward_gru" and bi.backward_layer.go_backwards
    torch.testing.assert_close(out, torch.cat([fwd, bwd], -1))
    assert bi.count_params() == 2 * 3 * 3 * (4 + 3 + 2)
    assert bi.compute_output_shape((None, 5, 4)) == (None, 5, 6)
    assert len(bi.get_weights()) == 6
    summed = layers.Bidirectional(layers.LSTM(3), merge_mode="sum")
    assert summed(x).shape == (2, 3)
    states = layers.Bidirectional(layers.LSTM(3, return_state=True))(x)
    assert [tuple(s.shape) for s in states] == [(2, 6)] + [(2, 3)] * 4
    clone = layers.deserialize(layers.serialize(bi))
    assert isinstance(clone.forward_layer, layers.GRU) and clone.merge_mode == "concat"
    with pytest.raises(ValueError, match="recurrent layer"):
        layers.Bidirectional(layers.Dense(3))


def test_time_distributed_applies_per_step():
    td = layers.TimeDistributed(layers.Dense(2))
    x = torch.randn(3, 4, 5)
    with torch.no_grad():
        out = td(x)
        expected = torch.stack([td.layer(x[:, t]) for t in range(4)], 1)
    torch.testing.assert_close(out, expected)
    assert td.count_params() == 12
    conv = layers.TimeDistributed(layers.Conv2D(2, 3))
    assert conv.compute_output_shape((None, 4, 8, 8, 1)) == (None, 4, 6, 6, 2)
