"""Core layers: Dense, Activation, Dropout and its spatial forms, Lambda, Identity, InputLayer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F

from fitorch import activations, constraints, initializers, regularizers
from fitorch.layers.base import Layer
from fitorch.layers.naming import describe
from fitorch.layers.shapes import Shape, infer_output_shape, standardize_shape


def transpose_2d(t: torch.Tensor) -> torch.Tensor:
    """Keras ``(in, out)`` <-> torch ``(out, in)`` (module-level so layers stay picklable)."""
    return t.T


def check_positive_int(owner: str, name: str, value: Any) -> int:
    """``value`` as an int, or ``ValueError`` naming the argument when it is not a positive int."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{owner}: {name}={value!r} must be a positive integer")
    return value


def refuse_unsupported(owner: str, name: str, value: Any, default: Any, why: str) -> None:
    """Accept a Keras argument fitorch lacks only at its default (so Keras configs load), and
    refuse any other value instead of ignoring it."""
    if value is not default and value != default:
        raise ValueError(f"{owner}: {name}={value!r} is not supported ({why}); leave it at "
                         f"{default!r}")


def check_rate(owner: str, value: Any, name: str = "rate") -> float:
    """A dropout rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{owner}: {name}={value!r} must be a number in [0, 1)")
    return float(value)


class Dense(Layer):
    """Densely connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Inputs of rank > 2 are transformed along their last axis, as in Keras. The kernel is built on
    the first call (its input size is read from the data) and stored in ``F.linear`` layout
    ``(units, in)``; ``get_weights`` / ``set_weights`` use Keras's ``(in, units)``.

    Args:
        units: positive int, the size of the output's last axis.
        activation: activation name (``"relu"``), callable, or ``None`` for none.
        use_bias: whether to add a bias vector.
        kernel_initializer: initializer of the kernel (name, instance or callable).
        bias_initializer: initializer of the bias.
        kernel_regularizer: regularizer of the kernel (its penalty joins the loss in ``fit``).
        kernel_constraint: constraint applied to the kernel after each optimizer step.
        bias_regularizer: regularizer of the bias.
        bias_constraint: constraint applied to the bias after each optimizer step.
        quantization_config: Keras's quantization option; only ``None`` is accepted (fitorch has
            no quantized kernels), any other value raises ``ValueError``.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ``trainable``,
            ``input_shape``, ...).

    Input shape:
        N-D tensor ``(batch_size, ..., input_dim)``, N >= 2.

    Output shape:
        N-D tensor ``(batch_size, ..., units)``.

    Example:

    >>> layer = ft.layers.Dense(4, activation="relu")
    >>> tuple(layer(torch.ones(2, 3)).shape)
    (2, 4)
    >>> tuple(layer.kernel.shape), layer.get_weights()[0].shape
    ((4, 3), (3, 4))
    """

    kernel: torch.Tensor  # the weights build() adds (typed here: Module.__getattr__ is not)
    bias: torch.Tensor | None

    supports_masking = True  # an incoming mask passes through (as in Keras)

    _min_ndim = 2

    def __init__(self, units: int, activation: str | Callable | None = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_regularizer: Any = None, bias_constraint: Any = None,
                 quantization_config: Any = None, **kwargs: Any) -> None:
        self.units = check_positive_int("Dense", "units", units)
        refuse_unsupported("Dense", "quantization_config", quantization_config, None,
                           "no quantized kernels")
        self.activation = activations.get(activation)
        super().__init__(**kwargs)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self._act = activations.fused(self.activation)

    def build(self, input_shape: Shape) -> None:
        in_features = input_shape[-1]
        if in_features is None:
            raise ValueError(f"{describe(self)}: the last axis of the input must be known, got "
                             f"shape {input_shape}")
        self.add_weight((in_features, self.units), self.kernel_initializer, name="kernel",
                        regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                        layout=(transpose_2d, transpose_2d))
        if self.use_bias:
            self.add_weight((self.units,), self.bias_initializer, name="bias",
                            regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        out = F.linear(inputs, self.kernel, self.bias)
        return out if self._act is None else self._act(out)

    def _fixed_axes(self) -> dict[int, int]:
        return {-1: self.kernel.shape[1]}

    def _rank_hint(self, input_shape: Shape) -> str:
        if len(input_shape) > 2:
            return "; add Flatten() before it if the trailing axes should become its features"
        return ""

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return tuple(input_shape[:-1]) + (self.units,)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}, activation={self.activation.__name__}"


class Activation(Layer):
    """Applies an activation function given by Keras name or as a callable.

    Args:
        activation: activation name (``"relu"``, ``"softmax"``, ...) or a callable on tensors.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> ft.layers.Activation("relu")(torch.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
    """

    supports_masking = True  # an incoming mask passes through (as in Keras)

    def __init__(self, activation: str | Callable, **kwargs: Any) -> None:
        self.activation = activations.get(activation)
        super().__init__(**kwargs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer).

    Args:
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> x = torch.ones(2, 3)
    >>> ft.layers.Identity()(x) is x
    True
    """

    supports_masking = True  # an incoming mask passes through (as in Keras)

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return standardize_shape(input_shape)


class Dropout(Layer):
    """Zeroes inputs at random with probability ``rate`` in training, scaling the rest up.

    Kept inputs are scaled by ``1 / (1 - rate)`` so the expected sum is unchanged. The layer is
    active while the module is in training mode (``fit`` sets it; a fresh ``nn.Module`` starts in
    training mode, unlike a Keras layer called directly) or when called with ``training=True``;
    ``model.eval()`` or ``training=False`` make it the identity.

    Args:
        rate: fraction of the inputs to drop, a number in ``[0, 1)``.
        noise_shape: shape of the binary mask, one entry per input axis; ``None`` entries take the
            input's size and entries of 1 share one mask along that axis (as in Keras). ``None``
            (default): one mask entry per input entry.
        seed: int seed of the layer's own generator, making the masks reproducible.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.Dropout(0.5, seed=1)
    >>> y = layer(torch.ones(2, 4), training=True)
    >>> set(y.flatten().tolist()) <= {0.0, 2.0}  # dropped, or kept and scaled by 2
    True
    >>> layer(torch.ones(2, 4), training=False).tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """

    supports_masking = True  # an incoming mask passes through (as in Keras)

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        self.rate = check_rate(type(self).__name__, rate)
        if noise_shape is not None and not all(d is None or isinstance(d, int)
                                               for d in noise_shape):
            raise ValueError(f"{type(self).__name__}: noise_shape={noise_shape!r} must be a tuple "
                             "of ints/None")
        super().__init__(**kwargs)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator: torch.Generator | None = None

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        # ``training`` (Keras's call argument) overrides the module's train/eval mode
        if not (self.training if training is None else training) or self.rate == 0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, True)
        return inputs * self._mask(inputs, self._mask_shape(inputs))

    def _mask_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        if self.noise_shape is None:
            return tuple(inputs.shape)
        if len(self.noise_shape) != inputs.ndim:
            raise ValueError(f"{describe(self)}: noise_shape={self.noise_shape} has rank "
                             f"{len(self.noise_shape)}, input shape {tuple(inputs.shape)} has "
                             f"rank {inputs.ndim}")
        return tuple(s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))

    def _mask(self, inputs: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
        if self.seed is not None and (self._generator is None
                                      or self._generator.device != inputs.device):
            self._generator = torch.Generator(device=inputs.device)
            self._generator.manual_seed(int(self.seed))
        keep = inputs.new_empty(shape).bernoulli_(1 - self.rate, generator=self._generator)
        return keep.div_(1 - self.rate)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)


