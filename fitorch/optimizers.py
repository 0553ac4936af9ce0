"""Keras-named optimizers that build real ``torch.optim`` optimizers.

``ft.optimizers.Adam(learning_rate=0.01)`` is a *spec*: it needs no parameters, holds Keras's
defaults, and ``build(params)`` makes the matching ``torch.optim`` optimizer. What comes out is an
instance of the torch class (``isinstance(opt, torch.optim.Adam)``, ``param_groups`` and
``state_dict`` as usual) through a small cached subclass that adds Keras's ``lr`` /
``learning_rate`` variable, so ``model.optimizer.lr.assign(model.optimizer.lr / 2.0)`` works.

Semantics are torch's update rules with Keras's hyper-parameters. Known small differences:
Keras adds ``epsilon`` after (Adam) or inside (RMSprop, Adagrad) the square root slightly
differently; ``weight_decay`` is decoupled (Keras's rule) for Adam, AdamW and Nadam, and an L2 term
on the gradient (torch's rule) for SGD, RMSprop, Adagrad, Adadelta and Adamax, which is the same
thing for plain SGD without momentum.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import torch

from fitorch.losses.naming import lookup

# --------------------------------------------------------------------------- Keras lr variable


def _lr_value(value: Any) -> float:
    if isinstance(value, LearningRate):
        return value.numpy()
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if hasattr(value, "item") and getattr(value, "size", 2) == 1:  # NumPy scalars and 1-arrays
        return float(value.item())
    raise TypeError(f"learning rate {value!r} ({type(value).__name__}) is not a number")


class LearningRate:
    """Keras-variable view of a torch optimizer's learning rate.

    Reads the first parameter group's ``lr``; ``assign(v)`` sets every group's ``lr``. Supports
    ``numpy()``, ``float()``, arithmetic and comparisons with numbers, ``assign_add`` and
    ``assign_sub``.
    """

    __slots__ = ("_optimizer",)

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self._optimizer = optimizer

    def numpy(self) -> float:
        """The current learning rate as a Python float."""
        return _lr_value(self._optimizer.param_groups[0]["lr"])

    value = property(numpy, doc="The current learning rate (Keras ``variable.value``).")

    def read_value(self) -> float:
        """The current learning rate (Keras ``variable.read_value()``)."""
        return self.numpy()

    def assign(self, value: Any) -> LearningRate:
        """Set the learning rate of every parameter group."""
        new = _lr_value(value)
        if not new >= 0.0:
            raise ValueError(f"learning rate must be >= 0; got {value!r}")
        for group in self._optimizer.param_groups:
            if isinstance(group["lr"], torch.Tensor):  # tensor lr (capturable / fused): keep it one
                group["lr"].fill_(new)
            else:
                group["lr"] = new
        return self

    def assign_add(self, delta: Any) -> LearningRate:
        """``lr += delta``."""
        return self.assign(self.numpy() + _lr_value(delta))

    def assign_sub(self, delta: Any) -> LearningRate:
        """``lr -= delta``."""
        return self.assign(self.numpy() - _lr_value(delta))

    def __float__(self) -> float:
        return self.numpy()

    def __repr__(self) -> str:
        return f"<LearningRate value={self.numpy()!r}>"

    def __format__(self, spec: str) -> str:
        return format(self.numpy(), spec)

    def __add__(self, other: Any) -> float:
        return self.numpy() + _lr_value(other)

    def __sub__(self, other: Any) -> float:
        return self.numpy() - _lr_value(other)

    def __mul__(self, other: Any) -> float:
        return self.numpy() * _lr_value(other)

    def __truediv__(self, other: Any) -> float:
        return self.numpy() / _lr_value(other)

    def __radd__(self, other: Any) -> float:
        return _lr_value(other) + self.numpy()

    def __rsub__(self, other: Any) -> float:
        return _lr_value(other) - self.numpy()

    def __rmul__(self, other: Any) -> float:
        return _lr_value(other) * self.numpy()

    def __rtruediv__(self, other: Any) -> float:
        return _lr_value(other) / self.numpy()

    def __pow__(self, other: Any) -> float:
        return self.numpy() ** _lr_value(other)

    def __neg__(self) -> float:
        return -self.numpy()

    def __eq__(self, other: Any) -> bool:
        try:
            return self.numpy() == _lr_value(other)
        except TypeError:
            return NotImplemented

    def __lt__(self, other: Any) -> bool:
        return self.numpy() < _lr_value(other)

    def __le__(self, other: Any) -> bool:
        return self.numpy() <= _lr_value(other)

    def __gt__(self, other: Any) -> bool:
        return self.numpy() > _lr_value(other)

    def __ge__(self, other: Any) -> bool:
        return self.numpy() >= _lr_value(other)

    __hash__ = None  # type: ignore[assignment]


class KerasLearningRateMixin:
    """Adds Keras's ``lr`` / ``learning_rate`` to a torch optimizer class (see ``LearningRate``)."""

    _torch_class: type[torch.optim.Optimizer]

    @property
    def learning_rate(self) -> LearningRate:
        """The learning rate as a Keras-style variable (``.assign``, ``.numpy()``, arithmetic)."""
        return LearningRate(self)  # type: ignore[arg-type]

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        LearningRate(self).assign(value)  # type: ignore[arg-type]

    lr = learning_rate

    def __reduce_ex__(self, protocol: Any) -> Any:
        # pickle by the torch class, which is importable; the Keras subclass is rebuilt on load
        reduced = super().__reduce_ex__(protocol)  # type: ignore[misc]
        return (_new_keras_optimizer, (self._torch_class,), *reduced[2:])


