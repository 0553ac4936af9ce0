"""``Layer``: an ``nn.Module`` with Keras's lazy ``build``, names, configs and Keras-layout weights.

A layer creates its parameters in ``build(input_shape)`` from the first real input it sees (or
from a symbolic shape through ``maybe_build``). The build runs from a forward pre-hook that
removes itself once the layer is built, so a built layer's ``__call__`` takes torch's hook-free
fast path, and ``forward`` *is* the subclass's ``call`` (bound at class creation): no extra Python
frame per step.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from fitorch import backend
from fitorch.layers.call_context import with_training_default
from fitorch.layers.naming import describe, to_snake_case
from fitorch.layers.serialization import _LAYER_CLASSES, constructor_config, register_layer_base
from fitorch.layers.shapes import (Shape, first_tensor, infer_output_shape, is_shape, shape_of,
                                   standardize_shape)
from fitorch.torch_utils import module_device


class IncompatibleInputError(ValueError):
    """A layer was given an input whose shape it cannot take (a ``ValueError``).

    ``layer`` and ``input_shape`` are attributes, so a container (Sequential, the functional API)
    can re-raise with the layer's position in the model.

    Args:
        layer: The layer refusing the input (its class and name start the message).
        input_shape: The refused shape, batch axis first.
        message: What is wrong with it.

    Example:

    >>> try:
    ...     ft.layers.Conv2D(4, 3, name="conv").maybe_build((None, 8))
    ... except ft.layers.IncompatibleInputError as error:
    ...     print(error.input_shape, error.layer.name)
    ...     print(error)
    (None, 8) conv
    Conv2D 'conv': expects input of rank 4 (batch axis included), got shape (None, 8)
    """

    def __init__(self, layer: nn.Module, input_shape: Any, message: str):
        super().__init__(f"{describe(layer)}: {message}")
        self.layer = layer
        self.input_shape = input_shape


def _build_pre_hook(layer: Layer, args: tuple, kwargs: dict) -> None:
    layer._build_from_call(args, kwargs)


class yields_to_attribute(property):
    """A read-only ``property`` that gives way to an attribute of the same name.

    A submodule, parameter, buffer or plain attribute set under the property's name wins: a torch
    model that sets ``self.layers = nn.ModuleList(...)`` (or ``self.weights = ...``) keeps
    reading its own value. Used as a decorator, like ``property``.

    Example:

    >>> class Box:
    ...     @ft.layers.base.yields_to_attribute
    ...     def size(self):
    ...         return 0
    >>> box = Box()
    >>> box.size
    0
    >>> box.size = 5
    >>> box.size
    5
    """

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is not None:
            name = self._name()
            for store in ("_modules", "_parameters", "_buffers"):
                found = obj.__dict__.get(store, {})
                if name in found:
                    return found[name]
            if name in obj.__dict__:
                return obj.__dict__[name]
        return super().__get__(obj, objtype)

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self._name()] = value

    def _name(self) -> str:
        assert self.fget is not None  # always made by decorating a getter
        return self.fget.__name__


class KerasWeights:
    """Keras's weight lists (``weights``, ``trainable_weights``, ...) for layers and models.

    A mixin of ``Layer`` and ``Model``: the lists hold the tensors themselves, in Keras's order
    (see ``keras_weight_entries``), and each gives way to an attribute of the same name.

    Example:

    >>> dense = ft.layers.Dense(2)
    >>> _ = dense(torch.zeros(1, 3))
    >>> [tuple(w.shape) for w in dense.trainable_weights]
    [(2, 3), (2,)]
    >>> dense.non_trainable_weights
    []
    """

    @yields_to_attribute
    def weights(self) -> list[torch.Tensor]:
        """Every weight in Keras order (each layer's trainable, then non-trainable ones)."""
        # a mixin of nn.Module subclasses (Layer, Model), which the type checker cannot know
        return [t for _, t, _ in keras_weight_entries(cast(nn.Module, self))]

    @yields_to_attribute
    def trainable_weights(self) -> list[torch.Tensor]:
        """The weights the optimizer trains (parameters with ``requires_grad``)."""
        return [w for w in self.weights if isinstance(w, nn.Parameter) and w.requires_grad]

    @yields_to_attribute
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """Frozen parameters and buffers (e.g. BatchNormalization's moving statistics)."""
        return [w for w in self.weights if not (isinstance(w, nn.Parameter) and w.requires_grad)]


class Layer(KerasWeights, nn.Module):
    """Base class of all fitorch layers: a ``torch.nn.Module`` with Keras's layer protocol.

    Subclasses override ``build(input_shape)`` to create weights (``add_weight``) and ``call`` (or
    ``forward``; each is an alias of the other) to compute. ``build`` runs once, from the first
    input's shape (batch axis first, as ``None``), before the first ``call``; after it the layer
    is a plain module on torch's hook-free fast path. ``get_config`` returns the constructor's
    arguments without per-layer code, so ``from_config`` (and saved models) rebuild the layer.
    Unknown keyword arguments raise ``TypeError``.

    Args:
        name: The layer's name, a non-empty string; default the snake-cased class name made
            unique in the session (``dense``, ``dense_1``, ...).
        dtype: The dtype of the weights ``add_weight`` creates, a ``torch.dtype`` or its name
            (``"float64"``); default ``ft.backend.floatx()``.
        trainable: Whether the weights are trained (a bool); ``False`` freezes every parameter,
            also those created later by ``build``.
        input_shape: The input's shape without the batch axis, e.g. ``(200,)``, which a
            ``Sequential`` builds the layer for before any data (Keras's first-layer argument).
        batch_input_shape: The same shape with the batch axis first, e.g. ``(None, 200)``.
        input_dim: Shorthand for ``input_shape=(input_dim,)``. At most one of ``input_shape``,
            ``batch_input_shape`` and ``input_dim`` may be given.
        batch_size: The batch axis of ``input_shape`` / ``input_dim`` (default ``None``).
        activity_regularizer: A ``fitorch.regularizers`` name or callable applied to the output
            of each call; its penalty joins ``layer.losses`` and the loss ``fit`` minimizes.
            Default ``None`` (the layer then has no forward hook for it).

    Example:

    >>> class Offset(ft.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.bias = self.add_weight(shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, x):
    ...         return x + self.bias
    >>> layer = Offset(name="offset")
    >>> layer.built
    False
    >>> layer(torch.zeros(2, 3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    >>> layer.built, [tuple(w.shape) for w in layer.weights]
    (True, [(3,)])
    """

    # the constructor's (args, kwargs), set by __new__ for get_config
    _init_call: tuple[tuple[Any, ...], dict[str, Any]]
    # rank checks applied before build: exact ndim, or a minimum ndim (batch axis included)
    _expected_ndim: int | None = None
    _min_ndim: int | None = None
    # dtype of the zeros fed by compute_output_shape (None: floatx)
    _input_dtype: torch.dtype | None = None
    # whether the layer takes exactly one tensor: fitorch's own layers do (a list gets a clear
    # error); a user's direct subclass may take a list or tuple of tensors, as in Keras
    _single_input: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # forward *is* call (or the reverse): no wrapper frame on the hot path
        if "call" in cls.__dict__ and "forward" not in cls.__dict__:
            cls.forward = cls.__dict__["call"]
        elif "forward" in cls.__dict__ and "call" not in cls.__dict__:
            # (the ignores: assigning methods is the point, while the class is being made)
            cls.call = cls.__dict__["forward"]  # type: ignore[method-assign]
        if "forward" in cls.__dict__:
            # a call(inputs, training=None) gets the module's mode instead of None (inspected
            # once here; classes without ``training`` keep forward = call)
            cls.forward = with_training_default(cls.__dict__["forward"])
        if "build" in cls.__dict__:
            cls.build = _wrap_build(cls.__dict__["build"])  # type: ignore[method-assign]
        if "_single_input" not in cls.__dict__ and cls.__module__.startswith("fitorch."):
            cls._single_input = True
        if "compute_mask" in cls.__dict__ and "supports_masking" not in cls.__dict__:
            cls.supports_masking = True  # as Keras: overriding compute_mask means masks flow
        _LAYER_CLASSES.setdefault(cls.__name__, cls)

    def __new__(cls, *args: Any, **kwargs: Any) -> Layer:
        # Keras 3's auto-config: remember the constructor arguments so get_config needs no
        # per-layer boilerplate; they are only inspected when get_config is called.
        obj = super().__new__(cls)
        object.__setattr__(obj, "_init_call", (args, dict(kwargs)))
        return obj

    def __init__(self, *, name: str | None = None, dtype: Any = None, trainable: bool = True,
                 input_shape: Sequence[int | None] | None = None,
                 batch_input_shape: Sequence[int | None] | None = None,
                 input_dim: int | None = None, batch_size: int | None = None,
                 activity_regularizer: Any = None, **kwargs: Any) -> None:
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{sorted(kwargs)}")
        if name is not None and not (isinstance(name, str) and name):
            raise ValueError(f"{type(self).__name__}: name={name!r} must be a non-empty string")
        if not isinstance(trainable, bool):
            raise ValueError(f"{type(self).__name__}: trainable={trainable!r} must be a bool")
        declared = _declared_shape(type(self).__name__, input_shape, batch_input_shape,
                                   input_dim, batch_size)
        weight_dtype = _standardize_dtype(type(self).__name__, dtype)
        from fitorch import regularizers
        activity = regularizers.get(activity_regularizer)
        super().__init__()
        self.name = name if name is not None else backend.unique_name(
            to_snake_case(type(self).__name__))
        self._dtype = weight_dtype
        self._trainable = trainable
        self._declared_input_shape = declared
        self._build_input_shape: Any = None
        self._built = False
        # (weight name, regularizer) pairs and Keras-layout converters, filled by add_weight
        self._weight_regularizers: list[tuple[str, Any]] = []
        self._weight_constraints: list[tuple[str, Any]] = []
        self._keras_layout: dict[str, tuple[Callable, Callable]] = {}
        self._weight_names: list[str] = []
        self._weight_ids: dict[int, str] = {}
        self.activity_regularizer = activity
        self._activity_losses: list[torch.Tensor] = []
        if activity is not None:
            # a forward hook only on layers that ask for it: the others pay nothing
            self.register_forward_hook(_activity_hook)
        self._build_handle: torch.utils.hooks.RemovableHandle | None = \
            self.register_forward_pre_hook(_build_pre_hook, with_kwargs=True)

    # ---- identity and state -------------------------------------------------------------
    @property
    def dtype(self) -> torch.dtype:
        """The dtype new weights are created with."""
        return self._dtype

    @property
    def trainable(self) -> bool:
        """Whether the layer's weights are trained; setting False freezes every parameter."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"{describe(self)}: trainable={value!r} must be a bool")
        self._trainable = value
        for module in self.modules():
            if isinstance(module, Layer):
                module._trainable = value
        for param in self.parameters():
            param.requires_grad_(value)

    @property
    def built(self) -> bool:
        """True once ``build`` has run (weights exist)."""
        return self._built

    @built.setter
    def built(self, value: bool) -> None:
        self._built = bool(value)
        if value and self._build_handle is not None:
            self._build_handle.remove()
            self._build_handle = None

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The layer's computation (Keras name; ``forward`` is the same function)."""
        raise NotImplementedError(f"{type(self).__name__} must define call() or forward()")

    forward = call

    # ---- masks (Keras's protocol; fitorch.layers.masking says how a mask travels) ---------
    # Whether an incoming mask is passed on to the output (Keras's ``supports_masking``); a
    # subclass that overrides compute_mask supports masking unless it says otherwise.
    supports_masking: bool = False
    # Whether compute_mask may return a mask when given none (Embedding(mask_zero=True),
    # Masking): containers take their masked path only when a layer like this is present.
    # None: decided by whether the class overrides compute_mask.
    _creates_mask: bool | None = None

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of this layer's output, given its input and the input's mask (Keras's
        ``compute_mask``): the input's mask when ``supports_masking``, else ``None``."""
        return mask if self.supports_masking else None

    # ---- building -----------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the layer's weights for ``input_shape`` (batch first, ``None`` allowed)."""
        self._build_input_shape = input_shape
        self.built = True

    def maybe_build(self, input_shape: Any, device: torch.device | str | None = None) -> None:
        """Build from a symbolic shape (no data), or check the shape against an already-built layer.

        ``input_shape`` includes the batch axis (``None``); a list of shapes for multi-input layers.
        Weights are created on ``device`` (default: where the layer's existing tensors live, else
        the default device). Raises ``IncompatibleInputError`` naming the layer and the shapes.
        """
        input_shape = standardize_shape(input_shape)
        if self._built:
            self.check_input_shape(input_shape)
            return
        with torch.device(device or module_device(self) or torch.get_default_device()):
            self.build(input_shape)

    def _build_from_call(self, args: tuple, kwargs: dict) -> None:
        """Build from the arguments of the first call (the forward pre-hook's work)."""
        inputs = args[0] if args else next(iter(kwargs.values()), None)
        if inputs is None:
            raise TypeError(f"{describe(self)} was called without inputs")
        tensor = first_tensor(inputs)
        device = tensor.device if tensor is not None else torch.get_default_device()
        with torch.device(device):
            self.build(shape_of(inputs))

    def check_input_shape(self, input_shape: Any) -> None:
        """Raise ``IncompatibleInputError`` if this layer cannot take ``input_shape``.

        The default checks the rank rules (``_expected_ndim`` / ``_min_ndim``) and, once built,
        that the axes fixed by the weights match the shape the layer was built for.
        """
        if not is_shape(input_shape):
            if not self._single_input:
                return  # a user layer taking several tensors: its call checks them
            raise IncompatibleInputError(self, input_shape,
                                         f"expects one input tensor, got {len(input_shape)} "
                                         f"inputs with shapes {input_shape}")
        ndim = len(input_shape)
        if self._expected_ndim is not None and ndim != self._expected_ndim:
            raise IncompatibleInputError(
                self, input_shape, f"expects input of rank {self._expected_ndim} "
                f"(batch axis included), got shape {input_shape}{self._rank_hint(input_shape)}")
        if self._min_ndim is not None and ndim < self._min_ndim:
            raise IncompatibleInputError(
                self, input_shape, f"expects input of rank >= {self._min_ndim} "
                f"(batch axis included), got shape {input_shape}")
        if self._built:
            for axis, size in self._fixed_axes().items():
                got = input_shape[axis] if -ndim <= axis < ndim else None
                if got is not None and got != size:
                    raise IncompatibleInputError(
                        self, input_shape, f"was built for input shape {self._build_input_shape} "
                        f"(axis {axis} of size {size}) but got shape {input_shape}"
                        f"{self._rank_hint(input_shape)}")

    def _fixed_axes(self) -> dict[int, int]:
        """Axis -> size fixed by the built weights (overridden by layers with a feature axis)."""
        return {}

    def _rank_hint(self, input_shape: Shape) -> str:
        return ""

    # ---- weights ------------------------------------------------------------------------
    def add_weight(self, shape: Sequence[int] | None = None, initializer: Any = None,
                   dtype: Any = None, trainable: bool = True, regularizer: Any = None,
                   constraint: Any = None, name: str | None = None,
                   layout: tuple[Callable, Callable] | None = None) -> torch.Tensor:
        """Create, initialize and register a weight (Keras's signature).

        ``shape`` and ``initializer`` are in Keras layout (so fans match Keras); ``layout`` is an
        optional ``(to_storage, to_keras)`` pair when the layer stores the tensor in torch's layout.
        Trainable weights become ``nn.Parameter`` s; non-trainable ones persistent buffers.
        ``constraint`` (a ``fitorch.constraints`` name or callable) projects the weight after
        every optimizer step, as in Keras (see ``apply_constraints``).
        """
        from fitorch import constraints, initializers, regularizers
        projection = constraints.get(constraint)
        name = name or f"variable_{len(self._weight_names)}"
        if name in self._weight_names or hasattr(nn.Module, name):
            raise ValueError(f"{describe(self)}: a weight named {name!r} already exists")
        shape = tuple(int(d) for d in (shape or ()))
        dtype = _standardize_dtype(describe(self), dtype) if dtype is not None else self._dtype
        init = initializers.get("glorot_uniform" if initializer is None else initializer)
        value = init(shape, dtype=dtype)
        to_storage, to_keras = layout or (_identity, _identity)
        value = to_storage(value).contiguous()
        if trainable:
            self.register_parameter(name, nn.Parameter(value, requires_grad=self._trainable))
        else:
            self.register_buffer(name, value)
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._weight_regularizers.append((name, reg))
        if projection is not None:
            self._weight_constraints.append((name, projection))
        self._keras_layout[name] = (to_storage, to_keras)
        self._weight_names.append(name)
        weight = getattr(self, name)
        self._weight_ids[id(weight)] = name
        return weight

    def __setattr__(self, name: str, value: Any) -> None:
        # Keras style ``self.w = self.add_weight(...)``: move the weight to the attribute's name
        # instead of registering the same tensor twice (it would be counted and saved twice)
        ids = self.__dict__.get("_weight_ids")
        if ids and isinstance(value, torch.Tensor) and id(value) in ids:
            old = ids[id(value)]
            if old != name and (self._parameters.get(old) is value
                                or self._buffers.get(old) is value):
                self._rename_weight(old, name, value)
                return
        super().__setattr__(name, value)

    def _rename_weight(self, old: str, new: str, value: torch.Tensor) -> None:
        if new in self._weight_names or new in self._parameters or new in self._buffers:
            raise ValueError(f"{describe(self)}: a weight named {new!r} already exists")
        if isinstance(value, nn.Parameter):
            del self._parameters[old]
            super().__setattr__(new, value)
        else:
            del self._buffers[old]
            self.register_buffer(new, value)
        self._weight_ids[id(value)] = new
        self._weight_names[self._weight_names.index(old)] = new
        self._keras_layout[new] = self._keras_layout.pop(old)
        self._weight_regularizers = [(new if n == old else n, r)
                                     for n, r in self._weight_regularizers]
        self._weight_constraints = [(new if n == old else n, c)
                                    for n, c in self._weight_constraints]

    def _keras_weight_entries(self) -> list[tuple[str, torch.Tensor, Callable]]:
        """(name, stored tensor, to-Keras converter) for every weight, in Keras order."""
        own = [(n, getattr(self, n)) for n in self._weight_names]
        ordered = [e for e in own if isinstance(e[1], nn.Parameter)] + \
                  [e for e in own if not isinstance(e[1], nn.Parameter)]
        entries = [(n, t, self._keras_layout[n][1]) for n, t in ordered]
        # then the children's, then tensors a subclass registered itself (nn.Parameter
        # attributes, register_buffer)
        children = _children_weight_entries(self)
        plain = _plain_tensors(self, set(self._weight_names))
        return entries + children + [(n, t, _identity) for n, t in plain]

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays in Keras's layout and order (as Keras's ``get_weights``)."""
        # copies, as Keras returns: writing into an array must not change the layer
        return [f(t.detach()).to("cpu", copy=True).numpy()
                for _, t, f in self._keras_weight_entries()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load weights given in Keras's layout and order (e.g. from Keras's ``get_weights()``)."""
        entries = self._keras_weight_entries()
        if not self._built:
            raise ValueError(f"{describe(self)}: set_weights called before the layer is built; "
                             "call it on data or use maybe_build(input_shape) first")
        converted = keras_to_storage(self, entries, weights)
        with torch.no_grad():
            for _, tensor, value in converted:
                tensor.copy_(value.to(tensor.device))

    def count_params(self) -> int:
        """Number of scalars in all weights (parameters and persistent buffers), as Keras counts."""
        if not self._built:
            raise ValueError(f"{describe(self)}: count_params called before the layer is built; "
                             "call it on data or use maybe_build(input_shape) first")
        return sum(t.numel() for t in self.state_dict().values())

    # ---- symbolic calls -----------------------------------------------------------------
    @yields_to_attribute
    def input(self) -> Any:
        """The symbolic input of the layer's first call on ``ft.Input`` tensors that is still
        held (by a model or a variable), as Keras's ``layer.input``."""
        return symbolic_call(self, "input")[0]

    @yields_to_attribute
    def output(self) -> Any:
        """The symbolic output of that call: ``ft.Model(m.inputs, [l.output for l in m.layers])``
        extracts a graph model's intermediate outputs."""
        return symbolic_call(self, "output")[1]

    # ---- regularization and added losses -----------------------------------------------
    def add_loss(self, loss: Any) -> None:
        """Add a loss term (a tensor, or a list of them) from inside ``call``, as in Keras: it
        joins ``losses`` and, summed, the loss ``fit`` minimizes (and ``evaluate`` reports).
        The terms of a call replace those of the layer's previous call."""
        add_loss(self, loss)

    @property
    def losses(self) -> list[torch.Tensor]:
        """The ``add_loss`` terms of the latest call and the regularization penalties (weight
        and activity) of this layer and its sublayers (penalties are fresh tensors each access)."""
        return module_losses(self)

    def _own_losses(self) -> list[torch.Tensor]:
        losses = [reg(getattr(self, name)) for name, reg in self._weight_regularizers]
        return losses + list(self._activity_losses)

    # ---- shapes and configs -------------------------------------------------------------
    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape for ``input_shape`` (batch first, ``None`` batch).

        The default runs the layer once on zeros (see ``infer_output_shape``); layers with a
        closed form override it.
        """
        input_shape = standardize_shape(input_shape)
        self.check_input_shape(input_shape)
        return infer_output_shape(self, input_shape, self._input_dtype)

    def get_config(self) -> dict[str, Any]:
        """The layer's constructor arguments as plain values (``from_config`` rebuilds it).

        Built from the arguments the layer was created with. A subclass that overrides
        ``get_config`` gets only the base entries from ``super().get_config()`` and adds its own.
        Raises ``ValueError`` naming the layer and the argument when a value cannot be serialized.
        """
        config: dict[str, Any] = {"name": self.name, "trainable": self._trainable,
                                  "dtype": str(self._dtype).removeprefix("torch.")}
        if self._declared_input_shape is not None:
            config["batch_input_shape"] = self._declared_input_shape
        if type(self).get_config is not Layer.get_config:
            return config
        auto = constructor_config(self)
        auto.update(config)
        return auto

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Create a layer from ``get_config()``'s output."""
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _wrap_build(build: Callable) -> Callable:
    # Like Keras's build wrapper: check the rank first (nothing changes on bad input), then mark the
    # layer built and drop the build hook, whether or not the subclass called super().build().
    def build_wrapper(self: Layer, input_shape: Any = None, *args: Any, **kwargs: Any) -> None:
        if input_shape is not None:
            input_shape = standardize_shape(input_shape)
            if not self._built:
                self.check_input_shape(input_shape)
        build(self, input_shape, *args, **kwargs)
        self._build_input_shape = input_shape
        self.built = True
        if not self._trainable:
            self.trainable = False

    return functools.update_wrapper(build_wrapper, build)


