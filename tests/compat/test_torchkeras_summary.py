"""torchkeras.summary: the seed's torchsummary table, with right parameter counts."""

import pytest
import torch
from torch import nn

from .seed_models import LinearRegression, Net, torchkeras

SEED_DNN_SUMMARY = """\
----------------------------------------------------------------
        Layer (type)               Output Shape         Param #
================================================================
            Linear-1                    [-1, 4]              12
            Linear-2                    [-1, 8]              40
            Linear-3                    [-1, 1]               9
================================================================
Total params: 61
Trainable params: 61
Non-trainable params: 0
----------------------------------------------------------------
Input size (MB): 0.000008
Forward/backward pass size (MB): 0.000099
Params size (MB): 0.000233
Estimated Total Size (MB): 0.000340
----------------------------------------------------------------
"""


def table(model, *args, **kwargs):
    lines = []
    torchkeras.summary(model, *args, print_fn=lines.append, **kwargs)
    return lines[0] + "\n"


def rows(text):
    body = text.split("=" * 64 + "\n")[1]
    return [line.split() for line in body.splitlines()]


def test_seed_dnn_table(capsys):
    torchkeras.summary(Net(), input_shape=(2,))
    assert capsys.readouterr().out == SEED_DNN_SUMMARY


def test_a_wrapper_module_shows_the_inner_layers_as_the_seed():
    class Holder(nn.Module):  # what LightModel(net) is: the net inside another module
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(x)

    assert table(Holder(Net()), input_shape=(2,)) == SEED_DNN_SUMMARY
    assert table(torchkeras.Model(Net()), (2,)) == SEED_DNN_SUMMARY


def test_shared_module_counted_once_and_direct_parameters_counted():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(4))  # held by a module that has children
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(x)) * self.scale

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Shared()
            self.head = nn.Linear(4, 1)
            self.head.bias.requires_grad_(False)

        def forward(self, x):
            return self.head(self.block(x))

    text = table(Outer(), input_shape=(4,))
    # rows in call order; the block shows its own 4 parameters, the shared Linear a row per call
    assert rows(text)[:4] == [["Shared-1", "[-1,", "4]", "4"], ["Linear-2", "[-1,", "4]", "20"],
                              ["Linear-3", "[-1,", "4]", "20"], ["Linear-4", "[-1,", "1]", "5"]]
    total = 20 + 4 + 5
    assert f"Total params: {total}\n" in text and "Non-trainable params: 1\n" in text
    assert f"Params size (MB): {total * 4 / 1024 ** 2:.6f}\n" in text
    # outputs kept for backward: the innermost modules' outputs (2 x 4, 1), twice
    assert f"Forward/backward pass size (MB): {2 * 9 * 4 / 1024 ** 2:.6f}\n" in text


def test_batchnorm_counts_its_parameters_as_torch_does():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
    text = table(net, input_shape=(3, 8, 8))
    assert [r[0] for r in rows(text)[:3]] == ["Conv2d-1", "BatchNorm2d-2", "ReLU-3"]
    assert rows(text)[1][-1] == "16"  # weight and bias; running statistics are buffers
    # 3 * 8 * 9 + 8 = 224 for the convolution
    assert "Total params: 240\n" in text and "Trainable params: 240\n" in text


def test_long_inputs_and_bad_dtype():
    net = nn.Sequential(nn.Embedding(100, 3), nn.Flatten(), nn.Linear(30, 1))
    text = table(net, input_shape=(10,), input_dtype=torch.LongTensor)
    assert rows(text)[0] == ["Embedding-1", "[-1,", "10,", "3]", "300"]
    assert f"Input size (MB): {10 * 8 / 1024 ** 2:.6f}\n" in text  # int64 inputs: 8 bytes each
    with pytest.raises(ValueError, match="input_dtype='float'"):
        torchkeras.summary(net, input_shape=(10,), input_dtype="float")


def test_model_summary_method_and_unbuilt_layers(capsys):
    LinearRegression().summary(input_shape=(2,), input_dtype=torch.float32)
    assert "Total params: 3\n" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not built yet"):
        torchkeras.summary(nn.Sequential(nn.LazyLinear(2)), input_shape=(3,))
