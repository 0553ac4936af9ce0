"""Callbacks: hooks into ``fit`` / ``evaluate`` / ``predict``, with Keras names and semantics."""

from fitorch.callbacks.callback import Callback
from fitorch.callbacks.callback_list import BatchLogs, CallbackList
from fitorch.callbacks.history import History

__all__ = ["Callback", "CallbackList", "BatchLogs", "History"]
