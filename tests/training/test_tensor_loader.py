"""fit(DataLoader(TensorDataset(...))) batches by indexing, exactly as the loader would batch.

The oracle is always the DataLoader itself: iterated by hand under the same RNG state, or
trained over by a hand-written loop.
"""

import pytest
import torch
from torch import nn
from torch.utils.data import (BatchSampler, DataLoader, RandomSampler, Sampler,
                              SequentialSampler, TensorDataset, default_collate)

import fitorch as ft
from fitorch.training import data as data_lib


def _adapter(loader):
    return data_lib.adapt(loader, batch_size=None, shuffle=True, device=torch.device("cpu"))


def _tensors(n=23, k=3, dtype=torch.float32):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(n, 4, generator=g, dtype=dtype)
    y = torch.randint(0, 3, (n,), generator=g)
    w = torch.rand(n, generator=g, dtype=dtype)
    return (x, y, w)[:k]


def _same_epoch(loader, epochs=2):
    """Iterate ``loader`` by hand and through the adapter from one RNG state: batches and
    the RNG states afterwards (global and the loader's generator) must be identical."""
    gen = loader.generator if loader.generator is not None else getattr(loader.sampler,
                                                                          "generator", None)
    start = torch.get_rng_state(), None if gen is None else gen.get_state()
    expected = [[tuple(b) for b in loader] for _ in range(epochs)]
    after = torch.get_rng_state(), None if gen is None else gen.get_state()
    torch.set_rng_state(start[0])
    if gen is not None:
        gen.set_state(start[1])
    adapter = _adapter(loader)
    assert isinstance(adapter, data_lib.TensorDatasetLoaderAdapter)
    got = [list(adapter) for _ in range(epochs)]
    assert torch.equal(torch.get_rng_state(), after[0])
    if gen is not None:
        assert torch.equal(gen.get_state(), after[1])
    assert len(got) == len(expected)
    for epoch_got, epoch_expected in zip(got, expected):
        assert len(epoch_got) == len(epoch_expected) == len(loader)
        for batch, ref in zip(epoch_got, epoch_expected):
            ref = ref + (None,) * (3 - len(ref))
            for a, b in zip(batch, ref):
                if b is None:
                    assert a is None
                else:
                    assert a.dtype == b.dtype and torch.equal(a, b)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("batch_size", [1, 5, 23, 40])
def test_same_batches_in_the_same_order_as_the_loader(k, shuffle, batch_size):
    torch.manual_seed(11)
    _same_epoch(DataLoader(TensorDataset(*_tensors(k=k)), batch_size=batch_size,
                           shuffle=shuffle))


def test_same_batches_with_the_loaders_generator():
    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(*_tensors()), batch_size=4, shuffle=True,
                        generator=torch.Generator().manual_seed(3))
    _same_epoch(loader)


@pytest.mark.parametrize("sampler_kw", [dict(replacement=True, num_samples=50),
                                        dict(num_samples=30), dict(num_samples=9)])
def test_same_batches_with_a_random_sampler_of_other_length(sampler_kw):
    ds = TensorDataset(*_tensors())
    torch.manual_seed(2)
    _same_epoch(DataLoader(ds, batch_size=4, sampler=RandomSampler(ds, **sampler_kw)))


def test_float64_tensors_come_as_float32_like_the_loader_path():
    x, y = _tensors(k=2, dtype=torch.float64)
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    fast = list(_adapter(loader))
    generic = list(data_lib.LoaderAdapter(loader, torch.device("cpu"), "fit"))
    for (xa, ya, _), (xb, yb, _) in zip(fast, generic, strict=True):
        assert xa.dtype == xb.dtype == torch.float32 and torch.equal(xa, xb)
        assert torch.equal(ya, yb)


class EveryOther(Sampler):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(0, self.n, 2))

    def __len__(self):
        return (self.n + 1) // 2


class MyLoader(DataLoader):
    pass


class MyDataset(TensorDataset):
    pass


def _generic_cases():
    ds = TensorDataset(*_tensors())
    seq = SequentialSampler(ds)
    return {
        "drop_last": DataLoader(ds, batch_size=5, drop_last=True),
        "custom sampler": DataLoader(ds, batch_size=5, sampler=EveryOther(len(ds))),
        "sampler of another dataset": DataLoader(ds, batch_size=5, sampler=RandomSampler(
            TensorDataset(torch.zeros(len(ds))))),
        "custom batch sampler": DataLoader(ds, batch_sampler=[[0, 2], [1, 3, 5]]),
        "BatchSampler passed in": DataLoader(ds, batch_sampler=BatchSampler(seq, 4, False)),
        "collate_fn": DataLoader(ds, batch_size=5, collate_fn=lambda b: default_collate(b)),
        "workers": DataLoader(ds, batch_size=5, num_workers=1),
        "pinned memory": DataLoader(ds, batch_size=5, pin_memory=True),
        "no batching": DataLoader(ds, batch_size=None),
        "DataLoader subclass": MyLoader(ds, batch_size=5),
        "TensorDataset subclass": DataLoader(MyDataset(*_tensors()), batch_size=5),
        "four tensors": DataLoader(TensorDataset(*_tensors(), torch.zeros(23)), batch_size=5),
        "tensors on two devices": DataLoader(TensorDataset(_tensors()[0], torch.zeros(
            23, device="meta")), batch_size=5),
    }