# the base build gets the same wrapper, so a layer without its own build is checked and marked too
Layer.build = _wrap_build(Layer.__dict__["build"])  # type: ignore[method-assign]
register_layer_base(Layer)  # layer values in configs serialize as nested layers


def keras_weight_entries(module: nn.Module) -> list[tuple[str, torch.Tensor, Callable]]:
    """(``state_dict`` key, stored tensor, to-Keras converter) for every weight of any module.

    A fitorch layer gives its own weights in Keras's order (trainable, then non-trainable) and
    layout, then its children's; any other module gives its parameters and persistent buffers as
    torch stores them, then its children's. So fitorch layers nested anywhere (in a torch
    ``nn.Sequential``, a wrapped net, a model) always speak Keras's layout, and plain torch
    modules keep torch's.

    Args:
        module: Any ``nn.Module``.

    Returns:
        A list of ``(name, tensor, to_keras)``: ``to_keras(tensor)`` is the weight in Keras's
        layout (a Dense kernel ``(in, out)``; the identity for torch modules).

    Example:

    >>> net = nn.Sequential(ft.layers.Dense(2), nn.Linear(2, 1))
    >>> _ = net(torch.zeros(1, 3))
    >>> [(name, tuple(to_keras(t).shape))
    ...  for name, t, to_keras in ft.layers.base.keras_weight_entries(net)]
    [('0.kernel', (3, 2)), ('0.bias', (2,)), ('1.weight', (1, 2)), ('1.bias', (1,))]
    """
    if isinstance(module, Layer):
        return module._keras_weight_entries()
    entries = [(n, t, _identity) for n, t in _plain_tensors(module, set())]
    return entries + _children_weight_entries(module)


