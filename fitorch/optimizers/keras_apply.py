"""Keras's ``optimizer.apply(grads, variables)`` on a torch optimizer, and Keras's gradient
clipping (``clipvalue``, ``clipnorm``, ``global_clipnorm``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

CLIP_KEYS = ("clipnorm", "clipvalue", "global_clipnorm")


def clip_gradients(params: Iterable[torch.Tensor], clip: dict[str, Any]) -> None:
    """Keras's ``clipvalue`` / ``clipnorm`` (per parameter) / ``global_clipnorm``, in that order,
    on the ``.grad`` of ``params`` (in place)."""
    params = [p for p in params if p.grad is not None]
    if clip.get("clipvalue") is not None:
        torch.nn.utils.clip_grad_value_(params, clip["clipvalue"])
    if clip.get("clipnorm") is not None:
        for p in params:
            torch.nn.utils.clip_grad_norm_([p], clip["clipnorm"])
    if clip.get("global_clipnorm") is not None:
        torch.nn.utils.clip_grad_norm_(params, clip["global_clipnorm"])


def apply(optimizer: torch.optim.Optimizer, grads: Iterable[Any],
          variables: Iterable[torch.Tensor] | None = None) -> None:
    """One step of ``optimizer`` on ``variables`` (default: all it holds) with ``grads``.

    Only those variables move: the gradients of the optimizer's other parameters are set aside
    for the step (a GAN's generator step must not move the discriminator). Each variable's
    ``.grad`` is what it was before afterwards; a ``None`` gradient leaves its variable as it is.
    Keras's clipping given to the optimizer's spec (``fitorch_clip``) applies to ``grads``.
    """
    grads = list(grads)
    held = [p for group in optimizer.param_groups for p in group["params"]]
    variables = held if variables is None else list(variables)
    if len(grads) != len(variables):
        raise ValueError(f"optimizer.apply: got {len(grads)} gradients for {len(variables)} "
                         "variables; pass one gradient per variable")
    if not grads:
        return
    known = {id(p) for p in held}
    unknown = [tuple(v.shape) for v in variables if id(v) not in known]
    if unknown:
        raise ValueError(f"optimizer.apply: {len(unknown)} of the variables (shapes "
                         f"{unknown[:3]}) are not held by this {type(optimizer).__name__}, which "
                         f"was built for {len(held)} others; use the optimizer made for them "
                         "(for several models, one optimizer each)")
    chosen = {id(v) for v in variables}
    saved = {id(p): (p, p.grad) for p in held}
    try:
        for p in held:
            if id(p) not in chosen:
                p.grad = None
        clip = getattr(optimizer, "fitorch_clip", None)
        for grad, variable in zip(grads, variables):
            if grad is not None:
                grad = grad.detach().to(variable.dtype)
                if clip:  # clipped in place: not the caller's tensor
                    grad = grad.clone()
            variable.grad = grad
        if clip:
            clip_gradients(variables, clip)
        optimizer.step()
    finally:
        for p, grad in saved.values():
            p.grad = grad