class _SpatialDropout(Dropout):
    # drops whole feature maps: the mask has size 1 on every spatial axis
    _rank = 1

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        from fitorch import backend
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = backend.standardize_data_format(
            "channels_last" if self._rank == 1 and data_format is None else data_format)
        self._expected_ndim = self._rank + 2

    def _mask_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        n, ones = inputs.shape[0], (1,) * self._rank
        if self.data_format == "channels_last":
            return (n,) + ones + (inputs.shape[-1],)
        return (n, inputs.shape[1]) + ones

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not (self.training if training is None else training) or self.rate == 0:
            return inputs
        return inputs * self._mask(inputs, self._mask_shape(inputs))


class SpatialDropout1D(_SpatialDropout):
    """Dropout of entire channels of ``(batch, steps, channels)`` inputs.

    Each channel of each sample is kept or zeroed for all steps at once (kept ones are scaled by
    ``1 / (1 - rate)``); active in training only, as ``Dropout``.

    Args:
        rate: fraction of the channels to drop, a number in ``[0, 1)``.
        seed: int seed of the layer's own generator, making the masks reproducible.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        3-D tensor ``(batch_size, steps, channels)``.

    Output shape:
        Same as the input.

    Example:

    >>> y = ft.layers.SpatialDropout1D(0.5, seed=0)(torch.ones(1, 3, 8), training=True)
    >>> bool((y == y[:, :1]).all())  # one decision per channel, shared by every step
    True
    """

    _rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of entire 2-D feature maps.

    Each channel of each sample is kept or zeroed as a whole (kept ones are scaled by
    ``1 / (1 - rate)``); active in training only, as ``Dropout``.

    Args:
        rate: fraction of the feature maps to drop, a number in ``[0, 1)``.
        data_format: ``"channels_last"`` (Keras's default) or ``"channels_first"`` (torch's layout);
            ``None`` takes ``ft.backend.image_data_format()``.
        seed: int seed of the layer's own generator, making the masks reproducible.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        4-D tensor ``(batch_size, rows, cols, channels)`` with ``"channels_last"``, or
        ``(batch_size, channels, rows, cols)`` with ``"channels_first"``.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.SpatialDropout2D(0.5, data_format="channels_first", seed=0)
    >>> y = layer(torch.ones(1, 8, 4, 4), training=True)
    >>> bool((y == y[:, :, :1, :1]).all())  # one decision per feature map
    True
    """

    _rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Dropout of entire 3-D feature maps.

    Each channel of each sample is kept or zeroed as a whole (kept ones are scaled by
    ``1 / (1 - rate)``); active in training only, as ``Dropout``.

    Args:
        rate: fraction of the feature maps to drop, a number in ``[0, 1)``.
        data_format: ``"channels_last"`` (Keras's default) or ``"channels_first"`` (torch's layout);
            ``None`` takes ``ft.backend.image_data_format()``.
        seed: int seed of the layer's own generator, making the masks reproducible.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        5-D tensor ``(batch_size, dim1, dim2, dim3, channels)`` with ``"channels_last"``, or
        ``(batch_size, channels, dim1, dim2, dim3)`` with ``"channels_first"``.

    Output shape:
        Same as the input.

    Example:

    >>> layer = ft.layers.SpatialDropout3D(0.5, data_format="channels_first", seed=0)
    >>> tuple(layer(torch.ones(1, 4, 2, 2, 2), training=True).shape)
    (1, 4, 2, 2, 2)
    """

    _rank = 3