def _plain_tensors(module: nn.Module, skip: set[str]) -> list[tuple[str, torch.Tensor]]:
    """The module's own parameters and persistent buffers (``state_dict`` order), less ``skip``."""
    params = list(module.named_parameters(recurse=False))
    buffers = [(n, t) for n, t in module.named_buffers(recurse=False)
               if n not in module._non_persistent_buffers_set]
    return [(n, t) for n, t in params + buffers if n not in skip]


def _children_weight_entries(module: nn.Module) -> list[tuple[str, torch.Tensor, Callable]]:
    entries = []
    for child_name, child in module._modules.items():  # as state_dict walks them (shared too)
        if child is None:
            continue
        entries += [(f"{child_name}.{n}", t, f) for n, t, f in keras_weight_entries(child)]
    return entries


def storage_converter(module: nn.Module, dotted_name: str) -> Callable:
    """The Keras-to-storage converter of one weight of ``module``.

    Args:
        module: Any ``nn.Module``.
        dotted_name: The weight's ``state_dict`` key, e.g. ``"0.kernel"``.

    Returns:
        A function from the weight in Keras's layout to the layout it is stored in: the owning
        layer's layout, or the identity for torch modules.

    Example:

    >>> dense = ft.layers.Dense(2)
    >>> _ = dense(torch.zeros(1, 3))
    >>> to_storage = ft.layers.base.storage_converter(dense, "kernel")
    >>> tuple(to_storage(torch.zeros(3, 2)).shape)
    (2, 3)
    """
    owner: nn.Module = module
    *path, leaf = dotted_name.split(".")
    for part in path:
        owner = getattr(owner, part)
    if isinstance(owner, Layer) and leaf in owner._keras_layout:
        return owner._keras_layout[leaf][0]
    return _identity


