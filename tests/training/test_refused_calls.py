"""A refused fit / evaluate / predict changes nothing: weights, buffers, optimizer state, history,
train/eval flags and the global RNG are compared bit for bit before and after each refused call.
Streamed data names the bad batch; on_nan="restore" puts the last good state back."""

import copy
import threading

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fitorch as ft
from fitorch import layers


# ---------------------------------------------------------------------------- state snapshots
def _same(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape \
            and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)  # NaN == NaN here


def snapshot(model):
    """Everything a refused call must leave as it was."""
    history = model.history
    return {
        "weights": {k: v.clone() for k, v in model.state_dict().items()},
        "optimizer": copy.deepcopy(model.optimizer.state_dict()) if model.optimizer else None,
        "history": None if history is None else copy.deepcopy(history.history),
        "modes": [m.training for m in model.modules()],
        "rng": torch.get_rng_state(),
    }


def assert_unchanged(model, before):
    after = snapshot(model)
    for key in before:
        assert _same(before[key], after[key]), f"{key} changed"


def trained(module, x, y, **compile_kw):
    """A compiled model that already trained one epoch, so optimizer state and history exist."""
    torch.manual_seed(0)
    model = ft.Model(module)
    compile_kw.setdefault("optimizer", "adam")
    compile_kw.setdefault("loss", "mse")
    model.compile(device="cpu", **compile_kw)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    return model


def twin(model):
    """An independent copy with the same weights and optimizer state (a deepcopy of a model is
    uncompiled: its training state is not copied)."""
    other = copy.deepcopy(model)
    other.compile(optimizer="adam", loss="mse", device="cpu")
    other.optimizer.load_state_dict(copy.deepcopy(model.optimizer.state_dict()))
    return other


def classifier(n_classes=4):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, n_classes))


def labels(n=40, n_classes=4):
    return torch.arange(n) % n_classes


# ---------------------------------------------------------------------------- NaN / inf in x
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_x_is_refused_before_training(bad):
    x, y = torch.randn(40, 3), torch.randn(40, 1)
    model = trained(nn.Linear(3, 1), x, y)
    x_bad = x.clone()
    x_bad[37, 1] = bad
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"fit: x contains NaN or infinity \(first in sample 37\)"
                                         r".*check_finite=False"):
        model.fit(x_bad, y, batch_size=8, epochs=2, verbose=0)
    assert_unchanged(model, before)


def test_non_finite_targets_and_validation_inputs_are_refused():
    x, y = torch.randn(40, 3), torch.randn(40, 1)
    model = trained(nn.Linear(3, 1), x, y)
    y_bad = y.clone()
    y_bad[3] = float("nan")
    x_val, y_val = torch.randn(10, 3), torch.randn(10, 1)
    x_val[4, 0] = float("inf")
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"y contains NaN"):
        model.fit(x, y_bad, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data: x contains NaN or infinity"):
        model.fit(x, y, validation_data=(x_val, y_val), verbose=0)
    assert_unchanged(model, before)


def test_check_finite_false_skips_the_scan():
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    x[0, 0] = float("nan")
    model = trained(nn.Linear(3, 1), torch.randn(16, 3), y)
    model.fit(x, y, batch_size=16, verbose=0, check_finite=False, on_nan="ignore")
    assert torch.isnan(model.weight).all()  # it trained on the NaN, as asked


# ---------------------------------------------------------------------------- sparse labels
@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", nn.CrossEntropyLoss()])
def test_one_out_of_range_label_in_the_last_batch(loss):
    x, y = torch.randn(40, 3), labels()
    model = trained(classifier(), x, y, loss=loss)
    y_bad = y.clone()
    y_bad[-1] = 4  # batch 5 of 5
    y_negative = torch.where(y == 2, -1, y)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"fit: y has class label 4 at sample 39, but the "
                                         r"model's output has 4 classes.*\[0, 4\)"):
        model.fit(x, y_bad, batch_size=8, shuffle=False, verbose=0)
    with pytest.raises(ValueError, match="class label -1"):
        model.fit(x, y_negative, verbose=0)
    with pytest.raises(ValueError, match="evaluate: y has class label 4"):
        model.evaluate(x, y_bad, verbose=0)
    assert_unchanged(model, before)


