"""``Embedding``: integer ids -> dense vectors (Keras semantics, ``F.embedding`` underneath)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from fitorch import constraints, initializers, regularizers
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.layers.core import check_positive_int, refuse_unsupported


class Embedding(Layer):
    """Maps integer ids in ``[0, input_dim)`` to dense ``output_dim``-vectors.

    Keras defaults: ``embeddings_initializer="uniform"`` (U(-0.05, 0.05), not torch's N(0, 1)).
    Float inputs are cast to integers, as Keras does. ``mask_zero=True`` makes id 0 padding:
    ``compute_mask(ids)`` is ``ids != 0`` (so ``input_dim`` must count the padding id), and in a
    Sequential or functional model the layers after it that take masks (recurrent layers,
    ``GlobalAveragePooling1D``) skip those steps.

    Args:
        input_dim: positive int, the vocabulary size (largest id + 1).
        output_dim: positive int, the size of each vector.
        embeddings_initializer: initializer of the ``(input_dim, output_dim)`` table.
        embeddings_regularizer: regularizer of the table.
        embeddings_constraint: constraint applied to the table after each optimizer step.
        mask_zero: bool, whether id 0 is padding that later layers skip.
        input_length: Keras 2's fixed sequence length: declares the input shape
            ``(None, input_length)`` so a Sequential can build before any data.
        quantization_config: Keras's quantization option; only ``None`` is accepted (fitorch has
            no quantized embeddings), any other value raises ``ValueError``.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Integer tensor ``(batch_size, ...)``, usually ``(batch_size, sequence_length)``.

    Output shape:
        ``(batch_size, ..., output_dim)``.

    Example:

    >>> layer = ft.layers.Embedding(10, 4, mask_zero=True)
    >>> ids = torch.tensor([[3, 7, 0]])
    >>> tuple(layer(ids).shape)
    (1, 3, 4)
    >>> layer.compute_mask(ids).tolist()
    [[True, True, False]]
    """

    embeddings: torch.Tensor  # the weight build() adds (typed here: Module.__getattr__ is not)
    _min_ndim = 1
    _input_dtype = torch.long

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False,
                 input_length: int | None = None, quantization_config: Any = None,
                 **kwargs: Any) -> None:
        owner = type(self).__name__
        refuse_unsupported(owner, "quantization_config", quantization_config, None,
                           "no quantized embeddings")
        self.input_dim = check_positive_int(owner, "input_dim", input_dim)
        self.output_dim = check_positive_int(owner, "output_dim", output_dim)
        if not isinstance(mask_zero, bool):
            raise ValueError(f"{owner}: mask_zero={mask_zero!r} must be a bool")
        if input_length is not None:
            check_positive_int(owner, "input_length", input_length)
            if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
                kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_length = input_length
        self.mask_zero = mask_zero
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)

    def build(self, input_shape: Shape) -> None:
        if self.input_length is not None and len(input_shape) > 1 and \
                input_shape[1] not in (None, self.input_length):
            raise ValueError(f"{describe(self)}: input_length={self.input_length} but the input "
                             f"has shape {input_shape}")
        self.add_weight((self.input_dim, self.output_dim), self.embeddings_initializer,
                        name="embeddings", regularizer=self.embeddings_regularizer,
                        constraint=self.embeddings_constraint)

    @property
    def supports_masking(self) -> bool:  # type: ignore[override]
        return self.mask_zero

    _creates_mask = supports_masking

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor | None:
        """``inputs != 0`` with ``mask_zero=True``, else ``None``."""
        return inputs != 0 if self.mask_zero else None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.is_floating_point():
            inputs = inputs.long()
        return F.embedding(inputs, self.embeddings)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return tuple(input_shape) + (self.output_dim,)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, input_dim={self.input_dim}, output_dim={self.output_dim}"
