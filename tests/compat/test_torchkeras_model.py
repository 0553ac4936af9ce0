"""torchkeras.Model: the seed's snippets with ``import torchkeras`` replaced by
``from fitorch.compat import torchkeras``."""

import ast
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fitorch
from fitorch.compat.torchkeras.model import format_table
from fitorch.datasets import linear_data, mnist_data

from .seed_models import (CnnModel, LinearRegression, mean_absolute_error,
                          mean_absolute_percent_error, torchkeras)

RULE = re.compile(r"^={80}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def linear_loaders(shuffle=True, batch_size=10):
    torch.manual_seed(0)
    X, Y = linear_data()
    ds = TensorDataset(X, Y)
    ds_train, ds_valid = torch.utils.data.random_split(ds, [int(400 * 0.7), 400 - int(400 * 0.7)])
    return (DataLoader(ds_train, batch_size=batch_size, shuffle=shuffle),
            DataLoader(ds_valid, batch_size=batch_size))


# ---------------------------------------------------------------- the epoch table
def test_epoch_table_is_the_seeds_prettytable_box():
    # the seed's printed tables, rebuilt from their own numbers
    assert format_table({"epoch": 1, "loss": 0.371, "accuracy": 0.879, "val_loss": 0.087,
                         "val_accuracy": 0.972}) == "\n".join([
        "+-------+-------+----------+----------+--------------+",
        "| epoch |  loss | accuracy | val_loss | val_accuracy |",
        "+-------+-------+----------+----------+--------------+",
        "|   1   | 0.371 |  0.879   |  0.087   |    0.972     |",
        "+-------+-------+----------+----------+--------------+"])
    assert format_table({"epoch": 2, "loss": 206.238, "mae": 11.759, "mape": 1.26,
                         "val_loss": 199.669, "val_mae": 11.895, "val_mape": 1.012}) == "\n".join([
        "+-------+---------+--------+------+----------+---------+----------+",
        "| epoch |   loss  |  mae   | mape | val_loss | val_mae | val_mape |",
        "+-------+---------+--------+------+----------+---------+----------+",
        "|   2   | 206.238 | 11.759 | 1.26 | 199.669  |  11.895 |  1.012   |",
        "+-------+---------+--------+------+----------+---------+----------+"])


def test_epoch_table_matches_prettytable_when_installed():
    pt = pytest.importorskip("prettytable")
    row = {"epoch": 1, "loss": 230.773, "mae": 12.41, "mape": 1.394, "val_loss": 223.262,
           "val_mae": 12.582, "val_mape": 1.095}
    tb = pt.PrettyTable()
    tb.field_names = row.keys()
    tb.add_row(row.values())
    assert format_table(row) == str(tb)


# ---------------------------------------------------------------- wrapper form
def test_wrapped_module_prints_and_is_the_module():
    net = CnnModel()
    model = torchkeras.Model(net)
    assert str(model) == str(net) and str(model).startswith("CnnModel(\n  (layers): ModuleList(")
    assert isinstance(model, CnnModel) and isinstance(model, fitorch.Model)
    assert list(model.state_dict()) == list(net.state_dict())
    assert all(a is b for a, b in zip(model.parameters(), net.parameters()))
    with pytest.raises(TypeError, match="one nn.Module"):
        torchkeras.Model(net, 2)


def test_cnn_on_mnist_digits_prints_the_seeds_log_and_returns_the_history(capsys):
    from sklearn.metrics import accuracy_score

    def accuracy(y_pred, y_true):  # the seed's metric: sklearn on the host, returns a float
        y_pred_cls = torch.argmax(nn.Softmax(dim=1)(y_pred), dim=1).data
        return accuracy_score(y_true.numpy(), y_pred_cls.numpy())

    x, y = mnist_data()
    torch.manual_seed(0)
    # 600 digits, one epoch: enough to leave chance behind, a second or two on a CPU
    dl_train = DataLoader(TensorDataset(x[:600], y[:600]), batch_size=8, shuffle=True)
    dl_valid = DataLoader(TensorDataset(x[4000:4200], y[4000:4200]), batch_size=100)
    model = torchkeras.Model(CnnModel())
    model.compile(loss_func=nn.CrossEntropyLoss(),
                  optimizer=torch.optim.Adam(model.parameters(), lr=0.005),
                  metrics_dict={"accuracy": accuracy})
    dfhistory = model.fit(1, dl_train=dl_train, dl_val=dl_valid, log_step_freq=25)

    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Start Training ...", ""] and RULE.match(lines[2])
    steps = [ast.literal_eval(line) for line in lines[3:6]]
    assert [s["step"] for s in steps] == [25, 50, 75] and lines[6] == ""  # 75 batches
    assert all(list(s) == ["step", "loss", "accuracy"] for s in steps)
    assert all(round(v, 3) == v for s in steps for v in s.values())
    header = "+-------+-------+----------+----------+--------------+"
    assert lines[7] == " " + header
    assert lines[8] == "| epoch |  loss | accuracy | val_loss | val_accuracy |"
    assert lines[9] == lines[11] == header and lines[10].startswith("|   1   | ")
    assert lines[12] == "" and RULE.match(lines[13]) and lines[14:] == ["Finished Training..."]

    assert list(dfhistory.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert dfhistory["epoch"].tolist() == [1]
    cells = [c.strip() for c in lines[10].strip("|").split("|")]
    assert cells == [str(v) for v in [1, *[round(float(dfhistory[c][0]), 3)
                                           for c in dfhistory.columns[1:]]]]
    # the same training written by hand (same seed, data order, dropout masks) reaches the
    # same weights and accuracy: 0.385 on these 200 digits after one epoch (chance is 0.1)
    torch.manual_seed(0)
    hand_train = DataLoader(TensorDataset(x[:600], y[:600]), batch_size=8, shuffle=True)
    net = CnnModel()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.005)
    net.train()
    for xb, yb in hand_train:
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(net(xb), yb).backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        hand_accuracy = (net(x[4000:4200]).argmax(1) == y[4000:4200]).float().mean().item()
    for name, tensor in net.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], tensor, msg=name)
    assert dfhistory["val_accuracy"][0] == pytest.approx(hand_accuracy, abs=1e-6)
    assert dfhistory["val_accuracy"][0] > 0.3

    result = model.evaluate(dl_valid)
    assert list(result) == ["val_loss", "val_accuracy"]
    assert result["val_accuracy"] == pytest.approx(dfhistory["val_accuracy"][0])
    preds = model.predict(dl_valid)
    assert preds.shape == (200, 10)
    assert result["val_accuracy"] == pytest.approx(
        (preds.argmax(1) == y[4000:4200]).float().mean().item())


