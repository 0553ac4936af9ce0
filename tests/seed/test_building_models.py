"""The seed's chapter "构建模型的方法" (four ways to build a model), as the seed writes it.

PyTorch snippets run verbatim next to an imported fitorch and must print the seed's reprs, also
after ``ft.Model(net)`` adds the training API. Keras snippets have only their imports changed
(``from fitorch import layers, models``; ``tf.keras.backend.clear_session()`` ->
``ft.backend.clear_session()``; ``layers.Input`` -> ``ft.Input``). MAX_WORDS / MAX_LEN are the
seed's IMDB settings (10,000 words, 200 tokens); no data is needed to build the models.
"""

from collections import OrderedDict

import torch
from torch import nn

import fitorch as ft
from fitorch import layers, models

MAX_WORDS, MAX_LEN = 10000, 200

SEQUENTIAL_NAMED = """Sequential(
  (conv1): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))
  (pool1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (conv2): Conv2d(32, 64, kernel_size=(5, 5), stride=(1, 1))
  (pool2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (dropout): Dropout2d(p=0.1, inplace=False)
  (adaptive_pool): AdaptiveMaxPool2d(output_size=(1, 1))
  (flatten): Flatten()
  (linear1): Linear(in_features=64, out_features=32, bias=True)
  (relu): ReLU()
  (linear2): Linear(in_features=32, out_features=1, bias=True)
  (sigmoid): Sigmoid()
)"""

SEQUENTIAL_NUMBERED = """Sequential(
  (0): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))
  (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (2): Conv2d(32, 64, kernel_size=(5, 5), stride=(1, 1))
  (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (4): Dropout2d(p=0.1, inplace=False)
  (5): AdaptiveMaxPool2d(output_size=(1, 1))
  (6): Flatten()
  (7): Linear(in_features=64, out_features=32, bias=True)
  (8): ReLU()
  (9): Linear(in_features=32, out_features=1, bias=True)
  (10): Sigmoid()
)"""


def seed_repr(text):
    """The seed's repr in today's PyTorch spelling: torch >= 1.7 prints ``Flatten``'s defaults
    (``Flatten(start_dim=1, end_dim=-1)``) where the seed's torch printed ``Flatten()``."""
    return text.replace("Flatten()", repr(nn.Flatten()))


def check_repr(net, expected, capsys):
    """The seed's ``print(net)`` output, for the module and for ``ft.Model(net)``."""
    expected = seed_repr(expected)
    print(net)
    assert capsys.readouterr().out.rstrip("\n") == expected
    model = ft.Model(net)
    print(model)
    assert capsys.readouterr().out.rstrip("\n") == expected
    # the wrapped model is still the seed's network: it runs on a 3x32x32 batch
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 1)


def test_sequential_add_module(capsys):
    net = nn.Sequential()
    net.add_module("conv1",nn.Conv2d(in_channels=3,out_channels=32,kernel_size = 3))
    net.add_module("pool1",nn.MaxPool2d(kernel_size = 2,stride = 2))
    net.add_module("conv2",nn.Conv2d(in_channels=32,out_channels=64,kernel_size = 5))
    net.add_module("pool2",nn.MaxPool2d(kernel_size = 2,stride = 2))
    net.add_module("dropout",nn.Dropout2d(p = 0.1))
    net.add_module("adaptive_pool",nn.AdaptiveMaxPool2d((1,1)))
    net.add_module("flatten",nn.Flatten())
    net.add_module("linear1",nn.Linear(64,32))
    net.add_module("relu",nn.ReLU())
    net.add_module("linear2",nn.Linear(32,1))
    net.add_module("sigmoid",nn.Sigmoid())
    check_repr(net, SEQUENTIAL_NAMED, capsys)


def test_sequential_arguments(capsys):
    net = nn.Sequential(
        nn.Conv2d(in_channels=3,out_channels=32,kernel_size = 3),
        nn.MaxPool2d(kernel_size = 2,stride = 2),
        nn.Conv2d(in_channels=32,out_channels=64,kernel_size = 5),
        nn.MaxPool2d(kernel_size = 2,stride = 2),
        nn.Dropout2d(p = 0.1),
        nn.AdaptiveMaxPool2d((1,1)),
        nn.Flatten(),
        nn.Linear(64,32),
        nn.ReLU(),
        nn.Linear(32,1),
        nn.Sigmoid()
    )
    check_repr(net, SEQUENTIAL_NUMBERED, capsys)
    # fitorch's Sequential takes the same torch form and prints the same
    print(ft.Sequential(*net))
    assert capsys.readouterr().out.rstrip("\n") == seed_repr(SEQUENTIAL_NUMBERED)


