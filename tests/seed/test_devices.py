"""The seed's chapter "使用GPU训练模型", run where this project can run it: on the CPU.

The PyTorch snippets run verbatim; those that need a CUDA device (moving a tensor to
``"cuda:0"``) are skipped without one. ``./data/model_parameter.pkl`` becomes a temporary file.
On a machine without GPUs, ``nn.DataParallel`` keeps the module on the CPU with no device ids
(the seed, on one GPU, printed ``[0]`` and ``cuda:0``). The Keras side (``tf.config`` GPU
settings, ``MirroredStrategy``, ``TPUStrategy``) has no fitorch counterpart beyond
``compile(device=...)`` and several processes (``ft.launch`` / ``torchrun``), which
``tests/distributed/test_ddp.py`` covers.
"""

import time

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch import datasets


def test_device_basics(capsys):
    # 1，查看gpu信息
    if_cuda = torch.cuda.is_available()
    print("if_cuda=",if_cuda)

    gpu_count = torch.cuda.device_count()
    print("gpu_count=",gpu_count)
    out = capsys.readouterr().out
    assert f"if_cuda= {if_cuda}" in out and f"gpu_count= {gpu_count}" in out

    # 5，清空cuda缓存 (a no-op without CUDA)
    torch.cuda.empty_cache()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_move_tensors_between_cpu_and_gpu(capsys):
    # 2，将张量在gpu和cpu间移动
    tensor = torch.rand((100,100))
    tensor_gpu = tensor.to("cuda:0") # 或者 tensor_gpu = tensor.cuda()
    print(tensor_gpu.device)
    print(tensor_gpu.is_cuda)

    tensor_cpu = tensor_gpu.to("cpu") # 或者 tensor_cpu = tensor_gpu.cpu()
    print(tensor_cpu.device)
    assert capsys.readouterr().out.split() == ["cuda:0", "True", "cpu"]


def test_matmul_on_the_chosen_device(capsys):
    # 使用gpu (falls back to the CPU without one, as the seed's device line is written)
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    a = torch.rand((1000,200),device = device) # the seed: 10000 x 200 (kept small here)
    b = torch.rand((200,1000))
    b = b.to(device)
    tic = time.time()
    c = torch.matmul(a,b)
    toc = time.time()
    print(toc-tic)
    print(a.device)
    print(b.device)
    assert c.shape == (1000, 1000) and c.device == a.device == b.device


def test_data_parallel_save_and_reload(tmp_path, capsys):
    # # 4，创建支持多个gpu数据并行的模型
    linear = nn.Linear(2,1)
    print(next(linear.parameters()).device)

    model = nn.DataParallel(linear)
    print(model.device_ids)
    print(next(model.module.parameters()).device)

    #注意保存参数时要指定保存model.module的参数
    torch.save(model.module.state_dict(), tmp_path / "model_parameter.pkl")

    linear = nn.Linear(2,1)
    linear.load_state_dict(torch.load(tmp_path / "model_parameter.pkl"))
    out = capsys.readouterr().out.split("\n")
    assert out[0] == "cpu"
    if torch.cuda.device_count() == 0:
        assert out[1:3] == ["[]", "cpu"]
    assert torch.equal(linear.weight, model.module.weight)

    # fitorch trains the DataParallel wrapper as given, and its weights are the module's
    fit_model = ft.Model(model)
    with pytest.warns(UserWarning, match="DistributedDataParallel"):  # the faster way, named
        fit_model.compile(optimizer="adam", loss="mse")
    x, y = datasets.linear_data(n=64, seed=0)
    fit_model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert list(fit_model.state_dict()) == ["module.weight", "module.bias"]


def test_compile_on_the_seed_device_line():
    """The seed's ``device = ...; model.to(device); features.to(device)`` is
    ``compile(device=device)``: fit moves the model and each batch."""
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    model = ft.Model(nn.Linear(2, 1))
    model.compile(optimizer="adam", loss="mse", device=device)
    x, y = datasets.linear_data(n=64, seed=0)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert model.device.type == device.type
