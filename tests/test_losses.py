"""fitorch.losses against hand computations of Keras 3's formulas and torch's own ops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fitorch import losses

EPS = 1e-7
torch.manual_seed(0)
RNG = np.random.default_rng(0)


def t(a, dtype=torch.float32):
    return torch.tensor(np.asarray(a), dtype=dtype)


Y_TRUE = RNG.normal(size=(4, 3))
Y_PRED = RNG.normal(size=(4, 3))
P_TRUE = RNG.uniform(0.05, 1.0, size=(4, 3))
P_PRED = RNG.uniform(0.05, 1.0, size=(4, 3))
B_TRUE = RNG.integers(0, 2, size=(4, 3)).astype(float)


@pytest.mark.parametrize("fn, y_true, y_pred, expected", [
    (losses.mean_squared_error, Y_TRUE, Y_PRED, ((Y_TRUE - Y_PRED) ** 2).mean(-1)),
    (losses.mean_absolute_error, Y_TRUE, Y_PRED, np.abs(Y_TRUE - Y_PRED).mean(-1)),
    (losses.mean_absolute_percentage_error, Y_TRUE, Y_PRED,
     100 * (np.abs(Y_TRUE - Y_PRED) / np.maximum(np.abs(Y_TRUE), EPS)).mean(-1)),
    (losses.mean_squared_logarithmic_error, P_TRUE, Y_PRED,
     ((np.log(np.maximum(Y_PRED, EPS) + 1) - np.log(P_TRUE + 1)) ** 2).mean(-1)),
    (losses.log_cosh, Y_TRUE, Y_PRED, np.log(np.cosh(Y_PRED - Y_TRUE)).mean(-1)),
    (losses.kl_divergence, P_TRUE, P_PRED, (P_TRUE * np.log(P_TRUE / P_PRED)).sum(-1)),
    (losses.poisson, P_TRUE, P_PRED, (P_PRED - P_TRUE * np.log(P_PRED + EPS)).mean(-1)),
    (losses.hinge, B_TRUE, Y_PRED, np.maximum(1 - (2 * B_TRUE - 1) * Y_PRED, 0).mean(-1)),
    (losses.squared_hinge, B_TRUE, Y_PRED,
     (np.maximum(1 - (2 * B_TRUE - 1) * Y_PRED, 0) ** 2).mean(-1)),
    (losses.cosine_similarity, Y_TRUE, Y_PRED,
     -(Y_TRUE * Y_PRED).sum(-1) / np.linalg.norm(Y_TRUE, axis=-1) / np.linalg.norm(Y_PRED, axis=-1)),
])
def test_function_matches_keras_formula(fn, y_true, y_pred, expected):
    out = fn(t(y_true), t(y_pred))
    assert out.shape == (4,)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_huber_is_quadratic_then_linear():
    err = np.array([[0.5, -2.0, 3.0]])
    expected = np.where(np.abs(err) <= 1.5, 0.5 * err ** 2, 1.5 * np.abs(err) - 0.5 * 1.5 ** 2).mean(-1)
    out = losses.Huber(delta=1.5)(t(np.zeros((1, 3))), t(err))
    assert out.item() == pytest.approx(expected[0], rel=1e-6)


def test_hinge_keeps_minus_one_one_labels():
    y = np.array([[-1.0, 1.0, 1.0]])
    p = np.array([[0.3, -0.2, 2.0]])
    assert losses.hinge(t(y), t(p)).item() == pytest.approx(np.maximum(1 - y * p, 0).mean())


def test_categorical_hinge():
    y = np.eye(3)[[0, 2]]
    p = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    pos = (y * p).sum(-1)
    neg = ((1 - y) * p).max(-1)
    np.testing.assert_allclose(losses.categorical_hinge(t(y), t(p)).numpy(), np.maximum(neg - pos + 1, 0),
                               rtol=1e-6)


def test_binary_crossentropy_clips_probabilities_like_keras():
    y = t([[1.0], [0.0], [1.0]])
    p = t([[0.0], [0.0], [0.8]])
    expected = np.array([-math.log(EPS), -math.log(1 - EPS), -math.log(0.8)])
    np.testing.assert_allclose(losses.binary_crossentropy(y, p).numpy(), expected, rtol=1e-4)
    assert torch.isfinite(losses.BinaryCrossentropy()(y, p))


def test_binary_crossentropy_from_logits_matches_sigmoid_probs_and_torch():
    logits = torch.randn(6, 1)
    y = torch.randint(0, 2, (6, 1)).float()
    from_logits = losses.BinaryCrossentropy(from_logits=True)(y, logits)
    on_probs = losses.BinaryCrossentropy()(y, torch.sigmoid(logits))
    assert from_logits.item() == pytest.approx(on_probs.item(), rel=1e-5)
    assert from_logits.item() == pytest.approx(F.binary_cross_entropy_with_logits(logits, y).item(), rel=1e-6)


def test_label_smoothing():
    y = t([[1.0, 0.0]])
    p = t([[0.9, 0.2]])
    smooth = np.array([[0.9, 0.1]])  # y * (1 - 0.2) + 0.5 * 0.2
    expected = -(smooth * np.log([[0.9, 0.2]]) + (1 - smooth) * np.log([[0.1, 0.8]])).mean()
    assert losses.BinaryCrossentropy(label_smoothing=0.2)(y, p).item() == pytest.approx(expected, rel=1e-5)
    yc = t([[0.0, 1.0, 0.0]])
    pc = t([[0.2, 0.7, 0.1]])
    smooth_c = np.array([0.0, 1.0, 0.0]) * 0.7 + 0.3 / 3
    expected_c = -(smooth_c * np.log([0.2, 0.7, 0.1])).sum()
    out = losses.CategoricalCrossentropy(label_smoothing=0.3)(yc, pc)
    assert out.item() == pytest.approx(expected_c, rel=1e-5)


def test_categorical_crossentropy_renormalizes_and_from_logits_matches_torch():
    y = F.one_hot(torch.tensor([0, 2, 1]), 3).float()
    probs = torch.softmax(torch.randn(3, 3), -1)
    normal = losses.categorical_crossentropy(y, probs)
    assert torch.allclose(losses.categorical_crossentropy(y, probs * 5.0), normal, atol=1e-6)
    logits = torch.randn(3, 3)
    assert torch.allclose(losses.CategoricalCrossentropy(from_logits=True)(y, logits),
                          F.cross_entropy(logits, y), atol=1e-6)


def test_sparse_categorical_crossentropy_matches_torch():
    labels = torch.tensor([0, 2, 1, 2])
    logits = torch.randn(4, 3)
    probs = torch.softmax(logits, -1)
    expected = F.cross_entropy(logits, labels)
    assert torch.allclose(losses.SparseCategoricalCrossentropy()(labels, probs), expected, atol=1e-5)
    assert torch.allclose(losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits), expected,
                          atol=1e-6)
    # (N, 1) labels are accepted, float labels are cast as in Keras
    assert torch.allclose(losses.sparse_categorical_crossentropy(labels[:, None].float(), probs),
                          F.cross_entropy(logits, labels, reduction="none"), atol=1e-5)


def test_sparse_categorical_crossentropy_on_sequences():
    labels = torch.randint(0, 5, (2, 7))
    logits = torch.randn(2, 7, 5)
    out = losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    assert out.shape == (2, 7)
    assert torch.allclose(out, F.cross_entropy(logits.transpose(1, 2), labels, reduction="none"), atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
def test_ignore_class_is_left_out_of_the_mean(from_logits):
    labels = torch.tensor([0, -1, 2, -1])
    logits = torch.randn(4, 3)
    y_pred = logits if from_logits else torch.softmax(logits, -1)
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=-1)
    expected = F.cross_entropy(logits, labels, ignore_index=-1)
    assert loss(labels, y_pred).item() == pytest.approx(expected.item(), rel=1e-4)


def test_focal_crossentropy_with_gamma_zero_is_bce():
    y = torch.randint(0, 2, (5, 1)).float()
    p = torch.rand(5, 1) * 0.9 + 0.05
    focal = losses.BinaryFocalCrossentropy(gamma=0.0)(y, p)
    assert focal.item() == pytest.approx(losses.BinaryCrossentropy()(y, p).item(), rel=1e-6)
    balanced = losses.binary_focal_crossentropy(y, p, apply_class_balancing=True, alpha=0.25, gamma=2.0)
    p_t = y * p + (1 - y) * (1 - p)
    expected = ((y * 0.25 + (1 - y) * 0.75) * (1 - p_t) ** 2 * -torch.log(p_t)).mean(-1)
    assert torch.allclose(balanced, expected, atol=1e-6)


def test_reductions_and_sample_weight():
    y = t([[0.0], [1.0], [2.0], [3.0]])
    p = t([[1.0], [1.0], [4.0], [3.0]])
    w = t([1.0, 2.0, 0.5, 0.0])
    per = np.array([1.0, 0.0, 4.0, 0.0])
    wn = w.numpy()
    assert losses.MeanSquaredError()(y, p).item() == pytest.approx(per.mean())
    assert losses.MeanSquaredError()(y, p, sample_weight=w).item() == pytest.approx((per * wn).sum() / 4)
    assert losses.MeanSquaredError(reduction="sum")(y, p, w).item() == pytest.approx((per * wn).sum())
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(y, p, w).item() == pytest.approx(
        (per * wn).sum() / wn.sum())
    assert losses.MeanSquaredError(reduction="none")(y, p, w).numpy().tolist() == (per * wn).tolist()


def test_per_sample_weights_on_per_timestep_losses():
    labels = torch.randint(0, 3, (2, 2))
    logits = torch.randn(2, 2, 3)
    w = torch.tensor([1.0, 0.0])
    per = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
    out = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits, sample_weight=w)
    assert out.item() == pytest.approx(per[0].sum().item() / 4, rel=1e-6)


def test_rank_alignment_and_no_silent_broadcasting():
    y = t([0.0, 1.0, 1.0])
    p = t([[0.2], [0.6], [0.9]])
    assert torch.allclose(losses.binary_crossentropy(y, p), losses.binary_crossentropy(y[:, None], p))
    with pytest.raises(ValueError, match=r"\(3, 1\).*\(3, 3\)|\(3, 3\).*\(3, 1\)"):
        losses.mean_squared_error(t(np.zeros((3, 3))), p)


def test_half_precision_predictions_are_computed_in_float32():
    p = torch.tensor([[1e-9], [0.5]], dtype=torch.float16)
    y = torch.tensor([[1.0], [0.0]])
    out = losses.BinaryCrossentropy()(y, p)
    assert out.dtype == torch.float32 and torch.isfinite(out)


def test_config_round_trip_and_attributes():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, name="cce")
    config = loss.get_config()
    assert config == {"name": "cce", "reduction": "sum_over_batch_size", "from_logits": True,
                      "label_smoothing": 0.1, "axis": -1}
    again = losses.CategoricalCrossentropy.from_config(config)
    assert again.from_logits is True and again.name == "cce"
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"
    assert losses.BinaryCrossentropy(True).from_logits is True
    with pytest.raises(TypeError, match="from_logit"):
        losses.BinaryCrossentropy(from_logit=True)
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


def test_user_subclass_of_loss():
    class Scaled(losses.Loss):
        def call(self, y_true, y_pred):
            return 2.0 * (y_pred - y_true).abs().mean(-1)

    loss = Scaled()
    assert loss.name == "scaled"
    assert loss(t([[1.0]]), t([[3.0]])).item() == 4.0
    assert losses.get(Scaled).compute(t([[3.0]]), t([[1.0]])).item() == 4.0


# ----------------------------------------------------------------- get(): the trainer's adapters

def test_get_strings_are_case_insensitive_and_compute_in_torch_order():
    y = torch.tensor([[1.0], [0.0]])
    p = torch.tensor([[0.8], [0.3]])
    expected = losses.BinaryCrossentropy()(y, p)
    for name in ("binary_crossentropy", "BCE", "BinaryCrossentropy", "Binary_Crossentropy"):
        adapter = losses.get(name)
        assert adapter.name == "binary_crossentropy" and adapter.supports_sample_weight
        assert torch.equal(adapter.compute(p, y), expected)
    assert losses.get("mse").name == "mean_squared_error"
    assert losses.get("huber").name == "huber_loss"


def test_get_unknown_name_suggests_closest():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.get("sparse_categorical_crossentropyy")
    with pytest.raises(TypeError, match="not a loss"):
        losses.get(3)


def test_get_compute_with_sample_weight_is_sum_over_batch():
    p = torch.tensor([[0.8], [0.3], [0.5]])
    y = torch.tensor([1, 0, 1])  # integer targets are cast for BCE, (N,) meets (N, 1)
    w = torch.tensor([1.0, 0.0, 2.0])
    adapter = losses.get("binary_crossentropy")
    adapter.check(p, y)
    per = losses.binary_crossentropy(y.float()[:, None], p)
    assert adapter.compute(p, y, w).item() == pytest.approx((per * w).sum().item() / 3)


def test_check_accepts_float_labels_for_sparse_crossentropy_as_keras_does():
    adapter = losses.get(losses.SparseCategoricalCrossentropy())
    p = torch.rand(4, 3).softmax(-1)
    adapter.check(p, torch.tensor([0.0, 1.0, 2.0, 1.0]))  # cast; fit refuses 0.5 up front
    assert torch.equal(adapter.compute(p, torch.tensor([0.0, 1.0, 2.0, 1.0])),
                       adapter.compute(p, torch.tensor([0, 1, 2, 1])))
    with pytest.raises(ValueError, match="one-hot"):
        adapter.check(torch.rand(4, 3), torch.eye(3, dtype=torch.long)[[0, 1, 2, 0]])
    adapter.check(torch.rand(4, 3), torch.tensor([[0], [1], [2], [1]]))


def test_check_rejects_wrong_target_shape_for_bce():
    adapter = losses.get("binary_crossentropy")
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 1\)"):
        adapter.check(torch.rand(4, 1), torch.rand(4, 3))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        losses.get("categorical_crossentropy").check(torch.rand(4, 3), torch.tensor([0, 1, 2, 0]))
    with pytest.raises(TypeError, match="floating-point"):
        adapter.check(torch.ones(4, 1, dtype=torch.long), torch.ones(4, 1))


def test_crossentropy_resolved_from_shapes():
    ce = losses.get("crossentropy")
    logits = torch.rand(4, 3).softmax(-1)
    labels = torch.tensor([0, 1, 2, 1])
    ce.check(logits, labels)
    assert ce.resolved.name == "sparse_categorical_crossentropy"
    binary = losses.get("ce")
    binary.check(torch.rand(4, 1), torch.rand(4, 1))
    assert binary.resolved.name == "binary_crossentropy"
    onehot = losses.get("crossentropy")
    onehot.check(logits, F.one_hot(labels, 3).float())
    assert onehot.resolved.name == "categorical_crossentropy"


def test_torch_modules_keep_torch_semantics():
    logits = torch.randn(5, 3)
    labels = torch.tensor([0, 1, 2, 1, 0])
    ce = losses.get(nn.CrossEntropyLoss())
    assert ce.name == "CrossEntropyLoss"
    ce.check(logits, labels)
    assert torch.equal(ce.compute(logits, labels), F.cross_entropy(logits, labels))
    assert torch.equal(ce.compute(logits, labels[:, None].int()), F.cross_entropy(logits, labels))
    with pytest.raises(TypeError, match="integers"):
        ce.check(logits, labels.float())
    w = torch.tensor([1.0, 0.0, 2.0, 1.0, 1.0])
    per = F.cross_entropy(logits, labels, reduction="none")
    assert ce.compute(logits, labels, w).item() == pytest.approx((per * w).sum().item() / 5, rel=1e-6)
    assert losses.get(nn.CrossEntropyLoss).name == "CrossEntropyLoss"


def test_torch_pointwise_module_aligns_instead_of_broadcasting():
    p = torch.randn(4, 1)
    y = torch.randn(4)
    mse = losses.get(nn.MSELoss())
    mse.check(p, y)
    assert torch.allclose(mse.compute(p, y), F.mse_loss(p, y[:, None]))
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        mse.check(p, torch.randn(4, 2))
    bce = losses.get(nn.BCELoss())
    probs = torch.rand(4, 1)
    assert torch.allclose(bce.compute(probs, torch.tensor([1, 0, 1, 1])),
                          F.binary_cross_entropy(probs, torch.tensor([[1.0], [0.0], [1.0], [1.0]])))
    w = torch.tensor([0.0, 1.0, 1.0, 2.0])
    per = (p - y[:, None]).square()[:, 0]
    assert mse.compute(p, y, w).item() == pytest.approx((per * w).sum().item() / 4, rel=1e-6)
    summed = losses.get(nn.MSELoss(reduction="sum"))
    assert summed.compute(p, y, w).item() == pytest.approx((per * w).sum().item(), rel=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        losses.get(nn.MSELoss(reduction="none"))


def test_plain_callables_are_torch_order_and_keras_functions_keras_order():
    p = torch.tensor([[0.9], [0.2]])
    y = torch.tensor([[1.0], [0.0]])
    calls = []

    def my_loss(y_pred, y_true):
        calls.append((y_pred, y_true))
        return ((y_pred - y_true) ** 2).mean()

    adapter = losses.get(my_loss)
    assert adapter.name == "my_loss" and not adapter.supports_sample_weight
    assert adapter.compute(p, y).item() == pytest.approx(0.025)
    assert calls[0][0] is p
    with pytest.raises(ValueError, match="sample weights"):
        adapter.compute(p, y, torch.ones(2))
    keras_fn = losses.get(losses.binary_crossentropy)
    torch.testing.assert_close(keras_fn.compute(p, y), losses.binary_crossentropy(y, p).mean())
    assert losses.get(F.mse_loss).compute(p, y).item() == pytest.approx(0.025)


def test_keras_seed_style_calls():
    # the seed's TensorFlow code: loss_func(labels, predictions) in Keras order, NumPy labels too
    loss_func = losses.SparseCategoricalCrossentropy()
    predictions = torch.softmax(torch.randn(8, 10), -1)
    labels = np.arange(8)
    out = loss_func(labels, predictions)
    assert out.shape == () and torch.allclose(out, F.nll_loss(predictions.log(), torch.arange(8)), atol=1e-5)
    mse = losses.mean_squared_error(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
    assert mse.item() == 2.0


def test_callables_named_keras_style_are_called_in_keras_order():
    def my_loss(y_true, y_pred):  # the seed's TensorFlow-style signature
        return (y_pred - y_true).abs().mean(-1)

    assert losses.is_keras_order(my_loss) and not losses.is_keras_order(F.mse_loss)
    adapter = losses.get(my_loss)
    assert adapter.supports_sample_weight and adapter.name == "my_loss"
    p = torch.tensor([[1.0], [4.0]])
    y = torch.tensor([[0.0], [0.0]])
    assert adapter.compute(p, y).item() == pytest.approx(2.5)
    assert adapter.compute(p, y, torch.tensor([1.0, 0.0])).item() == pytest.approx(0.5)


def test_nan_losses_stay_nan_and_zero_weights_give_zero():
    y = torch.tensor([[1.0], [2.0]])
    p = torch.tensor([[float("nan")], [2.0]])
    assert torch.isnan(losses.MeanSquaredError()(y, p))  # the trainer must be able to see NaN
    zero = losses.MeanSquaredError(reduction="mean_with_sample_weight")(y, y + 1, torch.zeros(2))
    assert zero.item() == 0.0
    all_ignored = losses.SparseCategoricalCrossentropy(ignore_class=0)(torch.tensor([0, 0]),
                                                                       torch.rand(2, 3))
    assert all_ignored.item() == 0.0


def test_compute_never_reads_the_device(monkeypatch):
    """The trainer calls ``compute`` every step: no ``.item()`` / ``bool(tensor)`` inside."""
    scores = torch.rand(6, 4)
    labels = torch.randint(0, 4, (6,))
    probs = torch.rand(6, 1)
    binary = torch.randint(0, 2, (6,))
    cases = [("sparse_categorical_crossentropy", scores, labels), ("categorical_crossentropy", scores,
                                                                  F.one_hot(labels, 4)),
             ("binary_crossentropy", probs, binary), ("mse", probs, binary), ("hinge", probs, binary),
             ("huber", probs, binary), ("crossentropy", scores, labels),
             (nn.CrossEntropyLoss(), scores, labels), (nn.BCELoss(), probs, binary),
             (losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0), scores, labels)]
    adapters = [(losses.get(spec), p, y) for spec, p, y in cases]
    for adapter, p, y in adapters:
        adapter.check(p, y)

    def forbidden(*args, **kwargs):
        raise AssertionError("host sync inside compute")

    for name in ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__"):
        monkeypatch.setattr(torch.Tensor, name, forbidden)
    values = [adapter.compute(p, y, torch.rand(6)) for adapter, p, y in adapters]
    monkeypatch.undo()
    assert all(v.dim() == 0 and torch.isfinite(v) for v in values)


@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.MeanAbsoluteError(),
                                  losses.BinaryCrossentropy(),
                                  losses.BinaryCrossentropy(from_logits=True)])
def test_fused_fast_path_equals_the_keras_formula_with_gradients(loss):
    adapter = losses.get(loss)
    assert adapter.fused is not None
    torch.manual_seed(0)
    raw = torch.rand(16, 3).clamp(0.01, 0.99)
    y_true = (torch.rand(16, 3) > 0.5).float()
    a = raw.clone().requires_grad_()
    b = raw.clone().requires_grad_()
    fused = adapter.compute(a, y_true)
    keras = loss(y_true, b)
    fused.backward()
    keras.backward()
    torch.testing.assert_close(fused, keras)
    torch.testing.assert_close(a.grad, b.grad)


def test_no_fused_path_where_the_formula_differs():
    assert losses.get(losses.BinaryCrossentropy(label_smoothing=0.1)).fused is None
    assert losses.get(losses.Huber()).fused is None
