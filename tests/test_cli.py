"""The `ata-jax` command: its JSON, its table, and one clear line for every user mistake."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

import ata_jax.simulate
from ata_jax.cli import main
from ata_jax.metrics import Totals
from ata_jax.simulate import PolicyResult

SMALL = ["simulate", "--rounds", "4", "--seeds", "2", "--workers", "6", "--budget", "3"]


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.slow
def test_simulate_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "result.json"
    code, stdout, stderr = run(capsys, *SMALL, "--policies", "ata,ata-empirical,gta,uta,ofta",
                               "--per-round", "--out", str(out), "--seed", "3")
    assert code == 0, stderr
    document = json.loads(out.read_text())
    config = document["config"]
    assert config["workers"] == 6 and config["budget"] == 3 and config["rounds"] == 4
    assert config["seeds"] == 2 and config["seed"] == 3 and config["time_model"] == "cifar"
    assert config["alpha"] == pytest.approx(1.5313 * 29 * 6, rel=1e-4)
    assert config["eta"] == pytest.approx(0.766, abs=1e-3)
    assert document["complete"] is True
    assert set(document["policies"]) == {"ata", "ata-empirical", "gta", "uta", "ofta"}
    for name, row in document["policies"].items():
        for key in ("runtime", "worker_time", "runtime_std", "worker_time_std"):
            assert row[key] > 0, (name, key)
        assert len(row["round_time"]) == 4
        assert row["runtime"] == pytest.approx(sum(row["round_time"]), rel=1e-5)
    assert document["policies"]["gta"]["regret"] is None
    assert document["policies"]["ofta"]["regret"] == pytest.approx(0.0, abs=1e-3)
    timing = document["timing"]
    assert timing["compile_s"] > 0 and timing["run_s"] > 0 and timing["device"]
    for name in ("ata", "ata-empirical", "gta", "uta", "ofta"):
        assert name in stdout  # the table


def test_explicit_alpha_and_eta_are_recorded(tmp_path, capsys):
    out = tmp_path / "r.json"
    code, _, stderr = run(capsys, *SMALL, "--policies", "ata,ata-empirical", "--alpha", "50",
                          "--eta", "0.25", "--out", str(out))
    assert code == 0, stderr
    config = json.loads(out.read_text())["config"]
    assert config["alpha"] == 50 and config["eta"] == 0.25
    assert not config["alpha_is_true_value"] and not config["eta_is_true_value"]


@pytest.mark.parametrize("arguments,message", [
    (["--workers", "0"], "--workers: expected an integer >= 1, got 0"),
    (["--budget", "-3"], "--budget: expected an integer >= 1"),
    (["--rounds", "0"], "--rounds: expected an integer >= 1"),
    (["--seeds", "two"], "--seeds: expected an integer >= 1, got 'two'"),
    (["--alpha", "0"], "--alpha: expected a finite number > 0"),
    (["--eta", "-0.5"], "--eta: expected a finite number > 0"),
    (["--eta", "inf"], "--eta: expected a finite number > 0"),
    (["--seed", "-1"], "--seed: expected a seed in"),
    (["--policies", "ata,greedy"], "unknown policy 'greedy'; valid policies: ata, ata-empirical"),
    (["--policies", "ata,ata"], "listed twice"),
    (["--policies", ""], "expected a comma list of policies"),
    (["--time-model", "cifar100"], "unknown time model 'cifar100': not a preset (cifar, sqrt"),
    (["--counting", "sample"], "invalid choice: 'sample'"),
    (["--out", "/nonexistent-dir/x.json"], "directory /nonexistent-dir does not exist"),
])
def test_bad_arguments_give_one_line_and_exit_2(capsys, arguments, message):
    code, stdout, stderr = run(capsys, *SMALL, *arguments)
    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr, stderr
    assert "Traceback" not in stderr and stdout == ""


def test_bad_model_file_and_conflicting_workers(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[workers]]\nfamily = "uniform"\nlow = 5.0\nhigh = 1.0\n')
    code, _, stderr = run(capsys, "simulate", "--time-model", str(bad))
    assert code == 2 and "high must be > low" in stderr and str(bad) in stderr
    good = tmp_path / "good.json"
    good.write_text('{"workers": [{"family": "constant", "value": 2, "count": 3}]}')
    code, _, stderr = run(capsys, "simulate", "--time-model", str(good), "--workers", "4")
    assert code == 2 and "defines 3 workers but --workers 4" in stderr


def test_heavy_tailed_model_needs_explicit_alpha(tmp_path, capsys):
    path = tmp_path / "heavy.json"
    path.write_text('{"workers": [{"family": "lognormal", "log_mean": 1, "log_std": 0.5,'
                    ' "count": 3}]}')
    code, _, stderr = run(capsys, "simulate", "--time-model", str(path), "--policies", "ata")
    assert code == 2 and "true alpha is infinite" in stderr and "--alpha" in stderr
    code, _, stderr = run(capsys, "simulate", "--time-model", str(path), "--policies",
                          "ata,gta", "--alpha", "3", "--rounds", "3", "--seeds", "2",
                          "--budget", "2")
    assert code == 0, stderr


def test_interrupted_run_keeps_finished_policies(tmp_path, capsys, monkeypatch):
    def interrupted(model, policies, on_result, **settings):
        totals = Totals(*(np.ones(2) for _ in Totals._fields))
        on_result(policies[0], PolicyResult(totals, None, 1.0, 2.0))
        raise KeyboardInterrupt

    monkeypatch.setattr(ata_jax.simulate, "simulate", interrupted)
    out = tmp_path / "partial.json"
    code, _, stderr = run(capsys, *SMALL, "--policies", "ofta,gta", "--out", str(out))
    assert code == 130 and "interrupted; finished policies: ofta" in stderr
    document = json.loads(out.read_text())
    assert document["complete"] is False and list(document["policies"]) == ["ofta"]


@pytest.mark.slow
def test_installed_console_script_and_help():
    # the interpreter's scripts folder first: a virtual environment need not be activated
    executable = shutil.which("ata-jax", path=os.pathsep.join(
        [sysconfig.get_path("scripts"), os.environ.get("PATH", "")]))
    assert executable is not None, "pip install . should put ata-jax in the scripts folder"
    listing = subprocess.run([executable, "--help"], capture_output=True, text=True, check=True)
    assert "simulate" in listing.stdout
    simulate_help = subprocess.run([sys.executable, "-m", "ata_jax.cli", "simulate", "--help"],
                                   capture_output=True, text=True, check=True)
    for flag in ("--time-model", "--workers", "--budget", "--rounds", "--seeds", "--policies",
                 "--alpha", "--eta", "--seed", "--per-round", "--out"):
        assert flag in simulate_help.stdout
    failed = subprocess.run([executable, "simulate", "--workers", "0"], capture_output=True,
                            text=True)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1


@pytest.mark.slow
def test_command_runs_seeds_on_every_core(tmp_path):
    from ata_jax.devices import cpu_core_count

    out = tmp_path / "cores.json"
    environment = {key: value for key, value in os.environ.items() if key != "XLA_FLAGS"}
    subprocess.run([sys.executable, "-m", "ata_jax.cli", *SMALL, "--policies", "ofta",
                    "--seeds", "3", "--out", str(out)], check=True, env=environment,
                   capture_output=True)
    timing = json.loads(out.read_text())["timing"]
    assert timing["device_count"] == cpu_core_count()


@pytest.mark.parametrize("content,message", [
    ('{"workers": [{"family": ["exponential"], "mean": 1}]}', "unknown family"),
    ('{"workers": [{"family": "exponential", "mean": 1, "where": 2}]}', "unknown field(s) where"),
    ('{"workers": [{"family": "exponential", "mean": 1e39}]}', "does not fit in float32"),
    ('{"workers": [{"family": "exponential", "mean": 1' + "0" * 400 + '}]}', "too large"),
    ('{"workers": [{"family": "constant", "value": 1}], "schedule": {"num_rounds": 3}}',
     "unknown field(s) num_rounds"),
    ('{"workers": [{"family": "constant", "value": 1}], "schedule": {"drift": 1' + "0" * 400
     + '}}', "finite float32"),
])
def test_model_file_mistakes_never_give_a_traceback(tmp_path, capsys, content, message):
    path = tmp_path / "model.json"
    path.write_text(content)
    code, _, stderr = run(capsys, "simulate", "--time-model", str(path), "--rounds", "2")
    assert code == 2 and message in stderr and stderr.count("\n") == 1, stderr


def test_heavy_tailed_model_json_has_null_true_values(tmp_path, capsys):
    path = tmp_path / "heavy.json"
    path.write_text('{"workers": [{"family": "lognormal", "log_mean": 1, "log_std": 0.5,'
                    ' "count": 3}]}')
    out = tmp_path / "r.json"
    code, _, stderr = run(capsys, "simulate", "--time-model", str(path), "--policies", "gta",
                          "--rounds", "3", "--seeds", "2", "--budget", "2", "--out", str(out))
    assert code == 0, stderr
    config = json.loads(out.read_text())["config"]
    assert config["alpha"] is None and config["true_eta"] is None


def test_budget_limit(capsys):
    code, _, stderr = run(capsys, "simulate", "--budget", "5000")
    assert code == 2 and "above 1024" in stderr
