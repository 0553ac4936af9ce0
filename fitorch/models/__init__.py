"""Models: ``Model`` (training API), ``Sequential``, ``Functional`` and ``Input``.

``load_model`` / ``save_model`` (Keras's ``keras.models`` names) are put here by
``fitorch.saving`` when it is imported, and ``Model.fit`` / ``summary`` / ``save`` run code the
trainer, summaries and saving register in ``providers``; the top package imports them after this
package (see ``fitorch._import_hooks``): this package never imports the layers above it.
"""

from fitorch import _import_hooks
from fitorch.models.functional import Functional, Input, KerasTensor
from fitorch.models.model import Model
from fitorch.models.sequential import Sequential

__all__ = ["Functional", "Input", "KerasTensor", "Model", "Sequential"]

_import_hooks.run(__name__)