def _function_name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _supplied_function(name: str, layer: str | None) -> Callable:
    from fitorch import backend

    where = f"Lambda layer {layer!r}" if layer else "a Lambda layer"
    if backend.in_safe_mode():
        raise ValueError(
            f"{where} needs the Python function {name!r}, which files never hold as code; "
            f"loading it runs code you supply: load_model(path, safe_mode=False, "
            f"custom_objects={{{name!r}: your_function}})")
    objects = backend.deserialization_objects()
    fn = objects.get(name) or objects.get(name.rsplit(".", 1)[-1])
    if not callable(fn):
        raise ValueError(f"{where} needs the function {name!r}: pass it as "
                         f"custom_objects={{{name!r}: your_function}}")
    return fn


class Lambda(Layer):
    """Wraps a function of tensors as a layer: ``Lambda(lambda x: x ** 2)``.

    A Lambda holds Python code, which files never store: its config names the function, and
    ``load_model(path, safe_mode=False, custom_objects={name: function})`` supplies it again.

    Args:
        function: the callable applied to the inputs (``function(inputs, **arguments)``).
        output_shape: the output's shape without the batch axis, or a function of the input shape
            (batch axis included) returning the output shape; saves a trial run in
            ``compute_output_shape``. ``None``: found by running the function on zeros.
        arguments: dict of extra keyword arguments for ``function``.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Whatever ``function`` takes.

    Output shape:
        Given by ``output_shape``, or inferred from a trial run.

    Example:

    >>> power = ft.layers.Lambda(lambda x, p: x ** p, arguments={"p": 2})
    >>> power(torch.tensor([[1.0, 2.0]])).tolist()
    [[1.0, 4.0]]
    >>> ft.layers.Lambda(lambda x: x[:, :2]).compute_output_shape((None, 5))
    (None, 2)
    """

    def __init__(self, function: Callable, output_shape: Any = None,
                 arguments: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not callable(function):
            raise ValueError(f"Lambda: function={function!r} must be callable")
        super().__init__(**kwargs)
        self.function = function
        self.output_shape = output_shape
        self.arguments = dict(arguments or {})

    def call(self, inputs: Any) -> Any:
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape: Any) -> Any:
        input_shape = standardize_shape(input_shape)
        if callable(self.output_shape):
            return standardize_shape(self.output_shape(input_shape))
        if self.output_shape is not None:
            return (None,) + tuple(self.output_shape)
        return infer_output_shape(self, input_shape)

    def get_config(self) -> dict[str, Any]:
        config = Layer.get_config(self)
        config["function"] = {"python_function": _function_name(self.function)}
        config["arguments"] = dict(self.arguments)  # Keras keeps them; the function needs them
        if callable(self.output_shape):
            config["output_shape"] = {"python_function": _function_name(self.output_shape)}
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        """Rebuild with the function named in the config, taken from the ``custom_objects`` of
        ``load_model(..., safe_mode=False)``; in safe mode (the default) this raises."""
        config = dict(config)
        for key in ("function", "output_shape"):
            if isinstance(config.get(key), dict) and "python_function" in config[key]:
                config[key] = _supplied_function(config[key]["python_function"],
                                                 config.get("name"))
        return cls(**config)

    def extra_repr(self) -> str:
        fn = getattr(self.function, "__qualname__", repr(self.function))
        return f"name={self.name!r}, function={fn}"


