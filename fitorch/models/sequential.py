"""``Sequential``: torch's ``nn.Sequential`` that also takes Keras's list, ``.add()`` and shapes.

It *is* an ``nn.Sequential`` (``add_module``, positional modules, an ``OrderedDict``, indexing,
slicing and ``print`` are torch's own code; ``forward`` is torch's loop, which threads Keras masks
when a layer creates one) and a ``Model`` (compile / fit / summary).
When its input shape is known -- ``build(input_shape)``, an ``input_shape=`` on the first layer, or
an ``ft.Input`` first -- every layer is run symbolically (fake tensors, no data): lazy layers get
their weights before an optimizer exists, and a layer that cannot take its input's shape is
reported by position at ``add``/``build`` time instead of as a matmul error during ``fit``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from fitorch.layers.call_context import run_in_mode
from fitorch.layers.masking import call_with_mask, may_create_mask
from fitorch.models.configs import register_model_class
from fitorch.models.model import Model
from fitorch.models.symbolic import GraphIO, Input, KerasTensor

__all__ = ["Sequential"]


def _input_dtype(module: nn.Module) -> torch.dtype:
    """The dtype a module's input most likely has: token ids for embeddings, else floatx."""
    from fitorch import backend

    while isinstance(module, nn.Sequential) and len(module):
        module = module[0]
    declared = getattr(module, "_input_dtype", None)
    if isinstance(declared, torch.dtype):
        return declared
    if isinstance(module, nn.Embedding) or type(module).__name__ == "Embedding":
        return torch.long
    return backend.floatx_dtype()


