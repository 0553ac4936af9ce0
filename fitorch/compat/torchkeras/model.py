"""torchkeras's 2021 ``Model``: ``compile(loss_func, ...)``, ``fit(epochs, dl_train, ...)``
returning a ``DataFrame``, ``evaluate(dl_val)`` -> dict, ``predict(dl)``, ``summary(input_shape)``.

It *is* a :class:`fitorch.Model` underneath: every method below maps the torchkeras arguments
onto the core's ``compile`` / ``fit`` / ``evaluate`` / ``predict`` and formats what they return
the way torchkeras printed it. There is no second training loop.
"""

from __future__ import annotations

import datetime
import functools
import warnings
from typing import Any

import torch
from torch import nn

from fitorch.models.model import Model as CoreModel
from fitorch.models.model import _wrapper_class
from fitorch.training.steps import StepLogger

__all__ = ["Model", "TorchkerasLogger", "format_table"]


@functools.lru_cache(maxsize=None)
def _with_torchkeras_api(module_cls: type) -> type:
    """``module_cls`` with the torchkeras ``Model`` methods, still named ``module_cls``."""
    return type(module_cls.__name__, (module_cls, Model), {
        "__module__": module_cls.__module__, "__qualname__": module_cls.__qualname__})


class Model(CoreModel):
    """torchkeras's ``Model`` on fitorch's training core.

    Wrap a module, ``Model(CnnModel())`` (the result *is* that module: ``print`` shows
    ``CnnModel(...)``, parameters and ``state_dict`` keys are its own), or subclass it with
    ``__init__`` + ``forward`` (``class LinearRegression(Model)``). Then::

        model.compile(loss_func=nn.CrossEntropyLoss(), optimizer=..., metrics_dict={"acc": fn})
        dfhistory = model.fit(3, dl_train=dl_train, dl_val=dl_valid, log_step_freq=100)
        model.evaluate(dl_valid)   # {"val_loss": ..., "val_acc": ...}
        model.predict(dl_test)     # the outputs, concatenated

    Metric functions take ``(y_pred, y_true)`` and may return tensors or numbers.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Model and len(args) == 1 and not kwargs and isinstance(args[0], nn.Module):
            net = args[0]
            # typed as plain `type`: mypy reads type[Module] as unhashable (Module.__hash__'s stub)
            net_class: type = type(net)
            base = net_class if isinstance(net, Model) else _with_torchkeras_api(net_class)
            # The core's wrapper class (a no-op __init__, shown as the module's class) over a
            # class that also has the torchkeras methods; the state is the module's own.
            wrapped: Model = object.__new__(_wrapper_class(base))
            object.__setattr__(wrapped, "__dict__", net.__dict__)
            return wrapped
        if cls is Model and (args or kwargs):
            raise TypeError("torchkeras.Model(...) takes one nn.Module to wrap, e.g. "
                            f"Model(CnnModel()); got args={args!r} kwargs={kwargs!r}")
        return super().__new__(cls)

    # torchkeras's own argument order and names (loss_func first) are the point of this class,
    # so it deliberately differs from fitorch.Model.compile's signature
    def compile(self, loss_func: Any = None, optimizer: Any = None,  # type: ignore[override]
                metrics_dict: Any = None, device: Any = None, **kwargs: Any) -> None:
        """torchkeras's ``compile``: a loss callable ``loss_func(y_pred, y_true)``, a torch
        optimizer (default ``Adam(lr=0.001)`` as torchkeras), ``{"name": fn(y_pred, y_true)}``.

        ``device=None`` keeps the model where it is, as torchkeras did. Other keywords
        (``lr_scheduler=``, ``precision=``, ...) and the core's own spellings ``loss=`` /
        ``metrics=`` go to :meth:`fitorch.Model.compile`.
        """
        loss_func = _one_of("loss_func", loss_func, "loss", kwargs.pop("loss", None))
        metrics_dict = _one_of("metrics_dict", metrics_dict, "metrics",
                               kwargs.pop("metrics", None))
        if loss_func is None:
            raise ValueError("compile: loss_func=None; pass the loss, e.g. "
                             "loss_func=nn.CrossEntropyLoss()")
        if metrics_dict is not None and not isinstance(metrics_dict, dict):
            raise TypeError(f"compile: metrics_dict={metrics_dict!r}: expected a dict "
                            "{name: fn(y_pred, y_true)}")
        if optimizer is None:
            # A factory, so the optimizer is made over the parameters as they are when built.
            optimizer = functools.partial(torch.optim.Adam, lr=0.001)
        elif isinstance(optimizer, torch.optim.Optimizer):
            optimizer = _rebound(optimizer, self)
        super().compile(optimizer=optimizer, loss=loss_func, metrics=metrics_dict or None,
                        device=self.device if device is None else device, **kwargs)

    def fit(self, epochs: int, dl_train: Any, dl_val: Any = None,  # type: ignore[override]
            log_step_freq: int = 1, callbacks: list | None = None) -> Any:
        """Train ``epochs`` epochs on ``dl_train`` (validating on ``dl_val``), printing
        torchkeras's log; returns the history ``DataFrame`` (columns ``epoch, loss, <metric>,
        val_loss, val_<metric>``). ``callbacks``: extra fitorch callbacks."""
        if not isinstance(epochs, int) or isinstance(epochs, bool):
            raise TypeError(f"fit: epochs={epochs!r}: torchkeras's fit is fit(epochs, dl_train, "
                            "dl_val=None, log_step_freq=1); for Keras's fit(x, y, ...) use "
                            "fitorch.Model")
        logger = TorchkerasLogger(log_step_freq)
        history = super().fit(dl_train, validation_data=dl_val, epochs=epochs, verbose=0,
                              callbacks=[logger, *(callbacks or [])])
        return history.to_pandas()

    def evaluate(self, dl_val: Any) -> dict[str, float]:  # type: ignore[override]
        """Loss and metrics over ``dl_val``: ``{"val_loss": ..., "val_<metric>": ...}``."""
        logs = super().evaluate(dl_val, verbose=0, return_dict=True)
        return {f"val_{name}": value for name, value in logs.items()}

    def predict(self, dl: Any) -> torch.Tensor:  # type: ignore[override]
        """The model's outputs for every batch of ``dl`` (the first element of each batch is
        the input), concatenated, on the CPU."""
        return super().predict(dl, verbose=0)

    def summary(self, input_shape: Any,
                input_dtype: Any = torch.FloatTensor, batch_size: int = -1) -> None:
        """Print torchkeras's (torchsummary's) table for an input of ``input_shape``."""
        from fitorch.compat.torchkeras.summary import summary

        summary(self, input_shape=input_shape, input_dtype=input_dtype, batch_size=batch_size)


def _rebound(optimizer: torch.optim.Optimizer, model: nn.Module) -> torch.optim.Optimizer:
    """torchkeras's README compiles a clone with ``Adam(model.parameters())``, the *other*
    model's parameters, and torchkeras trained on regardless. fitorch's core refuses that; here
    the optimizer is rebuilt, same class and settings, over this model's parameters."""
    own = {id(p) for p in model.parameters()}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    if any(id(p) in own for p in held):
        return optimizer  # the core checks the rest
    if len(optimizer.param_groups) != 1:
        raise ValueError(f"compile: optimizer={type(optimizer).__name__} holds another model's "
                         f"parameters in {len(optimizer.param_groups)} groups; build it from "
                         "this model's parameters")
    if optimizer.state:
        raise ValueError(f"compile: optimizer={type(optimizer).__name__} holds another model's "
                         "parameters and has already stepped; its state can't move to this "
                         "model. Build a new one from this model's parameters")
    settings = {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
    warnings.warn(f"compile: the {type(optimizer).__name__} holds another model's parameters "
                  "(none of this model's); rebuilt with the same settings over this model's "
                  "parameters, which is what torchkeras's examples intended", stacklevel=3)
    return type(optimizer)(model.parameters(), **settings)


def _one_of(name: str, value: Any, core_name: str, core_value: Any) -> Any:
    if value is not None and core_value is not None:
        raise TypeError(f"compile: got both {name}= and {core_name}=; pass one")
    return value if value is not None else core_value


def _now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


class TorchkerasLogger(StepLogger):
    """torchkeras's training log: ``{'step': 100, 'loss': 0.976, 'accuracy': 0.664}`` every
    ``log_step_freq`` steps and a table per epoch, between timestamped rules."""

    @property
    def _wants_main_process_only(self) -> bool:
        return True

    def _rule(self) -> None:
        self.print("\n" + "=" * 80 + _now())

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.print("Start Training ...")
        self._rule()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        step = batch + 1
        if step % self.log_step_freq == 0:  # the lazy logs sync with the device only here
            line: dict[str, Any] = {"step": step}
            line.update({name: round(value, 3) for name, value in logs.items()})
            self.print(line)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        row: dict[str, Any] = {"epoch": epoch + 1}
        row.update({name: round(value, 3) for name, value in (logs or {}).items()})
        self.print("\n " + format_table(row))  # torchkeras: print("\n", tb)
        self._rule()


def format_table(row: dict[str, Any]) -> str:
    """One row as the prettytable box torchkeras printed (cells centred as ``str.center``)."""
    cells = [(str(name), str(value)) for name, value in row.items()]
    widths = [max(len(name), len(value)) for name, value in cells]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(texts: list[str]) -> str:
        return "|" + "|".join(f" {t.center(w)} " for t, w in zip(texts, widths)) + "|"

    return "\n".join([rule, line([n for n, _ in cells]), rule, line([v for _, v in cells]),
                      rule])