class InputLayer(Layer):
    """The entry point of a model: passes its input through and declares its shape and dtype.

    ``ft.layers.Input`` (the functional API's symbolic input) is what most models use; an
    ``InputLayer`` first in a ``Sequential`` declares the shape so the model builds before data.

    Args:
        shape: the input's shape without the batch axis (``None`` for a variable size).
        batch_size: fixed batch size, or ``None``.
        dtype: dtype of the *input* (e.g. ``torch.long`` for token ids); default
            ``ft.backend.floatx()``.
        batch_shape: the shape with the batch axis, instead of ``shape`` and ``batch_size``.
        name: the layer's name.
        **kwargs: other standard layer keyword arguments; Keras 2's ``input_shape`` and
            ``batch_input_shape`` are read as ``shape`` and ``batch_shape``.

    Input shape:
        ``(batch_size, *shape)``.

    Output shape:
        Same as the input.

    Example:

    >>> model = ft.Sequential([ft.layers.InputLayer(shape=(3,)), ft.layers.Dense(2)])
    >>> tuple(model(torch.ones(4, 3)).shape)
    (4, 2)
    >>> ft.layers.InputLayer()
    Traceback (most recent call last):
    ...
    ValueError: InputLayer: give shape=(...) (without the batch axis) or batch_shape=(batch, ...)
    """

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None,
                 dtype: Any = None, batch_shape: Sequence[int | None] | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        if "input_shape" in kwargs:  # Keras 2 spelling
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if shape is None and batch_shape is None:
            raise ValueError("InputLayer: give shape=(...) (without the batch axis) or "
                             "batch_shape=(batch, ...)")
        super().__init__(name=name, dtype=dtype, input_shape=shape, batch_input_shape=batch_shape,
                         batch_size=batch_size, **kwargs)
        self._input_dtype = self._dtype

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return standardize_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": self._declared_input_shape, "name": self.name,
                "dtype": str(self._dtype).removeprefix("torch.")}


class Rescaling(Layer):
    """Computes ``inputs * scale + offset`` (e.g. ``Rescaling(1 / 255)`` for images).

    Args:
        scale: number the inputs are multiplied by.
        offset: number added after scaling.
        **kwargs: standard layer keyword arguments (``name``, ``dtype``, ...).

    Input shape:
        Any shape.

    Output shape:
        Same as the input.

    Example:

    >>> ft.layers.Rescaling(1 / 127.5, offset=-1)(torch.tensor([0.0, 127.5, 255.0])).tolist()
    [-1.0, 0.0, 1.0]
    """

    supports_masking = True  # an incoming mask passes through (as in Keras)

    def __init__(self, scale: float, offset: float = 0.0, **kwargs: Any) -> None:
        for name, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"Rescaling: {name}={value!r} must be a number")
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self.scale + self.offset

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return standardize_shape(input_shape)
