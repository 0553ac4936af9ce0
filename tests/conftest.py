"""Suite-wide setup.

Keras 3 (the dev extra) is the tests' numeric and behavioural oracle, on its torch backend:
``KERAS_BACKEND`` must be set before anything imports keras, so it is set here, first.

Under pytest-xdist (``-n auto`` in pyproject.toml) each worker gets its share of the cores as
torch threads, and so do the processes a test starts (``OMP_NUM_THREADS``): on the loaded
2-core machine the torchkeras MNIST test took 38.5 s with torch's default two threads and 11.6 s
with one.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _WORKERS > 1:
    _CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    _THREADS = str(max(1, (_CORES or 1) // _WORKERS))
    os.environ["OMP_NUM_THREADS"] = _THREADS
    os.environ["MKL_NUM_THREADS"] = _THREADS

    import torch

    torch.set_num_threads(int(_THREADS))
