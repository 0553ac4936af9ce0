"""torchkeras.LightModel on Lightning: the seed's DNN on the two-ring data."""

import ast
import re
import warnings

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

L = pytest.importorskip("lightning")

from fitorch.datasets import ring_data  # noqa: E402

from .seed_models import Net, torchkeras  # noqa: E402

RULE = re.compile(r"^={80}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


class Model(torchkeras.LightModel):
    # the seed's class; pl.metrics.functional.accuracy is spelled out (it no longer exists)
    def shared_step(self, batch) -> dict:
        x, y = batch
        prediction = self(x)
        loss = nn.BCELoss()(prediction, y)
        preds = torch.where(prediction > 0.5, torch.ones_like(prediction),
                            torch.zeros_like(prediction))
        acc = (preds == y).float().mean()
        # attention: there must be a key of "loss" in the returned dict
        dic = {"loss": loss, "acc": acc}
        return dic

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=1e-2)
        lr_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.0001)
        return {"optimizer": optimizer, "lr_scheduler": lr_scheduler}


def loaders():
    X, Y = ring_data()
    ds = TensorDataset(X, Y)
    ds_train, ds_valid = torch.utils.data.random_split(
        ds, [int(len(ds) * 0.7), len(ds) - int(len(ds) * 0.7)])
    return (DataLoader(ds_train, batch_size=100, shuffle=True),
            DataLoader(ds_valid, batch_size=100))


def trainer(tmp_path, epochs, callbacks=()):
    return L.Trainer(max_epochs=epochs, callbacks=list(callbacks), accelerator="cpu",
                     logger=False, enable_progress_bar=False, enable_model_summary=False,
                     enable_checkpointing=True, default_root_dir=tmp_path)


@pytest.fixture(autouse=True)
def quiet_lightning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on workers and loggers
        yield


def test_seed_dnn_trains_logs_checkpoints_and_keeps_a_history(tmp_path, capsys):
    L.seed_everything(1234)
    dl_train, dl_valid = loaders()
    model = Model(Net())
    ckpt_cb = L.pytorch.callbacks.ModelCheckpoint(monitor="val_loss")
    trainer(tmp_path, 6, [ckpt_cb]).fit(model, dl_train, dl_valid)

    frame = model.history.to_pandas()
    assert list(frame.columns) == ["epoch", "loss", "acc", "val_loss", "val_acc"]
    assert frame["epoch"].tolist() == [1, 2, 3, 4, 5, 6]  # the sanity check is not an epoch
    assert frame["val_acc"].iloc[-1] >= 0.9
    # the checkpoint watched the same val_loss the history holds
    best = frame["val_loss"].idxmin()
    assert float(ckpt_cb.best_model_score) == pytest.approx(frame["val_loss"][best])
    assert f"epoch={best}-" in ckpt_cb.best_model_path
    # the best checkpoint reloads (the net is passed again) and validates to that val_loss
    best_model = Model.load_from_checkpoint(ckpt_cb.best_model_path, net=Net(), verbose=False)
    checked = trainer(tmp_path, 1).validate(best_model, dl_valid, verbose=False)[0]
    assert checked["val_loss"] == pytest.approx(frame["val_loss"][best], rel=1e-5)
    # validate() is not a training epoch: a later fit without validation logs no val_ keys
    trainer(tmp_path, 1).fit(best_model, dl_train)
    assert list(best_model.history.history) == ["loss", "acc"]

    # the seed's epoch blocks: rule, "epoch =  N", the validation dict, the training dict
    lines = [line for line in capsys.readouterr().out.splitlines() if line
             and not line.startswith(("GPU", "TPU", "HPU", "💡", "`Trainer"))]
    assert len(lines) == 6 * 4
    for epoch in range(6):
        rule, title, val, train = lines[4 * epoch: 4 * epoch + 4]
        assert RULE.match(rule) and title == f"epoch =  {epoch}"
        val, train = ast.literal_eval(val), ast.literal_eval(train)
        assert val == pytest.approx({"val_loss": frame["val_loss"][epoch],
                                     "val_acc": frame["val_acc"][epoch]})
        assert train == pytest.approx({"loss": frame["loss"][epoch], "acc": frame["acc"][epoch]})

    # the logged epoch means are the data's: evaluate the final weights by hand
    results = trainer(tmp_path, 1).test(model, dl_valid, verbose=False)[0]
    with torch.no_grad():
        x, y = dl_valid.dataset[:]
        pred = model(x)
    assert list(results) == ["test_loss", "test_acc"]
    assert results["test_loss"] == pytest.approx(nn.BCELoss()(pred, y).item(), rel=1e-5)
    assert results["test_acc"] == pytest.approx(((pred > 0.5).float() == y).float().mean().item())


