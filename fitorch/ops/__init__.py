"""``keras.ops`` on torch tensors: ``from fitorch import ops`` where Keras code has
``from keras import ops``.

The flat namespace holds the NumPy-style, math, core, nn and linalg ops (``ops.matmul``,
``ops.softmax``, ``ops.top_k``, ...); ``ops.numpy``, ``ops.nn``, ``ops.linalg`` and
``ops.image`` are the submodules Keras has. Inputs may be tensors, NumPy arrays, Python scalars
or lists; results are torch tensors with the dtypes Keras gives. A Keras name fitorch does not
offer raises an ``AttributeError`` that says what to use instead.
"""

from __future__ import annotations

from typing import Any

from fitorch.ops import core, image, linalg, math, nn, numpy
from fitorch.ops._missing import missing_attribute
from fitorch.ops.core import *  # noqa: F401,F403
from fitorch.ops.linalg import *  # noqa: F401,F403
from fitorch.ops.math import *  # noqa: F401,F403
from fitorch.ops.nn import *  # noqa: F401,F403
from fitorch.ops.numpy import *  # noqa: F401,F403

# the functions only: ``from fitorch.ops import *`` must not rebind ``numpy`` or ``math``
__all__ = sorted(set(core.__all__) | set(linalg.__all__) | set(math.__all__) | set(nn.__all__)
                 | set(numpy.__all__))


def __getattr__(name: str) -> Any:
    raise missing_attribute("fitorch.ops", name)