def test_ignored_label_is_allowed():
    x, y = torch.randn(40, 3), labels()
    model = trained(classifier(), x, y, loss=nn.CrossEntropyLoss(ignore_index=-100))
    model.fit(x, torch.where(y == 2, -100, y), verbose=0)  # torch's ignore_index
    keras = trained(classifier(), x, y,
                    loss=ft.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                                 ignore_class=7))
    keras.fit(x, torch.where(y == 2, 7, y), verbose=0)


def test_non_integer_float_labels_are_refused():
    x = torch.randn(40, 3)
    model = trained(classifier(), x, labels(), loss="sparse_categorical_crossentropy")
    y_bad = labels().float()
    y_bad[[5, 9]] = torch.tensor([0.37, 1.82])
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"sample 5 has 0\.37, which is not a whole number"):
        model.fit(x, y_bad, verbose=0)
    assert_unchanged(model, before)


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "crossentropy"])
def test_integer_valued_float_labels_train_as_integers(loss):
    """Keras casts integer-valued float labels; the result equals training on the integers."""
    x, y = torch.randn(40, 3), labels()
    as_int = trained(nn.Sequential(classifier(), nn.Softmax(-1)), x, y, loss=loss)
    as_float = trained(nn.Sequential(classifier(), nn.Softmax(-1)), x, y.float(), loss=loss)
    for a, b in zip(as_int.parameters(), as_float.parameters()):
        assert torch.equal(a, b)
    assert as_int.history.history == as_float.history.history


def test_integer_valued_float_labels_match_keras():
    keras = pytest.importorskip("keras")
    y = np.array([0.0, 2.0, 1.0, 3.0])
    p = np.array([[.1, .2, .3, .4], [.25, .25, .25, .25], [.7, .1, .1, .1], [.1, .1, .1, .7]],
                 dtype="float32")
    expected = float(keras.losses.SparseCategoricalCrossentropy()(y, p))
    got = float(ft.losses.SparseCategoricalCrossentropy()(torch.tensor(y, dtype=torch.float32),
                                                          torch.tensor(p)))
    assert got == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------------------- class_weight
def test_class_weight_missing_a_class_of_y():
    x, y = torch.randn(40, 3), labels()
    model = trained(classifier(), x, y, loss="sparse_categorical_crossentropy")
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"class_weight has no weight for class\(es\) \[3\]"):
        model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0)
    assert_unchanged(model, before)


def test_class_weight_naming_an_unknown_class():
    x, y = torch.randn(40, 3), labels()
    model = trained(classifier(), x, y, loss="sparse_categorical_crossentropy")
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"class_weight names class\(es\) \[7\], but the "
                                         r"model's output has 4 classes"):
        model.fit(x, y, class_weight={0: 1.0, 1: 1.0, 2: 1.0, 3: 1.0, 7: 5.0}, verbose=0)
    assert_unchanged(model, before)


def test_class_weight_for_every_class_still_trains():
    x, y = torch.randn(40, 3), labels()
    model = trained(classifier(), x, y, loss="sparse_categorical_crossentropy")
    model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 1.0, 3: 0.5}, verbose=0)


# ---------------------------------------------------------------------------- validation_data
def test_validation_data_of_the_wrong_shape_fails_before_any_training():
    x, y = torch.randn(40, 3), torch.randn(40, 1)
    model = trained(nn.Linear(3, 1), x, y)
    wide, narrow, targets, wide_targets = (torch.randn(10, 5), torch.randn(10, 3),
                                           torch.randn(10, 1), torch.randn(10, 4))
    loader = DataLoader(TensorDataset(wide, targets), batch_size=5)
    before = snapshot(model)
    with pytest.raises(RuntimeError, match=r"validation_data: the model failed on the first "
                                           r"batch.*mat1 and mat2"):
        model.fit(x, y, validation_data=(wide, targets), verbose=0)
    with pytest.raises(ValueError, match=r"validation_data: loss 'mean_squared_error'"):
        model.fit(x, y, validation_data=(narrow, wide_targets), verbose=0)
    with pytest.raises(RuntimeError, match="validation_data: the model failed"):
        model.fit(x, y, validation_data=loader, verbose=0)
    assert_unchanged(model, before)


