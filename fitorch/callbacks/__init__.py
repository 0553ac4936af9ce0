"""Callbacks: hooks into ``fit`` / ``evaluate`` / ``predict``, with Keras names and semantics."""

from fitorch.callbacks.backup_and_restore import BackupAndRestore
from fitorch.callbacks.callback import Callback
from fitorch.callbacks.callback_list import BatchLogs, CallbackList
from fitorch.callbacks.csv_logger import CSVLogger
from fitorch.callbacks.early_stopping import EarlyStopping
from fitorch.callbacks.history import History
from fitorch.callbacks.lambda_callback import LambdaCallback
from fitorch.callbacks.learning_rate_scheduler import LearningRateScheduler
from fitorch.callbacks.model_checkpoint import ModelCheckpoint
from fitorch.callbacks.progbar import ProgressBar
from fitorch.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from fitorch.callbacks.tensorboard import TensorBoard
from fitorch.callbacks.terminate_on_nan import TerminateOnNaN

# Keras's name for the progress bar callback.
ProgbarLogger = ProgressBar

__all__ = ["Callback", "CallbackList", "BatchLogs", "History", "ProgressBar", "ProgbarLogger",
           "EarlyStopping", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback", "TensorBoard", "ModelCheckpoint",
           "BackupAndRestore"]
