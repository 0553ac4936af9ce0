"""The eight Keras optimizers and the torch classes they build (Keras defaults throughout)."""

from __future__ import annotations

import numbers
from typing import Any

import torch

from fitorch.optimizers.optimizer import Optimizer, _positive


class SGD(Optimizer):
    """``SGD(learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None)`` -> ``torch.optim.SGD``."""

    torch_class = torch.optim.SGD

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float | None = None, **kwargs: Any) -> None:
        super().__init__(learning_rate, weight_decay, **kwargs)
        self.momentum: float | None = _positive("SGD", "momentum", momentum, allow_zero=True)
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
        self.epsilon: float | None = _positive(cls, "epsilon", epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Adam(_Moments):
    """``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)`` ->
    ``torch.optim.Adam`` (decoupled ``weight_decay``, as Keras)."""

    torch_class: type[torch.optim.Optimizer] = torch.optim.Adam
    torch_decouples_weight_decay = True

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
    (Keras 3's momentum schedule ``beta_1 (1 - 0.5 * 0.96 ** t)`` is torch's
    ``momentum_decay=1``; decoupled ``weight_decay``, as Keras)."""

    torch_class = torch.optim.NAdam
    torch_decouples_weight_decay = True

    def torch_kwargs(self) -> dict[str, Any]:
        kwargs = {**super().torch_kwargs(), "momentum_decay": 1.0}
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
        self.rho: float = float(rho)
        self.momentum: float | None = _positive("RMSprop", "momentum", momentum, allow_zero=True)
        self.epsilon: float | None = _positive("RMSprop", "epsilon", epsilon)
        self.centered: bool = bool(centered)

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
        self.epsilon: float | None = _positive("Adagrad", "epsilon", epsilon)

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
        self.rho: float = float(rho)
        self.epsilon: float | None = _positive("Adadelta", "epsilon", epsilon)

    def torch_kwargs(self) -> dict[str, Any]:
        return {**super().torch_kwargs(), "rho": self.rho, "eps": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