def test_sequential_ordered_dict(capsys):
    net = nn.Sequential(OrderedDict(
              [("conv1",nn.Conv2d(in_channels=3,out_channels=32,kernel_size = 3)),
                ("pool1",nn.MaxPool2d(kernel_size = 2,stride = 2)),
                ("conv2",nn.Conv2d(in_channels=32,out_channels=64,kernel_size = 5)),
                ("pool2",nn.MaxPool2d(kernel_size = 2,stride = 2)),
                ("dropout",nn.Dropout2d(p = 0.1)),
                ("adaptive_pool",nn.AdaptiveMaxPool2d((1,1))),
                ("flatten",nn.Flatten()),
                ("linear1",nn.Linear(64,32)),
                ("relu",nn.ReLU()),
                ("linear2",nn.Linear(32,1)),
                ("sigmoid",nn.Sigmoid())
              ])
            )
    check_repr(net, SEQUENTIAL_NAMED, capsys)


def test_keras_sequential_add_compile_summary(capsys):
    ft.backend.clear_session()

    model = models.Sequential()

    model.add(layers.Embedding(MAX_WORDS,7,input_length=MAX_LEN))
    model.add(layers.Conv1D(filters = 64,kernel_size = 5,activation = "relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Conv1D(filters = 32,kernel_size = 3,activation = "relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(1,activation = "sigmoid"))

    model.compile(optimizer='Nadam',
                loss='binary_crossentropy',
                metrics=['accuracy',"AUC"])

    model.summary()
    text = capsys.readouterr().out
    # 200 -> conv5 196 -> pool 98 -> conv3 96 -> pool 48; 48 * 32 = 1,536 flattened features
    for row in ("embedding (Embedding)", "(None, 200, 7)", "70,000", "(None, 196, 64)", "2,304",
                "(None, 98, 64)", "(None, 96, 32)", "6,176", "(None, 1536)", "1,537"):
        assert row in text
    assert "Total params: 80,017" in text
    logs = model.train_on_batch(torch.randint(1, MAX_WORDS, (8, MAX_LEN)),
                                torch.randint(0, 2, (8, 1)).float(), return_dict=True)
    assert list(logs) == ["loss", "accuracy", "AUC"]


NET_REPR = SEQUENTIAL_NAMED.replace("Sequential(", "Net(", 1)


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3,out_channels=32,kernel_size = 3)
        self.pool1 = nn.MaxPool2d(kernel_size = 2,stride = 2)
        self.conv2 = nn.Conv2d(in_channels=32,out_channels=64,kernel_size = 5)
        self.pool2 = nn.MaxPool2d(kernel_size = 2,stride = 2)
        self.dropout = nn.Dropout2d(p = 0.1)
        self.adaptive_pool = nn.AdaptiveMaxPool2d((1,1))
        self.flatten = nn.Flatten()
        self.linear1 = nn.Linear(64,32)
        self.relu = nn.ReLU()
        self.linear2 = nn.Linear(32,1)
        self.sigmoid = nn.Sigmoid()

    def forward(self,x):
        x = self.conv1(x)
        x = self.pool1(x)
        x = self.conv2(x)
        x = self.pool2(x)
        x = self.dropout(x)
        x = self.adaptive_pool(x)
        x = self.flatten(x)
        x = self.linear1(x)
        x = self.relu(x)
        x = self.linear2(x)
        y = self.sigmoid(x)
        return y


def test_subclassed_module(capsys):
    net = Net()
    check_repr(net, NET_REPR, capsys)


class ResBlock(layers.Layer):
    def __init__(self, kernel_size, **kwargs):
        super(ResBlock, self).__init__(**kwargs)
        self.kernel_size = kernel_size

    def build(self,input_shape):
        self.conv1 = layers.Conv1D(filters=64,kernel_size=self.kernel_size,
                                   activation = "relu",padding="same")
        self.conv2 = layers.Conv1D(filters=32,kernel_size=self.kernel_size,
                                   activation = "relu",padding="same")
        self.conv3 = layers.Conv1D(filters=input_shape[-1],
                                   kernel_size=self.kernel_size,activation = "relu",padding="same")
        self.maxpool = layers.MaxPool1D(2)
        super(ResBlock,self).build(input_shape) # 相当于设置self.built = True

    def call(self, inputs):
        x = self.conv1(inputs)
        x = self.conv2(x)
        x = self.conv3(x)
        x = layers.Add()([inputs,x])
        x = self.maxpool(x)
        return x

    #如果要让自定义的Layer通过Functional API 组合成模型时可以序列化，需要自定义get_config方法。
    def get_config(self):
        config = super(ResBlock, self).get_config()
        config.update({'kernel_size': self.kernel_size})
        return config


