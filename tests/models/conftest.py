import pytest

from fitorch import backend


@pytest.fixture(autouse=True)
def fresh_names():
    # Keras default names (dense, dense_1, ...) count per session; each test starts from zero.
    backend.clear_session()
    yield
    backend.clear_session()
