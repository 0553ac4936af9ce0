"""Whole-model copies: ``pickle``, ``torch.save`` / ``torch.load(weights_only=False)`` and
``copy.deepcopy`` of models that once could not be copied, each compared on its outputs."""

import copy
import io
import pickle

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch import layers
from fitorch.models.symbolic import KerasTensor


class KerasStyleModel(ft.Model):
    """A user's subclass built Keras-style, ``KerasStyleModel(inputs, outputs)``; defined at
    module level so an unpickler can find it by name."""

    def describe(self):
        return f"{type(self).__name__} with {len(self.layers)} layers"


def _copies(model):
    """(pickle round trip, torch.save/torch.load round trip, deepcopy) of ``model``."""
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    return [pickle.loads(pickle.dumps(model)), torch.load(buffer, weights_only=False),
            copy.deepcopy(model)]


def _assert_same_outputs(got, expected):
    if isinstance(expected, (list, tuple)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            torch.testing.assert_close(g, e, rtol=0, atol=0)
    else:
        torch.testing.assert_close(got, expected, rtol=0, atol=0)


def _every_pooling_layer_model():
    """One branch per rank through Max/Average pooling ("same" padding too) and both global
    poolings, so every pooling class (by its main name) is in the model."""
    inputs, outputs = [], []
    for rank, shape in ((1, (8, 3)), (2, (6, 6, 3)), (3, (4, 4, 4, 2))):
        x = ft.Input(shape)
        inputs.append(x)
        maxed = getattr(layers, f"MaxPooling{rank}D")(padding="same")(x)
        averaged = getattr(layers, f"AveragePooling{rank}D")(
            data_format="channels_first" if rank == 1 else None)(x)
        outputs += [getattr(layers, f"GlobalMaxPooling{rank}D")()(maxed),
                    getattr(layers, f"GlobalAveragePooling{rank}D")(keepdims=True)(averaged)]
    return ft.Model(inputs, outputs)


def test_a_model_with_every_pooling_layer_pickles_saves_and_deepcopies():
    model = _every_pooling_layer_model()
    data = [torch.randn(2, 8, 3), torch.randn(2, 6, 6, 3), torch.randn(2, 4, 4, 4, 2)]
    expected = model(*data)
    for loaded in _copies(model):
        assert loaded is not model and loaded.code == model.code
        _assert_same_outputs(loaded(*data), expected)


def test_the_seed_three_branch_demo_model_pickles_and_saves_whole():
    from fitorch.demos.functional import create_model

    model = create_model().eval()
    ids = torch.randint(0, 100, (2, 200))
    with torch.no_grad():
        expected = model(ids)
        for loaded in _copies(model):
            _assert_same_outputs(loaded.eval()(ids), expected)


def test_a_keras_style_subclass_model_pickles_as_its_own_class():
    inputs = ft.Input((3,))
    outputs = layers.Dense(1)(layers.Dense(4, activation="relu")(inputs))
    model = KerasStyleModel(inputs, outputs)
    x = torch.randn(5, 3)
    for loaded in _copies(model):
        assert isinstance(loaded, KerasStyleModel) and isinstance(loaded, ft.Model)
        assert type(loaded).__name__ == "KerasStyleModel"
        assert loaded.describe() == model.describe()
        _assert_same_outputs(loaded(x), model(x))
        # copies of copies, and copies that still train
        _assert_same_outputs(pickle.loads(pickle.dumps(loaded))(x), model(x))
    loaded.compile(optimizer="sgd", loss="mse")
    history = loaded.fit(x, torch.randn(5, 1), epochs=2, verbose=0).history
    assert len(history["loss"]) == 2


def test_the_pickle_names_the_users_class_not_a_generated_one():
    inputs = ft.Input((3,))
    model = KerasStyleModel(inputs, layers.Dense(2)(inputs))
    _restore, (cls, _state) = model.__reduce_ex__(4)
    assert cls is KerasStyleModel
    assert b"KerasStyleModel" in pickle.dumps(model)


def test_a_copied_masked_model_rebuilds_its_symbolic_graph():
    x = ft.Input((5,), dtype=torch.long)
    model = ft.Model(x, layers.LSTM(2)(layers.Embedding(9, 3, mask_zero=True)(x)))
    ids = torch.tensor([[1, 2, 0, 0, 0], [3, 0, 4, 0, 8]])
    for loaded in _copies(model):
        assert [tuple(t.shape) for t in loaded.outputs] == [(None, 2)]
        extractor = ft.Model(loaded.inputs[0], loaded.outputs[0])
        _assert_same_outputs(extractor(ids), model(ids))
        _assert_same_outputs(loaded(ids), model(ids))


def test_a_symbolic_mask_given_as_keyword_argument():
    # Keras's LSTM(...)(h, mask=ops.not_equal(x, 0)); the eager call on real tensors is the oracle
    x = ft.Input((5,), dtype=torch.long)
    embedding, lstm = layers.Embedding(9, 3), layers.LSTM(2)
    model = ft.Model(x, lstm(embedding(x), mask=x != 0))
    ids = torch.tensor([[1, 2, 0, 0, 0], [3, 0, 4, 0, 8]])
    expected = lstm(embedding(ids), mask=ids != 0)
    _assert_same_outputs(model(ids), expected)
    for loaded in _copies(model):
        _assert_same_outputs(loaded(ids), expected)
        assert [tuple(t.shape) for t in loaded.outputs] == [(None, 2)]


def test_keras_tensor_not_equal_is_symbolic_and_equal_stays_identity():
    # As in Keras 3: != records an element-wise comparison; == is identity, so KerasTensors
    # keep working as dict keys, set members and in `in` tests.
    x = ft.Input((4,))
    y = ft.Input((4,))
    mask = x != 0
    assert isinstance(mask, KerasTensor) and mask.dtype == torch.bool
    assert tuple(mask.shape) == (None, 4)
    assert isinstance(0 != x, KerasTensor)
    assert isinstance(x != y, KerasTensor)
    model = ft.Model(x, mask)
    data = torch.tensor([[0.0, 1.0, 0.0, -2.0]])
    torch.testing.assert_close(model(data), data != 0)
    assert "!= 0" in model.code
    for loaded in _copies(model):
        torch.testing.assert_close(loaded(data), data != 0)
    assert (x == x) is True and (x == y) is False
    assert x in [y, x] and len({x, y, x}) == 2 and {x: 1}[x] == 1


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)

    def forward(self, x):
        return torch.tanh(self.linear(x))


@pytest.mark.parametrize("make", [lambda: nn.Linear(3, 2), _Net], ids=["Linear", "module"])
def test_a_wrapped_module_pickles_as_its_own_class(make):
    model = ft.Model(make())
    model.compile(optimizer="sgd", loss="mse")
    x = torch.randn(4, 3)
    for loaded in _copies(model):
        assert type(loaded) is type(model) and isinstance(loaded, ft.Model)
        assert all(p is not q for p, q in zip(loaded.parameters(), model.parameters()))
        _assert_same_outputs(loaded(x), model(x))
    loaded.compile(optimizer="sgd", loss="mse")  # compile is transient: not in the copy
    assert len(loaded.fit(x, torch.randn(4, 2), epochs=2, verbose=0).history["loss"]) == 2