def test_lightmodel_is_the_net_and_summarizes_as_the_seed(capsys):
    net = Net()
    model = Model(net, verbose=False)
    x = torch.randn(5, 2)
    assert torch.equal(model(x), net(x))
    torchkeras.summary(model, input_shape=(2,))
    out = capsys.readouterr().out
    assert "Total params: 61\n" in out and "Estimated Total Size (MB): 0.000340\n" in out
    assert "Linear-1" in out and "Net-" not in out


def test_quiet_model_and_bad_shared_step(tmp_path, capsys):
    class NoLoss(Model):
        def shared_step(self, batch):
            return {"acc": torch.tensor(1.0)}

    dl_train, dl_valid = loaders()
    model = Model(Net(), verbose=False)
    trainer(tmp_path, 1).fit(model, dl_train, dl_valid)
    assert "epoch =" not in capsys.readouterr().out and len(model.history.epoch) == 1
    with pytest.raises(ValueError, match="NoLoss.shared_step returned .*'loss' key"):
        trainer(tmp_path, 1).fit(NoLoss(Net()), dl_train)
    with pytest.raises(NotImplementedError, match="shared_step"):
        torchkeras.LightModel(Net()).shared_step(None)
    with pytest.raises(TypeError, match="net=3 is not an nn.Module"):
        Model(3)


def test_history_is_torchkeras_dict_of_lists(tmp_path):
    import pandas as pd

    torch.manual_seed(0)
    dl_train, dl_valid = loaders()
    model = Model(Net(), verbose=False)
    trainer(tmp_path, 2).fit(model, dl_train, dl_valid)
    frame = pd.DataFrame(model.history)  # torchkeras's tutorials do this
    assert list(frame.columns) == ["loss", "acc", "val_loss", "val_acc"] and len(frame) == 2
    assert frame["val_loss"].tolist() == model.history.history["val_loss"]
    assert model.history.to_pandas()["epoch"].tolist() == [1, 2]


def test_load_from_checkpoint_rebuilds_the_net_from_its_hyperparameters(tmp_path):
    torch.manual_seed(0)
    dl_train, dl_valid = loaders()
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    model = Model(net, verbose=False)
    ckpt_cb = L.pytorch.callbacks.ModelCheckpoint(monitor="val_loss")
    trainer(tmp_path, 2, [ckpt_cb]).fit(model, dl_train, dl_valid)
    # the tutorials' call: no net passed, and the checkpoint loads weights-only (no pickle)
    loaded = Model.load_from_checkpoint(ckpt_cb.best_model_path)
    x = torch.randn(5, 2)
    assert repr(loaded.net) == repr(net)
    best = torch.load(ckpt_cb.best_model_path, weights_only=True)["state_dict"]
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, best[key])
    assert loaded(x).shape == (5, 1) and loaded.verbose is False


def test_load_from_checkpoint_of_an_unstorable_net_says_what_to_pass(tmp_path):
    torch.manual_seed(0)
    dl_train, _ = loaders()
    model = Model(Net(), verbose=False)  # the tutorial's own class, not registered
    trainer(tmp_path, 1).fit(model, dl_train)
    path = str(next(tmp_path.rglob("*.ckpt")))
    with pytest.raises(ValueError, match=r"load_from_checkpoint\(path, net=YourNet\(\)\)"):
        Model.load_from_checkpoint(path)
    again = Model.load_from_checkpoint(path, net=Net())
    x = torch.randn(5, 2)
    assert torch.equal(again(x), model(x))