# ---------------------------------------------------------------------------- declared inputs
def two_input_model():
    torch.manual_seed(0)
    a, b = ft.Input(shape=(2,), name="a"), ft.Input(shape=(3,), name="b")
    merged = layers.Concatenate()([a, b])  # swapped inputs still concatenate to width 5
    model = ft.Model(inputs=[a, b], outputs=layers.Dense(1)(layers.Dense(4)(merged)))
    model.compile(optimizer="adam", loss="mse", device="cpu")
    xa, xb, y = torch.randn(32, 2), torch.randn(32, 3), torch.randn(32, 1)
    model.fit([xa, xb], y, batch_size=8, verbose=0)
    return model, xa, xb, y


def test_swapped_inputs_of_a_two_input_model_are_refused():
    model, xa, xb, y = two_input_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"fit: input 'a' \(index 0\) has shape \(32, 3\) but "
                                         r"the model declares \(None, 2\)"):
        model.fit([xb, xa], y, verbose=0)
    with pytest.raises(ValueError, match=r"evaluate: input 'a' \(index 0\)"):
        model.evaluate([xb, xa], y, verbose=0)
    with pytest.raises(ValueError, match=r"predict: input 'a' \(index 0\)"):
        model.predict([xb, xa], verbose=0)
    assert_unchanged(model, before)


def test_wrong_feature_width_names_the_input():
    model, xa, xb, y = two_input_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"input 'b' \(index 1\) has shape \(32, 2\) but the "
                                         r"model declares \(None, 3\)"):
        model.fit([xa, xb[:, :2]], y, verbose=0)
    with pytest.raises(ValueError, match=r"takes 2 input\(s\) \['a', 'b'\] but x holds 1"):
        model.fit(xa, y, verbose=0)
    with pytest.raises(ValueError, match=r"missing \['b'\]"):
        model.fit({"a": xa}, y, verbose=0)
    assert_unchanged(model, before)
    model.fit({"a": xa, "b": xb}, y, verbose=0)  # by name: accepted


def test_streamed_batch_with_a_wrong_input_names_the_batch():
    model, xa, xb, y = two_input_model()

    def batches():
        yield (xa[:8], xb[:8]), y[:8]
        yield (xa[8:16], xb[8:16, :2]), y[8:16]

    with pytest.raises(ValueError, match=r"fit: batch 2 \(pass 1 over the data\): input 'b' "
                                         r"\(index 1\) has shape \(8, 2\)"):
        model.fit(batches(), verbose=0)


# ---------------------------------------------------------------------------- streamed data
def test_streamed_nan_batch_is_refused_by_number_and_the_good_batches_stand():
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    x[20, 0] = float("nan")  # batch 3 of 4 (batch_size 8)
    model = trained(nn.Linear(3, 1), torch.randn(16, 3), torch.randn(16, 1))
    reference = twin(model)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    with pytest.raises(ValueError, match=r"fit: batch 3 \(pass 1 over the data\): x contains "
                                         r"NaN or infinity \(first in sample 4\)"):
        model.fit(loader, verbose=0)
    # the first two batches trained, exactly as a loader of those two batches trains
    reference.fit(DataLoader(TensorDataset(x[:16], y[:16]), batch_size=8), verbose=0)
    for a, b in zip(model.parameters(), reference.parameters()):
        assert torch.equal(a, b)


def test_streamed_out_of_range_label_names_the_batch():
    x, y = torch.randn(24, 3), labels(24)
    y[17] = 9
    model = trained(classifier(), x, labels(24), loss="sparse_categorical_crossentropy")

    def batches():
        for i in range(0, 24, 8):
            yield x[i:i + 8], y[i:i + 8]

    with pytest.raises(ValueError, match=r"batch 3 \(pass 1 over the data\): y has class "
                                         r"label 9 at sample 1"):
        model.fit(batches, epochs=1, verbose=0)


