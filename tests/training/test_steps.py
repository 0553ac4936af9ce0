"""The seed's function-style API: train_step / valid_step / train_model on fit's machinery."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from fitorch import training


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def seed_style_model():
    torch.manual_seed(0)
    net = Net()

    def accuracy(y_pred, y_true):  # the seed's metric returns a host float via sklearn
        from sklearn.metrics import accuracy_score

        return accuracy_score(y_true.numpy(), torch.argmax(y_pred, dim=1).numpy())

    net.optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    net.loss_func = nn.CrossEntropyLoss()
    net.metric_func = accuracy
    net.metric_name = "accuracy"
    return net


def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(120, 4, generator=g)
    y = x[:, :3].argmax(1)
    return x, y


def test_train_step_and_valid_step_on_a_seed_style_module():
    net = seed_style_model()
    x, y = data()
    w0 = net.layers[0].weight.clone()
    loss, acc = training.train_step(net, x[:32], y[:32])
    assert not torch.equal(w0, net.layers[0].weight)  # a real optimizer step happened
    assert 0.0 <= acc <= 1.0 and loss > 0
    with torch.no_grad():
        expected = nn.CrossEntropyLoss()(net(x[32:64]), y[32:64]).item()
    val_loss, _ = training.valid_step(net, x[32:64], y[32:64])
    assert val_loss == pytest.approx(expected, rel=1e-5)
    assert type(net) is Net  # the user's module is left as it was


def test_train_model_returns_the_seed_history_table(capsys):
    net = seed_style_model()
    x, y = data()
    dl_train = DataLoader(TensorDataset(x[:90], y[:90]), batch_size=10, shuffle=True)
    dl_valid = DataLoader(TensorDataset(x[90:], y[90:]), batch_size=10)
    df = training.train_model(net, 3, dl_train, dl_valid, log_step_freq=3)
    assert list(df.columns) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert df["epoch"].tolist() == [1, 2, 3]
    assert df["loss"].iloc[-1] < df["loss"].iloc[0]
    out = capsys.readouterr().out
    assert "Start Training..." in out and "[step = 3] loss:" in out
    assert "EPOCH = 3, loss = " in out and "Finished Training..." in out


def test_an_uncompiled_module_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="loss_func"):
        training.train_step(nn.Linear(2, 1), torch.randn(2, 2), torch.randn(2, 1))


def test_seed_style_attributes_work_on_an_uncompiled_fitorch_model():
    import fitorch as ft

    class FtNet(ft.Model):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x)

    torch.manual_seed(0)
    net = FtNet()
    net.optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net.loss_func = nn.CrossEntropyLoss()
    x, y = data()
    loss = training.train_step(net, x[:16], y[:16])
    assert loss > 0 and net.optimizer is net._config.optimizer


def test_a_loss_registered_inside_a_sequential_is_warned_about():
    net = nn.Sequential(nn.Linear(4, 3))
    net.optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    net.loss_func = nn.CrossEntropyLoss()
    with pytest.warns(UserWarning, match="registers the loss"):
        with pytest.raises(TypeError):  # the Sequential now calls the loss as a layer
            training.train_step(net, torch.randn(4, 4), torch.tensor([0, 1, 2, 0]))
