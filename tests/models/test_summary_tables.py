import io
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import fitorch as ft
from fitorch import layers
from fitorch.summaries import count_weights


def capture(fn, *args, **kwargs):
    lines = []
    result = fn(*args, print_fn=lines.append, **kwargs)
    return "\n".join(lines), result


# ---------------------------------------------------------------- the seed's models
class ResBlock(layers.Layer):
    def __init__(self, kernel_size, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size

    def build(self, input_shape):
        self.conv1 = layers.Conv1D(filters=64, kernel_size=self.kernel_size,
                                   activation="relu", padding="same")
        self.conv2 = layers.Conv1D(filters=32, kernel_size=self.kernel_size,
                                   activation="relu", padding="same")
        self.conv3 = layers.Conv1D(filters=input_shape[-1], kernel_size=self.kernel_size,
                                   activation="relu", padding="same")
        self.maxpool = layers.MaxPool1D(2)
        super().build(input_shape)

    def call(self, inputs):
        x = self.conv1(inputs)
        x = self.conv2(x)
        x = self.conv3(x)
        x = layers.Add()([inputs, x])
        return self.maxpool(x)

    def get_config(self):
        config = super().get_config()
        config.update({"kernel_size": self.kernel_size})
        return config


class ImdbModel(ft.Model):
    def __init__(self):
        super().__init__()

    def build(self, input_shape):
        self.embedding = layers.Embedding(10000, 7)
        self.block1 = ResBlock(7)
        self.block2 = ResBlock(5)
        self.dense = ft.models.Sequential([layers.Dense(1, activation="sigmoid")])
        super().build(input_shape)

    def call(self, x):
        x = self.embedding(x)
        x = self.block1(x)
        x = self.block2(x)
        x = layers.Flatten()(x)
        return self.dense(x)


class DNNModel(ft.Model):
    def build(self, input_shape):
        self.dense1 = layers.Dense(4, activation="relu", name="dense1")
        self.dense2 = layers.Dense(8, activation="relu", name="dense2")
        self.dense3 = layers.Dense(1, activation="sigmoid", name="dense3")
        super().build(input_shape)

    def call(self, x):
        return self.dense3(self.dense2(self.dense1(x)))


class TorchDNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 4)
        self.fc2 = nn.Linear(4, 8)
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return nn.Sigmoid()(self.fc3(x))


class LinearRegression(ft.Model):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, x):
        return self.fc(x)


def test_resblock_compute_output_shape_is_the_seeds():
    block = ResBlock(kernel_size=3)
    block.build(input_shape=(None, 200, 7))
    assert tuple(block.compute_output_shape(input_shape=(None, 200, 7))) == (None, 100, 7)


def test_imdb_model_summary_totals_103197():
    model = ImdbModel()
    model.build(input_shape=(None, 200))
    text, _ = capture(model.summary)
    assert 'Model: "imdb_model"' in text
    for line in ("embedding (Embedding)", "70,000", "res_block (ResBlock)", "19,143",
                 "res_block_1 (ResBlock)", "13,703", "351", "Total params: 103,197",
                 "Trainable params: 103,197", "Non-trainable params: 0"):
        assert line in text


def test_dnn_model_summary_totals_61():
    model = DNNModel()
    model.build(input_shape=(None, 2))
    text, _ = capture(model.summary)
    rows = [line for line in text.splitlines() if "(Dense)" in line]
    assert [r.split()[1] for r in rows] == ["dense1", "dense2", "dense3"]
    assert [r.split()[-2] for r in rows] == ["12", "40", "9"]
    assert "Total params: 61 (244.00 B)" in text