def keras_to_storage(module: nn.Module, entries: list[tuple[str, torch.Tensor, Callable]],
                     weights: Sequence[Any]) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """Weights given in Keras's layout, converted to the layout ``module`` stores them in.

    Nothing is written: the caller copies the values. A wrong count or shape raises
    ``ValueError`` naming the weight, before any conversion is returned.

    Args:
        module: The module the weights belong to (named in errors).
        entries: ``keras_weight_entries(module)``, or the part of it being set.
        weights: Arrays or tensors in Keras's layout, in the order of ``entries``.

    Returns:
        A list of ``(name, stored tensor, value in storage layout)``.

    Example:

    >>> dense = ft.layers.Dense(2)
    >>> _ = dense(torch.zeros(1, 3))
    >>> entries = ft.layers.base.keras_weight_entries(dense)
    >>> converted = ft.layers.base.keras_to_storage(dense, entries, [np.ones((3, 2)), np.zeros(2)])
    >>> [(name, tuple(value.shape)) for name, _, value in converted]
    [('kernel', (2, 3)), ('bias', (2,))]
    >>> ft.layers.base.keras_to_storage(dense, entries, [np.ones((2, 3)), np.zeros(2)])
    Traceback (most recent call last):
    ...
    ValueError: Dense '...': weight 'kernel' expects Keras shape (3, 2), got (2, 3)
    """
    if len(weights) != len(entries):
        raise ValueError(f"{describe(module)}: set_weights expects {len(entries)} arrays "
                         f"({[n for n, _, _ in entries]}), got {len(weights)}")
    converted = []
    for (name, tensor, to_keras), value in zip(entries, weights):
        value = torch.as_tensor(np.asarray(value), dtype=tensor.dtype)
        # the Keras shape of the whole weight (a sharded tensor reports its global shape)
        expected = tuple(to_keras(torch.empty(tensor.shape, device="meta")).shape)
        if tuple(value.shape) != expected:
            raise ValueError(f"{describe(module)}: weight {name!r} expects Keras shape "
                             f"{expected}, got {tuple(value.shape)}")
        converted.append((name, tensor, storage_converter(module, name)(value)))
    return converted