def test_resblock_layer():
    # 测试ResBlock
    resblock = ResBlock(kernel_size = 3)
    resblock.build(input_shape = (None,200,7))
    shape = resblock.compute_output_shape(input_shape=(None,200,7))
    assert tuple(shape) == (None, 100, 7)  # the seed: TensorShape([None, 100, 7])
    assert resblock.get_config()["kernel_size"] == 3


CONTAINER_SEQUENTIAL = """Net(
  (conv): Sequential(
    (0): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))
    (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (2): Conv2d(32, 64, kernel_size=(5, 5), stride=(1, 1))
    (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (4): Dropout2d(p=0.1, inplace=False)
    (5): AdaptiveMaxPool2d(output_size=(1, 1))
  )
  (dense): Sequential(
    (0): Flatten()
    (1): Linear(in_features=64, out_features=32, bias=True)
    (2): ReLU()
    (3): Linear(in_features=32, out_features=1, bias=True)
    (4): Sigmoid()
  )
)"""


def test_module_with_sequential_containers(capsys):
    class Net(nn.Module):

        def __init__(self):
            super(Net, self).__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(in_channels=3,out_channels=32,kernel_size = 3),
                nn.MaxPool2d(kernel_size = 2,stride = 2),
                nn.Conv2d(in_channels=32,out_channels=64,kernel_size = 5),
                nn.MaxPool2d(kernel_size = 2,stride = 2),
                nn.Dropout2d(p = 0.1),
                nn.AdaptiveMaxPool2d((1,1))
            )
            self.dense = nn.Sequential(
                nn.Flatten(),
                nn.Linear(64,32),
                nn.ReLU(),
                nn.Linear(32,1),
                nn.Sigmoid()
            )
        def forward(self,x):
            x = self.conv(x)
            y = self.dense(x)
            return y

    net = Net()
    check_repr(net, CONTAINER_SEQUENTIAL, capsys)


def test_module_with_module_list(capsys):
    class Net(nn.Module):

        def __init__(self):
            super(Net, self).__init__()
            self.layers = nn.ModuleList([
                nn.Conv2d(in_channels=3,out_channels=32,kernel_size = 3),
                nn.MaxPool2d(kernel_size = 2,stride = 2),
                nn.Conv2d(in_channels=32,out_channels=64,kernel_size = 5),
                nn.MaxPool2d(kernel_size = 2,stride = 2),
                nn.Dropout2d(p = 0.1),
                nn.AdaptiveMaxPool2d((1,1)),
                nn.Flatten(),
                nn.Linear(64,32),
                nn.ReLU(),
                nn.Linear(32,1),
                nn.Sigmoid()]
            )
        def forward(self,x):
            for layer in self.layers:
                x = layer(x)
            return x
    net = Net()
    expected = "Net(\n  (layers): ModuleList(\n" + "\n".join(
        "  " + line for line in SEQUENTIAL_NUMBERED.splitlines()[1:-1]) + "\n  )\n)"
    check_repr(net, expected, capsys)


def test_module_with_module_dict(capsys):
    class Net(nn.Module):

        def __init__(self):
            super(Net, self).__init__()
            self.layers_dict = nn.ModuleDict({"conv1":nn.Conv2d(in_channels=3,out_channels=32,kernel_size = 3),
                   "pool": nn.MaxPool2d(kernel_size = 2,stride = 2),
                   "conv2":nn.Conv2d(in_channels=32,out_channels=64,kernel_size = 5),
                   "dropout": nn.Dropout2d(p = 0.1),
                   "adaptive":nn.AdaptiveMaxPool2d((1,1)),
                   "flatten": nn.Flatten(),
                   "linear1": nn.Linear(64,32),
                   "relu":nn.ReLU(),
                   "linear2": nn.Linear(32,1),
                   "sigmoid": nn.Sigmoid()
                  })
        def forward(self,x):
            layers = ["conv1","pool","conv2","pool","dropout","adaptive",
                      "flatten","linear1","relu","linear2","sigmoid"]
            for layer in layers:
                x = self.layers_dict[layer](x)
            return x
    net = Net()
    print(net)
    text = capsys.readouterr().out
    # The seed printed the ModuleDict sorted by key (PyTorch < 1.6 sorted dicts); PyTorch keeps
    # insertion order since, so the same lines appear in the order they were written.
    expected = [
        "  (layers_dict): ModuleDict(",
        "    (conv1): Conv2d(3, 32, kernel_size=(3, 3), stride=(1, 1))",
        "    (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
        "    (conv2): Conv2d(32, 64, kernel_size=(5, 5), stride=(1, 1))",
        "    (dropout): Dropout2d(p=0.1, inplace=False)",
        "    (adaptive): AdaptiveMaxPool2d(output_size=(1, 1))",
        "    (flatten): " + repr(nn.Flatten()),
        "    (linear1): Linear(in_features=64, out_features=32, bias=True)",
        "    (relu): ReLU()",
        "    (linear2): Linear(in_features=32, out_features=1, bias=True)",
        "    (sigmoid): Sigmoid()",
    ]
    assert text.splitlines() == ["Net("] + expected + ["  )", ")"]
    model = ft.Model(net)
    assert repr(model) == text.rstrip("\n")
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 1)


