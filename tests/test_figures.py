"""`ata-jax reproduce NAME --quick` runs for every figure and writes its PNG and JSON."""

import json

import pytest

from ata_jax.cli import main
from ata_jax.figures import FIGURES


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_reproduce_quick_writes_figure_and_data(name, tmp_path, capsys):
    assert main(["reproduce", name, "--quick", "--out-dir", str(tmp_path)]) == 0
    written = [line.split(" ", 1)[1] for line in capsys.readouterr().out.splitlines()
               if line.startswith("wrote ")]
    pngs = [path for path in written if path.endswith(".png")]
    assert pngs, written
    for png in pngs:
        assert (tmp_path / png.rsplit("/", 1)[-1]).stat().st_size > 10_000
        data = json.loads((tmp_path / png.rsplit("/", 1)[-1]).with_suffix(".json").read_text())
        assert data["settings"] and data["data"] and data["provenance"]["jax"]
        assert data["quick"] is True  # a later --quick run may replace it, a full one not
        assert not data["provenance"]["command"].startswith("/")  # no path of this machine
    if name == "cifar-swap":
        data = json.loads((tmp_path / "cifar_swap.json").read_text())
        assert data["settings"]["rounds"] == 60 and data["settings"]["time_model"] == "cifar-swap"
        for row in data["data"]["policies"].values():
            assert len(row["round_time_per_round"]) == 60 and row["second_half_round_time"] > 0


def test_unknown_figure_lists_the_valid_ones(capsys):
    assert main(["reproduce", "fig99", "--quick"]) == 2
    error = capsys.readouterr().err
    assert "fig99" in error and "cifar-swap" in error and error.count("\n") == 1


def test_an_unwritable_output_folder_is_one_line_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["reproduce", "cifar", "--quick", "--out-dir", str(blocker / "below")]) == 2
    error = capsys.readouterr().err
    assert "cannot be written" in error and error.count("\n") == 1


def test_a_quick_run_never_replaces_a_full_size_figure(tmp_path, monkeypatch,
                                                       fails_with_one_line):
    """--quick writes to figures-quick by default, and refuses a folder holding a full-size
    figure unless --replace (checked before any work: the figure itself is a stub here)."""
    import ata_jax.figures

    calls = []
    monkeypatch.setattr(ata_jax.figures, "reproduce",
                        lambda name, out_dir, quick: calls.append((name, out_dir, quick)) or [])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "figures").mkdir()
    full = {"figure": "cifar", "quick": False, "settings": {}, "data": {}}
    (tmp_path / "figures" / "cifar.json").write_text(json.dumps(full))
    assert main(["reproduce", "cifar", "--quick"]) == 0
    assert main(["reproduce", "cifar"]) == 0
    assert calls == [("cifar", "figures-quick", True), ("cifar", "figures", False)]
    fails_with_one_line(["reproduce", "cifar", "--quick", "--out-dir", "figures"],
                        "holds full-size figures (cifar.json)", "--replace")
    assert len(calls) == 2
    assert main(["reproduce", "cifar", "--quick", "--out-dir", "figures", "--replace"]) == 0
    assert calls[-1] == ("cifar", "figures", True)
    # a folder of quick figures is fair game
    (tmp_path / "figures" / "cifar.json").write_text(json.dumps(dict(full, quick=True)))
    assert main(["reproduce", "cifar", "--quick", "--out-dir", "figures"]) == 0


def test_the_committed_figures_are_full_size_and_name_the_typed_command():
    import pathlib

    for path in sorted((pathlib.Path(__file__).parents[1] / "figures").glob("*.json")):
        document = json.loads(path.read_text())
        assert document["quick"] is False, path
        assert document["provenance"]["command"].startswith("ata-jax reproduce "), path


def test_the_command_is_recorded_as_typed():
    from ata_jax.provenance import command_line

    assert command_line(["/opt/x/bin/ata-jax", "sweep", "--out", "a b.npz"]) == \
        "ata-jax sweep --out 'a b.npz'"
    assert command_line(["/home/u/ata_jax/cli/__main__.py", "reproduce", "cifar"]) == \
        "ata-jax reproduce cifar"
    assert command_line(["/home/u/benchmarks/device.py", "--smoke"]) == "device.py --smoke"
