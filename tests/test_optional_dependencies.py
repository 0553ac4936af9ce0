"""fitorch works without its optional dependencies (torchmetrics is an extra, not a requirement)."""

import subprocess
import sys
import textwrap

# Runs in a fresh interpreter in which importing the named packages fails, as if not installed.
_BLOCKER = textwrap.dedent("""
    import sys

    class _Blocker:
        def __init__(self, names):
            self.names = names

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.names:
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)")
            return None

    sys.meta_path.insert(0, _Blocker(BLOCKED))
""")


def _run_without(blocked: set, code: str) -> str:
    script = _BLOCKER.replace("BLOCKED", repr(blocked)) + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_fit_with_metrics_works_without_torchmetrics():
    out = _run_without({"torchmetrics"}, """
        import torch
        try:
            import torchmetrics  # noqa: F401
            raise SystemExit("the blocker did not hide torchmetrics")
        except ModuleNotFoundError:
            pass
        import fitorch as ft
        from fitorch import layers

        torch.manual_seed(0)
        model = ft.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy", "sparse_top_k_categorical_accuracy"])
        x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        logs = model.evaluate(x, y, verbose=0, return_dict=True)
        assert len(history.history["accuracy"]) == 2, history.history
        assert 0.0 <= logs["accuracy"] <= 1.0, logs
        assert "torchmetrics" not in sys.modules
        print("ok", sorted(logs))
    """)
    assert out.startswith("ok"), out
    assert "accuracy" in out and "sparse_top_k_categorical_accuracy" in out
