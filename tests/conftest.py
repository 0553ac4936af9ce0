"""Suite-wide setup.

Keras 3 (the dev extra) is the tests' numeric and behavioural oracle, on its torch backend:
``KERAS_BACKEND`` must be set before anything imports keras, so it is set here, first.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
