"""Plain torch models as whole-model files: every supported torch.nn class round-trips exactly."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from torch import nn

import fitorch as ft
from fitorch.saving import torch_modules
from fitorch.saving.torch_modules import SUPPORTED


def _x(*shape):
    return torch.randn(*shape)


def _indices(high, *shape):
    return torch.randint(0, high, shape)


def _unpool(d):
    pool = getattr(nn, f"MaxPool{d}d")(2, return_indices=True)
    return lambda: pool(_x(2, 3, *([4] * d)))


def _enc_layer(**kw):
    return nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kw)


def _dec_layer(**kw):
    return nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, **kw)


# class name -> (module with non-default arguments, its call arguments)
CASES = {
    "Identity": (lambda: nn.Identity(), lambda: (_x(2, 3),)),
    "Linear": (lambda: nn.Linear(4, 3, bias=False), lambda: (_x(2, 4),)),
    "Bilinear": (lambda: nn.Bilinear(3, 4, 2), lambda: (_x(2, 3), _x(2, 4))),
    "Flatten": (lambda: nn.Flatten(0, -2), lambda: (_x(2, 3, 4),)),
    "Unflatten": (lambda: nn.Unflatten(1, (2, 3)), lambda: (_x(4, 6),)),
    "Conv1d": (lambda: nn.Conv1d(2, 4, 3, stride=2, padding=1, dilation=1, groups=2,
                                 padding_mode="reflect"), lambda: (_x(2, 2, 9),)),
    "Conv2d": (lambda: nn.Conv2d(3, 4, (3, 2), padding="same", bias=False,
                                 padding_mode="circular"), lambda: (_x(2, 3, 6, 6),)),
    "Conv3d": (lambda: nn.Conv3d(2, 2, 2, stride=(1, 2, 1), dilation=2),
               lambda: (_x(1, 2, 5, 6, 5),)),
    "ConvTranspose1d": (lambda: nn.ConvTranspose1d(2, 3, 3, stride=2, output_padding=1),
                        lambda: (_x(2, 2, 5),)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, groups=2,
                                                   dilation=2, bias=False),
                        lambda: (_x(1, 4, 4, 4),)),
    "ConvTranspose3d": (lambda: nn.ConvTranspose3d(2, 2, 2), lambda: (_x(1, 2, 3, 3, 3),)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3, eps=1e-3, momentum=None),
                    lambda: (_x(4, 3),)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3, affine=False), lambda: (_x(2, 3, 4, 4),)),
    "BatchNorm3d": (lambda: nn.BatchNorm3d(2, track_running_stats=False, momentum=0.3),
                    lambda: (_x(2, 2, 3, 3, 3),)),
    "InstanceNorm1d": (lambda: nn.InstanceNorm1d(3, affine=True), lambda: (_x(2, 3, 5),)),
    "InstanceNorm2d": (lambda: nn.InstanceNorm2d(3, track_running_stats=True),
                       lambda: (_x(2, 3, 4, 4),)),
    "InstanceNorm3d": (lambda: nn.InstanceNorm3d(2, eps=1e-3), lambda: (_x(1, 2, 3, 3, 3),)),
    "LayerNorm": (lambda: nn.LayerNorm((3, 4), eps=1e-4, bias=False), lambda: (_x(2, 3, 4),)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4, affine=False), lambda: (_x(2, 4, 3),)),
    "RMSNorm": (lambda: nn.RMSNorm(4, eps=1e-3), lambda: (_x(2, 4),)),
    "LocalResponseNorm": (lambda: nn.LocalResponseNorm(2, alpha=2e-4, beta=0.7, k=2.0),
                          lambda: (_x(2, 4, 3, 3),)),
    "CrossMapLRN2d": (lambda: nn.CrossMapLRN2d(3, alpha=2e-4, beta=0.7, k=2.0),
                      lambda: (_x(2, 4, 3, 3),)),
    "Dropout": (lambda: nn.Dropout(0.3), lambda: (_x(2, 3),)),
    "Dropout1d": (lambda: nn.Dropout1d(0.2), lambda: (_x(2, 3, 4),)),
    "Dropout2d": (lambda: nn.Dropout2d(0.2, inplace=True), lambda: (_x(2, 3, 4, 4),)),
    "Dropout3d": (lambda: nn.Dropout3d(0.4), lambda: (_x(2, 3, 2, 2, 2),)),
    "AlphaDropout": (lambda: nn.AlphaDropout(0.1), lambda: (_x(2, 3),)),
    "FeatureAlphaDropout": (lambda: nn.FeatureAlphaDropout(0.1), lambda: (_x(2, 3, 4),)),
    "Embedding": (lambda: nn.Embedding(10, 4, padding_idx=-2, max_norm=2.0, norm_type=1.5,
                                       scale_grad_by_freq=True),
                  lambda: (_indices(10, 2, 5),)),
    "EmbeddingBag": (lambda: nn.EmbeddingBag(10, 3, mode="max", include_last_offset=True),
                     lambda: (_indices(10, 6), torch.tensor([0, 2, 6]))),
    "RNN": (lambda: nn.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True,
                           bidirectional=True), lambda: (_x(2, 5, 3),)),
    "LSTM": (lambda: nn.LSTM(3, 5, num_layers=2, bias=False, dropout=0.1, proj_size=2,
                             bidirectional=True), lambda: (_x(5, 2, 3),)),
    "GRU": (lambda: nn.GRU(3, 4, batch_first=True), lambda: (_x(2, 5, 3),)),
    "RNNCell": (lambda: nn.RNNCell(3, 4, nonlinearity="relu"), lambda: (_x(2, 3),)),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4, bias=False), lambda: (_x(2, 3),)),
    "GRUCell": (lambda: nn.GRUCell(3, 4), lambda: (_x(2, 3),)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(8, 2, dropout=0.1, add_bias_kv=True,
                                                         add_zero_attn=True, kdim=5, vdim=6,
                                                         batch_first=True),
                           lambda: (_x(2, 3, 8), _x(2, 4, 5), _x(2, 4, 6))),
    "TransformerEncoderLayer": (lambda: _enc_layer(activation="gelu", norm_first=True,
                                                   layer_norm_eps=1e-6, batch_first=True),
                                lambda: (_x(2, 5, 8),)),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(
        _enc_layer(activation=nn.GELU(approximate="tanh")), 2, norm=nn.LayerNorm(8),
        enable_nested_tensor=False), lambda: (_x(5, 2, 8),)),
    "TransformerDecoderLayer": (lambda: _dec_layer(bias=False, norm_first=True),
                                lambda: (_x(4, 2, 8), _x(5, 2, 8))),
    "TransformerDecoder": (lambda: nn.TransformerDecoder(_dec_layer(batch_first=True), 2),
                           lambda: (_x(2, 4, 8), _x(2, 5, 8))),
    **{f"MaxPool{d}d": ((lambda d=d: getattr(nn, f"MaxPool{d}d")(3, stride=2, padding=1,
                                                               dilation=1, ceil_mode=True)),
                        (lambda d=d: (_x(2, 3, *([7] * d)),))) for d in (1, 2, 3)},
    **{f"AvgPool{d}d": ((lambda d=d: getattr(nn, f"AvgPool{d}d")(
        3, stride=2, padding=1, count_include_pad=False,
        **({"divisor_override": 2} if d > 1 else {}))),
        (lambda d=d: (_x(2, 3, *([6] * d)),))) for d in (1, 2, 3)},
    **{f"AdaptiveMaxPool{d}d": ((lambda d=d: getattr(nn, f"AdaptiveMaxPool{d}d")(2)),
                                (lambda d=d: (_x(2, 3, *([5] * d)),))) for d in (1, 2, 3)},
    **{f"AdaptiveAvgPool{d}d": ((lambda d=d: getattr(nn, f"AdaptiveAvgPool{d}d")(
        (3,) + (None,) * (d - 1))), (lambda d=d: (_x(2, 3, *([5] * d)),))) for d in (1, 2, 3)},
    **{f"LPPool{d}d": ((lambda d=d: getattr(nn, f"LPPool{d}d")(3.0, 2, ceil_mode=True)),
                       (lambda d=d: (_x(2, 3, *([5] * d)).abs(),))) for d in (1, 2, 3)},
    **{f"MaxUnpool{d}d": ((lambda d=d: getattr(nn, f"MaxUnpool{d}d")(2)), _unpool(d))
       for d in (1, 2, 3)},
    **{f"{kind}Pad{d}d": ((lambda kind=kind, d=d: getattr(nn, f"{kind}Pad{d}d")(
        tuple(range(1, 2 * d + 1)), **({"value": 1.5} if kind == "Constant" else {}))),
        (lambda d=d: (_x(2, 3, *([7] * d)),)))
        for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular")
        for d in (1, 2, 3)},
    "Upsample": (lambda: nn.Upsample(scale_factor=(2.0, 1.5), mode="bilinear",
                                     align_corners=True), lambda: (_x(1, 2, 3, 4),)),
    "UpsamplingNearest2d": (lambda: nn.UpsamplingNearest2d(size=(5, 6)),
                            lambda: (_x(1, 2, 3, 4),)),
    "UpsamplingBilinear2d": (lambda: nn.UpsamplingBilinear2d(scale_factor=2),
                             lambda: (_x(1, 2, 3, 4),)),
    "PixelShuffle": (lambda: nn.PixelShuffle(2), lambda: (_x(1, 8, 2, 2),)),
    "PixelUnshuffle": (lambda: nn.PixelUnshuffle(2), lambda: (_x(1, 2, 4, 4),)),
    "ChannelShuffle": (lambda: nn.ChannelShuffle(2), lambda: (_x(1, 4, 2, 2),)),
    "Fold": (lambda: nn.Fold((4, 5), (2, 2), stride=1), lambda: (_x(1, 12, 12),)),
    "Unfold": (lambda: nn.Unfold((2, 3), dilation=1, padding=1, stride=2),
               lambda: (_x(1, 2, 5, 5),)),
    "CosineSimilarity": (lambda: nn.CosineSimilarity(dim=0, eps=1e-6),
                         lambda: (_x(3, 4), _x(3, 4))),
    "PairwiseDistance": (lambda: nn.PairwiseDistance(p=3.0, eps=1e-5, keepdim=True),
                         lambda: (_x(3, 4), _x(3, 4))),
    # activations (all of torch.nn.modules.activation; the test below checks none is missed)
    "CELU": (lambda: nn.CELU(alpha=0.7), None), "ELU": (lambda: nn.ELU(alpha=0.3), None),
    "GELU": (lambda: nn.GELU(approximate="tanh"), None), "GLU": (lambda: nn.GLU(dim=0), None),
    "Hardshrink": (lambda: nn.Hardshrink(0.3), None),
    "Hardsigmoid": (lambda: nn.Hardsigmoid(), None), "Hardswish": (lambda: nn.Hardswish(), None),
    "Hardtanh": (lambda: nn.Hardtanh(-0.5, 0.7), None),
    "LeakyReLU": (lambda: nn.LeakyReLU(negative_slope=0.2), None),
    "LogSigmoid": (lambda: nn.LogSigmoid(), None), "LogSoftmax": (lambda: nn.LogSoftmax(0), None),
    "Mish": (lambda: nn.Mish(), None), "PReLU": (lambda: nn.PReLU(4, init=0.1), None),
    "RReLU": (lambda: nn.RReLU(0.1, 0.2), None), "ReLU": (lambda: nn.ReLU(inplace=True), None),
    "ReLU6": (lambda: nn.ReLU6(), None), "SELU": (lambda: nn.SELU(), None),
    "SiLU": (lambda: nn.SiLU(), None), "Sigmoid": (lambda: nn.Sigmoid(), None),
    "Softmax": (lambda: nn.Softmax(dim=-1), None), "Softmax2d": (lambda: nn.Softmax2d(), None),
    "Softmin": (lambda: nn.Softmin(dim=1), None),
    "Softplus": (lambda: nn.Softplus(beta=2.0, threshold=10.0), None),
    "Softshrink": (lambda: nn.Softshrink(0.2), None), "Softsign": (lambda: nn.Softsign(), None),
    "Tanh": (lambda: nn.Tanh(), None), "Tanhshrink": (lambda: nn.Tanhshrink(), None),
    "Threshold": (lambda: nn.Threshold(0.1, 20.0), None),
}


def _randomize(module: nn.Module) -> None:
    """Non-default values in every floating tensor (running stats too), so a loader that kept
    fresh values would be caught."""
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            if t.is_floating_point():
                t.copy_(torch.randn_like(t).abs() + 0.1)


def _same_state(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype and torch.equal(sa[key], sb[key]), key
    assert [p.requires_grad for p in a.parameters()] == [p.requires_grad for p in b.parameters()]


def _outputs(module: nn.Module, args) -> list:
    with torch.no_grad():
        out = module(*args)
    flat = []

    def walk(value):
        if isinstance(value, torch.Tensor):
            flat.append(value)
        elif isinstance(value, (tuple, list)):
            for v in value:
                walk(v)
    walk(out)
    return flat


def _round_trip(module: nn.Module, tmp_path, name: str = "m.fitorch") -> nn.Module:
    path = tmp_path / name
    ft.save_model(module, path)
    return ft.load_model(path)


def test_every_supported_class_has_a_case_and_every_activation_is_supported():
    from torch.nn.modules import activation

    torch_activations = {n for n, c in vars(activation).items() if isinstance(c, type)
                         and issubclass(c, nn.Module) and c.__module__ == activation.__name__}
    assert torch_activations <= set(SUPPORTED)
    assert set(CASES) == set(SUPPORTED)


@pytest.mark.parametrize("name", sorted(CASES))
def test_supported_class_round_trips_exactly(name, tmp_path):
    make, inputs = CASES[name]
    torch.manual_seed(0)
    module = make()
    _randomize(module)
    module.eval()
    loaded = _round_trip(module, tmp_path)
    assert type(loaded).__mro__[1] is type(module)  # ft.Model's view of the same class
    assert repr(loaded) == repr(module)
    _same_state(module, loaded)
    loaded.eval()
    torch.manual_seed(1)
    args = inputs() if inputs is not None else (_x(4, 4, 3, 3),)
    if isinstance(module, (nn.ReLU, nn.Dropout2d)):  # in-place modules: give each its copy
        expected = _outputs(module, [a.clone() for a in args])
    else:
        expected = _outputs(module, args)
    got = _outputs(loaded, args)
    assert len(got) == len(expected) > 0
    for a, b in zip(expected, got):
        assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_dtypes_round_trip(dtype, tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 2)).to(dtype)
    net[1].running_mean.copy_(torch.randn(8))  # buffers too
    loaded = _round_trip(net.eval(), tmp_path)
    _same_state(net, loaded)
    x = torch.randn(5, 4, dtype=dtype)
    assert torch.equal(net(x), loaded.eval()(x))


def test_mixed_dtypes_and_frozen_parameters_round_trip(tmp_path):
    net = nn.Sequential(nn.Embedding(7, 4), nn.LSTM(4, 3, batch_first=True))
    net[0].half()
    net[0].weight.requires_grad_(False)
    net[1].weight_hh_l0.requires_grad_(False)
    loaded = _round_trip(net, tmp_path)
    _same_state(net, loaded)
    assert loaded[0].weight.dtype == torch.float16 and loaded[1].weight_ih_l0.dtype == torch.float32


def test_containers_keep_names_and_nest(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict([
        ("stem", nn.Conv1d(2, 4, 3)),
        ("blocks", nn.ModuleList([nn.Sequential(nn.ReLU(), nn.Conv1d(4, 4, 1)) for _ in range(2)])),
        ("heads", nn.ModuleDict({"b": nn.Linear(4, 1), "a": nn.Identity()})),
    ]))
    loaded = _round_trip(net, tmp_path)
    assert list(loaded._modules) == ["stem", "blocks", "heads"]
    assert list(loaded.heads) == ["b", "a"]
    assert repr(loaded) == repr(net)
    _same_state(net, loaded)


class UserBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        return self.fc(x).relu()


def test_unknown_module_is_named_at_save_time_with_the_ways_out(tmp_path):
    model = ft.Model(nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Tanh(), UserBlock())))
    path = tmp_path / "u.fitorch"
    with pytest.raises(ValueError, match=r"module '1\.1' is a .*UserBlock.*register_serializable"
                                         r".*save_weights.*include_architecture=False"):
        model.save(path)
    assert not path.exists()  # nothing written
    model.save(path, include_architecture=False)
    with pytest.raises(ValueError, match=r"include_architecture=False.*load_weights"):
        ft.load_model(path)
    fresh = ft.Model(nn.Sequential(nn.Linear(3, 3), nn.Sequential(nn.Tanh(), UserBlock())))
    fresh.load_weights(path)
    _same_state(model, fresh)


def test_registered_user_class_inside_a_torch_container_loads(tmp_path):
    from fitorch.saving import register_serializable

    @register_serializable(package="tests_torch_modules")
    class Registered(UserBlock):
        pass

    net = nn.Sequential(nn.Linear(3, 3), Registered())
    loaded = _round_trip(net, tmp_path)
    assert type(loaded[1]) is Registered
    # found through the registry outside load_model too (a config rebuilt by hand)
    assert type(torch_modules.rebuild_module(torch_modules.describe_module(net))[1]) is Registered
    _same_state(net, loaded)


def custom_activation(x):
    return x * 2


def _tied():
    net = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    net[1].weight = net[0].weight
    return net


def _own_parameter():
    net = nn.Sequential(nn.Linear(2, 2))
    net.register_parameter("extra", nn.Parameter(torch.ones(1)))
    return net


def _replaced_child():
    layer = _enc_layer()
    layer.linear2 = UserBlock()
    return layer


@pytest.mark.parametrize("make, problem", [
    (lambda: _enc_layer(activation=custom_activation), r"Python callable"),
    (_tied, r"tied weights"),
    (lambda: nn.LazyLinear(3), r"LazyLinear"),
    (_own_parameter, r"holds its own tensors \['extra'\]"),
    (_replaced_child, r"differs from what its constructor arguments rebuild"),
])
def test_what_cannot_be_described_is_refused_at_save_time(make, problem, tmp_path):
    with pytest.raises(ValueError, match=problem):
        ft.save_model(make(), tmp_path / "x.fitorch")
    assert not (tmp_path / "x.fitorch").exists()


def test_attribute_changed_after_construction_is_stored(tmp_path):
    net = nn.Sequential(nn.LeakyReLU(0.1), nn.Dropout(0.1))
    net[0].negative_slope = 0.3  # read back from the attribute, not the original call
    net[1].p = 0.6
    loaded = _round_trip(net, tmp_path)
    assert loaded[0].negative_slope == 0.3 and loaded[1].p == 0.6


def test_fitorch_models_holding_torch_modules(tmp_path):
    from fitorch import layers

    torch.manual_seed(0)
    seq = ft.Sequential([ft.Input((4,)), nn.Linear(4, 6), layers.Dense(5, activation="relu"),
                         nn.GELU(),
                         nn.Sequential(nn.Linear(5, 2), nn.Softmax(-1))])
    x = torch.randn(3, 4)
    seq(x)
    loaded = _round_trip(seq, tmp_path, "s.fitorch")
    assert type(loaded) is ft.Sequential and isinstance(loaded[0], nn.Linear)
    _same_state(seq, loaded)
    assert torch.equal(seq(x), loaded(x))

    inputs = ft.Input((4,))
    hidden = nn.Linear(4, 3)(inputs)
    outputs = layers.Dense(2)(nn.Tanh()(hidden) + hidden)
    graph = ft.Model(inputs, outputs)
    loaded = _round_trip(graph, tmp_path, "g.fitorch")
    _same_state(graph, loaded)
    assert torch.equal(graph(x), loaded(x))
    # a fitorch layer inside a torch container is stored by its own config
    mixed = nn.Sequential(layers.Dense(3, input_shape=(4,)), nn.ReLU())
    mixed(x)
    loaded = _round_trip(mixed, tmp_path, "m.fitorch")
    _same_state(mixed, loaded)
    assert torch.equal(mixed(x), loaded(x))


def test_old_files_of_torch_models_get_true_advice(tmp_path):
    import json
    import zipfile

    path = tmp_path / "old.fitorch"
    ft.save_model(nn.Sequential(nn.Linear(2, 1)), path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    old = {"format_version": 1, "class_name": "Sequential",
           "module": "torch.nn.modules.container", "registered_name": None, "config": None,
           "config_error": "Sequential is not registered"}
    members["config.json"] = json.dumps(old).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ValueError, match=r"older fitorch.*load_weights") as info:
        ft.load_model(path)
    assert "custom_objects" not in str(info.value)


def _rewrite_config(path, edit):
    import json
    import zipfile

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["config"]["modules"][0][1]["config"]["args"].update(
        in_features=10 ** 6, out_features=10 ** 6), r"would allocate .* holds only"),
    (lambda c: c["config"]["modules"][0][1]["config"]["args"].update(in_features=10 ** 13),
     r"larger than"),
    (lambda c: c["config"]["modules"][0][1].update(class_name="torch.nn.Module"),
     r"not a torch module fitorch rebuilds"),
    (lambda c: c["config"]["modules"][0][1].update(class_name="torch.nn.functional.relu"),
     r"not a torch module fitorch rebuilds"),
    (lambda c: c["config"]["modules"][0][1]["config"]["args"].update(evil=1),
     r"not among its constructor's"),
    (lambda c: c["config"]["modules"][0][1]["config"]["args"].update(
        in_features={"__dtype__": "load"}), r"not a valid argument"),
    (lambda c: c["config"]["modules"][1][1]["config"]["args"].update(num_layers=10 ** 7),
     r"larger than 10000"),
    (lambda c: c["config"]["modules"][2][1]["config"]["args"].update(scale_factor=1e9),
     r"outside"),
    (lambda c: c["config"]["modules"][0][1]["config"]["tensors"].update(weight="object"),
     r"dtype 'object'"),
    (lambda c: c["config"]["modules"][0][1]["config"]["tensors"].update(weight=[1]),
     r"dtype \[1\]"),
    (lambda c: c["config"]["modules"][0][1]["config"].update(frozen=[["weight"]]),
     r"frozen parameter"),
    (lambda c: c["config"]["modules"][0].__setitem__(0, "training"), r"training"),
    (lambda c: c["config"]["modules"][0].__setitem__(0, "a.b"), r"not a \[unique name"),
    (lambda c: c["config"]["modules"][1][1]["config"]["args"].update(
        hidden_size={"__module__": {"class_name": "torch.nn.Linear"}}), r"not a valid argument"),
])
def test_hostile_architectures_are_refused_before_allocating(edit, message, tmp_path):
    path = tmp_path / "h.fitorch"
    ft.save_model(nn.Sequential(nn.Linear(3, 4), nn.GRU(4, 4), nn.Upsample(scale_factor=2)),
                  path)
    _rewrite_config(path, edit)
    with pytest.raises(ValueError, match=message) as info:
        ft.load_model(path)
    assert "h.fitorch" in str(info.value)


def test_torch_only_cnn_trains_saves_loads_and_continues_identically(tmp_path):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target)
    torch.manual_seed(0)
    model = ft.Model(nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(8 * 4 * 4, 10)))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    path = tmp_path / "digits.fitorch"
    model.save(path)
    loaded = ft.load_model(path)
    assert loaded.compiled and type(loaded).__mro__[1] is nn.Sequential
    _same_state(model, loaded)
    assert torch.equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    torch.manual_seed(3)
    h1 = model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    torch.manual_seed(3)
    h2 = loaded.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert h1.history == h2.history  # optimizer moments and step counts came back
    _same_state(model, loaded)


def test_describe_and_rebuild_directly():
    entry = torch_modules.describe_module(nn.Sequential(nn.Linear(2, 3), nn.ReLU()))
    assert entry["class_name"] == "torch.nn.Sequential"
    assert entry["config"]["modules"][0][1]["config"]["args"] == {
        "in_features": 2, "out_features": 3, "bias": True}
    rebuilt = torch_modules.rebuild_module(entry)
    assert isinstance(rebuilt[0], nn.Linear) and rebuilt[0].out_features == 3


def test_deep_or_huge_architectures_are_refused_before_building():
    entry = {"class_name": "torch.nn.ReLU", "config": {"args": {}}}
    for _ in range(40):
        entry = {"class_name": "torch.nn.Sequential", "config": {"modules": [["0", entry]]}}
    with pytest.raises(ValueError, match="nests deeper"):
        torch_modules.rebuild_module(entry)
    many = {"class_name": "torch.nn.ModuleList",
            "config": {"modules": [{"class_name": "torch.nn.ReLU", "config": {}}] * 100_001}}
    with pytest.raises(ValueError, match="more than 100000 modules"):
        torch_modules.rebuild_module(many)