@register_model_class
class Sequential(GraphIO, Model, nn.Sequential):
    """A linear stack of layers: ``nn.Sequential`` with Keras's ``add``, ``pop`` and ``build``.

    It *is* an ``nn.Sequential`` (indexing, slicing, ``add_module``, ``print`` and the forward loop
    are torch's) and a ``Model`` (``compile`` / ``fit`` / ``summary``...). Once the input shape is
    known (an ``ft.Input`` first, ``input_shape=`` on the first layer, or ``build``) every layer
    is run symbolically as it is added: lazy layers get their weights before any data, and a
    layer that cannot take its input's shape is reported by position, with nothing added.

    Args:
        *args: torch's forms: modules (``Sequential(m1, m2)``) or one ``OrderedDict`` of named
            modules; or Keras's form, one list of layers (an ``ft.Input`` may come first).
        layers: Keras's keyword form of the list (not together with positional layers).
        name: the model's name (default ``"sequential"``, made unique).
        trainable: ``False`` freezes every parameter.

    Example:

    >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(8, activation="relu"),
    ...                        ft.layers.Dense(1)])
    >>> model.output_shape, len(model), model.count_params()
    ((None, 1), 2, 49)
    >>> torch_style = ft.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    >>> tuple(torch_style(torch.ones(2, 4)).shape)
    (2, 1)
    """

    def __init__(self, *args: Any, layers: Any = None, name: str | None = None,
                 trainable: bool = True) -> None:
        from fitorch import backend

        if name is not None and not (isinstance(name, str) and name):
            raise ValueError(f"Sequential: name={name!r} must be a non-empty string")
        if layers is not None and args:
            raise ValueError("Sequential: pass layers either positionally or as layers=, not both")
        if layers is not None:
            args = (layers,)
        keras_list = len(args) == 1 and isinstance(args[0], (list, tuple))
        items: list[tuple[str | None, Any]]
        if keras_list:
            items = [(None, layer) for layer in args[0]]
        elif len(args) == 1 and isinstance(args[0], OrderedDict):
            items = list(args[0].items())
        else:
            items = [(None, module) for module in args]
        for position, (_, item) in enumerate(items):
            if not isinstance(item, nn.Module) and not (keras_list and position == 0
                                                         and isinstance(item, KerasTensor)):
                raise TypeError(f"Sequential: item {position} is a {type(item).__name__} "
                                f"({item!r}), not an nn.Module"
                                + (" (an ft.Input may only come first)"
                                   if isinstance(item, KerasTensor) else ""))
        super().__init__()
        self.name = name or backend.unique_name("sequential")
        self._input_spec: tuple | None = None   # (shape, dtype) once known
        self._explicitly_built = False
        for key, item in items:
            if isinstance(item, KerasTensor):
                self.add(item)
            elif key is None and keras_list:
                self.add(item)
            else:
                self.add_module(str(len(self._modules)) if key is None else key, item)
        if not trainable:
            self.trainable = False

    def forward(self, input: Any, training: bool | None = None) -> Any:
        """Run each layer in turn on the previous one's output.

        When a layer can create a Keras mask (``Embedding(mask_zero=True)``, ``Masking``) the mask
        is passed on to the layers after it.

        Args:
            input: the first layer's input.
            training: ``None`` runs in the module's own mode (``model.train()`` / ``eval()``);
                ``True`` or ``False`` (Keras's ``model(x, training=True)``) runs every layer in that
                mode for this call only.

        Returns:
            The last layer's output.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dropout(0.5)])
        >>> model.eval().training
        False
        >>> bool((model(torch.ones(1, 1000), training=True) == 0).any()), model.training
        (True, False)
        """
        if training is None or bool(training) == self.training:
            return self._run_layers(input)
        return run_in_mode(self, bool(training), Sequential._run_layers, self, input)

    def _run_layers(self, input: Any) -> Any:
        """Each layer on the previous one's output (torch's loop). When a layer can create a Keras
        mask (``Embedding(mask_zero=True)``, ``Masking``), the mask is threaded through the
        layers after it (see ``fitorch.layers.masking``)."""
        # which loop to run is decided once per set of layers, not per layer per step
        modules = tuple(self._modules.values())
        plan = self.__dict__.get("_mask_plan")
        if plan is None or plan[0] != modules:
            plan = self.__dict__["_mask_plan"] = (modules, any(map(may_create_mask, modules)))
        if not plan[1]:
            for module in modules:
                input = module(input)
            return input
        mask = None
        for module in modules:
            input, mask = call_with_mask(module, input, mask)
        return input

    # ---- Keras building ----------------------------------------------------------------
    def add(self, layer: nn.Module | KerasTensor, rebuild: bool = True) -> None:
        """Append a layer, or set the input shape with an ``ft.Input`` (first only).

        When the model's input shape is known the new layer is run symbolically at once: it gets its
        weights, and if it cannot take the previous output's shape a ``ValueError`` names its
        position and nothing is added.

        Args:
            layer: an ``nn.Module`` (a fitorch layer, a torch module, another model) or an
                ``ft.Input``.
            rebuild: ``False`` skips the symbolic run (``from_config`` adds every layer, then
                builds once).

        Example:

        >>> model = ft.Sequential()
        >>> model.add(ft.Input((4,)))
        >>> model.add(ft.layers.Dense(3))
        >>> model.output_shape
        (None, 3)
        >>> model.add(nn.Linear(5, 2))
        Traceback (most recent call last):
        ...
        ValueError: Sequential '...': layer 1 (Linear) cannot take input of shape (None, 3): ...
        >>> len(model)
        1
        """
        if isinstance(layer, KerasTensor):
            if len(self):
                raise ValueError(f"Sequential {self.name!r}: an ft.Input can only be added "
                                 f"first, the model already has {len(self)} layers")
            self._input_spec = (layer.shape, layer.dtype)
            return
        if not isinstance(layer, nn.Module):
            raise TypeError(f"Sequential.add: layer={layer!r} is a {type(layer).__name__}, not "
                            "an nn.Module (or an ft.Input)")
        if layer is self:
            raise ValueError(f"Sequential.add: cannot add Sequential {self.name!r} to itself")
        spec = self._input_spec
        if spec is None and not len(self):
            declared = getattr(layer, "_declared_input_shape", None)
            if declared is not None:
                spec = (tuple(declared), _input_dtype(layer))
        output = None
        if spec is not None and rebuild:
            # raises before anything is added; only the new layer runs when the model's output
            # for this input is known from the previous add
            cached = self.__dict__.get("_output_cache")
            if cached is not None and cached[0] == (spec, self._layer_ids()):
                _, output = self._infer([layer], cached[1], first_position=len(self))
            else:
                _, output = self._infer(list(self) + [layer], spec)
            self._input_spec = spec
        self.add_module(str(len(self._modules)), layer)
        if output is not None:
            self._output_cache = ((spec, self._layer_ids()), output)

    def _layer_ids(self) -> tuple[int, ...]:
        return tuple(id(m) for m in self._modules.values())

    def pop(self, key: int | slice = -1) -> nn.Module:
        """Remove and return the last layer (Keras), or the one at ``key`` (torch).

        Args:
            key: the position (or a slice) of the layer to remove; ``-1`` is the last.

        Returns:
            The removed module. An empty model raises an ``IndexError``.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(3), ft.layers.Dense(1)])
        >>> type(model.pop()).__name__, len(model), model.output_shape
        ('Dense', 1, (None, 3))
        """
        if not len(self):
            raise IndexError(f"Sequential {self.name!r}: pop from a model with no layers")
        return nn.Sequential.pop(self, key)

    def build(self, input_shape: Any = None, dtype: Any = None) -> None:
        """Run every layer symbolically for ``input_shape`` so that each creates its weights.

        No data is needed (fake tensors). Afterwards ``input_shape``, ``output_shape`` and
        ``summary()`` know the shapes. A layer that cannot take its input raises a ``ValueError``
        naming its position.

        Args:
            input_shape: the input's shape, batch first (``None`` allowed), e.g. ``(None, 200)``;
                ``None`` uses the shape set by an ``ft.Input`` or the first layer's ``input_shape``.
            dtype: the input's dtype (a ``torch.dtype`` or its name); default ``long`` when the
                first layer is an embedding, else the float type (``ft.backend.floatx()``).

        Example:

        >>> model = ft.Sequential([ft.layers.Dense(3), ft.layers.Dense(1)])
        >>> model.built
        False
        >>> model.build((None, 5))
        >>> model.built, model.output_shape, model.count_params()
        (True, (None, 1), 22)
        """
        if input_shape is None:
            if self._input_spec is None:
                raise ValueError(f"Sequential {self.name!r}: build() needs input_shape (e.g. "
                                 "(None, 200)): the model has no input shape yet")
            input_shape, dtype = self._input_spec[0], dtype or self._input_spec[1]
        if not isinstance(input_shape, (tuple, list, torch.Size)) or not all(
                d is None or (isinstance(d, int) and d > 0) for d in input_shape):
            raise ValueError(f"Sequential {self.name!r}: build(input_shape={input_shape!r}) needs "
                             "a tuple of positive ints / None, batch first, e.g. (None, 200)")
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, dtype)
        if dtype is not None and not isinstance(dtype, torch.dtype):
            raise ValueError(f"Sequential.build: dtype={dtype!r} is not a torch.dtype")
        spec = (tuple(input_shape), dtype or (_input_dtype(self[0]) if len(self) else
                                              torch.float32))
        _, output = self._infer(list(self), spec)
        if output is not None:
            self._output_cache = ((spec, self._layer_ids()), output)
        self._input_spec = spec
        self._explicitly_built = True
        self.__dict__["_built"] = True
        self.__dict__["_build_input_shape"] = spec[0]

    @property
    def built(self) -> bool:
        """Whether every layer has its weights (built, or nothing lazy left)."""
        if self._explicitly_built:
            return True
        for module in self.modules():
            if module is not self and getattr(module, "built", True) is False:
                return False
            if isinstance(module, nn.modules.lazy.LazyModuleMixin) and \
                    module.has_uninitialized_params():
                return False
        return bool(len(self))

    @built.setter
    def built(self, value: bool) -> None:
        self._explicitly_built = bool(value)

    def _infer(self, layers: list[nn.Module], spec: tuple, first_position: int = 0
               ) -> tuple[list[Any], tuple | None]:
        """Run ``layers`` on a symbolic input of ``spec``: the output shape after each layer, and
        the ``(shape, dtype)`` of the last output (``None`` if it is not one tensor)."""
        shape, dtype = spec
        x: Any = Input(tuple(shape[1:]), dtype=dtype, batch_size=shape[0],
                       name=f"{self.name}_input")
        shapes = []
        for position, layer in enumerate(layers, start=first_position):
            before = x.shape if isinstance(x, KerasTensor) else x
            try:
                x = layer(x)
            except Exception as exc:
                raise ValueError(f"Sequential {self.name!r}: layer {position} "
                                 f"({_describe(layer)}) cannot take input of shape {before}: "
                                 f"{exc}") from exc
            shapes.append(x.shape if isinstance(x, KerasTensor) else
                          [t.shape for t in x if isinstance(t, KerasTensor)])
        return shapes, ((x.shape, x.dtype) if isinstance(x, KerasTensor) else None)

    def layer_output_shapes(self) -> list[Any] | None:
        """Compute each layer's output shape for the known input shape.

        Returns:
            A list with one shape per layer (batch ``None``), or ``None`` while the input shape is
            unknown.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(3), ft.layers.Dense(1)])
        >>> model.layer_output_shapes()
        [(None, 3), (None, 1)]
        >>> ft.Sequential([ft.layers.Dense(3)]).layer_output_shapes() is None
        True
        """
        spec = self._input_spec
        if spec is None and len(self):
            first = self[0]
            declared = getattr(first, "_declared_input_shape", None) or getattr(
                first, "_build_input_shape", None)
            if declared is not None and all(d is None or isinstance(d, int) for d in declared):
                spec = (tuple(declared), _input_dtype(first))
        if spec is None:
            return None
        return self._infer(list(self), spec)[0]

    # ---- Keras accessors -------------------------------------------------------------------
    def _graph_key(self) -> Any:
        return (self._layer_ids(), self._input_spec)

    def _build_graph(self) -> tuple[Any, Any]:
        if self._input_spec is None:
            raise ValueError(f"Sequential {self.name!r} has no inputs/outputs yet: its input "
                             "shape is unknown; start it with ft.Input(shape=...) (or give the "
                             "first layer input_shape=), or call build(input_shape)")
        shape, dtype = self._input_spec
        x = Input(batch_shape=tuple(shape), dtype=dtype)
        # the forward itself, not the module call, so each layer's call is recorded
        return x, type(self).forward(self, x)

    @property
    def layers(self) -> list[nn.Module]:
        """The layers in order."""
        return list(self._modules.values())

    @property
    def input_shape(self) -> tuple | None:
        """The input shape (batch ``None``) once known."""
        return None if self._input_spec is None else self._input_spec[0]

    @property
    def output_shape(self) -> Any:
        """The last layer's output shape once the input shape is known."""
        shapes = self.layer_output_shapes()
        return shapes[-1] if shapes else None

    def get_config(self) -> dict[str, Any]:
        """Describe the model as a JSON-able dict that ``from_config`` turns back into a model.

        Returns:
            ``{"name", "layers"}`` (each layer's class name and config), plus
            ``"build_input_shape"`` and ``"input_dtype"`` once the input shape is known.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)], name="tiny")
        >>> config = model.get_config()
        >>> config["name"], [layer["class_name"] for layer in config["layers"]]
        ('tiny', ['Dense'])
        >>> config["build_input_shape"], config["input_dtype"]
        ([None, 4], 'float32')
        """
        from fitorch.models.configs import serialize_module

        config: dict[str, Any] = {"name": self.name,
                                  "layers": [serialize_module(layer) for layer in self]}
        if self._input_spec is not None:
            shape, dtype = self._input_spec
            config["build_input_shape"] = list(shape)
            config["input_dtype"] = str(dtype).removeprefix("torch.")
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, type] | None = None) -> Sequential:
        """Rebuild a Sequential from the output of ``get_config()``, with fresh weights.

        Args:
            config: the dict ``get_config()`` returned (it must hold ``"layers"``).
            custom_objects: ``{name: class}`` for layer classes that are not registered.

        Returns:
            The new model, built when the config holds an input shape.

        Example:

        >>> model = ft.Sequential([ft.Input((4,)), ft.layers.Dense(2)])
        >>> copy = ft.Sequential.from_config(model.get_config())
        >>> copy.input_shape, copy.output_shape, copy is model
        ((None, 4), (None, 2), False)
        """
        from fitorch.models.configs import deserialize_module

        if not isinstance(config, dict) or "layers" not in config:
            raise ValueError(f"Sequential.from_config: config={config!r} lacks 'layers'")
        model = cls(name=config.get("name"))
        for entry in config["layers"]:
            model.add(deserialize_module(entry, custom_objects), rebuild=False)
        if config.get("build_input_shape") is not None:
            model.build(tuple(config["build_input_shape"]), config.get("input_dtype"))
        return model


def _describe(module: nn.Module) -> str:
    from fitorch.layers.naming import describe
    return describe(module)


# nn.Sequential's own first call builds lazy layers; Model's build-on-first-call hook is not needed
# (and would cost every Sequential a hook until its first call).
Sequential._has_custom_build = False