# ---------------------------------------------------------------- subclass form
SEED_LINEAR_SUMMARY = """\
----------------------------------------------------------------
        Layer (type)               Output Shape         Param #
================================================================
            Linear-1                    [-1, 1]               3
================================================================
Total params: 3
Trainable params: 3
Non-trainable params: 0
----------------------------------------------------------------
Input size (MB): 0.000008
Forward/backward pass size (MB): 0.000008
Params size (MB): 0.000011
Estimated Total Size (MB): 0.000027
----------------------------------------------------------------
"""


def test_linear_regression_summary_is_the_seeds_block(capsys):
    model = LinearRegression()
    model.summary(input_shape=(2,))
    assert capsys.readouterr().out == SEED_LINEAR_SUMMARY


def test_linear_regression_fits_w_and_b(capsys):
    # The seed trains 200 epochs with Adam lr=0.01; lr=0.1 reaches the same answer in 30.
    dl_train, dl_valid = linear_loaders()
    model = LinearRegression()
    model.compile(loss_func=nn.MSELoss(),
                  optimizer=torch.optim.Adam(model.parameters(), lr=0.1),
                  metrics_dict={"mae": mean_absolute_error, "mape": mean_absolute_percent_error})
    dfhistory = model.fit(30, dl_train=dl_train, dl_val=dl_valid, log_step_freq=20)
    assert list(dfhistory.columns) == ["epoch", "loss", "mae", "mape", "val_loss", "val_mae",
                                       "val_mape"]
    assert len(dfhistory) == 30 and capsys.readouterr().out.count("{'step': 20, ") == 30
    w, b = model.fc.weight.detach()[0], model.fc.bias.detach()
    assert w.tolist() == pytest.approx([2.0, -3.0], abs=0.3)
    assert b.item() == pytest.approx(10.0, abs=0.3)


def test_logged_values_are_the_running_means_of_the_batches(capsys):
    # lr=0: the model stays fixed, so every printed value can be computed by hand.
    dl_train, dl_valid = linear_loaders(shuffle=False)
    model = LinearRegression()

    def mae_float(y_pred, y_true):  # a metric returning a Python float
        return float(torch.mean(torch.abs(y_pred - y_true)))

    def mae_numpy(y_pred, y_true):  # ... and a NumPy float
        return np.mean(np.abs(y_pred.numpy() - y_true.numpy()))

    model.compile(nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.0),
                  {"mae": mean_absolute_error, "mae_f": mae_float, "mae_np": mae_numpy})
    model.fit(1, dl_train, dl_valid, log_step_freq=7)
    with torch.no_grad():
        batches = [(model(x), y) for x, y in dl_train]
    logged = [ast.literal_eval(line) for line in capsys.readouterr().out.splitlines()
              if line.startswith("{'step'")]
    assert [d["step"] for d in logged] == [7, 14, 21, 28]
    for line in logged:
        seen = batches[:line["step"]]  # all batches hold 10 samples: the mean of batch means
        loss = np.mean([nn.functional.mse_loss(p, y).item() for p, y in seen])
        mae = np.mean([(p - y).abs().mean().item() for p, y in seen])
        assert line["loss"] == pytest.approx(loss, abs=1.5e-3)
        assert line["mae"] == line["mae_f"] == line["mae_np"] == pytest.approx(mae, abs=1.5e-3)


