"""Model summaries: Keras's ``model.summary()`` table and ``ft.summary(any_module, ...)``.

``model_summary`` (behind ``Model.summary()``) prints Keras's table from what the model knows
without running it: the recorded graph of a functional model, the inferred shapes of a
``Sequential``, the direct children of any other module. ``summary`` runs one forward pass with
hooks on every submodule and prints the torchsummary table the seed shows, leaving the module as
it found it.

Weights are counted as Keras counts them: parameters shared by several layers once, and the
statistics buffers Keras calls weights (BatchNorm's moving mean and variance) as non-trainable.
"""

from fitorch.models import providers
from fitorch.summaries.keras_table import model_summary
from fitorch.summaries.summary_utils import count_weights
from fitorch.summaries.torchsummary import ModuleSummary, summary

__all__ = ["summary", "model_summary", "count_weights", "ModuleSummary"]

providers.provide("model_summary", model_summary)  # Model.summary (models sit below this module)
