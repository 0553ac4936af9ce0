"""Every demo runs, prints its summary / progress / final metrics, returns its figures and
writes non-empty PNGs. Epochs are cut to keep the suite fast; the learning targets are asserted
with the demos' own defaults where that is cheap (linear, ring), and on the seed's MNIST program
in tests/seed/test_training_styles.py."""

import pytest
import torch

from fitorch import datasets
from fitorch.demos import DEMOS, run_demo


def pngs_ok(files, out):
    assert files and all(str(f).startswith(str(out)) for f in files)
    for f in files:
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_linear_recovers_the_true_weights(tmp_path, capsys):
    result = run_demo("linear", out=str(tmp_path / "figs"))  # the folder is created
    assert result["w"] == pytest.approx(list(datasets.W_TRUE), abs=0.3)
    assert result["b"] == pytest.approx(datasets.B_TRUE, abs=0.3)
    out = capsys.readouterr().out
    assert "Total params: 3" in out and "learned w = [" in out
    assert [f.rsplit("/", 1)[1] for f in result["files"]] == [
        "linear_data.png", "linear_history.png", "linear_result.png"]
    pngs_ok(result["files"], tmp_path)


def test_ring_reaches_90_percent(tmp_path, capsys):
    result = run_demo("ring", out=str(tmp_path))
    assert result["val_accuracy"] >= 0.9
    assert "final: accuracy = " in capsys.readouterr().out
    pngs_ok(result["files"], tmp_path)


def test_mnist_one_epoch_writes_its_figures(tmp_path, capsys):
    result = run_demo("mnist", epochs=1, out=str(tmp_path))
    assert result["val_accuracy"] > 0.5  # one epoch; the 0.95 target is the seed test's
    assert result["misclassified"] == round((1 - result["val_accuracy"]) * 1000)
    out = capsys.readouterr().out
    assert "held-out digits wrong" in out and "Conv2d-1" in out
    pngs_ok(result["files"], tmp_path)


@pytest.mark.parametrize("name, table", [("text", "332,856"), ("functional", "78,938"),
                                         ("resblock", "103,197")])
def test_token_demos_print_the_seeds_table(name, table, tmp_path, capsys):
    result = run_demo(name, epochs=1, out=str(tmp_path))
    out = capsys.readouterr().out
    assert f"Total params: {table}" in out and "SYNTHETIC" in out
    assert "val_loss" in result
    pngs_ok(result["files"], tmp_path)


def test_styles_agree(tmp_path):
    result = run_demo("styles", epochs=2, out=str(tmp_path))
    curves = {name: result[name]["val_accuracy"] for name in
              ("script", "function", "train_on_batch", "fit", "torchkeras")}
    # same starting weights, same batches, same optimizer: the same model in every style
    reference = curves["script"]
    for name, curve in curves.items():
        assert curve == pytest.approx(reference, abs=1e-4), name
    pngs_ok(result["files"], tmp_path)


def test_without_out_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run_demo("linear", epochs=1)["files"] == []
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_are_refused_before_running():
    with pytest.raises(ValueError, match="demo 'nope': expected one of"):
        run_demo("nope")
    with pytest.raises(ValueError, match="epochs=0"):
        run_demo("linear", epochs=0)
    assert list(DEMOS) == ["linear", "ring", "mnist", "text", "functional", "resblock", "styles"]
