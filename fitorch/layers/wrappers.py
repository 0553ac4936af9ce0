"""Layer wrappers: ``Bidirectional`` (an RNN run both ways) and ``TimeDistributed``."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.serialization import deserialize
from fitorch.layers.shapes import Shape, infer_output_shape, standardize_shape
from fitorch.layers.recurrent import _RNN

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards and merges the two outputs.

    The wrapped layer is cloned from its config into ``forward_layer`` (named ``forward_<name>``)
    and ``backward_layer`` (``backward_<name>``, ``go_backwards`` flipped) unless
    ``backward_layer`` is given. With ``return_sequences=True`` the backward outputs are reversed
    back into time order before merging. Weights: the forward layer's, then the backward layer's
    (Keras order). A ``mask`` goes to both layers; as in Keras, both then output zeros at masked
    steps when they return sequences (``zero_output_for_mask`` is set to ``return_sequences``).
    ``initial_state`` is the forward states followed by the backward ones.

    Args:
        layer: a ``SimpleRNN``, ``LSTM`` or ``GRU`` (or its serialized config); other modules are
            refused.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or ``None`` (a list of
            both outputs).
        backward_layer: an optional recurrent layer for the backward direction, with the same
            ``return_sequences`` and ``return_state`` as ``layer``.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        3-D tensor ``(batch_size, timesteps, features)``.

    Output shape:
        The wrapped layer's output shape, with the last axis doubled for ``"concat"``; a list of
        two for ``merge_mode=None``; followed by the forward then backward states with
        ``return_state=True``.

    Example:

    >>> layer = ft.layers.Bidirectional(ft.layers.LSTM(4, return_sequences=True))
    >>> tuple(layer(torch.ones(2, 5, 3)).shape)
    (2, 5, 8)
    >>> layer.forward_layer.go_backwards, layer.backward_layer.go_backwards
    (False, True)
    """

    _expected_ndim = 3
    supports_masking = True
    _creates_mask = False

    def __init__(self, layer: Any, merge_mode: str | None = "concat",
                 backward_layer: Any = None, **kwargs: Any) -> None:
        layer = deserialize(layer) if isinstance(layer, dict) else layer
        backward = deserialize(backward_layer) if isinstance(backward_layer, dict) \
            else backward_layer
        for arg, value in (("layer", layer), ("backward_layer", backward)):
            if value is not None and not isinstance(value, _RNN):
                raise ValueError(f"Bidirectional: {arg}={value!r} must be a recurrent layer "
                                 "(SimpleRNN, LSTM or GRU)")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode={merge_mode!r} is not one of "
                             f"{_MERGE_MODES}")
        if backward is not None and (backward.return_sequences != layer.return_sequences
                                     or backward.return_state != layer.return_state):
            raise ValueError("Bidirectional: backward_layer must have the same return_sequences "
                             "and return_state as layer")
        super().__init__(**kwargs)
        config = layer.get_config()
        config["name"] = "forward_" + layer.name
        self.forward_layer = type(layer).from_config(config)
        if backward is None:
            config = layer.get_config()
            config["name"] = "backward_" + layer.name
            config["go_backwards"] = not layer.go_backwards
            backward = type(layer).from_config(config)
        self.backward_layer = backward
        for sub in (self.forward_layer, self.backward_layer):
            sub.zero_output_for_mask = sub.return_sequences  # Keras forces this too
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def build(self, input_shape: Shape) -> None:
        self.forward_layer.maybe_build(input_shape)
        self.backward_layer.maybe_build(input_shape)

    def check_input_shape(self, input_shape: Any) -> None:
        super().check_input_shape(input_shape)
        self.forward_layer.check_input_shape(input_shape)

    def call(self, inputs: torch.Tensor, initial_state: Any = None, mask: Any = None,
             training: bool | None = None) -> Any:
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, initial_state=forward_state, mask=mask,
                               training=training)
        y_rev = self.backward_layer(inputs, initial_state=backward_state, mask=mask,
                                    training=training)
        states: list[torch.Tensor] = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        if self.merge_mode == "concat":
            out: Any = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "mul":
            out = y * y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) / 2
        else:
            out = [y, y_rev]
        if not self.return_state:
            return out
        return (out if isinstance(out, list) else [out]) + states

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """As Keras: the input mask for each sequence output, ``None`` otherwise."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.merge_mode is None:
            output_mask = [output_mask, output_mask]
        if not self.return_state:
            return output_mask
        states = [None] * (2 * self.forward_layer._n_states)
        return (output_mask if isinstance(output_mask, list) else [output_mask]) + states

    def compute_output_shape(self, input_shape: Shape) -> Any:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        shapes = self.forward_layer.compute_output_shape(input_shape)
        out, states = (shapes[0], shapes[1:]) if self.return_state else (shapes, [])
        if self.merge_mode == "concat":
            merged: Any = out[:-1] + (out[-1] * 2,)
        elif self.merge_mode is None:
            merged = [out, out]
        else:
            merged = out
        if not self.return_state:
            return merged
        return (merged if isinstance(merged, list) else [merged]) + states + states


class TimeDistributed(Layer):
    """Applies ``layer`` (any ``nn.Module``) to every timestep of ``(batch, time, ...)`` inputs.

    The batch and time axes are folded into one before the call and unfolded after it, so the
    layer's weights are shared by all timesteps.

    Args:
        layer: a layer, any ``nn.Module`` taking ``(batch, ...)`` and returning one tensor, or a
            serialized layer config.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``(batch_size, timesteps, ...)``, rank >= 3.

    Output shape:
        ``(batch_size, timesteps, ...)`` with the trailing axes of ``layer``'s output.

    Example:

    >>> layer = ft.layers.TimeDistributed(ft.layers.Dense(2))
    >>> tuple(layer(torch.ones(4, 10, 3)).shape)
    (4, 10, 2)
    >>> tuple(ft.layers.TimeDistributed(nn.Conv2d(3, 8, 3))(torch.ones(1, 5, 3, 6, 6)).shape)
    (1, 5, 8, 4, 4)
    """

    _min_ndim = 3

    def __init__(self, layer: Any, **kwargs: Any) -> None:
        layer = deserialize(layer) if isinstance(layer, dict) else layer
        if not isinstance(layer, nn.Module):
            raise ValueError(f"TimeDistributed: layer={layer!r} must be a layer or an nn.Module")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Shape) -> None:
        if isinstance(self.layer, Layer):
            self.layer.maybe_build((None,) + tuple(input_shape[2:]))

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, steps = inputs.shape[:2]
        y = self.layer(inputs.reshape((batch * steps,) + tuple(inputs.shape[2:])))
        return y.reshape((batch, steps) + tuple(y.shape[1:]))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        inner_in = (None,) + tuple(input_shape[2:])
        if isinstance(self.layer, Layer):
            inner = self.layer.compute_output_shape(inner_in)
        else:
            inner = infer_output_shape(self.layer, inner_in)
        if not isinstance(inner, tuple):
            raise ValueError(f"{describe(self)}: the wrapped layer must return one tensor, its "
                             f"output shapes are {inner}")
        return tuple(input_shape[:2]) + tuple(inner[1:])
