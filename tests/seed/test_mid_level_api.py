"""The seed's chapter "中介API示例": linear regression and the ring DNN with ``nn`` layers,
losses, optimizers and ``DataLoader``.

PyTorch: the seed's code runs verbatim beside fitorch, then the same module is trained again by
fitorch's ``ft.training.train_step`` (which reads the seed's ``model.optimizer`` /
``model.loss_func`` / ``model.metric_func`` attributes) to the same result.
Keras: the seed's ``tf.Module`` DNN becomes an ``nn.Module`` of fitorch ``layers.Dense`` with the
seed's ``losses.binary_crossentropy`` / ``metrics.binary_accuracy`` / ``optimizers.Adam``; its
``@tf.function`` + ``GradientTape`` step becomes ``ft.training.train_step``, and its
``tf.data`` pipeline a ``DataLoader`` (TensorFlow-only machinery with no fitorch counterpart).

Shortened, with the reason: ``num_workers=2`` -> 0 (worker start-up per epoch only costs time
here); linear regression 50 epochs instead of 200 (the seed's epoch-50 report already has
w ~ [1.93, -2.96], b ~ 9.96); the DNN 10 epochs instead of 300 / 60.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import fitorch as ft
from fitorch import datasets, layers, losses, metrics, optimizers
from tests.seed.conftest import printbar


def test_linear_regression(capsys):
    torch.manual_seed(0)
    X, Y = datasets.linear_data(seed=0)  # the seed's recipe: w0 = [2, -3], b0 = 10, noise sd 2

    #构建输入数据管道
    ds = TensorDataset(X,Y)
    dl = DataLoader(ds,batch_size = 10,shuffle=True,num_workers=0)

    model = nn.Linear(2,1) #线性层

    model.loss_func = nn.MSELoss()
    model.optimizer = torch.optim.SGD(model.parameters(),lr = 0.01)

    def train_step(model, features, labels):

        predictions = model(features)
        loss = model.loss_func(predictions,labels)
        loss.backward()
        model.optimizer.step()
        model.optimizer.zero_grad()
        return loss.item()

    # 测试train_step效果
    features,labels = next(iter(dl))
    assert train_step(model,features,labels) > 10  # the seed: 269.98...

    def train_model(model,epochs):
        for epoch in range(1,epochs+1):
            for features, labels in dl:
                loss = train_step(model,features,labels)
            if epoch%50==0:
                printbar()
                w = model.state_dict()["weight"]
                b = model.state_dict()["bias"]
                print("epoch =",epoch,"loss = ",loss)
                print("w =",w)
                print("b =",b)
    train_model(model,epochs = 50)

    assert "epoch = 50 loss = " in capsys.readouterr().out
    assert model.weight.flatten().tolist() == pytest.approx([2.0, -3.0], abs=0.3)
    assert model.bias.item() == pytest.approx(10.0, abs=0.3)

    # the same module, trained by fitorch's train_step from the seed's attributes
    torch.manual_seed(0)
    fresh = nn.Linear(2, 1)
    fresh.loss_func = nn.MSELoss()
    fresh.optimizer = torch.optim.SGD(fresh.parameters(), lr=0.01)
    for epoch in range(50):
        for features, labels in dl:
            loss = ft.training.train_step(fresh, features, labels)  # no metric: a float
    assert isinstance(loss, float) and loss < 10
    assert type(fresh) is nn.Linear  # the user's module is left a plain nn.Linear
    assert fresh.weight.flatten().tolist() == pytest.approx([2.0, -3.0], abs=0.3)
    assert fresh.bias.item() == pytest.approx(10.0, abs=0.3)


class DNNModel(nn.Module):
    def __init__(self):
        super(DNNModel, self).__init__()
        self.fc1 = nn.Linear(2,4)
        self.fc2 = nn.Linear(4,8)
        self.fc3 = nn.Linear(8,1)

    # 正向传播
    def forward(self,x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        y = nn.Sigmoid()(self.fc3(x))
        return y

    # 损失函数
    def loss_func(self,y_pred,y_true):
        return nn.BCELoss()(y_pred,y_true)

    # 评估函数(准确率)
    def metric_func(self,y_pred,y_true):
        y_pred = torch.where(y_pred>0.5,torch.ones_like(y_pred,dtype = torch.float32),
                          torch.zeros_like(y_pred,dtype = torch.float32))
        acc = torch.mean(1-torch.abs(y_true-y_pred))
        return acc

    # 优化器
    @property
    def optimizer(self):
        return torch.optim.Adam(self.parameters(),lr = 0.001)


def test_dnn_binary_classification(capsys):
    """The seed's mid-level DNN verbatim. Its ``optimizer`` property builds a *new* Adam on every
    access, so each step is a fresh Adam's first step (about lr * sign(grad)); the seed's code
    trains anyway, and so it does here."""
    torch.manual_seed(0)
    X, Y = datasets.ring_data(seed=0)
    ds = TensorDataset(X,Y)
    dl = DataLoader(ds,batch_size = 10,shuffle=True,num_workers=0)

    model = DNNModel()

    # 测试模型结构
    (features,labels) = next(iter(dl))
    predictions = model(features)

    loss = model.loss_func(predictions,labels)
    metric = model.metric_func(predictions,labels)

    print("init loss:",loss.item())
    print("init metric:",metric.item())

    def train_step(model, features, labels):

        # 正向传播求损失
        predictions = model(features)
        loss = model.loss_func(predictions,labels)
        metric = model.metric_func(predictions,labels)

        # 反向传播求梯度
        loss.backward()

        # 更新模型参数
        model.optimizer.step()
        model.optimizer.zero_grad()

        return loss.item(),metric.item()

    history = []

    def train_model(model,epochs):
        for epoch in range(1,epochs+1):
            loss_list,metric_list = [],[]
            for features, labels in dl:
                lossi,metrici = train_step(model,features,labels)
                loss_list.append(lossi)
                metric_list.append(metrici)
            loss = np.mean(loss_list)
            metric = np.mean(metric_list)
            history.append((loss, metric))

            if epoch%5==0:
                printbar()
                print("epoch =",epoch,"loss = ",loss,"metric = ",metric)

    train_model(model,epochs = 10)
    assert "epoch = 10 loss =  " in capsys.readouterr().out
    assert history[-1][0] < history[0][0] and history[-1][1] > history[0][1]


def test_keras_dnn_with_fitorch_train_step():
    """The seed's Keras mid-level DNN: layers.Dense with activations, the seed's loss, metric and
    optimizer attached to the model, one step per batch -> ring accuracy >= 0.9."""
    torch.manual_seed(0)
    X, Y = datasets.ring_data(seed=0)
    (x_train, y_train), (x_valid, y_valid) = datasets.train_valid_split(X, Y, 0.25, seed=0)
    ds = DataLoader(TensorDataset(x_train, y_train), batch_size=100, shuffle=True)  # tf.data

    class DNNModel(nn.Module):
        def __init__(self,name = None):
            super(DNNModel, self).__init__()
            self.dense1 = layers.Dense(4,activation = "relu")
            self.dense2 = layers.Dense(8,activation = "relu")
            self.dense3 = layers.Dense(1,activation = "sigmoid")

        # 正向传播
        def forward(self,x):
            x = self.dense1(x)
            x = self.dense2(x)
            y = self.dense3(x)
            return y

    model = DNNModel()
    model.loss_func = losses.binary_crossentropy
    model.metric_func = metrics.binary_accuracy
    model.optimizer = optimizers.Adam(learning_rate=0.01)  # the seed: 0.001 over 60 epochs

    def train_model(model,epochs):
        for epoch in range(1,epochs+1):
            for features, labels in ds:
                loss,metric = ft.training.train_step(model,features,labels)

    train_model(model,epochs = 20)
    val_loss, val_accuracy = ft.training.valid_step(model, x_valid, y_valid)
    assert val_accuracy >= 0.9