class ImdbModel(models.Model):
    def __init__(self):
        super(ImdbModel, self).__init__()

    def build(self,input_shape):
        # 使用FunctionalAPI
        self.embedding = layers.Embedding(MAX_WORDS,7)
        self.block1 = ResBlock(7)
        self.block2 = ResBlock(5)
        # 使用Sequential (the seed's "ayers.Dense" typo fixed)
        self.dense = models.Sequential([layers.Dense(1,activation = "sigmoid")])
        super(ImdbModel,self).build(input_shape)
    def call(self, x):
        x = self.embedding(x)
        x = self.block1(x)
        x = self.block2(x)
        x = layers.Flatten()(x)
        x = self.dense(x)
        return(x)


def test_subclassed_keras_model_summary(capsys):
    ft.backend.clear_session()

    model = ImdbModel()
    model.build(input_shape =(None,200))
    model.summary()
    text = capsys.readouterr().out
    assert 'Model: "imdb_model"' in text
    for name, params in (("embedding (Embedding)", "70,000"), ("res_block (ResBlock)", "19,143"),
                         ("res_block_1 (ResBlock)", "13,703")):
        row = next(line for line in text.splitlines() if name in line)
        assert params in row
    # the seed's last row is the Dense inside the Sequential: 351 parameters
    assert any("351" in line for line in text.splitlines() if "sequential" in line.lower())
    assert "Total params: 103,197" in text and "Trainable params: 103,197" in text
    assert "Non-trainable params: 0" in text


def test_functional_api_summary(capsys):
    ft.backend.clear_session()

    # the seed's three-branch model, as fitorch's demo writes it (compiled as the seed does)
    from fitorch.demos.functional import create_model

    model = create_model()

    model.summary(line_length=130)
    text = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
            for line in text.splitlines() if line.startswith("│") and line.split("│")[1].strip()}
    # the seed's table, row by row: (output shape, params, first "connected to")
    seed_rows = {
        "embedding (Embedding)": ("(None, 200, 7)", "70,000"),
        "separable_conv1d (SeparableConv1D)": ("(None, 198, 64)", "533"),
        "separable_conv1d_2 (SeparableConv1D)": ("(None, 196, 64)", "547"),
        "separable_conv1d_4 (SeparableConv1D)": ("(None, 194, 64)", "561"),
        "max_pooling1d (MaxPooling1D)": ("(None, 66, 64)", "0"),
        "max_pooling1d_1 (MaxPooling1D)": ("(None, 39, 64)", "0"),
        "max_pooling1d_2 (MaxPooling1D)": ("(None, 27, 64)", "0"),
        "separable_conv1d_1 (SeparableConv1D)": ("(None, 64, 32)", "2,272"),
        "separable_conv1d_3 (SeparableConv1D)": ("(None, 35, 32)", "2,400"),
        "separable_conv1d_5 (SeparableConv1D)": ("(None, 21, 32)", "2,528"),
        "global_max_pooling1d (GlobalMaxPooling1D)": ("(None, 32)", "0"),
        "concatenate (Concatenate)": ("(None, 96)", "0"),
        "dense (Dense)": ("(None, 1)", "97"),
    }
    for name, (shape, params) in seed_rows.items():
        assert rows[name][:2] == [shape, params], name
    assert rows["separable_conv1d_4 (SeparableConv1D)"][2] == "embedding[0][0]"
    assert "Total params: 78,938" in text
    # and it trains: one step on a batch of token ids
    loss = model.train_on_batch(torch.randint(1, MAX_WORDS, (8, MAX_LEN)),
                                torch.randint(0, 2, (8, 1)).float())
    assert len(loss) == 3 and all(v == v for v in loss)
