"""The seed's chapter "低阶API示例": linear regression and the ring DNN written with tensors,
autograd and hand-written updates.

These programs use no framework, so the test runs the seed's PyTorch code verbatim beside an
imported fitorch (which must not change what plain PyTorch does) and checks what it learns. The
seed's TensorFlow versions (``tf.Variable`` + ``tf.GradientTape``) have no fitorch spelling:
fitorch's tensors are torch tensors, so the PyTorch version *is* the low-level program.

Shortened, with the reason: the linear regression trains 200 epochs instead of 1,000 (the seed's
first report, at epoch 200, already shows w ~ [2.03, -2.96], b ~ 10.07); the DNN trains 30
epochs instead of 1,000 (the seed reports 0.89 accuracy at epoch 100; 30 epochs reach >= 0.85).
"""

import numpy as np
import pytest
import torch
from torch import nn

import fitorch as ft  # noqa: F401  (imported first: the seed's code must run unchanged beside it)
from tests.seed.conftest import printbar


def data_iter(features, labels, batch_size=8):
    num_examples = len(features)
    indices = list(range(num_examples))
    np.random.shuffle(indices)  #样本的读取顺序是随机的
    for i in range(0, num_examples, batch_size):
        indexs = torch.LongTensor(indices[i: min(i + batch_size, num_examples)])
        yield  features.index_select(0, indexs), labels.index_select(0, indexs)


def test_linear_regression(capsys):
    torch.manual_seed(0)
    np.random.seed(0)
    #样本数量
    n = 400

    # 生成测试用数据集
    X = 10*torch.rand([n,2])-5.0  #torch.rand是均匀分布
    w0 = torch.tensor([[2.0],[-3.0]])
    b0 = torch.tensor([[10.0]])
    Y = X@w0 + b0 + torch.normal( 0.0,2.0,size = [n,1])  # @表示矩阵乘法,增加正态扰动

    # 测试数据管道效果
    batch_size = 8
    (features,labels) = next(data_iter(X,Y,batch_size))
    assert features.shape == (8, 2) and labels.shape == (8, 1)

    class LinearRegression:

        def __init__(self):
            self.w = torch.randn_like(w0,requires_grad=True)
            self.b = torch.zeros_like(b0,requires_grad=True)

        #正向传播
        def forward(self,x):
            return x@self.w + self.b

        # 损失函数
        def loss_func(self,y_pred,y_true):
            return torch.mean((y_pred - y_true)**2/2)

    model = LinearRegression()

    def train_step(model, features, labels):

        predictions = model.forward(features)
        loss = model.loss_func(predictions,labels)

        # 反向传播求梯度
        loss.backward()

        # 使用torch.no_grad()避免梯度记录，也可以通过操作 model.w.data 实现避免梯度记录
        with torch.no_grad():
            # 梯度下降法更新参数
            model.w -= 0.001*model.w.grad
            model.b -= 0.001*model.b.grad

            # 梯度清零
            model.w.grad.zero_()
            model.b.grad.zero_()
        return loss

    # 测试train_step效果
    batch_size = 10
    (features,labels) = next(data_iter(X,Y,batch_size))
    first = train_step(model,features,labels)
    assert first.grad_fn is not None and first.item() > 10  # the seed: tensor(92.8199, ...)

    def train_model(model,epochs):
        for epoch in range(1,epochs+1):
            for features, labels in data_iter(X,Y,10):
                loss = train_step(model,features,labels)

            if epoch%200==0:
                printbar()
                print("epoch =",epoch,"loss = ",loss.item())
                print("model.w =",model.w.data)
                print("model.b =",model.b.data)

    train_model(model,epochs = 200)

    out = capsys.readouterr().out
    assert "epoch = 200 loss = " in out and "model.w = tensor([[" in out
    assert model.w.data.flatten().tolist() == pytest.approx([2.0, -3.0], abs=0.3)
    assert model.b.item() == pytest.approx(10.0, abs=0.3)


