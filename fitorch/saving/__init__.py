"""Files on disk: models, weights and backups in safetensors + JSON, written atomically.

Nothing fitorch writes is a pickle and nothing it reads is unpickled (plain ``state_dict`` files
go through ``torch.load(weights_only=True)`` only), so loading a file never runs code from it.
"""

from fitorch.saving import torch_modules  # noqa: F401  (fitorch models describe torch modules)
from fitorch.saving.atomic import atomic_write
from fitorch.saving.model_file import MODEL_SUFFIX, load_model, save_model
from fitorch.saving.registry import register_serializable
from fitorch.saving.weights import WEIGHTS_SUFFIX, load_weights, save_weights, unwrap_module

__all__ = ["atomic_write", "save_weights", "load_weights", "unwrap_module", "save_model",
           "load_model", "register_serializable", "WEIGHTS_SUFFIX", "MODEL_SUFFIX"]


def _register_in_models() -> None:
    # Keras spells these keras.models.load_model / save_model, and Model.save & co. call them;
    # models sit below saving, so saving registers them there instead of models importing saving
    import fitorch.models as models
    from fitorch.models import providers

    # setattr: these names are added to fitorch.models here, so its module type lacks them
    setattr(models, "load_model", load_model)
    setattr(models, "save_model", save_model)
    for implementation in (save_model, save_weights, load_weights):
        providers.provide(implementation.__name__, implementation)


_register_in_models()