def _activity_hook(layer: Layer, args: tuple, output: Any) -> None:
    regularizer, tensor = layer.activity_regularizer, first_tensor(output)
    assert regularizer is not None  # the hook is registered only for a regularizer
    if tensor is None:
        raise TypeError(f"{layer.name}: activity_regularizer needs a tensor output, got "
                        f"{type(output).__name__}")
    layer._activity_losses = [regularizer(tensor)]


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _standardize_dtype(owner: str, dtype: Any) -> torch.dtype:
    if dtype is None:
        return backend.floatx_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and isinstance(getattr(torch, dtype, None), torch.dtype):
        return getattr(torch, dtype)
    raise ValueError(f"{owner}: dtype={dtype!r} is not a torch.dtype or a dtype name like "
                     "'float32'")


def _declared_shape(owner: str, input_shape: Any, batch_input_shape: Any, input_dim: Any,
                    batch_size: Any) -> Shape | None:
    given = [n for n, v in (("input_shape", input_shape), ("batch_input_shape", batch_input_shape),
                            ("input_dim", input_dim)) if v is not None]
    if len(given) > 1:
        raise ValueError(f"{owner}: pass only one of {given}")
    if input_dim is not None:
        input_shape = (input_dim,)
    if input_shape is not None:
        if not is_shape(input_shape):
            raise ValueError(f"{owner}: input_shape={input_shape!r} must be a tuple of ints/None "
                             "without the batch axis, e.g. (200,)")
        return (batch_size,) + tuple(None if d is None else int(d) for d in input_shape)
    if batch_input_shape is not None:
        if not is_shape(batch_input_shape):
            raise ValueError(f"{owner}: batch_input_shape={batch_input_shape!r} must be a tuple "
                             "of ints/None, batch first")
        return tuple(None if d is None else int(d) for d in batch_input_shape)
    return None