_KERAS_CLASSES: dict[type, type] = {}


def keras_optimizer_class(torch_class: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """The cached subclass of ``torch_class`` that adds Keras's ``lr`` / ``learning_rate``."""
    if issubclass(torch_class, KerasLearningRateMixin):
        return torch_class
    cls = _KERAS_CLASSES.get(torch_class)
    if cls is None:
        cls = type(torch_class.__name__, (KerasLearningRateMixin, torch_class),
                   {"_torch_class": torch_class, "__module__": torch_class.__module__,
                    "__doc__": torch_class.__doc__})
        _KERAS_CLASSES[torch_class] = cls
    return cls


def _new_keras_optimizer(torch_class: type[torch.optim.Optimizer]) -> torch.optim.Optimizer:
    cls = keras_optimizer_class(torch_class)
    return cls.__new__(cls)


def wrap_keras_lr(optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """Give a torch optimizer instance Keras's ``lr`` / ``learning_rate`` in place.

    The object stays the same (same state, still an instance of its class: only a subclass adding
    the two properties is put in its place), so schedulers already attached keep working.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"wrap_keras_lr: {optimizer!r} is not a torch.optim.Optimizer")
    if not isinstance(optimizer, KerasLearningRateMixin):
        optimizer.__class__ = keras_optimizer_class(type(optimizer))
    return optimizer


# --------------------------------------------------------------------------- Keras specs


def _positive(cls: str, name: str, value: Any, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{cls}: {name}={value!r} must be a number")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{cls}: {name}={value!r} must be {'>= 0' if allow_zero else '> 0'}")
    return float(value)


class Optimizer:
    """Base of the Keras-named optimizer specs: hyper-parameters now, ``build(params)`` later.

    Common arguments (Keras): ``learning_rate``, ``weight_decay``, and gradient clipping
    ``clipnorm`` (per parameter), ``clipvalue``, ``global_clipnorm`` -- recorded here and applied
    by ``fit`` before each step (torch optimizers do not clip).
    """

    torch_class: type[torch.optim.Optimizer] = torch.optim.Optimizer

    def __init__(self, learning_rate: float = 0.001, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, name: str | None = None) -> None:
        cls = type(self).__name__
        if not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool):
            raise TypeError(f"{cls}: learning_rate={learning_rate!r} must be a number; for a "
                            "schedule pass compile(lr_scheduler=...) or a callback")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(f"{cls}: set only one of clipnorm={clipnorm!r} and "
                             f"global_clipnorm={global_clipnorm!r}")
        self._learning_rate = _positive(cls, "learning_rate", learning_rate, allow_zero=True)
        self.weight_decay = _positive(cls, "weight_decay", weight_decay, allow_zero=True)
        self.clipnorm = _positive(cls, "clipnorm", clipnorm)
        self.clipvalue = _positive(cls, "clipvalue", clipvalue)
        self.global_clipnorm = _positive(cls, "global_clipnorm", global_clipnorm)
        self.name = name or cls.lower()
        self._built: torch.optim.Optimizer | None = None
        self._built_for: list[int] = []

    def torch_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of ``torch_class`` that express this spec."""
        return {"lr": self._learning_rate, "weight_decay": self.weight_decay or 0.0}

    def build(self, params: Iterable[Any]) -> torch.optim.Optimizer:
        """A new ``torch_class`` optimizer over ``params`` (with Keras's ``lr`` attribute)."""
        return keras_optimizer_class(self.torch_class)(params, **self.torch_kwargs())

    @property
    def learning_rate(self) -> Any:
        """The learning rate: a float, or the live variable once ``apply_gradients`` built an
        optimizer."""
        return self._learning_rate if self._built is None else self._built.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        self._learning_rate = _lr_value(value)
        if self._built is not None:
            self._built.learning_rate = value

    lr = learning_rate

    def apply_gradients(self, grads_and_vars: Iterable[tuple[torch.Tensor | None, torch.Tensor]]) -> None:
        """Keras's custom-loop step: set each variable's gradient and take one optimizer step.

        The torch optimizer is built on the first call's variables (and rebuilt if they change).
        """
        pairs = [(g, v) for g, v in grads_and_vars]
        params = [v for _, v in pairs]
        if [id(p) for p in params] != self._built_for:
            self._built = self.build(params)
            self._built_for = [id(p) for p in params]
        for grad, param in pairs:
            param.grad = None if grad is None else grad.detach()
        self._built.step()
        for param in params:
            param.grad = None

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (Keras names)."""
        return {"name": self.name, "learning_rate": float(self._learning_rate),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Rebuild a spec from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if v is not None)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """``SGD(learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None)`` -> ``torch.optim.SGD``."""

    torch_class = torch.optim.SGD

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.momentum = _positive("SGD", "momentum", momentum, allow_zero=True)
        if nesterov and not self.momentum:
            raise ValueError(f"SGD: nesterov=True needs momentum > 0; got momentum={momentum!r}")
        self.nesterov = bool(nesterov)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class _Moments(Optimizer):
    """Shared by the Adam family: ``beta_1``, ``beta_2`` and ``epsilon``."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        cls = type(self).__name__
        for key, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not (isinstance(beta, numbers.Real) and 0.0 <= beta < 1.0):
                raise ValueError(f"{cls}: {key}={beta!r} must be in [0, 1)")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _positive(cls, "epsilon", epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Adam(_Moments):
    """``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)`` ->
    ``torch.optim.Adam`` (decoupled ``weight_decay``, as Keras)."""

    torch_class = torch.optim.Adam

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, weight_decay: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, **kwargs)
        self.amsgrad = bool(amsgrad)

    def torch_kwargs(self) -> dict[str, Any]:
        kwargs = {**super().torch_kwargs(), "amsgrad": self.amsgrad}
        if self.weight_decay and self.torch_class is torch.optim.Adam:
            kwargs["decoupled_weight_decay"] = True
        return kwargs

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """``AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False)`` -> ``torch.optim.AdamW``."""

    torch_class = torch.optim.AdamW

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, **kwargs)


class Adamax(_Moments):
    """``Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)`` -> ``torch.optim.Adamax``."""

    torch_class = torch.optim.Adamax


class Nadam(_Moments):
    """``Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)`` -> ``torch.optim.NAdam``
    (Keras's momentum schedule ``0.96 ** (0.004 t)`` is torch's ``momentum_decay=0.004``;
    decoupled ``weight_decay``, as Keras)."""

    torch_class = torch.optim.NAdam

    def torch_kwargs(self) -> dict[str, Any]:
        kwargs = {**super().torch_kwargs(), "momentum_decay": 0.004}
        if self.weight_decay:
            kwargs["decoupled_weight_decay"] = True
        return kwargs


class RMSprop(Optimizer):
    """``RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)`` ->
    ``torch.optim.RMSprop`` (``rho`` is torch's ``alpha``)."""

    torch_class = torch.optim.RMSprop

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, weight_decay: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        if not (isinstance(rho, numbers.Real) and 0.0 <= rho < 1.0):
            raise ValueError(f"RMSprop: rho={rho!r} must be in [0, 1)")
        self.rho = float(rho)
        self.momentum = _positive("RMSprop", "momentum", momentum, allow_zero=True)
        self.epsilon = _positive("RMSprop", "epsilon", epsilon)
        self.centered = bool(centered)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "alpha": self.rho, "momentum": self.momentum,
                "eps": self.epsilon, "centered": self.centered}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)`` ->
    ``torch.optim.Adagrad``."""

    torch_class = torch.optim.Adagrad

    def __init__(self, learning_rate: float = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.initial_accumulator_value = _positive("Adagrad", "initial_accumulator_value",
                                                   initial_accumulator_value, allow_zero=True)
        self.epsilon = _positive("Adagrad", "epsilon", epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "initial_accumulator_value": self.initial_accumulator_value,
                "eps": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """``Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7)`` -> ``torch.optim.Adadelta``."""

    torch_class = torch.optim.Adadelta

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        if not (isinstance(rho, numbers.Real) and 0.0 <= rho < 1.0):
            raise ValueError(f"Adadelta: rho={rho!r} must be in [0, 1)")
        self.rho = float(rho)
        self.epsilon = _positive("Adadelta", "epsilon", epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "rho": self.rho, "eps": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


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
        return keras_optimizer_class(identifier)(params)
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
           "keras_optimizer_class", "wrap_keras_lr"]
