"""The private torch internals fitorch still relies on, each looked up by name.

docs/architecture.md ("Private torch internals") lists them with the torch version they were
checked on (2.13.0). When a torch upgrade breaks one, the failing test names it and the fitorch
module that uses it; fix that module (or the list) before releasing.
"""

import importlib

import pytest
import torch
from torch import nn


def _attr(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


# (what, which fitorch module uses it, how to look it up)
PRIVATE = [
    ("torch._subclasses.fake_tensor.FakeTensorMode", "fitorch/models/symbolic.py",
     lambda: _attr("torch._subclasses.fake_tensor.FakeTensorMode")),
    ("OptimizedModule._orig_mod (torch.compile's wrapper)", "fitorch/saving/weights.py",
     lambda: torch.compile(nn.Linear(1, 1), backend="eager")._orig_mod),
    ("torch._dynamo.exc.{BackendCompilerFailed,InternalTorchDynamoError,Unsupported}",
     "fitorch/training/trainer.py",
     lambda: [_attr(f"torch._dynamo.exc.{n}") for n in
              ("BackendCompilerFailed", "InternalTorchDynamoError", "Unsupported")]),
    ("nn.Module._modules / _parameters / _buffers", "models, layers/base.py, summaries/",
     lambda: [getattr(nn.Linear(1, 1), n).items() for n in ("_modules", "_parameters", "_buffers")]),
]


@pytest.mark.parametrize("what, used_in, lookup", PRIVATE, ids=[p[0] for p in PRIVATE])
def test_private_torch_api_still_exists(what, used_in, lookup):
    try:
        lookup()
    except (AttributeError, ImportError) as exc:
        pytest.fail(f"torch {torch.__version__} no longer has {what}, used by {used_in} "
                    f"(checked on torch 2.13.0): {exc}")


def test_dynamo_errors_come_from_the_modules_fitorch_recognizes():
    # trainer._is_compile_error tells compile failures from model errors by these module names
    for name in ("BackendCompilerFailed", "InternalTorchDynamoError", "Unsupported"):
        module = _attr(f"torch._dynamo.exc.{name}").__module__
        assert module.startswith(("torch._dynamo", "torch._inductor")), (name, module)


def test_public_norm_layer_list_covers_torchs_private_norm_base():
    # summaries.summary_utils._NORM_LAYERS replaces isinstance(m, nn.modules.batchnorm._NormBase)
    from fitorch.summaries.summary_utils import _NORM_LAYERS

    base = _attr("torch.nn.modules.batchnorm._NormBase")
    exported = {c for c in vars(nn).values()
                if isinstance(c, type) and issubclass(c, base) and c is not base
                and not c.__name__.startswith("_")}
    missing = sorted(c.__name__ for c in exported if not issubclass(c, _NORM_LAYERS))
    assert not missing, f"torch {torch.__version__} has norm layers fitorch does not list: {missing}"


def test_loss_classes_are_recognized_without_the_private_base():
    # saving.training_state._is_torch_loss_class replaces issubclass(cls, nn.modules.loss._Loss)
    from fitorch.saving.training_state import _is_torch_loss_class

    base = _attr("torch.nn.modules.loss._Loss")
    for name, cls in vars(nn).items():
        if isinstance(cls, type) and not name.startswith("_"):
            assert _is_torch_loss_class(cls) == issubclass(cls, base), name
