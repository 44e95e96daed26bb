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
