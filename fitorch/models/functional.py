"""The functional API: ``ft.Input`` and ``Functional``, the model ``ft.Model(inputs, outputs)`` builds.

``Functional`` turns the calls recorded on symbolic tensors (:mod:`fitorch.models.symbolic`) into
an ordinary ``nn.Module``: the layers become its submodules (named by their Keras names, so
``state_dict`` keys read ``dense.weight``) and the graph becomes Python source for its ``forward``,
compiled once -- the same code a person would write by hand, so a call costs what a hand-written
forward costs, and ``torch.compile(fullgraph=True)``, ``torch.export``, ``deepcopy`` and DDP see a
plain module. The source is ``model.code``.

The work is done in four modules: tracing the graph (:mod:`~fitorch.models.functional_trace`),
generating the forward (:mod:`~fitorch.models.functional_codegen`), configs
(:mod:`~fitorch.models.functional_config`) and pickling
(:mod:`~fitorch.models.functional_pickle`).
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from torch import nn

from fitorch.models.configs import Ref, register_model_class
from fitorch.models.functional_codegen import install_forward
from fitorch.models.functional_config import graph_config, replay_config
from fitorch.models.functional_pickle import rebuild_graph, reduce_functional, restore_functional
from fitorch.models.functional_trace import (GraphNode, flatten_io, make_spec, name_layers,
                                             trace_graph)
from fitorch.models.model import Model, submodules
from fitorch.models.symbolic import GraphIO, Input, KerasTensor, is_keras_tensor, map_structure

__all__ = ["Functional", "Input", "KerasTensor", "is_keras_tensor"]

# Pickles made before this module was split name fitorch.models.functional._restore_functional
# and fitorch.models.functional.GraphNode (imported above): both stay importable from here.
_restore_functional = restore_functional


@register_model_class
class Functional(GraphIO, Model):
    """A model built from symbolic tensors: ``ft.Model(inputs, outputs, name=None)``.

    The model is an ordinary ``nn.Module`` whose ``forward`` takes the inputs as positional
    arguments (also as one list, or one dict keyed by input name, as Keras calls it) and returns
    ``outputs``' structure. Its ``forward`` is generated Python code (``model.code`` shows it),
    so it costs no more than a hand-written one.

    Args:
        inputs: one ``ft.Input`` tensor, or a list, tuple or dict of them.
        outputs: one symbolic tensor computed from ``inputs``, or a list, tuple or dict of them.
        name: the model's name (default ``"functional"`` plus a number).
        trainable: ``False`` freezes every weight, as ``model.trainable = False`` does.

    Example:

    >>> inputs = ft.Input(shape=(4,))
    >>> hidden = ft.layers.Dense(8, activation="relu")(inputs)
    >>> outputs = [ft.layers.Dense(1)(hidden), ft.layers.Dense(3)(hidden)]
    >>> model = ft.Model(inputs, outputs)
    >>> [tuple(y.shape) for y in model(torch.ones(2, 4))]
    [(2, 1), (2, 3)]
    >>> type(model).__name__, isinstance(model, nn.Module)
    ('Functional', True)
    """

    _layer_attributes: dict[str, str]  # Keras layer name -> attribute (see _attribute_for)

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None,
                 trainable: bool = True) -> None:
        from fitorch import backend

        input_list, input_structure = flatten_io(inputs, "inputs")
        output_list, output_structure = flatten_io(outputs, "outputs")
        for i, tensor in enumerate(input_list):
            if tensor.node.kind != "input":
                raise ValueError(f"Model: inputs[{i}] ({tensor.name!r}, shape {tensor.shape}) is "
                                 "not an ft.Input tensor; model inputs must come from ft.Input")
        if len({id(t) for t in input_list}) != len(input_list):
            raise ValueError(f"Model: inputs {[t.name for t in input_list]} lists one tensor twice")
        if name is not None and not (isinstance(name, str) and name):
            raise ValueError(f"Model: name={name!r} must be a non-empty string")
        nodes = trace_graph(input_list, output_list)
        modules = name_layers(nodes)  # Keras name -> layer; clashes are errors
        super().__init__()
        self.name = name or backend.unique_name("functional")
        self._input_names = [t.name for t in input_list]
        attributes: dict[int, str] = {}
        for label, module in modules.items():
            # the generated forward calls the module by its attribute, not by its Keras name
            attributes[id(module)] = self._attribute_for(label)
            self.add_module(attributes[id(module)], module)
        self._spec = make_spec(nodes, input_list, input_structure, output_structure, attributes)
        if not trainable:
            self.trainable = False
        self._install_forward()
        self._hold_graph(inputs, outputs)  # model.inputs are the tensors it was built from

    # ---- graph spec ------------------------------------------------------------------------
    def _attribute_for(self, label: str) -> str:
        # A layer named like a Module attribute ("forward", "train") or a Python keyword
        # (Keras names a Lambda layer "lambda") gets a suffix.
        attr = re.sub(r"\W", "_", label)
        while hasattr(type(self), attr) or attr in self._input_names or keyword.iskeyword(attr):
            attr += "_"
        self.__dict__.setdefault("_layer_attributes", {})[label] = attr
        return attr

    @property
    def graph_nodes(self) -> list[GraphNode]:
        """The graph's calls in execution order (inputs first)."""
        return self._spec["nodes"]

    @property
    def input_names(self) -> list[str]:
        """The inputs' names, in the order ``forward`` takes them."""
        return [self._spec["nodes"][i].name for i in self._spec["inputs"]]

    @property
    def output_names(self) -> Any:
        """Names of the tensors the model returns, in its output structure."""
        nodes = self._spec["nodes"]

        def name(ref: Any) -> Any:
            if not isinstance(ref, Ref):
                return ref
            node = nodes[ref.node]
            return node.tensor_names[[p for p, _, _ in node.outputs].index(ref.path)]
        return map_structure(name, self._spec["output_structure"])

    @property
    def input_shape(self) -> Any:
        """Shape(s) of the inputs, batch ``None`` (Keras's ``model.input_shape``)."""
        nodes = self._spec["nodes"]
        return map_structure(lambda r: nodes[r.node].outputs[0][1] if isinstance(r, Ref) else r,
                             self._spec["input_structure"])

    @property
    def output_shape(self) -> Any:
        """Shape(s) of the outputs, batch ``None``."""
        return map_structure(self._shape_of, self._spec["output_structure"])

    def _shape_of(self, ref: Any) -> Any:
        if not isinstance(ref, Ref):
            return ref
        for path, shape, _ in self._spec["nodes"][ref.node].outputs:
            if path == ref.path:
                return shape
        raise KeyError(ref)

    @property
    def layers(self) -> list[nn.Module]:
        """The layers (distinct modules) in the order the graph first calls them."""
        return list(submodules(self).values())

    def _layer_labels(self) -> list[tuple[str, nn.Module]]:
        # the graph's Keras names (the attribute may carry a suffix, see _attribute_for)
        return [(label, submodules(self)[attr])
                for label, attr in self.__dict__.get("_layer_attributes", {}).items()]

    def _build_graph(self) -> tuple[Any, Any]:
        # a copy or an unpickled model: run the graph again on new Inputs like the original's
        return rebuild_graph(self, self._spec)

    # ---- forward as generated source ---------------------------------------------------
    @property
    def code(self) -> str:
        """The Python source of this model's ``forward``."""
        return type(self).__dict__["_source"]

    def _install_forward(self) -> None:
        # a class of this model's own, with the forward generated from its graph
        install_forward(self, self._spec, self.name)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # The per-model class is generated, so copies and pickles rebuild it from the spec.
        return reduce_functional(self)

    # ---- configs ---------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The graph and its layers' configs as plain values (``from_config`` rebuilds it).

        Raises ``ValueError`` naming the layer or function that a config cannot hold (plain
        ``nn.Module`` s without ``get_config``, lambdas).

        Returns:
            A dict of JSON-friendly values: ``name``, ``layers`` (each layer's class name and
            config), ``nodes`` (the graph: inputs and calls, in order), ``inputs`` and
            ``outputs``. It is fitorch's own layout; ``.keras`` files are written in Keras's.

        Example:

        >>> inputs = ft.Input(shape=(4,), name="x")
        >>> model = ft.Model(inputs, ft.layers.Dense(2, name="head")(inputs), name="m")
        >>> config = model.get_config()
        >>> config["name"], [layer["name"] for layer in config["layers"]], len(config["nodes"])
        ('m', ['head'], 2)
        """
        return graph_config(self.name, self._spec, self._layer_attributes, submodules(self))

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, type] | None = None) -> Functional:
        """Rebuild a graph model from ``get_config()``'s output (fresh weights).

        Safe by construction: functions come only from torch's and the operators' fixed table
        (``custom_objects`` too, inside ``load_model(..., safe_mode=False)``), tensor methods and
        attributes are applied only to graph tensors, and every call runs on the symbolic
        inputs; anything else raises ``ValueError`` naming the node.

        Args:
            config: what ``get_config()`` returned (or a Keras functional model's config).
            custom_objects: names of the user's own layer classes and functions, for configs
                that use them.

        Returns:
            A new model of this class with the same graph and freshly initialized weights.

        Example:

        >>> inputs = ft.Input(shape=(4,))
        >>> model = ft.Model(inputs, ft.layers.Dense(2)(inputs))
        >>> copy = ft.models.Functional.from_config(model.get_config())
        >>> tuple(copy(torch.ones(3, 4)).shape), copy is model
        ((3, 2), False)
        """
        inputs, outputs = replay_config(config, custom_objects)
        return cls(inputs, outputs, name=config.get("name"))
