"""Cross-entropy, divergence and hinge metrics: running means of the matching losses."""

from __future__ import annotations

from typing import Any

from fitorch import losses
from fitorch.metrics.metric import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
    """Computes the cross-entropy metric between 0/1 labels and predictions.

    The running mean of ``ft.losses.binary_crossentropy`` over samples (the last axis is
    averaged per sample; as in Keras, there is no ``axis`` argument).

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"binary_crossentropy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + 0.5 * s``.

    Example:

    >>> m = ft.metrics.BinaryCrossentropy()
    >>> m.update_state([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result().item(), 4)
    0.8149
    """

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0) -> None:
        super().__init__(losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Computes the cross-entropy metric between one-hot labels and predictions.

    The running mean of ``ft.losses.categorical_crossentropy`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"categorical_crossentropy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``; targets become ``y * (1 - s) + s / num_classes``.
        axis: the class axis (default -1).

    Example:

    >>> m = ft.metrics.CategoricalCrossentropy()
    >>> m.update_state([[0., 1., 0.], [0., 0., 1.]], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
    >>> round(m.result().item(), 4)
    1.1769
    """

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> None:
        super().__init__(losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Computes the cross-entropy metric between integer labels and predictions.

    The running mean of ``ft.losses.sparse_categorical_crossentropy`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to
            ``"sparse_categorical_crossentropy"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        axis: the class axis of ``y_pred`` (default -1).

    Example:

    >>> m = ft.metrics.SparseCategoricalCrossentropy()
    >>> m.update_state([1, 2], [[0.05, 0.95, 0.], [0.1, 0.8, 0.1]])
    >>> round(m.result().item(), 4)
    1.1769
    """

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None,
                 from_logits: bool = False, axis: int = -1) -> None:
        super().__init__(losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, axis=axis)


class KLDivergence(MeanMetricWrapper):
    """Computes the Kullback-Leibler divergence metric between labels and predictions.

    The running mean of ``ft.losses.kl_divergence`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"kl_divergence"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.KLDivergence()
    >>> m.update_state([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result().item(), 4)
    0.4581
    """

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Computes the Poisson loss metric between labels and predictions.

    The running mean of ``ft.losses.poisson`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"poisson"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.Poisson()
    >>> m.update_state([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result().item(), 4)
    0.7291
    """

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Computes the hinge loss metric between labels and predictions.

    The running mean of ``ft.losses.hinge`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"hinge"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.Hinge()
    >>> m.update_state([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result().item(), 4)
    1.3
    """

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Computes the squared hinge loss metric between labels and predictions.

    The running mean of ``ft.losses.squared_hinge`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"squared_hinge"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.SquaredHinge()
    >>> m.update_state([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result().item(), 4)
    1.86
    """

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Computes the categorical hinge loss metric between labels and predictions.

    The running mean of ``ft.losses.categorical_hinge`` over samples.

    Args:
        name: the metric's name in ``fit``'s logs; defaults to ``"categorical_hinge"``.
        dtype: the dtype of the state and the result (a torch dtype or its name); ``None`` means
            float32.

    Example:

    >>> m = ft.metrics.CategoricalHinge()
    >>> m.update_state([[0., 1.], [0., 0.]], [[0.6, 0.4], [0.4, 0.6]])
    >>> round(m.result().item(), 4)
    1.4
    """

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(losses.categorical_hinge, name=name, dtype=dtype)
