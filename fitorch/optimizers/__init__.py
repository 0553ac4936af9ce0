"""Keras-named optimizers that build real ``torch.optim`` optimizers.

``ft.optimizers.Adam(learning_rate=0.01)`` is a *spec*: it needs no parameters, holds Keras's
defaults, and ``build(params)`` makes the matching ``torch.optim`` optimizer. What comes out is an
instance of the torch class (``isinstance(opt, torch.optim.Adam)``, ``param_groups`` and
``state_dict`` as usual) through a small cached subclass that adds Keras's ``lr`` /
``learning_rate`` variable, so ``model.optimizer.lr.assign(model.optimizer.lr / 2.0)`` works.

Semantics are torch's update rules with Keras's hyper-parameters; each is checked against Keras 3
over 30 steps (``tests/oracle``). ``weight_decay`` is Keras's decoupled rule for every optimizer.
``learning_rate`` may be a schedule (``ft.optimizers.schedules``) or a callable. One known
difference: torch's SGD and RMSprop keep the learning rate *outside* their momentum buffer and
Keras's inside, which is the same while the rate is constant but not while a schedule changes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from fitorch.losses.naming import lookup
from fitorch.optimizers.learning_rate import (KerasLearningRateMixin, LearningRate,
                                              keras_optimizer_class, wrap_keras_lr)
from fitorch.optimizers import schedules
from fitorch.optimizers.optimizer import Optimizer
from fitorch.optimizers.specs import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop

SPECS: dict[str, type[Optimizer]] = {
    "sgd": SGD, "adam": Adam, "adamw": AdamW, "nadam": Nadam, "rmsprop": RMSprop,
    "adagrad": Adagrad, "adadelta": Adadelta, "adamax": Adamax,
}


def check_name(name: str) -> None:
    """Raise ``ValueError`` (with the closest names) unless ``name`` is a known optimizer."""
    lookup(SPECS, name, "optimizer")


def _check_holds(optimizer: torch.optim.Optimizer, params: list[torch.Tensor]) -> None:
    """A ready-made optimizer must optimize this model: raise if it holds none of its parameters,
    or trainable tensors that are not the model's."""
    wanted = {id(p) for p in params}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    if not any(id(p) in wanted for p in held):
        raise ValueError(f"optimizer {type(optimizer).__name__} holds {len(held)} tensors, none of "
                         f"them among the model's {len(params)} trainable parameters: was it created "
                         "for another model, or before the model was rebuilt or moved? Pass "
                         "optimizer='adam' / a class / lambda params: ... to let fit build it")
    foreign = [p for p in held if id(p) not in wanted and p.requires_grad]
    if foreign:
        raise ValueError(f"optimizer {type(optimizer).__name__} holds {len(foreign)} trainable "
                         "tensors that are not parameters of the model (shapes "
                         f"{[tuple(p.shape) for p in foreign[:3]]}...): build it from "
                         "model.parameters()")


def get(identifier: Any, params: Iterable[Any]) -> torch.optim.Optimizer:
    """The torch optimizer for ``compile(optimizer=identifier)`` over ``params``.

    Accepts a Keras name (case-insensitive: ``"adam"``, ``"nadam"``, ``"RMSprop"``...), a spec
    (``ft.optimizers.Adam(0.01)``), a torch optimizer instance (kept, after checking it holds the
    model's parameters), a torch optimizer class (built with its defaults) or a callable
    ``fn(params) -> torch.optim.Optimizer``. The result always has Keras's ``lr`` variable.
    """
    params = list(params)
    if isinstance(identifier, str):
        return lookup(SPECS, identifier, "optimizer")().build(params)
    if isinstance(identifier, Optimizer):
        return identifier.build(params)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier().build(params)
    if isinstance(identifier, torch.optim.Optimizer):
        _check_holds(identifier, params)
        return wrap_keras_lr(identifier)
    if isinstance(identifier, type) and issubclass(identifier, torch.optim.Optimizer):
        # a concrete torch optimizer class takes params alone; only the base class (which
        # has no step) wants `defaults` too
        return keras_optimizer_class(identifier)(params)  # type: ignore[call-arg]
    if callable(identifier):
        built = identifier(params)
        if not isinstance(built, torch.optim.Optimizer):
            raise TypeError(f"optimizer factory {getattr(identifier, '__name__', identifier)!r} "
                            f"returned {type(built).__name__}; expected a torch.optim.Optimizer")
        _check_holds(built, params)
        return wrap_keras_lr(built)
    raise TypeError(f"optimizer={identifier!r} ({type(identifier).__name__}) is not an optimizer: "
                    "expected a name, a fitorch.optimizers spec, a torch optimizer (instance or "
                    "class) or a callable params -> optimizer")


__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "KerasLearningRateMixin",
           "LearningRate", "Nadam", "Optimizer", "RMSprop", "check_name", "get",
           "keras_optimizer_class", "schedules", "wrap_keras_lr"]
