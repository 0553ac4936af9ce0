"""BatchNormalization and LayerNormalization with Keras defaults (epsilon 1e-3, momentum 0.99)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from fitorch import constraints, initializers, regularizers
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, standardize_shape
from fitorch.layers.core import refuse_unsupported


def _normalize_axes(owner: str, axis: Any) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else tuple(axis)
    if not axes or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
        raise ValueError(f"{owner}: axis={axis!r} must be an int or a sequence of ints")
    return axes


def _resolve_axes(layer: Layer, axes: tuple[int, ...], input_shape: Shape) -> tuple[int, ...]:
    rank = len(input_shape)
    resolved = []
    for a in axes:
        if not -rank <= a < rank or a % rank == 0:
            raise ValueError(f"{describe(layer)}: axis={a} is not a non-batch axis of input "
                             f"shape {input_shape}")
        if input_shape[a] is None:
            raise ValueError(f"{describe(layer)}: axis {a} of input shape {input_shape} must be "
                             "known to create the layer's weights")
        resolved.append(a % rank)
    return tuple(sorted(set(resolved)))


class BatchNormalization(Layer):
    """Batch normalization over the feature ``axis`` (default -1, channels_last), as in Keras.

    Training (``model.train()`` and ``trainable``) normalizes with batch statistics and moves
    ``moving_mean`` / ``moving_variance`` (buffers) by ``momentum`` using the *biased* batch
    variance, as Keras does (torch's ``nn.BatchNorm`` uses the unbiased one); inference
    (``model.eval()`` or ``training=False``) uses the moving statistics. As in Keras,
    ``trainable = False`` also switches the layer to inference mode. Defaults are Keras's
    (``momentum=0.99``, ``epsilon=1e-3``), not torch's (0.1 and 1e-5).

    Args:
        axis: the feature axis (an int, or a sequence of one int); several axes are refused.
            Use ``1`` for torch's channels-first layout.
        momentum: weight of the old moving statistics in each update, in ``[0, 1)``.
        epsilon: positive number added to the variance before the square root.
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned ``gamma``.
        beta_initializer: initializer of ``beta``.
        gamma_initializer: initializer of ``gamma``.
        moving_mean_initializer: initializer of the ``moving_mean`` buffer.
        moving_variance_initializer: initializer of the ``moving_variance`` buffer.
        beta_regularizer: regularizer of ``beta``.
        beta_constraint: constraint applied to ``beta`` after each optimizer step.
        gamma_regularizer: regularizer of ``gamma``.
        gamma_constraint: constraint applied to ``gamma`` after each optimizer step.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ``trainable``, ...).

    Input shape:
        Any shape of rank >= 2 whose ``axis`` size is known.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.BatchNormalization()
    >>> y = layer(torch.tensor([[0.0], [2.0]]), training=True)
    >>> [round(v, 4) for v in y.flatten().tolist()]
    [-0.9995, 0.9995]
    >>> round(layer.moving_mean.item(), 4), round(layer.moving_variance.item(), 4)
    (0.01, 1.0)
    """

    # the weights build() adds (typed here: Module.__getattr__ is not)
    moving_mean: torch.Tensor
    moving_variance: torch.Tensor
    gamma: torch.Tensor | None
    beta: torch.Tensor | None

    def __init__(self, axis: int | Sequence[int] = -1, momentum: float = 0.99,
                 epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_regularizer: Any = None, gamma_constraint: Any = None,
                 **kwargs: Any) -> None:
        owner = type(self).__name__
        axes = _normalize_axes(owner, axis)
        if len(axes) != 1:
            raise ValueError(f"{owner}: axis={axis!r}: normalizing over several feature axes is "
                             "not supported; give one axis")
        if not 0 <= momentum < 1:
            raise ValueError(f"{owner}: momentum={momentum!r} must be in [0, 1)")
        if epsilon <= 0:
            raise ValueError(f"{owner}: epsilon={epsilon!r} must be positive")
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axes[0], float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self._min_ndim = 2

    def build(self, input_shape: Shape) -> None:
        (axis,) = _resolve_axes(self, (self.axis,), input_shape)
        features = input_shape[axis]
        self._features = features
        self._rank = len(input_shape)
        self._channels_last = axis == len(input_shape) - 1
        self._axis_index = axis
        if self.scale:
            self.add_weight((features,), self.gamma_initializer, name="gamma",
                            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self.add_weight((features,), self.beta_initializer, name="beta",
                            regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        else:
            self.beta = None
        self.add_weight((features,), self.moving_mean_initializer, name="moving_mean",
                        trainable=False)
        self.add_weight((features,), self.moving_variance_initializer, name="moving_variance",
                        trainable=False)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        # F.batch_norm wants features on axis 1; channels_last folds all other axes into the batch
        # (a free view), any other axis is moved there and back
        if self._channels_last:
            x = inputs.reshape(-1, self._features)
        elif self._axis_index == 1:
            x = inputs
        else:
            x = inputs.movedim(self._axis_index, 1)
        if (self.training if training is None else training) and self._trainable:
            y = self._train_step(x)
        else:
            y = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                             False, 0.0, self.epsilon)
        if self._channels_last:
            return y.reshape(inputs.shape)
        return y if self._axis_index == 1 else y.movedim(1, self._axis_index)

    def _train_step(self, x: torch.Tensor) -> torch.Tensor:
        # torch moves running_var towards the unbiased batch variance, Keras towards the biased
        # one. The fused call updates a scaled copy (n/(n-1) * moving_variance), which is then
        # scaled back into the buffer: exactly Keras's update. The copy, not the buffer, is what
        # autograd saves, so changing the buffer afterwards cannot break the backward pass.
        n = x.numel() // self._features
        if n < 2:
            raise ValueError(f"{describe(self)}: training needs more than one value per feature "
                             f"to compute batch statistics, got input of shape {tuple(x.shape)}")
        with torch.no_grad():
            running_var = self.moving_variance * (n / (n - 1))
        y = F.batch_norm(x, self.moving_mean, running_var, self.gamma, self.beta, True,
                         1.0 - self.momentum, self.epsilon)
        with torch.no_grad():
            torch.mul(running_var, (n - 1) / n, out=self.moving_variance)
        return y

    def _fixed_axes(self) -> dict[int, int]:
        return {self._axis_index - self._rank: self._features}

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, axis={self.axis}, momentum={self.momentum}, "
                f"epsilon={self.epsilon}")


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (default -1), then scales by gamma and adds beta.

    Statistics are computed per sample (never across the batch), so training and inference agree.
    Trailing contiguous axes use torch's fused ``F.layer_norm``.

    Args:
        axis: int or sequence of ints, the non-batch axes normalized together (and the shape of
            ``gamma`` and ``beta``).
        epsilon: positive number added to the variance before the square root (Keras's default
            1e-3, not torch's 1e-5).
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned ``gamma``.
        beta_initializer: initializer of ``beta``.
        gamma_initializer: initializer of ``gamma``.
        beta_regularizer: regularizer of ``beta``.
        beta_constraint: constraint applied to ``beta`` after each optimizer step.
        gamma_regularizer: regularizer of ``gamma``.
        gamma_constraint: constraint applied to ``gamma`` after each optimizer step.
        rms_scaling: Keras's RMS-normalization switch; only ``False`` is accepted (use torch's
            ``nn.RMSNorm``), ``True`` raises ``ValueError``.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape whose ``axis`` sizes are known.

    Output shape:
        Same as the input.

    Example:

    >>> y = ft.layers.LayerNormalization()(torch.tensor([[1.0, 2.0, 3.0]]))
    >>> [round(v, 4) for v in y.flatten().tolist()]
    [-1.2238, 0.0, 1.2238]
    """

    supports_masking = True  # an incoming mask passes through (as in Keras)

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 beta_constraint: Any = None,
                 gamma_regularizer: Any = None, gamma_constraint: Any = None,
                 rms_scaling: bool = False, **kwargs: Any) -> None:
        owner = type(self).__name__
        refuse_unsupported(owner, "rms_scaling", rms_scaling, False,
                           "use torch's nn.RMSNorm for RMS normalization")
        axes = _normalize_axes(owner, axis)
        if epsilon <= 0:
            raise ValueError(f"{owner}: epsilon={epsilon!r} must be positive")
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axes)
        self._axes_arg = axes
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape: Shape) -> None:
        axes = _resolve_axes(self, self._axes_arg, input_shape)
        rank = len(input_shape)
        self._axes = axes
        self._rank = rank
        param_shape = tuple(input_shape[a] for a in axes)
        # trailing contiguous axes -> torch's fused layer_norm; anything else by hand
        self._fused = axes == tuple(range(rank - len(axes), rank))
        self._normalized_shape = param_shape
        self._broadcast = tuple(input_shape[i] if i in axes else 1 for i in range(1, rank))
        if self.scale:
            self.add_weight(param_shape, self.gamma_initializer, name="gamma",
                            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self.add_weight(param_shape, self.beta_initializer, name="beta",
                            regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        else:
            self.beta = None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self._fused:
            return F.layer_norm(inputs, self._normalized_shape, self.gamma, self.beta,
                                self.epsilon)
        var, mean = torch.var_mean(inputs, dim=self._axes, correction=0, keepdim=True)
        out = (inputs - mean) * torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            out = out * self.gamma.reshape(self._broadcast)
        if self.beta is not None:
            out = out + self.beta.reshape(self._broadcast)
        return out

    def _fixed_axes(self) -> dict[int, int]:
        return {a - self._rank: n for a, n in zip(self._axes, self._normalized_shape)}

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)