def symbolic_call(module: nn.Module, what: str) -> tuple[Any, Any]:
    """``(input, output)`` of ``module``'s first symbolic call whose tensors are still alive.

    The models layer records each call on ``ft.Input`` tensors as a callable in
    ``_symbolic_calls``; ``Layer.input`` / ``Layer.output`` read them here.

    Args:
        module: Any ``nn.Module``.
        what: What the caller wants (``"input"`` or ``"output"``), named in the error.

    Returns:
        The symbolic input and output of that call.

    Example:

    >>> dense = ft.layers.Dense(2)
    >>> x = ft.Input(shape=(3,))
    >>> y = dense(x)
    >>> inputs, outputs = ft.layers.base.symbolic_call(dense, "input")
    >>> inputs is x, outputs is y
    (True, True)
    """
    calls = module.__dict__.get("_symbolic_calls", ())
    for resolve in calls:
        found = resolve()
        if found is not None:
            return found
    raise ValueError(f"{describe(module)} has no {what}: it was never called on symbolic tensors "
                     "(ft.Input) that are still held. A Sequential's layers get theirs when "
                     "model.inputs / model.outputs is read (it needs a known input shape); a "
                     "subclassed model's layers have none, as in Keras")


class Transient(list):
    """A list kept on a module that belongs to its latest call (``add_loss`` terms, symbolic calls).

    A copy or a pickle of the module starts with an empty one.

    Example:

    >>> import copy
    >>> terms = ft.layers.base.Transient([1, 2])
    >>> copy.deepcopy(terms), len(terms)
    ([], 2)
    """

    def __deepcopy__(self, memo: dict) -> Transient:
        return Transient()

    def __reduce__(self) -> tuple:
        return (Transient, ())