def test_on_nan_restore_puts_back_the_last_good_state():
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    y_bad = y.clone()
    y_bad[30] = float("nan")
    model = trained(nn.Linear(3, 1), x, y)
    reference = snapshot(model)
    with pytest.warns(UserWarning, match=r"epoch 1, step 4.*back to those at the start"):
        history = model.fit(x, y_bad, batch_size=8, shuffle=False, epochs=3, verbose=0,
                            check_finite=False, on_nan="restore")
    assert history.epoch == [0]
    after = snapshot(model)
    assert _same(reference["weights"], after["weights"])
    assert _same(reference["optimizer"], after["optimizer"])
    assert after["modes"] == reference["modes"]
    model.fit(x, y, batch_size=8, verbose=0)  # and training goes on from there
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_on_nan_restore_keeps_earlier_good_epochs():
    """NaN in epoch 2: the weights are those after epoch 1, bit for bit."""
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    state = {"epoch": 0}

    class PoisonSecondEpoch(ft.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            state["epoch"] = epoch

    def batches():
        for i in range(0, 32, 8):
            yb = y[i:i + 8].clone()
            if state["epoch"] == 1 and i == 16:
                yb[0] = float("nan")
            yield x[i:i + 8], yb

    model = trained(nn.Linear(3, 1), x, y)
    reference = twin(model)
    reference.fit(batches, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="epoch 2, step 3"):
        model.fit(batches, epochs=3, verbose=0, check_finite=False, on_nan="restore",
                  callbacks=[PoisonSecondEpoch()])
    for a, b in zip(model.parameters(), reference.parameters()):
        assert torch.equal(a, b)
    assert _same(model.optimizer.state_dict()["state"], reference.optimizer.state_dict()["state"])


def test_on_nan_rejects_unknown_values():
    model = trained(nn.Linear(3, 1), torch.randn(8, 3), torch.randn(8, 1))
    with pytest.raises(ValueError, match="restore"):
        model.fit(torch.randn(8, 3), torch.randn(8, 1), on_nan="rollback", verbose=0)


# ---------------------------------------------------------------------------- threads
class DropBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.bn, self.drop, self.fc2 = (nn.Linear(6, 32), nn.BatchNorm1d(32),
                                                  nn.Dropout(0.5), nn.Linear(32, 3))

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.bn(self.fc1(x)))))


def _run_threads(fn, n=4, calls=40):
    results, errors = [], []
    barrier = threading.Barrier(n)

    def work():
        barrier.wait()
        try:
            for _ in range(calls):
                results.append(fn())
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def bn_model():
    x, y = torch.randn(64, 6), torch.randint(0, 3, (64,))
    model = trained(DropBN(), x, y, loss=nn.CrossEntropyLoss())
    model.train()
    return model, x, y


def test_predict_from_four_threads_is_correct_and_leaves_the_model_as_it_was():
    model, x, _ = bn_model()
    expected = model.predict(x, batch_size=16, verbose=0)
    before = snapshot(model)
    results = _run_threads(lambda: model.predict(x, batch_size=16, verbose=0))
    assert len(results) == 160
    wrong = sum(not torch.equal(r, expected) for r in results)
    assert wrong == 0, f"{wrong} of 160 concurrent predictions differ"
    assert_unchanged(model, before)  # BatchNorm statistics and train mode included
    assert model.training


def test_evaluate_from_four_threads_is_correct():
    model, x, y = bn_model()
    expected = model.evaluate(x, y, batch_size=16, verbose=0)
    before = snapshot(model)
    results = _run_threads(lambda: model.evaluate(x, y, batch_size=16, verbose=0), calls=10)
    assert results == [expected] * 40
    assert_unchanged(model, before)


def test_predict_while_another_thread_fits_is_refused():
    model, x, y = bn_model()
    started, release, outcome = threading.Event(), threading.Event(), {}

    class Pause(ft.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                started.set()
                release.wait(60)

    thread = threading.Thread(
        target=lambda: outcome.setdefault("history", model.fit(
            x, y, batch_size=16, verbose=0, callbacks=[Pause()])))
    thread.start()
    assert started.wait(60)
    try:
        with pytest.raises(RuntimeError, match="being trained by fit in thread"):
            model.predict(x, verbose=0)
        with pytest.raises(RuntimeError, match="being trained by fit"):
            model.evaluate(x, y, verbose=0)
    finally:
        release.set()
        thread.join(60)
    assert "history" in outcome and model.training
