"""Pickling: how copies and pickles of a functional model are made, and what they rebuild.

A functional model's class is generated for it (:mod:`fitorch.models.functional_codegen`), so no
pickle can name that class. A copy or pickle holds the class it was made from and the model's
``__dict__`` (its graph spec of ``GraphNode`` s, its layers and weights); loading generates the
forward again from the spec. The symbolic graph (``model.inputs`` / ``outputs``) is left out
and rebuilt when asked for.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from fitorch.models.configs import Ref
from fitorch.models.functional_codegen import generated_base, install_forward
from fitorch.models.model import functional_subclass
from fitorch.models.symbolic import Input
from fitorch.torch_utils import map_structure

__all__ = ["rebuild_graph", "reduce_functional", "restore_functional"]


def reduce_functional(model: nn.Module) -> tuple:
    """``model.__reduce_ex__``: restore from the class the model's own class was made from
    (for ``UserModel(inputs, outputs)``, the user's own ``UserModel``, which pickle can name)."""
    base = generated_base(type(model))
    named = base.__dict__.get("_fitorch_functional_of", base)
    return (restore_functional, (named, model.__dict__))


# Pickles made before this module existed name it fitorch.models.functional._restore_functional,
# which is this function.
def restore_functional(base: type[nn.Module], state: dict) -> nn.Module:
    """A functional model of class ``base`` with ``state`` as its ``__dict__``, its forward
    generated again (what unpickling and ``copy.deepcopy`` call); a ``base`` that is not a graph
    model class (a user's ``Model`` subclass) gets its graph-model subclass, as
    ``UserModel(inputs, outputs)`` does."""
    model: nn.Module = nn.Module.__new__(functional_subclass(base))
    model.__dict__.update(state)
    install_forward(model, state["_spec"], state["name"])
    return model


def rebuild_graph(model: nn.Module, spec: dict) -> tuple[Any, Any]:
    """(input structure, output structure) of ``model`` run on new ``Input`` s like those of
    its graph ``spec``: the symbolic graph of a copy or an unpickled model."""
    nodes = spec["nodes"]
    fresh = {}
    for i in spec["inputs"]:
        _, shape, dtype = nodes[i].outputs[0]
        fresh[i] = Input(shape=tuple(shape[1:]), dtype=dtype, name=nodes[i].name,
                         batch_size=nodes[i].batch_size)
    inputs = map_structure(lambda r: fresh[r.node] if isinstance(r, Ref) else r,
                           spec["input_structure"])
    # the forward itself, not the module call, so each layer's call is recorded
    return inputs, type(model).forward(model, *[fresh[i] for i in spec["inputs"]])