# How many modules have called add_loss so far. A trainer that scanned a model for loss terms
# scans again when this grows (a layer may add losses only in training, or only later).
LOSS_ADDERS = [0]


def add_loss(module: nn.Module, loss: Any) -> None:
    """Record ``loss`` as a loss term of ``module``'s current call (Keras's ``add_loss``).

    The module's next call starts a fresh list: a forward pre-hook, put only on modules that call
    ``add_loss``, clears it. Anything but tensors raises ``ValueError`` before anything is kept.

    Args:
        module: Any ``nn.Module`` (``Layer.add_loss`` and ``Model.add_loss`` call this).
        loss: A tensor, or a list or tuple of tensors.

    Example:

    >>> linear = nn.Linear(2, 1)
    >>> ft.layers.base.add_loss(linear, torch.tensor(0.5))
    >>> [t.item() for t in ft.layers.base.module_losses(linear)]
    [0.5]
    >>> _ = linear(torch.zeros(1, 2))  # the next call starts afresh
    >>> ft.layers.base.module_losses(linear)
    []
    """
    values = list(loss) if isinstance(loss, (list, tuple)) else [loss]
    for value in values:
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{describe(module)}: add_loss takes a tensor (or a list of "
                             f"tensors) computed in call(); got {type(value).__name__} "
                             f"{value!r}")
    store = module.__dict__.get("_added_losses")
    if store is None:
        store = module.__dict__["_added_losses"] = Transient()
        module.register_forward_pre_hook(_clear_added_losses)
        LOSS_ADDERS[0] += 1
    store.extend(values)