def test_seed_sequential_table():
    model = ft.Sequential()
    model.add(layers.Embedding(30982, 7, input_shape=(300,)))
    model.add(layers.Conv1D(filters=64, kernel_size=5, activation="relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Conv1D(filters=32, kernel_size=3, activation="relu"))
    model.add(layers.MaxPool1D(2))
    model.add(layers.Flatten())
    model.add(layers.Dense(46, activation="softmax"))
    text, result = capture(model.summary, line_length=80)
    assert result is None
    expected = [("embedding (Embedding)", "(None, 300, 7)", "216,874"),
                ("conv1d (Conv1D)", "(None, 296, 64)", "2,304"),
                ("max_pooling1d (MaxPooling1D)", "(None, 148, 64)", "0"),
                ("conv1d_1 (Conv1D)", "(None, 146, 32)", "6,176"),
                ("max_pooling1d_1 (MaxPooling1D)", "(None, 73, 32)", "0"),
                ("flatten (Flatten)", "(None, 2336)", "0"),
                ("dense (Dense)", "(None, 46)", "107,502")]
    body = [line for line in text.splitlines() if line.startswith("│")]
    assert len(body) == len(expected)
    for line, cells in zip(body, expected):
        assert [c.strip() for c in line.strip("│").split("│")] == list(cells)
    assert " Total params: 332,856 (1.27 MB)" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Connected to" not in text


def test_seed_functional_table_has_connections_and_78938():
    inputs = ft.Input(shape=[200])
    x = layers.Embedding(10000, 7)(inputs)
    branches = []
    for k in (3, 5, 7):
        b = layers.SeparableConv1D(64, k, activation="relu")(x)
        b = layers.MaxPool1D(k)(b)
        b = layers.SeparableConv1D(32, k, activation="relu")(b)
        branches.append(layers.GlobalMaxPool1D()(b))
    outputs = layers.Dense(1, activation="sigmoid")(layers.Concatenate()(branches))
    model = ft.Model(inputs=inputs, outputs=outputs)
    text, _ = capture(model.summary, line_length=130)
    rows = [[c.strip() for c in line.strip("│").split("│")]
            for line in text.splitlines() if line.startswith("│")]
    names = [r[0] for r in rows if r[0]]
    # Keras orders rows by depth: the three first convolutions, then the three poolings, ...
    assert names[:7] == ["input_layer (InputLayer)", "embedding (Embedding)",
                          "separable_conv1d (SeparableConv1D)",
                          "separable_conv1d_2 (SeparableConv1D)",
                          "separable_conv1d_4 (SeparableConv1D)", "max_pooling1d (MaxPooling1D)",
                          "max_pooling1d_1 (MaxPooling1D)"]
    by_name = {r[0]: r for r in rows if r[0]}
    assert by_name["input_layer (InputLayer)"][1:] == ["(None, 200)", "0", "-"]
    assert by_name["separable_conv1d_4 (SeparableConv1D)"][1:] == [
        "(None, 194, 64)", "561", "embedding[0][0]"]
    assert by_name["concatenate (Concatenate)"][3] == "global_max_pooling1d[0][0]"
    assert "global_max_pooling1d_2[0][0]" in text
    assert " Total params: 78,938 (308.35 KB)" in text


def test_shared_layer_counted_once_and_connected_to_each_call():
    a, b = ft.Input((6,)), ft.Input((6,))
    shared = layers.Dense(4)
    model = ft.Model([a, b], layers.Add()([shared(a), shared(b)]))
    text, _ = capture(model.summary, line_length=120)
    assert "Total params: 28" in text
    assert "input_layer[0][0]" in text and "input_layer_1[0][0]" in text
    assert "dense[0][0]" in text and "dense[1][0]" in text  # second call: node index 1


def test_batchnorm_statistics_count_as_non_trainable_and_frozen_layers_too():
    model = ft.Sequential([nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)])
    model[2].requires_grad_(False)
    assert count_weights(model)[:2] == (16 + 8, 8 + 5)  # running stats, frozen Linear
    text, _ = capture(model.summary)
    assert "Non-trainable params: 13" in text and "num_batches" not in text


def test_ascii_rendering_when_asked_or_not_utf8(monkeypatch):
    model = ft.Sequential([layers.Dense(1, input_shape=(2,))])
    text, _ = capture(model.summary, ascii=True)
    assert text.isascii() and "dense (Dense)" in text and "(None, 1)" in text
    stream = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    monkeypatch.setattr(sys, "stdout", stream)
    model.summary()
    stream.seek(0)
    assert stream.read().isascii()


# ---------------------------------------------------------------- ft.summary
def test_ft_summary_of_the_seed_dnn_prints_the_seed_lines():
    text, result = capture(ft.summary, ft.Model(TorchDNN()), input_shape=(2,))
    lines = text.splitlines()
    assert "            Linear-1                    [-1, 4]              12" in lines
    assert "            Linear-3                    [-1, 1]               9" in lines
    for line in ("Total params: 61", "Trainable params: 61", "Non-trainable params: 0",
                 "Input size (MB): 0.000008", "Forward/backward pass size (MB): 0.000099",
                 "Params size (MB): 0.000233", "Estimated Total Size (MB): 0.000340"):
        assert line in lines
    assert result.total_params == 61 and [r["output_shape"] for r in result.rows] == [
        [-1, 4], [-1, 8], [-1, 1]]


def test_torchkeras_style_model_summary_of_the_linear_model():
    text, result = capture(LinearRegression().summary, input_shape=(2,))
    for line in ("            Linear-1                    [-1, 1]               3",
                 "Total params: 3", "Input size (MB): 0.000008",
                 "Forward/backward pass size (MB): 0.000008", "Params size (MB): 0.000011",
                 "Estimated Total Size (MB): 0.000027"):
        assert line in text.splitlines()
    assert result.estimated_total_size_mb == pytest.approx((8 + 8 + 12) / 1024 ** 2)
    seed_block = "\n".join([  # the seed prints exactly this (high-level API, linear model)
        "-" * 64,
        "        Layer (type)               Output Shape         Param #",
        "=" * 64,
        "            Linear-1                    [-1, 1]               3",
        "=" * 64,
        "Total params: 3", "Trainable params: 3", "Non-trainable params: 0",
        "-" * 64,
        "Input size (MB): 0.000008", "Forward/backward pass size (MB): 0.000008",
        "Params size (MB): 0.000011", "Estimated Total Size (MB): 0.000027",
        "-" * 64])
    assert text.strip("\n") == seed_block


class Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.heads = nn.ModuleDict({"out": nn.Linear(4, 1)})

    def forward(self, x):
        for block in self.blocks:
            x = torch.relu(block(x))
        return self.heads["out"](x)


def test_ft_summary_nests_containers_by_depth():
    model = nn.Sequential(Blocks(), nn.Sigmoid())
    text, result = capture(ft.summary, model, input_shape=(4,))
    depths = [(r["name"], r["depth"]) for r in result.rows]
    assert depths == [("Blocks-1", 1), ("ModuleList (0.blocks)", 2), ("Linear-2", 3),
                      ("Linear-3", 3), ("ModuleDict (0.heads)", 2), ("Linear-4", 3),
                      ("Sigmoid-5", 1)]
    assert "    Linear-2" in text  # indented by depth
    shallow = ft.summary(model, input_shape=(4,), depth=1, verbose=0)
    assert [r["name"] for r in shallow.rows] == ["Blocks-1", "Sigmoid-2"]
    assert shallow.forward_backward_size_mb == result.forward_backward_size_mb


def test_ft_summary_leaves_the_module_as_found():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.LazyLinear(2))
    model.train()
    model[2].eval()
    rng = torch.random.get_rng_state()
    result = ft.summary(model, input_shape=(3,), verbose=0)
    assert torch.equal(torch.random.get_rng_state(), rng)
    assert model.training and not model[2].training
    assert int(model[1].num_batches_tracked) == 0
    assert torch.equal(model[1].running_mean, torch.zeros(4))
    assert model[3].has_uninitialized_params()  # summarized on a copy
    assert all(p.grad is None for p in model[0].parameters())
    assert result.rows[-1]["output_shape"] == [-1, 2] and result.total_params == 16 + 8 + 8


def test_ft_summary_with_input_data_and_bad_arguments():
    model = nn.Linear(3, 2)
    result = ft.summary(model, input_data=torch.randn(5, 3), verbose=0)
    assert result.rows[0]["output_shape"] == [-1, 2]
    with pytest.raises(ValueError, match="exactly one of input_shape"):
        ft.summary(model)
    with pytest.raises(ValueError, match="input_shape"):
        ft.summary(model, input_shape=(0, 3))
    with pytest.raises(ValueError, match="depth"):
        ft.summary(model, input_shape=(3,), depth=0)