def test_compile_defaults_and_errors():
    model = LinearRegression()
    model.compile(loss_func=nn.MSELoss())
    assert isinstance(model.optimizer, torch.optim.Adam)
    assert model.optimizer.param_groups[0]["lr"] == 0.001  # torchkeras's default
    assert model.device == torch.device("cpu")  # device=None: the model stays where it is
    before = model.__dict__["_ft"]
    with pytest.raises(ValueError, match="loss_func=None"):
        model.compile()
    with pytest.raises(TypeError, match="metrics_dict=.*expected a dict"):
        model.compile(nn.MSELoss(), metrics_dict=[mean_absolute_error])
    with pytest.raises(TypeError, match="both loss_func= and loss="):
        model.compile(nn.MSELoss(), loss=nn.L1Loss())
    assert model.__dict__["_ft"] is before  # failed compiles changed nothing


def test_fit_checks_its_arguments_before_training(capsys):
    dl_train, _ = linear_loaders()
    model = LinearRegression()
    model.compile(nn.MSELoss())
    weights = model.fc.weight.detach().clone()
    with pytest.raises(ValueError, match="log_step_freq=0"):
        model.fit(1, dl_train, log_step_freq=0)
    with pytest.raises(TypeError, match=r"epochs=<torch.utils.data.*fit\(epochs, dl_train"):
        model.fit(dl_train, 1)
    assert torch.equal(model.fc.weight, weights) and capsys.readouterr().out == ""
    df = model.fit(1, dl_train, log_step_freq=100)  # no validation: no val_ columns
    assert list(df.columns) == ["epoch", "loss"]


def test_core_keywords_still_work_through_compile():
    # fitorch code that compiles any Model by keyword (e.g. the seed-style steps) keeps working
    from fitorch.training.steps import train_step

    model = LinearRegression()
    model.compile(loss=nn.MSELoss(), optimizer=torch.optim.SGD(model.parameters(), lr=0.01),
                  metrics={"mae": mean_absolute_error})
    x, y = linear_data(n=20)
    loss, mae = train_step(model, x, y)
    assert loss > 0 and mae > 0


def test_importing_the_module_stays_light_and_lightmodel_names_the_extra(monkeypatch):
    code = ("import sys; from fitorch.compat import torchkeras; "
            "print(sorted(m for m in ('lightning', 'pandas', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"
    monkeypatch.delattr(torchkeras, "LightModel", raising=False)
    monkeypatch.setitem(sys.modules, "lightning", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install fitorch\[lightning\]"):
        torchkeras.LightModel


def test_compiling_a_clone_with_the_other_models_optimizer_rebinds_it():
    # torchkeras's README: model_clone.compile(optimizer=torch.optim.Adam(model.parameters(), ...))
    torch.manual_seed(0)
    model = torchkeras.Model(nn.Linear(3, 1))
    clone = torchkeras.Model(nn.Linear(3, 1))
    foreign = torch.optim.Adam(model.parameters(), lr=0.05, betas=(0.8, 0.9))
    with pytest.warns(UserWarning, match="another model's parameters"):
        clone.compile(loss_func=nn.MSELoss(), optimizer=foreign)
    optimizer = clone._ft.optimizer
    assert {id(p) for g in optimizer.param_groups for p in g["params"]} == \
        {id(p) for p in clone.parameters()}
    assert optimizer.param_groups[0]["lr"] == 0.05
    assert optimizer.param_groups[0]["betas"] == (0.8, 0.9)
    before = [p.detach().clone() for p in model.parameters()]
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    clone.fit(1, dl_train=DataLoader(TensorDataset(x, y), batch_size=8))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # untouched
    # a stepped optimizer's state can't move to another model: refused, nothing changes
    stepped = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(x).sum().backward()
    stepped.step()
    other = torchkeras.Model(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="already stepped"):
        other.compile(loss_func=nn.MSELoss(), optimizer=stepped)
    # the core fitorch.Model still refuses it
    core = fitorch.Model(nn.Linear(3, 1))
    with pytest.raises(ValueError, match="none of them among the model's"):
        core.compile(optimizer=torch.optim.Adam(model.parameters()), loss="mse")