def _clear_added_losses(module: nn.Module, args: tuple) -> None:
    module.__dict__["_added_losses"].clear()


def module_losses(module: nn.Module) -> list[torch.Tensor]:
    """Every loss term of ``module`` and its submodules (Keras's ``model.losses``).

    Args:
        module: Any ``nn.Module``.

    Returns:
        A list of tensors: the ``add_loss`` terms of the latest calls, then the weight and
        activity regularization penalties (computed afresh by each call of this function).

    Example:

    >>> dense = ft.layers.Dense(2, kernel_initializer="ones", kernel_regularizer="l2")
    >>> _ = dense(torch.zeros(1, 3))
    >>> [round(t.item(), 4) for t in ft.layers.base.module_losses(nn.Sequential(dense))]
    [0.06]
    """
    losses: list[torch.Tensor] = []
    for sub in module.modules():
        losses += sub.__dict__.get("_added_losses", ())
        if isinstance(sub, Layer):
            losses += sub._own_losses()
    return losses


def regularization_losses(module: nn.Module) -> torch.Tensor | None:
    """The sum of every loss term in ``module``, or ``None`` when it can have none.

    The terms are the ``add_loss`` terms and the weight and activity penalties, each summed to a
    scalar, as Keras does. ``None`` means the model has no regularizers and nothing in it ever
    called ``add_loss``, so a trainer can check once and skip the call on every step; a model
    whose adders added nothing this call gives zero.

    Args:
        module: Any ``nn.Module``.

    Returns:
        A 0-d tensor, or ``None``.

    Example:

    >>> print(ft.layers.regularization_losses(nn.Linear(2, 2)))
    None
    >>> dense = ft.layers.Dense(2, kernel_initializer="ones", kernel_regularizer="l2")
    >>> _ = dense(torch.zeros(1, 3))
    >>> round(ft.layers.regularization_losses(dense).item(), 4)
    0.06
    """
    if not any("_added_losses" in sub.__dict__ or (isinstance(sub, Layer) and (
            sub._weight_regularizers or sub._activity_losses)) for sub in module.modules()):
        return None
    floatx = backend.floatx_dtype()
    # a 0-d CPU zero adds to tensors on any device
    return sum((loss.sum() if loss.is_floating_point() else loss.to(floatx).sum()
                for loss in module_losses(module)), torch.zeros(()))
