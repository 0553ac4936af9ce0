"""The "Customizing what happens in fit() with PyTorch" guide's programs, run under Keras 3
(torch backend) and under fitorch with only the import lines changed.

The regression programs start from the same (constant) weights and train on the same data in
the same order, so their histories must agree to float rounding; the GAN draws its noise from
each library's own random generator, so it is compared by behaviour.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


HERE = Path(__file__).parent
IMPORTS = {"import keras\n": "import fitorch as keras\n",
           "from keras import layers\n": "from fitorch import layers\n"}


def run(name: str, lib: str) -> dict:
    """Run the program ``name`` with ``lib`` (``"keras"`` or ``"fitorch"``); its globals."""
    source = (HERE / f"{name}.py").read_text()
    if lib == "fitorch":
        ported = source
        for keras_line, fitorch_line in IMPORTS.items():
            ported = ported.replace(keras_line, fitorch_line)
        changed = [(a, b) for a, b in zip(source.splitlines(), ported.splitlines()) if a != b]
        assert changed and all(b.startswith(("import fitorch", "from fitorch")) for _, b in changed)
        source = ported
    namespace = {"__name__": f"program_{name}"}
    exec(compile(source, str(HERE / f"{name}.py"), "exec"), namespace)  # noqa: S102
    return namespace


def _close(fitorch_history: dict, keras_history: dict) -> None:
    assert list(fitorch_history) == list(keras_history)
    for key, values in keras_history.items():
        np.testing.assert_allclose(fitorch_history[key], values, rtol=2e-5, atol=1e-6,
                                   err_msg=key)


@pytest.mark.parametrize("name", ["customizing_fit_basic", "customizing_fit_low_level",
                                  "customizing_fit_sample_weight"])
def test_train_step_programs_train_as_in_keras(name):
    expected = run(name, "keras")["history"].history
    ported = run(name, "fitorch")
    history = ported["history"].history
    _close(history, expected)
    assert history["loss"][-1] < history["loss"][0]
    assert sorted(history) == ["loss", "mae"]


def test_test_step_program_evaluates_as_in_keras():
    expected = run("customizing_fit_test_step", "keras")
    ported = run("customizing_fit_test_step", "fitorch")
    results = ported["results"]
    assert list(results) == list(expected["results"])
    np.testing.assert_allclose(list(results.values()), list(expected["results"].values()),
                               rtol=1e-5)
    # without return_dict, a list in the order of model.metrics: loss, then mae
    np.testing.assert_allclose(ported["values"], expected["values"], rtol=1e-5)
    assert ported["values"][0] == pytest.approx(results["loss"])


def test_gan_program_trains_both_networks_with_their_own_optimizers():
    expected = run("customizing_fit_gan", "keras")["history"].history
    ported = run("customizing_fit_gan", "fitorch")
    history = ported["history"].history
    assert list(history) == list(expected) == ["d_loss", "g_loss"]
    assert all(len(v) == 2 and np.isfinite(v).all() for v in history.values())
    # the losses start where Keras's do (binary crossentropy of a fresh network: about ln 2)
    np.testing.assert_allclose(history["d_loss"], expected["d_loss"], atol=0.25)
    gan = ported["gan"]
    for network, before in ((gan.discriminator, ported["discriminator_before"]),
                            (gan.generator, ported["generator_before"])):
        after = [w.detach().numpy() for w in network.trainable_weights]
        assert all(a.shape == b.shape for a, b in zip(after, before))
        assert all(not np.allclose(a, b) for a, b in zip(after, before))
    # each optimizer was built for its own network only
    held = {id(p) for g in gan.d_optimizer._built.param_groups for p in g["params"]}
    assert held == {id(p) for p in gan.discriminator.parameters()}