def ring_data_verbatim():
    #正负样本数量
    n_positive,n_negative = 2000,2000

    #生成正样本, 小圆环分布
    r_p = 5.0 + torch.normal(0.0,1.0,size = [n_positive,1])
    theta_p = 2*np.pi*torch.rand([n_positive,1])
    Xp = torch.cat([r_p*torch.cos(theta_p),r_p*torch.sin(theta_p)],axis = 1)
    Yp = torch.ones_like(r_p)

    #生成负样本, 大圆环分布
    r_n = 8.0 + torch.normal(0.0,1.0,size = [n_negative,1])
    theta_n = 2*np.pi*torch.rand([n_negative,1])
    Xn = torch.cat([r_n*torch.cos(theta_n),r_n*torch.sin(theta_n)],axis = 1)
    Yn = torch.zeros_like(r_n)

    #汇总样本
    X = torch.cat([Xp,Xn],axis = 0)
    Y = torch.cat([Yp,Yn],axis = 0)
    return X, Y


class DNNModel(nn.Module):
    def __init__(self):
        super(DNNModel, self).__init__()
        self.w1 = nn.Parameter(torch.randn(2,4))
        self.b1 = nn.Parameter(torch.zeros(1,4))
        self.w2 = nn.Parameter(torch.randn(4,8))
        self.b2 = nn.Parameter(torch.zeros(1,8))
        self.w3 = nn.Parameter(torch.randn(8,1))
        self.b3 = nn.Parameter(torch.zeros(1,1))

    # 正向传播
    def forward(self,x):
        x = torch.relu(x@self.w1 + self.b1)
        x = torch.relu(x@self.w2 + self.b2)
        y = torch.sigmoid(x@self.w3 + self.b3)
        return y

    # 损失函数(二元交叉熵)
    def loss_func(self,y_pred,y_true):
        #将预测值限制在1e-7以上, 1- (1e-7)以下，避免log(0)错误
        eps = 1e-7
        y_pred = torch.clamp(y_pred,eps,1.0-eps)
        bce = - y_true*torch.log(y_pred) - (1-y_true)*torch.log(1-y_pred)
        return torch.mean(bce)

    # 评估指标(准确率)
    def metric_func(self,y_pred,y_true):
        y_pred = torch.where(y_pred>0.5,torch.ones_like(y_pred,dtype = torch.float32),
                          torch.zeros_like(y_pred,dtype = torch.float32))
        acc = torch.mean(1-torch.abs(y_true-y_pred))
        return acc


def test_dnn_binary_classification(capsys):
    torch.manual_seed(0)
    np.random.seed(0)
    X, Y = ring_data_verbatim()

    model = DNNModel()

    # 测试模型结构
    batch_size = 10
    (features,labels) = next(data_iter(X,Y,batch_size))

    predictions = model(features)

    loss = model.loss_func(labels,predictions)
    metric = model.metric_func(labels,predictions)

    print("init loss:", loss.item())
    print("init metric:", metric.item())
    assert len(list(model.parameters())) == 6

    def train_step(model, features, labels):

        # 正向传播求损失
        predictions = model.forward(features)
        loss = model.loss_func(predictions,labels)
        metric = model.metric_func(predictions,labels)

        # 反向传播求梯度
        loss.backward()

        # 梯度下降法更新参数
        for param in model.parameters():
            #注意是对param.data进行重新赋值,避免此处操作引起梯度记录
            param.data = (param.data - 0.01*param.grad.data)

        # 梯度清零
        model.zero_grad()

        return loss.item(),metric.item()

    history = []

    def train_model(model,epochs):
        for epoch in range(1,epochs+1):
            loss_list,metric_list = [],[]
            for features, labels in data_iter(X,Y,20):
                lossi,metrici = train_step(model,features,labels)
                loss_list.append(lossi)
                metric_list.append(metrici)
            loss = np.mean(loss_list)
            metric = np.mean(metric_list)
            history.append((loss, metric))

            if epoch%10==0:
                printbar()
                print("epoch =",epoch,"loss = ",loss,"metric = ",metric)

    train_model(model,epochs = 30)

    out = capsys.readouterr().out
    assert "init loss:" in out and "epoch = 30 loss =  " in out
    assert history[-1][0] < history[0][0]
    # the seed's figure: predictions >= 0.5 should be the inner ring
    with torch.no_grad():
        accuracy = model.metric_func(model.forward(X), Y).item()
    assert accuracy >= 0.85
