"""Metrics with Keras names and semantics, accumulated on the device without host syncs.

Keras API (``update_state(y_true, y_pred)``, ``result()``, ``reset_state()``) plus the trainer's
torch-order ``update(y_pred, y_true, sample_weight)``; ``get`` resolves ``compile(metrics=...)``.
"""

from __future__ import annotations

from fitorch.losses import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                            categorical_hinge, hinge, kl_divergence, log_cosh,
                            mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                            mean_squared_logarithmic_error, poisson,
                            sparse_categorical_crossentropy, squared_hinge)
from fitorch.metrics.accuracy_metrics import (Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                              SparseCategoricalAccuracy,
                                              SparseTopKCategoricalAccuracy,
                                              TopKCategoricalAccuracy, accuracy, binary_accuracy,
                                              categorical_accuracy, sparse_categorical_accuracy,
                                              sparse_top_k_categorical_accuracy,
                                              top_k_categorical_accuracy)
from fitorch.metrics.adapters import FunctionMetric, TorchMetric
from fitorch.metrics.correlation_metrics import (ConcordanceCorrelation, PearsonCorrelation,
                                                 concordance_correlation, pearson_correlation)
from fitorch.metrics.count_metrics import (FalseNegatives, FalsePositives, TrueNegatives,
                                           TruePositives)
from fitorch.metrics.confusion_metrics import AUC, F1Score, FBetaScore, Precision, Recall
from fitorch.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from fitorch.metrics.metric import (Mean, MeanMetricWrapper, Metric, Sum,
                                    reduce_to_samplewise_values)
from fitorch.metrics.probabilistic_metrics import (BinaryCrossentropy, CategoricalCrossentropy,
                                                   CategoricalHinge, Hinge, KLDivergence, Poisson,
                                                   SparseCategoricalCrossentropy, SquaredHinge)
from fitorch.metrics.regression_metrics import (CosineSimilarity, LogCoshError, MeanAbsoluteError,
                                                MeanAbsolutePercentageError, MeanSquaredError,
                                                MeanSquaredLogarithmicError, R2Score,
                                                RootMeanSquaredError, cosine_similarity)
from fitorch.metrics.resolve import check_name, get
from fitorch.metrics.variable import Variable

# Keras's short aliases of the metric functions
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

__all__ = [
    "BinaryIoU", "ConcordanceCorrelation", "FalseNegatives", "FalsePositives", "IoU", "MeanIoU",
    "OneHotIoU", "OneHotMeanIoU", "PearsonCorrelation", "TrueNegatives", "TruePositives",
    "Variable", "concordance_correlation", "pearson_correlation",
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "CategoricalAccuracy",
    "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity", "F1Score", "FBetaScore",
    "FunctionMetric", "Hinge", "KLDivergence", "LogCoshError", "Mean", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanMetricWrapper", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Metric", "Poisson", "Precision", "R2Score", "Recall",
    "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SquaredHinge", "Sum", "TopKCategoricalAccuracy",
    "TorchMetric", "accuracy", "binary_accuracy", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_accuracy", "categorical_crossentropy",
    "categorical_hinge", "check_name", "cosine_similarity", "get", "hinge", "kl_divergence", "kld",
    "kullback_leibler_divergence", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "mse", "msle", "poisson", "reduce_to_samplewise_values", "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy", "squared_hinge",
    "top_k_categorical_accuracy",
]
