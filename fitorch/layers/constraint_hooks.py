"""Keras's weight constraints, applied to a model's layers after every optimizer step."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import torch
from torch import nn

from fitorch.layers.base import Layer

__all__ = ["weight_constraints", "apply_constraints", "constrain_after_steps"]


def weight_constraints(module: nn.Module) -> list[tuple[torch.Tensor, Callable, Callable,
Callable]]:
    """``(weight, constraint, to_keras, to_storage)`` for every constrained weight in ``module``
    (empty when nothing is constrained, so a trainer can skip the projection entirely)."""
    found = []
    for sub in module.modules():
        if isinstance(sub, Layer):
            for name, constraint in sub._weight_constraints:
                to_storage, to_keras = sub._keras_layout[name]
                found.append((getattr(sub, name), constraint, to_keras, to_storage))
    return found


@torch.no_grad()
def apply_constraints(pairs: Sequence[tuple[torch.Tensor, Callable, Callable, Callable]]) -> None:
    """Project each weight in place with its constraint, in Keras's layout (so a constraint's
    ``axis`` means what it does in Keras); ``pairs`` comes from ``weight_constraints``."""
    for weight, constraint, to_keras, to_storage in pairs:
        weight.copy_(to_storage(constraint(to_keras(weight))))


# optimizer -> its constraint hook handle, so building again for the same optimizer (recompiling
# with one torch optimizer object) replaces the hook instead of projecting twice per step
_CONSTRAINT_HOOKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def constrain_after_steps(optimizer: torch.optim.Optimizer, module: nn.Module) -> bool:
    """Make every ``optimizer.step()`` project ``module``'s constrained weights afterwards.

    Keras applies constraints right after each optimizer update. A step post-hook on the
    optimizer does exactly that for every path that steps it (``fit``, ``train_on_batch``, a
    custom ``train_step``, a hand-written loop, a ``GradScaler`` step that was not skipped)
    without touching the training step, and a model without constraints gets no hook at all.
    Returns whether a hook was registered.
    """
    old = _CONSTRAINT_HOOKS.pop(optimizer, None)
    if old is not None:
        old.remove()
    pairs = weight_constraints(module)
    if not pairs:
        return False
    _CONSTRAINT_HOOKS[optimizer] = optimizer.register_step_post_hook(
        lambda opt, args, kwargs: apply_constraints(pairs))
    return True
