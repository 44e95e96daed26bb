"""The experiment scripts run (small settings) and write their figure and data."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_cifar_swap_figure_quick(tmp_path):
    out = tmp_path / "swap.png"
    subprocess.run([sys.executable, str(ROOT / "experiments" / "cifar_swap.py"), "--quick",
                    "--out", str(out)], check=True, capture_output=True, timeout=600)
    assert out.stat().st_size > 10_000
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["settings"]["rounds"] == 60 and data["time_model"] == "cifar-swap"
    for row in data["policies"].values():
        assert len(row["round_time_per_round"]) == 60 and row["second_half_round_time"] > 0
