"""``Variable``: the state tensor ``Metric.add_variable`` returns, with Keras's ``assign`` methods.

It is a ``torch.Tensor`` (so Keras-style ``update_state`` code can compute with it directly and
``result()`` may return it) whose ``assign`` / ``assign_add`` / ``assign_sub`` write in place,
without autograd, the way Keras variables are updated. Like ``nn.Parameter``, operations on it
return plain tensors: only the registered state is a ``Variable``.
"""

from __future__ import annotations

from typing import Any

import torch


class Variable(torch.Tensor):
    """A metric state tensor with Keras's ``assign``, ``assign_add`` and ``assign_sub``.

    What ``Metric.add_variable`` returns: a ``torch.Tensor`` (so Keras-style ``update_state`` code
    computes with it directly) whose ``assign*`` methods write in place, without autograd; ``value``
    is a plain-tensor copy, ``numpy()`` an array, ``name`` its name. Like ``nn.Parameter``,
    operations on it return plain tensors.

    Args:
        data: the initial value (detached; the variable shares its storage).
        name: the variable's name.

    Example:

    >>> v = ft.metrics.Variable(torch.zeros(2), "total")
    >>> v.assign_add(torch.ones(2))
    <Variable name='total' shape=(2,) dtype=float32 value=[1.0, 1.0]>
    >>> (v * 3).tolist(), type(v * 3).__name__
    ([3.0, 3.0], 'Tensor')
    """

    __torch_function__ = torch._C._disabled_torch_function_impl  # type: ignore[assignment]
    _var_name: str

    def __new__(cls, data: torch.Tensor, name: str = "variable") -> Variable:
        var = torch.Tensor._make_subclass(cls, data.detach(), False)
        var._var_name = name
        return var

    @property
    def name(self) -> str:
        """The name given to ``add_variable``."""
        return self._var_name

    def _operand(self, value: Any, method: str) -> torch.Tensor:
        value = torch.as_tensor(value.detach() if isinstance(value, torch.Tensor) else value)
        if value.device != self.device:
            # follow the data: the state moves to where the batches are (no copy per update)
            self.data = self.data.to(value.device)
        try:
            fits = torch.broadcast_shapes(value.shape, self.shape) == self.shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(f"{self.name}.{method}: value of shape {tuple(value.shape)} does not "
                             f"fit the variable's shape {tuple(self.shape)}") from None
        return value.to(self.dtype)

    def assign(self, value: Any) -> Variable:
        """Overwrite the value in place (broadcast to the variable's shape)."""
        with torch.no_grad():
            self.copy_(self._operand(value, "assign"))
        return self

    def assign_add(self, delta: Any) -> Variable:
        """Add ``delta`` in place."""
        with torch.no_grad():
            self.add_(self._operand(delta, "assign_add"))
        return self

    def assign_sub(self, delta: Any) -> Variable:
        """Subtract ``delta`` in place."""
        with torch.no_grad():
            self.sub_(self._operand(delta, "assign_sub"))
        return self

    @property
    def value(self) -> torch.Tensor:
        """The current value as a plain tensor."""
        return self.detach().clone().as_subclass(torch.Tensor)

    def numpy(self, *, force: bool = False) -> Any:
        return self.detach().cpu().as_subclass(torch.Tensor).numpy(force=force)

    def __deepcopy__(self, memo: dict) -> Variable:
        return Variable(self.detach().clone(), self.name)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (Variable, (self.detach().as_subclass(torch.Tensor).clone(), self.name))

    def __repr__(self, *, tensor_contents: Any = None) -> str:  # type: ignore[override]
        return (f"<Variable name={self.name!r} shape={tuple(self.shape)} "
                f"dtype={str(self.dtype).replace('torch.', '')} value={self.value.tolist()}>")
