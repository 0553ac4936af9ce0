"""Moved to :mod:`fitorch.activations` (it sits below the layers that use it).

This old path stays importable and is the very same module object."""

import sys

from fitorch import activations

# One module under both names (not a copy), so registries, isinstance checks and monkeypatches
# made through either path agree.
sys.modules[__name__] = activations
