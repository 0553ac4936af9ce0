"""Keras masks: the ``Masking`` layer and how a mask travels from layer to layer.

A mask is a boolean ``(batch, timesteps)`` tensor, ``True`` where a step is real. It starts at a
layer whose ``compute_mask`` creates one (``Embedding(mask_zero=True)``, ``Masking``), is passed as
``mask=`` to every later layer whose ``call`` takes a ``mask`` argument (the recurrent layers,
``Bidirectional``, ``GlobalAveragePooling1D``, ``Softmax``) and is carried past layers with
``supports_masking`` (``Dense``, ``Dropout``, activations, ...), as Keras does.

Keras attaches the mask to the tensor and checks for it in every layer call. fitorch keeps layer
calls free of that work: ``Sequential`` and functional models see, once, whether any of their
layers can create a mask, and only then thread masks with :func:`call_with_mask`; a model without
such a layer runs exactly the code it ran before. A direct call passes the mask explicitly, as
Keras's guide does inside a subclassed layer::

    mask = embedding.compute_mask(ids)
    out = lstm(embedding(ids), mask=mask)
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import torch
from torch import nn
from torch.overrides import is_tensor_like

from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape

_TAKES_MASK: dict[type, bool] = {}


class Masking(Layer):
    """Masks the timesteps whose features all equal ``mask_value`` (Keras's ``Masking``).

    Masked steps are set to 0 in the output, and the mask (``True`` where any feature differs from
    ``mask_value``) is passed to the layers after it in a Sequential or functional model (recurrent
    layers then skip those steps).

    Args:
        mask_value: the number that marks padding when every feature of a step equals it.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        ``(batch_size, timesteps, features)`` (rank >= 2; the last axis holds the features).

    Output shape:
        Same as the input.

    Example:

    >>> x = torch.tensor([[[1.0, 2.0], [-1.0, -1.0], [3.0, -1.0]]])
    >>> layer = ft.layers.Masking(mask_value=-1.0)
    >>> layer.compute_mask(x).tolist()
    [[True, False, True]]
    >>> layer(x).tolist()
    [[[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]]]
    """

    supports_masking = True
    _creates_mask = True
    _min_ndim = 2

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(f"Masking: mask_value={mask_value!r} must be a number")
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor:
        return (inputs != self.mask_value).any(dim=-1)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        return torch.where(keep, inputs, torch.zeros((), dtype=inputs.dtype,
                                                     device=inputs.device))

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return input_shape

    def extra_repr(self) -> str:
        return f"name={self.name!r}, mask_value={self.mask_value!r}"


def takes_mask(module: nn.Module) -> bool:
    """Whether a container passes ``mask=`` to ``module``: a fitorch ``Layer`` whose ``call``
    has a ``mask`` parameter. (A plain torch module's ``mask``, e.g. ``nn.TransformerEncoder``'s,
    means something else, so those never get one.)"""
    cls = type(module)
    found = _TAKES_MASK.get(cls)
    if found is None:
        found = isinstance(module, Layer) and \
            "mask" in inspect.signature(cls.forward).parameters
        _TAKES_MASK[cls] = found
    return found


def may_create_mask(module: nn.Module) -> bool:
    """Whether ``module`` may start a mask where none came in (so a container must thread
    masks through the layers after it)."""
    if not isinstance(module, Layer):
        return False
    flag = module._creates_mask
    if flag is None:
        return type(module).compute_mask is not Layer.compute_mask
    return bool(flag)


def output_mask(module: nn.Module, inputs: Any, mask: Any) -> Any:
    """The mask of ``module``'s output (Keras's rule): its ``compute_mask`` when it supports
    masking; otherwise ``None``, with Keras's warning if a mask was dropped."""
    if isinstance(module, Layer) and module.supports_masking:
        return module.compute_mask(inputs, mask)
    if any(m is not None for m in (mask if isinstance(mask, (list, tuple)) else [mask])):
        warnings.warn(f"{describe(module)} was passed an input with a mask attached to it, but "
                      "it does not support masking and drops the mask: the layers after it "
                      "will not see it", stacklevel=3)
    return None


def call_with_mask(module: nn.Module, inputs: Any, mask: Any) -> tuple[Any, Any]:
    """``(outputs, output mask)`` of one call of ``module`` in a masked model: ``mask=`` is
    passed when the layer takes it (and there is one)."""
    if mask is not None and takes_mask(module):
        outputs = module(inputs, mask=mask)
    else:
        outputs = module(inputs)
    return outputs, output_mask(module, inputs, mask)


def mask_at(masks: Any, path: tuple) -> Any:
    """The mask of output ``path`` of a call whose outputs' masks are ``masks`` (``None`` when
    that call produced none)."""
    for key in path:
        if masks is None:
            return None
        masks = masks[key]
    return masks


def check_mask(owner: nn.Module, mask: Any, inputs: torch.Tensor) -> torch.Tensor:
    """``mask`` as a boolean ``(batch, timesteps)`` tensor, or ``ValueError`` naming the layer
    and the shapes."""
    # tensor-like, not just Tensor: a symbolic mask (a KerasTensor given as mask= while a graph
    # is built, or rebuilt for a copy) stands in for its tensor through __torch_function__
    if not is_tensor_like(mask):
        raise ValueError(f"{describe(owner)}: mask must be a tensor of shape (batch, timesteps), "
                         f"got {type(mask).__name__}")
    if tuple(mask.shape) != tuple(inputs.shape[:2]):
        raise ValueError(f"{describe(owner)}: mask of shape {tuple(mask.shape)} does not match "
                         f"the input of shape {tuple(inputs.shape)}; expected "
                         f"{tuple(inputs.shape[:2])} (batch, timesteps)")
    return mask if mask.dtype == torch.bool else mask.bool()
