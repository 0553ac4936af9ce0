"""fitorch.plot: each figure is drawn, saved and holds the curves/panels it promises."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("matplotlib")

from fitorch import plot  # noqa: E402
from fitorch.callbacks.history import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _saved(path) -> None:
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _history(epochs: int = 6) -> History:
    history = History()
    for epoch in range(epochs):
        logs = {"loss": 1.0 / (epoch + 1), "mae": 2.0 / (epoch + 1)}
        if epoch % 2 == 1:  # as with validation_freq=2
            logs.update(val_loss=1.5 / (epoch + 1), val_mae=2.5 / (epoch + 1))
        history.on_epoch_end(epoch, logs)
    return history


def test_import_is_lazy_and_headless_uses_agg(tmp_path):
    code = ("import sys, fitorch.plot as p, numpy as np\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported at module level'\n"
            f"p.plot_images(np.zeros((2, 4, 4)), path={str(tmp_path / 'x.png')!r})\n"
            "import matplotlib; print(matplotlib.get_backend())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    if sys.platform.startswith("linux"):
        assert out.stdout.strip().lower() == "agg"
    _saved(tmp_path / "x.png")


def test_a_backend_the_user_chose_is_kept(tmp_path):
    code = ("import matplotlib; matplotlib.use('svg')\n"
            "import fitorch.plot as p, numpy as np\n"
            f"p.plot_images(np.zeros((2, 4, 4)), path={str(tmp_path / 'x.png')!r})\n"
            "print(matplotlib.get_backend())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().lower() == "svg"
    _saved(tmp_path / "x.png")  # the extension, not the backend, picks the file format


def test_plot_history_from_history_object(tmp_path):
    fig = plot.plot_history(_history(), metrics=["loss", "mae"], path=tmp_path / "h.png",
                            title="run 1")
    _saved(tmp_path / "h.png")
    assert len(fig.axes) == 2
    loss_ax, mae_ax = fig.axes
    train, val = loss_ax.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4, 5, 6]  # epochs counted from 1
    assert np.allclose(train.get_ydata(), [1 / e for e in range(1, 7)])
    # validation ran every other epoch: its points sit at epochs 2, 4, 6 with no NaN gaps
    assert list(val.get_xdata()) == [2, 4, 6]
    assert np.allclose(val.get_ydata(), [1.5 / 2, 1.5 / 4, 1.5 / 6])
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["loss", "val_loss"]
    assert mae_ax.get_ylabel() == "mae" and loss_ax.get_xlabel() == "epoch"
    assert fig._suptitle.get_text() == "run 1"


def test_plot_history_from_dataframe_and_dict_and_plot_metric(tmp_path):
    pd = pytest.importorskip("pandas")
    # the seed's dfhistory: an epoch column, then loss / metric / val_ columns
    df = pd.DataFrame({"epoch": [1, 2, 3], "loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.8],
                       "val_loss": [1.0, 0.6, 0.4], "val_accuracy": [0.4, 0.6, 0.7]})
    fig = plot.plot_metric(df, "accuracy", path=tmp_path / "m.png")
    _saved(tmp_path / "m.png")
    (ax,) = fig.axes
    train, val = ax.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3] and list(val.get_ydata()) == [0.4, 0.6, 0.7]
    fig = plot.plot_history(_history(3).to_pandas(), "loss")
    assert list(fig.axes[0].get_lines()[0].get_xdata()) == [1, 2, 3]
    # a plain dict, torchkeras' newer train_ prefix, and no validation at all
    fig = plot.plot_history({"train_loss": [3.0, 2.0, 1.0]}, "loss")
    (line,) = fig.axes[0].get_lines()
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == [3.0, 2.0, 1.0]


def test_plot_history_unknown_metric_lists_keys(tmp_path):
    with pytest.raises(ValueError, match=r"'auc'.*available keys: \['loss', 'mae', 'val_loss'"):
        plot.plot_history(_history(), ["loss", "auc"], path=tmp_path / "never.png")
    assert not (tmp_path / "never.png").exists()
    with pytest.raises(ValueError, match="empty"):
        plot.plot_history(_history(), [])
    with pytest.raises(TypeError, match="History"):
        plot.plot_history([0.5, 0.4])


def test_missing_folder_is_a_clear_error_and_draws_nothing(tmp_path):
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot.plot_history(_history(), path=tmp_path / "no_such_dir" / "h.png")
    assert len(plt.get_fignums()) == before
    assert not (tmp_path / "no_such_dir").exists()


def test_plot_regression_data_points_and_model_lines(tmp_path):
    from fitorch.datasets import linear_data

    x, y = linear_data(100)
    fig = plot.plot_regression_data(x, y, path=tmp_path / "r0.png")
    _saved(tmp_path / "r0.png")
    assert len(fig.axes) == 2
    assert all(len(ax.collections) == 1 and not ax.get_lines() for ax in fig.axes)
    assert [ax.get_xlabel() for ax in fig.axes] == ["x1", "x2"]

    w, b = torch.tensor([[2.0], [-3.0]]), torch.tensor([10.0])
    fig = plot.plot_regression_data(x, y, path=tmp_path / "r.png", w=w, b=b)
    _saved(tmp_path / "r.png")
    for j, ax in enumerate(fig.axes):
        (line,) = ax.get_lines()
        xs, ys = line.get_xdata(), line.get_ydata()
        # the model's prediction along x_j with the other feature at its mean
        other = x[:, 1 - j].mean().item() * w[1 - j].item()
        assert np.allclose(ys, w[j].item() * xs + 10.0 + other, atol=1e-5)
        assert np.isclose(xs.min(), x[:, j].min().item()) and np.isclose(xs.max(), x[:, j].max().item())


def test_plot_regression_data_bad_inputs():
    x, y = torch.zeros(5, 2), torch.zeros(5, 1)
    with pytest.raises(ValueError, match="both w and b"):
        plot.plot_regression_data(x, y, w=[1.0, 2.0])
    with pytest.raises(ValueError, match="w has 3 values, expected 2"):
        plot.plot_regression_data(x, y, w=[1.0, 2.0, 3.0], b=0.0)
    with pytest.raises(ValueError, match="Y has 4 rows, expected 5"):
        plot.plot_regression_data(x, torch.zeros(4))


def test_plot_binary_classes_true_and_predicted(tmp_path):
    from fitorch.datasets import ring_data

    x, y = ring_data(60, 40, seed=1)
    fig = plot.plot_binary_classes(x, y, path=tmp_path / "b0.png")
    _saved(tmp_path / "b0.png")
    (ax,) = fig.axes
    positive, negative = ax.collections
    assert len(positive.get_offsets()) == 60 and len(negative.get_offsets()) == 40
    assert tuple(positive.get_facecolor()[0][:3]) == (1.0, 0.0, 0.0)  # red as in the seed
    assert ax.get_title() == "y_true"

    proba = torch.sigmoid(6.5 - x.norm(dim=1))  # a fair classifier: inside radius 6.5 -> positive
    fig = plot.plot_binary_classes(x, y, proba, path=tmp_path / "b.png")
    _saved(tmp_path / "b.png")
    assert len(fig.axes) == 2
    predicted_positive = (x.norm(dim=1) < 6.5).sum().item()
    assert len(fig.axes[1].collections[0].get_offsets()) == predicted_positive
    accuracy = ((proba >= 0.5).float() == y[:, 0]).float().mean().item()
    assert fig.axes[1].get_title() == f"y_pred (accuracy {accuracy:.3f})"


def test_plot_binary_classes_bad_inputs():
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        plot.plot_binary_classes(torch.zeros(4, 3), torch.zeros(4))
    with pytest.raises(ValueError, match="0/1 labels"):
        plot.plot_binary_classes(torch.zeros(4, 2), torch.tensor([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="y_pred has 3 rows, expected 4"):
        plot.plot_binary_classes(torch.zeros(4, 2), torch.zeros(4), torch.zeros(3))


@pytest.mark.parametrize("shape", [(12, 1, 8, 8), (12, 8, 8), (12, 8, 8, 1), (12, 64), (12, 3, 8, 8)])
def test_plot_images_layouts(tmp_path, shape):
    images = torch.rand(shape)
    fig = plot.plot_images(images, labels=torch.arange(12), path=tmp_path / "i.png", n=9)
    _saved(tmp_path / "i.png")
    assert len(fig.axes) == 9  # the first n, a 3 x 3 grid
    assert [ax.get_title() for ax in fig.axes] == [str(i) for i in range(9)]
    picture = fig.axes[4].get_images()[0].get_array()
    expected = images.reshape(12, 8, 8) if len(shape) != 4 or shape[1] != 3 else images.permute(0, 2, 3, 1)
    assert np.allclose(np.asarray(picture), expected[4].numpy(), atol=1e-6)


def test_plot_images_grid_drops_unused_cells_and_checks_input():
    fig = plot.plot_images(np.zeros((5, 6, 6)))
    assert len(fig.axes) == 5 and all(ax.get_title() == "" for ax in fig.axes)
    with pytest.raises(ValueError, match="labels has 2 entries, expected 5"):
        plot.plot_images(np.zeros((5, 6, 6)), labels=[1, 2])
    with pytest.raises(ValueError, match="not a square"):
        plot.plot_images(np.zeros((5, 10)))
    with pytest.raises(ValueError, match="n=0"):
        plot.plot_images(np.zeros((5, 6, 6)), n=0)


def test_plot_misclassified_grid(tmp_path):
    images = torch.rand(30, 1, 28, 28)
    y_true = torch.arange(30) % 10
    y_pred = y_true.clone()
    wrong = [1, 4, 7, 20, 29]
    y_pred[wrong] = (y_pred[wrong] + 1) % 10
    fig = plot.plot_misclassified(images, y_true, y_pred, path=tmp_path / "m.png")
    _saved(tmp_path / "m.png")
    assert [ax.get_title() for ax in fig.axes] == [
        f"true {int(y_true[i])} / pred {int(y_pred[i])}" for i in wrong]
    assert np.allclose(np.asarray(fig.axes[2].get_images()[0].get_array()), images[7, 0].numpy())
    assert "5 of 30" in fig._suptitle.get_text()
    # scores are argmaxed; max_images caps the grid
    logits = torch.nn.functional.one_hot(y_pred, 10).float() * 3
    fig = plot.plot_misclassified(images, y_true, logits, max_images=2)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "true 4 / pred 5"


def test_plot_misclassified_when_all_correct_and_bad_input(tmp_path):
    y = torch.arange(4)
    fig = plot.plot_misclassified(torch.zeros(4, 28, 28), y, y, path=tmp_path / "none.png")
    assert (tmp_path / "none.png").stat().st_size > 0
    (ax,) = fig.axes
    assert "No misclassified images (4 of 4 correct)" in ax.texts[0].get_text()
    with pytest.raises(ValueError, match="y_true has 3 rows, expected 4"):
        plot.plot_misclassified(torch.zeros(4, 28, 28), torch.arange(3), y)
    with pytest.raises(ValueError, match="max_images=0"):
        plot.plot_misclassified(torch.zeros(4, 28, 28), y, y, max_images=0)
    # flat MNIST rows (mnist_data(flatten=True)) are drawn as 28 x 28
    fig = plot.plot_misclassified(torch.zeros(4, 784), y, torch.tensor([0, 1, 2, 0]))
    assert fig.axes[0].get_images()[0].get_array().shape == (28, 28)
