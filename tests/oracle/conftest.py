"""Keras 3 as the oracle: these tests compare fitorch with Keras itself on its torch backend.

``KERAS_BACKEND`` must be set before keras is first imported; the dev extra installs keras.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
