"""The Keras ``Metric`` base class and the running means every simple metric is built on.

Metrics are plain Python objects (never ``nn.Module`` s, so a model's ``parameters()`` and
``state_dict()`` never see them). Their state lives on the device of the data they are fed and is
only read back in ``result()``: ``update`` launches device ops and returns, so a training step never
waits on the host.

The simple metrics are written by hand rather than on torchmetrics: torchmetrics' per-update
Python work (argument checks, wrappers, value-dependent branches such as "apply sigmoid if some
prediction is outside [0, 1]", which reads the device) is measurable next to a small training step.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch

from fitorch import initializers
from fitorch.losses.loss import as_tensor, squeeze_or_expand_to_same_rank
from fitorch.losses.naming import snake_case
from fitorch.metrics.variable import Variable

_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
           "float64": torch.float64}


def _standardize_dtype(dtype: Any) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise ValueError(f"dtype={dtype!r}: expected a torch dtype or one of {tuple(_DTYPES)}")


class Metric:
    """Base class of Keras-style metrics: accumulate batches, then read one value.

    Keras API: ``update_state(y_true, y_pred, sample_weight=None)``, ``result()`` (a 0-dim tensor),
    ``reset_state()`` (alias ``reset_states()``), ``name``, ``metric(y_true, y_pred)`` (update,
    then result). The trainer calls ``update(y_pred, y_true, sample_weight)`` in torch order.
    Metrics are plain Python objects, never ``nn.Module`` s, so a model's ``parameters()`` and
    ``state_dict()`` never see them; their state stays on the device of the data and is only read
    back in ``result()``.

    State, Keras style: ``self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")``
    in ``__init__`` (after ``super().__init__``), updated with ``self.tp.assign_add(...)``; the
    default ``reset_state`` puts every such variable back to its initial value. fitorch's own
    metrics instead keep tensor attributes created lazily on the data's device.

    Args:
        name: the metric's name (its key in ``fit``'s logs); defaults to the class name in snake
            case. A non-string raises ``TypeError``.
        dtype: the dtype of the state and the result: a torch dtype or ``"float16"``,
            ``"bfloat16"``, ``"float32"``, ``"float64"``; ``None`` means float32.

    Example:

    >>> class Positives(ft.metrics.Metric):
    ...     def __init__(self, name="positives"):
    ...         super().__init__(name=name)
    ...         self.count = self.add_variable(shape=(), initializer="zeros", name="count")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.count.assign_add((torch.as_tensor(y_pred) > 0.5).sum())
    ...     def result(self):
    ...         return self.count.value
    >>> m = Positives()
    >>> m.update_state([1, 0, 1], [0.9, 0.2, 0.7])
    >>> m.result().item()
    2.0
    >>> m.reset_state(); m.result().item()
    0.0
    """

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name={name!r} must be a string")
        self.name = name or snake_case(type(self).__name__)
        self.dtype = _standardize_dtype(dtype)
        self._variables: list[tuple[Variable, Any]] = []  # (variable, initializer)
        # fitorch's metrics create their (lazy) state in reset_state; a user's override of
        # reset_state is Keras style (it assigns variables that __init__ has yet to add), so,
        # as in Keras, it is not called before the subclass's __init__ has run
        if type(self).reset_state.__module__.startswith("fitorch."):
            self.reset_state()

    def add_variable(self, shape: Any = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Variable:
        """A state tensor reset to ``initializer`` by ``reset_state`` (Keras's
        ``Metric.add_variable``); ``aggregation`` is accepted for Keras compatibility."""
        if aggregation not in ("none", "mean", "sum", "only_first_replica"):
            raise ValueError(f"{type(self).__name__}.add_variable: aggregation={aggregation!r}; "
                             "expected 'none', 'mean', 'sum' or 'only_first_replica'")
        try:
            shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else
                                           (shape,) if shape is not None else ()))
        except (TypeError, ValueError):
            raise ValueError(f"{type(self).__name__}.add_variable: shape={shape!r} must be a "
                             "tuple of ints") from None
        init = initializers.get("zeros" if initializer is None else initializer)
        value = init(shape, dtype=_standardize_dtype(dtype or self.dtype))
        variable = Variable(value, name or f"variable_{len(self._variables)}")
        self._variables.append((variable, init))
        return variable

    def add_weight(self, name: Any = None, shape: Any = (), initializer: Any = "zeros",
                   dtype: Any = None, aggregation: str = "sum", **kwargs: Any) -> Variable:
        """``add_variable`` with Keras 2's argument order (``add_weight(name="tp",
        initializer="zeros")``); Keras 3's ``add_weight(shape=...)`` works too."""
        if name is not None and not isinstance(name, str):  # Keras 3: shape first
            name, shape = kwargs.pop("name", None), name
        if kwargs:
            raise TypeError(f"{type(self).__name__}.add_weight: unexpected arguments "
                            f"{sorted(kwargs)}")
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype,
                                 aggregation=aggregation, name=name)

    @property
    def variables(self) -> list[Variable]:
        """The state created with ``add_variable`` / ``add_weight``."""
        return [v for v, _ in self.__dict__.get("_variables", ())]

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate a batch (Keras order ``y_true, y_pred``); subclasses override."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def update(self, y_pred: Any, y_true: Any, sample_weight: Any = None) -> None:
        """Torch-order ``update_state``: what the trainer calls each step."""
        self.update_state(y_true, y_pred, sample_weight)

    def result(self) -> torch.Tensor:
        """The metric's value over everything accumulated since the last reset."""
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        """Forget the accumulated state: every ``add_variable`` variable back to its
        initializer's value (fitorch's metrics override this to clear their tensors)."""
        for variable, init in self.__dict__.get("_variables", ()):
            variable.assign(init(tuple(variable.shape), dtype=variable.dtype))

    def reset_states(self) -> None:
        """Alias of ``reset_state`` (the TF 2 spelling the seed uses)."""
        self.reset_state()

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def to(self, device: Any) -> Metric:
        """Move the state tensors to ``device`` (they otherwise follow the first batch)."""
        for key, value in vars(self).items():
            if isinstance(value, Variable):
                value.data = value.data.to(device)  # in place: keep the Variable objects
            elif isinstance(value, torch.Tensor):
                setattr(self, key, value.to(device))
        for variable in self.variables:
            variable.data = variable.data.to(device)
        return self

    def clone(self) -> Metric:
        """A fresh copy with the same configuration and an empty state."""
        other = copy.deepcopy(self)
        other.reset_state()
        return other

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {"name": self.name, "dtype": str(self.dtype).replace("torch.", "")}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuild a metric from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def divide_no_nan(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den``, 0 where ``den == 0`` (Keras ``divide_no_nan``), computed on the device."""
    return torch.where(den != 0, num / torch.where(den != 0, den, torch.ones_like(den)),
                       torch.zeros_like(num))


def reduce_to_samplewise_values(values: torch.Tensor, sample_weight: Any,
                                dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Weight per-entry metric values and average them to one value per sample (Keras's rule).

    ``(N,)`` weights broadcast over the trailing axes; everything but the batch axis is then
    averaged, so each sample counts once in a running mean. The values are detached and cast to
    ``dtype``.

    Args:
        values: the metric's values, batch axis first.
        sample_weight: weights broadcastable to ``values`` after Keras rank alignment, or ``None``.
        dtype: the dtype of the returned tensors.

    Returns:
        ``(values, weights)``: the weighted per-sample values, shape ``(N,)``, and the per-sample
        weights (``None`` when no weights were given).

    Example:

    >>> values = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    >>> weights = torch.tensor([1.0, 0.0])
    >>> v, w = ft.metrics.reduce_to_samplewise_values(values, weights, torch.float32)
    >>> v.tolist(), w.tolist()
    ([2.0, 0.0], [1.0, 0.0])
    """
    values = values.detach().to(dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, values).detach().to(dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = sample_weight.dim()
        if values.dim() > weight_ndim:
            values = values.mean(dim=tuple(range(weight_ndim, values.dim())))
        sample_weight = torch.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = sample_weight.mean(dim=tuple(range(1, weight_ndim)))
    if values.dim() > 1:
        values = values.mean(dim=tuple(range(1, values.dim())))
    return values, sample_weight


class _Reduce(Metric):
    """Running total (and count) of values on the device.

    Unweighted updates count samples in a Python int rather than a device tensor: the count is
    known from the shape, so adding it on the device would be one more op per step for nothing.
    """

    def reset_state(self) -> None:
        self.total: torch.Tensor | None = None
        self.count: torch.Tensor | None = None  # summed sample weights (weighted updates)
        self.unweighted_count = 0  # samples of unweighted updates

    def _state_on(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if self.total is None or self.count is None:
            if self.total is None:
                self.total = torch.zeros((), dtype=self.dtype, device=device)
            self.count = torch.zeros((), dtype=self.dtype, device=device)
        if self.total.device != device:
            self.total, self.count = self.total.to(device), self.count.to(device)
        return self.total, self.count

    def _accumulate(self, values: torch.Tensor, sample_weight: Any) -> None:
        if sample_weight is None and isinstance(values, torch.Tensor):
            # the per-step path: one reduction and one in-place add on the device
            values = values.detach()
            if values.dim() > 1:
                values = values.mean(dim=tuple(range(1, values.dim())))
            batch_total = values.sum(dtype=self.dtype)
            if self.total is None:
                self.total = batch_total
            else:
                self.total.add_(batch_total.to(self.total.device))
            self.unweighted_count += values.shape[0] if values.dim() else 1
            return
        values, sample_weight = reduce_to_samplewise_values(as_tensor(values), sample_weight,
                                                            self.dtype)
        total, count = self._state_on(values.device)
        total.add_(values.sum())
        if sample_weight is not None:
            count.add_(sample_weight.sum())
        else:
            count.add_(values.shape[0] if values.dim() else 1)

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Add ``values`` (a scalar, or one value per sample), optionally weighted."""
        self._accumulate(values, sample_weight)

    def update(self, y_pred: Any, y_true: Any = None, sample_weight: Any = None) -> None:
        """Torch order is the same as Keras's here: only the values count."""
        self._accumulate(y_pred, sample_weight)

    def _count(self) -> torch.Tensor | float:
        if self.count is None:
            return float(self.unweighted_count)
        return self.count + self.unweighted_count


class Mean(_Reduce):
    """Computes the (weighted) mean of the values given.

    ``update_state(values, sample_weight=None)`` takes a scalar or one value per sample (values of
    higher rank are averaged per sample first); the trainer's ``update(y_pred, ...)`` averages
    ``y_pred`` alone. Unweighted updates count samples in a Python int, so the per-step work is one
    reduction and one in-place add on the device.

    Args:
        name: the metric's name; defaults to ``"mean"``.
        dtype: the dtype of the state and the result: a torch dtype or ``"float16"``,
            ``"bfloat16"``, ``"float32"``, ``"float64"``; ``None`` means float32.

    Example:

    >>> m = ft.metrics.Mean()
    >>> m.update_state([1, 3, 5, 7])
    >>> m.result().item()
    4.0
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> round(m.result().item(), 4)
    3.3333
    """

    def result(self) -> torch.Tensor:
        if self.total is None:
            return torch.zeros((), dtype=self.dtype)
        return divide_no_nan(self.total, torch.as_tensor(self._count(), dtype=self.dtype,
                                                         device=self.total.device))


class Sum(_Reduce):
    """Computes the (weighted) sum of the values given.

    ``update_state(values, sample_weight=None)`` as for ``Mean``.

    Args:
        name: the metric's name; defaults to ``"sum"``.
        dtype: the dtype of the state and the result: a torch dtype or ``"float16"``,
            ``"bfloat16"``, ``"float32"``, ``"float64"``; ``None`` means float32.

    Example:

    >>> m = ft.metrics.Sum()
    >>> m.update_state([1, 3, 5, 7])
    >>> m.result().item()
    16.0
    """

    def result(self) -> torch.Tensor:
        if self.total is None:
            return torch.zeros((), dtype=self.dtype)
        return self.total.clone()


class MeanMetricWrapper(Mean):
    """The weighted mean over samples of ``fn(y_true, y_pred, **kwargs)`` (Keras order).

    Most Keras metrics are built on it (``MeanSquaredError``, ``BinaryAccuracy``, ...); wrap your
    own Keras-order function to track its running mean. ``fn`` returns one value per sample (or per
    entry, averaged per sample); extra keyword arguments are passed on every call and read back as
    attributes.

    Args:
        fn: a callable ``fn(y_true, y_pred, **kwargs)``; a non-callable raises ``TypeError``.
        name: the metric's name; defaults to ``fn.__name__`` (Keras 3's default is
            ``"mean_metric_wrapper"``).
        dtype: the dtype of the state and the result: a torch dtype or ``"float16"``,
            ``"bfloat16"``, ``"float32"``, ``"float64"``; ``None`` means float32.
        **kwargs: keyword arguments passed to ``fn``.

    Example:

    >>> m = ft.metrics.MeanMetricWrapper(ft.losses.mean_squared_error)
    >>> m.update_state([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
    >>> m.name, m.result().item()
    ('mean_squared_error', 0.5)
    """

    def __init__(self, fn: Callable[..., torch.Tensor], name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper: fn={fn!r} is not callable")
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        """Accumulate ``fn``'s per-sample values for this batch."""
        y_pred = as_tensor(y_pred).detach()
        y_true = as_tensor(y_true, y_pred).detach()
        self._accumulate(self._fn(y_true, y_pred, **self._fn_kwargs), sample_weight)

    # Mean.update takes y_true optionally (a Mean averages y_pred alone); a wrapped fn needs both.
    def update(self, y_pred: Any, y_true: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        """Torch-order ``update_state``."""
        self.update_state(y_true, y_pred, sample_weight)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self._fn_kwargs}

    def __getattr__(self, key: str) -> Any:
        kwargs = self.__dict__.get("_fn_kwargs", {})
        if key in kwargs:
            return kwargs[key]
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")
