"""Losses with Keras names and semantics (``ft.losses.BinaryCrossentropy()``, ``"mse"``, ...).

Loss objects and functions take Keras order ``(y_true, y_pred)``; ``get`` adapts any
``compile(loss=...)`` value to the trainer's torch-order ``compute(y_pred, y_true)``.
"""

from __future__ import annotations

from fitorch.losses.compiled import (CompiledLoss, FunctionLoss, KerasLoss,
                                     ShapeResolvedCrossentropy, TorchLoss, get,
                                     is_binary_or_sparse_categorical, is_keras_order)
from fitorch.losses.loss import Loss, reduce_weighted_values, squeeze_or_expand_to_same_rank
from fitorch.losses.losses import (BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
                                   CategoricalHinge, CosineSimilarity, Hinge, Huber, KLDivergence,
                                   LogCosh, LossFunctionWrapper, MeanAbsoluteError,
                                   MeanAbsolutePercentageError, MeanSquaredError,
                                   MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy,
                                   SquaredHinge, binary_crossentropy, binary_focal_crossentropy,
                                   categorical_crossentropy, categorical_hinge, cosine_similarity,
                                   hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
                                   mean_absolute_percentage_error, mean_squared_error,
                                   mean_squared_logarithmic_error, poisson,
                                   sparse_categorical_crossentropy, squared_hinge)

# Keras's short aliases
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber

__all__ = [
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy", "CategoricalHinge",
    "CompiledLoss", "CosineSimilarity", "FunctionLoss", "Hinge", "Huber", "KLDivergence",
    "KerasLoss", "LogCosh", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "ShapeResolvedCrossentropy", "SparseCategoricalCrossentropy", "SquaredHinge", "TorchLoss",
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_hinge", "cosine_similarity", "get", "hinge", "huber", "huber_loss",
    "is_binary_or_sparse_categorical", "is_keras_order", "kl_divergence", "kld", "kullback_leibler_divergence",
    "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle", "poisson",
    "reduce_weighted_values", "sparse_categorical_crossentropy", "squared_hinge",
    "squeeze_or_expand_to_same_rank",
]
