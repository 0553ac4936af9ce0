"""`import fitorch` stays cheap: heavy dependencies load only when used."""

import subprocess
import sys


def test_import_does_not_load_heavy_dependencies():
    code = ("import sys, fitorch, fitorch.layers, fitorch.models, fitorch.callbacks; "
            "heavy = [m for m in ('pandas', 'matplotlib', 'lightning', 'torchmetrics', "
            "'accelerate') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.strip()
    assert out == "[]"


def test_public_names_resolve():
    import fitorch as ft

    for name in ("Model", "Sequential", "Input", "summary", "layers", "callbacks", "losses",
                 "metrics", "optimizers", "training", "backend"):
        assert getattr(ft, name) is not None, name


def test_models_load_model_is_keras_spelling_of_saving(tmp_path):
    # Keras code does `from keras.models import load_model` and `keras.models.save_model`;
    # each way of reaching fitorch.models must see them, in a fresh interpreter
    for code in ("from fitorch.models import load_model, save_model",
                 "import fitorch as keras; load_model = keras.models.load_model; "
                 "save_model = keras.models.save_model",
                 "import fitorch.models.sequential, fitorch.models as m; "
                 "load_model, save_model = m.load_model, m.save_model"):
        check = (f"{code}; import fitorch.saving as s; "
                 "assert load_model is s.load_model and save_model is s.save_model")
        subprocess.run([sys.executable, "-c", check], check=True)
    import torch
    import fitorch as ft

    model = ft.Sequential([ft.Input((3,)), ft.layers.Dense(2)])
    ft.models.save_model(model, tmp_path / "m.fitorch")
    x = torch.randn(4, 3)
    torch.testing.assert_close(ft.models.load_model(tmp_path / "m.fitorch")(x), model(x))


def test_version_is_pyproject_version():
    import tomllib
    from pathlib import Path

    import fitorch as ft

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    assert ft.__version__ == tomllib.loads(pyproject.read_text())["project"]["version"]


def test_names_moved_out_of_the_trainer_still_import_from_it():
    # trainer.py was split (issue 14, item 2); code that imported these from it keeps working
    from fitorch import backend
    from fitorch.training import class_weights, fit_state, trainer

    assert trainer.FitState is fit_state.FitState
    assert trainer.ClassWeigher is class_weights.ClassWeigher
    assert trainer.capture_rng_states is backend.capture_rng_states
    assert trainer.restore_rng_states is backend.restore_rng_states
    assert set(trainer.__all__) >= {"Trainer", "NonFiniteLossError", "call_model", "FitState",
                                    "ClassWeigher", "capture_rng_states", "restore_rng_states"}