@pytest.mark.parametrize("case", list(_generic_cases()))
def test_anything_else_is_iterated_as_given(case):
    loader = _generic_cases()[case]
    assert data_lib.sliceable_tensors(loader) is None
    adapter = _adapter(loader)
    assert type(adapter) is data_lib.LoaderAdapter and adapter.loader is loader


def test_fit_calls_a_custom_collate_fn_and_drops_the_last_batch():
    x, y, _ = _tensors()
    calls = []

    def collate(samples):
        calls.append(len(samples))
        return default_collate(samples)

    steps = []

    class Steps(ft.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    model = _compiled()
    model.fit(DataLoader(TensorDataset(x, y), batch_size=5, collate_fn=collate, drop_last=True),
              epochs=1, verbose=0, callbacks=[Steps()])
    assert steps == [0, 1, 2, 3]  # 23 samples: the loader's 4 full batches
    assert len(calls) >= 4 and set(calls) == {5}  # each made by its collate_fn


# ---------------------------------------------------------------------------- training
class DropNet(nn.Module):
    """Dropout draws from the global RNG between batches, so any change in RNG use shows."""

    def __init__(self):
        super().__init__()
        self.fc1, self.drop, self.fc2 = nn.Linear(4, 16), nn.Dropout(0.3), nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


def _compiled():
    torch.manual_seed(0)
    model = ft.Model(DropNet())
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                  loss=nn.CrossEntropyLoss(), device="cpu")
    return model


def _hand(loader, epochs):
    torch.manual_seed(0)
    net = DropNet()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()
    torch.manual_seed(7)
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net, torch.get_rng_state()


@pytest.mark.parametrize("generator", [False, True])
def test_fit_trains_exactly_as_a_hand_loop_over_the_loader(generator):
    x, y = _tensors(n=61, k=2)
    make = lambda: DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True,  # noqa: E731
                              generator=torch.Generator().manual_seed(1) if generator else None)
    ref, ref_rng = _hand(make(), epochs=3)
    model = _compiled()
    torch.manual_seed(7)
    model.fit(make(), epochs=3, verbose=0)
    assert torch.equal(torch.get_rng_state(), ref_rng)
    for a, b in zip(model.parameters(), ref.parameters(), strict=True):
        assert torch.equal(a, b)


def test_fit_on_a_tensor_dataset_trains_as_a_loop_over_its_dataloader():
    x, y = _tensors(n=61, k=2)
    ref, _ = _hand(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), epochs=2)
    model = _compiled()
    torch.manual_seed(7)
    model.fit(TensorDataset(x, y), batch_size=8, epochs=2, verbose=0)
    for a, b in zip(model.parameters(), ref.parameters(), strict=True):
        assert torch.equal(a, b)


def test_evaluate_and_predict_over_a_loader_match_the_whole_tensors():
    x, y = _tensors(n=61, k=2)
    model = _compiled()
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    logs = model.evaluate(loader, verbose=0, return_dict=True)
    pred = model.predict(DataLoader(TensorDataset(x), batch_size=8), verbose=0)
    model.eval()
    with torch.no_grad():
        out = model(x)
    torch.testing.assert_close(pred, out)
    torch.testing.assert_close(torch.tensor(logs["loss"]), nn.CrossEntropyLoss()(out, y))


def test_bad_values_are_refused_before_training_naming_the_sample():
    x, y = _tensors(n=61, k=2)
    x = x.clone()
    x[37, 2] = float("nan")
    model = _compiled()
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"fit: the DataLoader's TensorDataset: x contains NaN "
                                         r"or infinity \(first in sample 37\)"):
        model.fit(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), verbose=0)
    for a, b in zip(model.parameters(), before, strict=True):
        assert torch.equal(a, b)
    y_bad = y.clone()
    y_bad[4] = 3  # the model has 3 classes
    with pytest.raises(ValueError, match="class label 3 at sample 4"):
        model.fit(DataLoader(TensorDataset(_tensors(n=61, k=1)[0], y_bad), batch_size=8),
                  verbose=0)
