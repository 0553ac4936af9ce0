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
