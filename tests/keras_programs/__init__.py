"""Keras programs from the Keras 3 guides, run under Keras and under fitorch (see harness.py).

Each is a module here with ``run(keras, sync) -> dict`` and one test in ``test_programs.py``
(the customizing-fit guide's programs run from ``test_customizing_fit.py``);
docs/coming-from-keras.md lists them.
"""
