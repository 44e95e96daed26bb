"""`ata-jax sweep` and `ata_jax.sweep`: one compile per grid, results equal to `simulate`,
chunking by memory, checkpoints that resume to identical results, the .npz store, bad input.

Every run here shares one shape (policy ata, n=5, B=2, K=20, chunks of 4 runs), so the whole
module compiles the sweep program once, plus `simulate`'s once.
"""

import json
import os
import random
import sys

import numpy as np
import pytest

import ata_jax
from ata_jax.cli import main
from ata_jax.modelfile import resolve_time_model
from ata_jax.simulate import simulate
from ata_jax.compilation import TRACE_COUNTS
from ata_jax.sweep import (SUMMARY_FIELDS, SweepConfig, SweepError,
                           bytes_per_run, curve_round_ends, model_fingerprint,
                           open_checkpoint, parse_grid_values, plan_chunk_runs, run_sweep)
from ata_jax.sweepfile import save_sweep

N, B, K, S = 5, 2, 20, 3
CHUNK = 4
MODEL = resolve_time_model("cifar", N, K)


def config(**changes) -> SweepConfig:
    settings = dict(time_model="cifar", workers=(N,), budgets=(B,), policies=("ata",),
                    alpha=(0.5, 1.0, 2.0), alpha_mode="scale", rounds=K, seeds=S,
                    curve_points=4, model_fingerprints=(model_fingerprint(MODEL),))
    settings.update(changes)
    return SweepConfig(**settings)


def memory_mb_for(runs: int, curve_points: int = 4) -> float:
    """A memory budget that holds exactly `runs` runs per chunk."""
    return runs * bytes_per_run("ata", MODEL, budget=B, num_rounds=K,
                                curve_points=curve_points) / 2**20


MEMORY_MB = memory_mb_for(CHUNK)


@pytest.fixture(scope="module")
def uninterrupted():
    return run_sweep(config(), {N: MODEL}, memory_mb=MEMORY_MB)


def test_grid_grammar():
    assert parse_grid_values("1/16..16") == tuple(2.0 ** k for k in range(-4, 5))
    assert parse_grid_values("0.25,1,4") == (0.25, 1.0, 4.0)
    assert parse_grid_values("1:3:3") == (1.0, 2.0, 3.0)
    np.testing.assert_allclose(parse_grid_values("1..1000:4"), [1, 10, 100, 1000])
    assert parse_grid_values("3..10") == (3.0, 6.0)  # up to hi, not past it
    for bad in ("", " ", "1,,2", "abc", "0", "-1", "1,0.5,1", "16..1", "1/0", "inf", "0:1:3",
                "1..4:0"):
        with pytest.raises(SweepError):
            parse_grid_values(bad)


def test_one_compile_for_the_whole_grid(uninterrupted):
    assert uninterrupted.chunks_computed == 3  # 9 runs in chunks of 4: several calls
    traced = TRACE_COUNTS[("sweep", "ata", N, B)]
    assert traced >= 1
    again = run_sweep(config(alpha=(10.0, 100.0, 1000.0, 5000.0), alpha_mode="absolute",
                             eta=(0.5, 3.0), eta_mode="absolute"), {N: MODEL},
                      memory_mb=MEMORY_MB)
    assert again.chunks_computed == 3  # 4 alphas x 3 seeds (eta ignored by ATA): 12 runs
    assert TRACE_COUNTS[("sweep", "ata", N, B)] == traced  # another grid: no new trace
    regret = again.totals[0, :, :, 2]
    assert not np.allclose(regret[0], regret[-1])  # alpha really varies the runs
    np.testing.assert_array_equal(again.totals[0, 0::2], again.totals[0, 1::2])  # eta: copies


def test_sweep_equals_simulate(uninterrupted):
    for index, point in enumerate(uninterrupted.points):
        assert point.alpha == pytest.approx(point.alpha_scale * MODEL.alpha)
        expected = simulate(MODEL, ["ata"], budget=B, num_rounds=K, num_seeds=S,
                            alpha=point.alpha)["ata"]
        for position, name in enumerate(SUMMARY_FIELDS):  # every metric
            np.testing.assert_allclose(uninterrupted.totals[0, index, :, position],
                                       getattr(expected, name), rtol=1e-6, err_msg=name)
    # the decimated curves are block means: weighted by block lengths they sum to the totals
    lengths = np.diff(np.concatenate([[0], curve_round_ends(K, 4)]))
    for position in range(3):
        np.testing.assert_allclose(
            (uninterrupted.curves[0, :, :, position] * lengths).sum(-1),
            uninterrupted.totals[0, :, :, position], rtol=1e-5)


@pytest.mark.parametrize("trial", range(2))
def test_resume_after_interrupt_is_identical(uninterrupted, tmp_path, trial):
    kill_at = random.Random(trial).randrange(3)
    directory = str(tmp_path / "checkpoint")

    def interrupt(info):
        if info.index == kill_at:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(config(), {N: MODEL}, memory_mb=MEMORY_MB, checkpoint_dir=directory,
                  on_chunk=interrupt)
    kept = sorted(name for name in os.listdir(directory) if name.endswith(".npz"))
    assert len(kept) == kill_at + 1
    stamps = {name: os.stat(os.path.join(directory, name)).st_mtime_ns for name in kept}
    # a different memory budget does not move the chunk boundaries of a started sweep
    resumed = run_sweep(config(), {N: MODEL}, memory_mb=MEMORY_MB * 3,
                        checkpoint_dir=directory, resume=True)
    assert resumed.chunks_loaded == kill_at + 1
    assert resumed.chunks_computed == 3 - (kill_at + 1)
    np.testing.assert_array_equal(resumed.totals, uninterrupted.totals)
    np.testing.assert_array_equal(resumed.curves, uninterrupted.curves)
    for name, stamp in stamps.items():  # finished chunks were not rewritten
        assert os.stat(os.path.join(directory, name)).st_mtime_ns == stamp


def test_store_round_trips(uninterrupted, tmp_path, monkeypatch):
    path = str(tmp_path / "sweep.npz")
    save_sweep(path, uninterrupted, command="ata-jax sweep --test")
    loaded = ata_jax.load_sweep(path)
    assert loaded.policies == ("ata",)
    np.testing.assert_array_equal(loaded.seeds, np.arange(S))
    np.testing.assert_array_equal(loaded.grid["alpha_scale"], [0.5, 1.0, 2.0])
    np.testing.assert_allclose(loaded.grid["alpha"], np.array([0.5, 1, 2]) * MODEL.alpha)
    assert set(loaded.grid["workers"]) == {N} and set(loaded.grid["budget"]) == {B}
    assert tuple(loaded.totals) == SUMMARY_FIELDS  # every metric, idle_time included
    for position, name in enumerate(SUMMARY_FIELDS):
        np.testing.assert_array_equal(getattr(loaded, name),
                                      uninterrupted.totals[..., position])
    assert (loaded.idle_time > 0).all() and (loaded.workers_used >= K).all()
    np.testing.assert_array_equal(loaded.curves["regret"], uninterrupted.curves[..., 2, :])
    np.testing.assert_array_equal(loaded.curve_round_end, curve_round_ends(K, 4))
    assert SweepConfig.from_dict(loaded.config) == config()
    assert loaded.metadata["command"] == "ata-jax sweep --test"
    assert loaded.metadata["grid_shape"] == [1, 1, 3, 1, 1, 1, 1]
    try:
        import pandas  # noqa: F401
        frame = loaded.to_frame()
        assert len(frame) == 3 * S and {"policy", "alpha_scale", "seed", "regret"} <= set(frame)
    except ImportError:
        pass
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        loaded.to_frame()


def test_memory_budget_bounds_chunk_size():
    small = bytes_per_run("ata", MODEL, budget=B, num_rounds=K)
    with_curves = bytes_per_run("ata", MODEL, budget=B, num_rounds=K, curve_points=4)
    assert with_curves >= small + 3 * 4 * K  # curves keep K rounds while the chunk runs
    for devices in (1, 2):
        sizes = []
        for runs_fit in (2, 7, 64, 1000):
            budget = runs_fit * small
            size = plan_chunk_runs(10_000, small, budget, devices)
            assert size * small <= budget and size % devices == 0
            assert size > runs_fit - devices
            sizes.append(size)
        assert sizes == sorted(sizes)
        assert plan_chunk_runs(10, small, 1e12, devices) == -(-10 // devices) * devices
        assert plan_chunk_runs(10, small, 1, devices) == devices  # at least one per device


def test_cli_writes_the_store(uninterrupted, tmp_path, capsys):
    out = tmp_path / "grid.npz"
    assert main(["sweep", "--workers", str(N), "--budget", str(B), "--rounds", str(K),
                 "--seeds", str(S), "--policies", "ata", "--alpha-scale", "1/2..2",
                 "--curves", "4", "--memory-mb", repr(MEMORY_MB), "--quiet",
                 "--out", str(out)]) == 0
    loaded = ata_jax.load_sweep(str(out))
    np.testing.assert_array_equal(loaded.regret, uninterrupted.totals[..., 2])
    assert loaded.config["alpha_mode"] == "scale" and loaded.config["seeds"] == S
    assert "ata" in capsys.readouterr().out


@pytest.mark.slow
def test_spread_and_explore_samples_are_grid_axes(tmp_path, capsys):
    """Thompson's ν and explore-commit's m are traced grid axes: one compile per policy for
    their whole grid, each point equal to `simulate` at that value, a policy that reads
    neither repeated along them, and the store keeps both axes."""
    from ata_jax.sweepfile import load_sweep, results_from_members, sweep_members

    policies = ("thompson", "explore-commit", "ata")
    grid = config(policies=policies, alpha=(1.0,), curve_points=0, spread=(0.0, 0.5, 2.0),
                  explore_samples=(1, 3))
    before = TRACE_COUNTS.copy()
    result = run_sweep(grid, {N: MODEL}, memory_mb=64.0)
    for policy in policies:
        assert TRACE_COUNTS[("sweep", policy, N, B)] - before[("sweep", policy, N, B)] == 1
    assert [(point.spread, point.explore_samples) for point in result.points] == \
        [(0.0, 1), (0.0, 3), (0.5, 1), (0.5, 3), (2.0, 1), (2.0, 3)]
    runtime = result.totals[..., SUMMARY_FIELDS.index("runtime")]
    for index, point in enumerate(result.points):
        for p, policy in enumerate(policies):
            expected = simulate(MODEL, [policy], budget=B, num_rounds=K, num_seeds=S,
                                spread=point.spread,
                                explore_samples=point.explore_samples)[policy]
            np.testing.assert_allclose(runtime[p, index], expected.runtime, rtol=1e-6,
                                       err_msg=f"{policy} at {point}")
    thompson, explore, ata = runtime
    assert not np.array_equal(thompson[0], thompson[4])  # ν varies Thompson's runs
    np.testing.assert_array_equal(thompson[0], thompson[1])  # and m does not
    assert not np.array_equal(explore[0], explore[1])  # m varies explore-commit's
    np.testing.assert_array_equal(explore[1], explore[5])
    assert (ata == ata[0]).all()  # ATA reads neither
    path = str(tmp_path / "grid.npz")
    save_sweep(path, result)
    loaded = load_sweep(path)
    assert loaded.metadata["grid_shape"] == [1, 1, 1, 1, 1, 3, 2]
    assert loaded.metadata["grid_axes"][-2:] == ["spread", "explore_samples"]
    np.testing.assert_array_equal(loaded.grid["spread"], [0, 0, 0.5, 0.5, 2, 2])
    np.testing.assert_array_equal(loaded.grid["explore_samples"], [1, 3] * 3)
    assert loaded.grid["explore_samples"].dtype == np.int64
    # a store of format /2 had one ν and m for the whole sweep, in its config
    members = dict(sweep_members(run_sweep(config(), {N: MODEL}, memory_mb=MEMORY_MB)))
    metadata = json.loads(str(members.pop("metadata")))
    del members["spread"], members["explore_samples"]
    metadata.update(format="ata-jax-sweep/2",
                    config={**metadata["config"], "spread": 0.25, "explore_samples": 7})
    members["metadata"] = np.array(json.dumps(metadata))
    old = results_from_members(members, "old.npz")
    assert (old.grid["spread"] == 0.25).all() and (old.grid["explore_samples"] == 7).all()
    # the table has a column for each axis a policy reads
    assert main(["sweep", "--workers", str(N), "--budget", str(B), "--rounds", str(K),
                 "--seeds", str(S), "--policies", "thompson", "--spread", "0,1/2,2",
                 "--quiet"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[6] == "nu" and " m " not in table[0]
    assert [line.split()[6] for line in table[1:4]] == ["0", "0.5", "2"]


@pytest.mark.parametrize("arguments, needle", [
    (["--alpha-scale", ""], "empty grid"),
    (["--alpha-scale", "1,,2"], "empty item"),
    (["--eta-scale", "abc"], "not a number"),
    (["--eta-scale", "0,1"], "> 0"),
    (["--alpha", "-5"], "--alpha"),
    (["--alpha", "1,-5"], "> 0"),
    (["--eta-scale", "16..1"], "downwards"),
    (["--alpha", "1", "--alpha-scale", "2"], "not allowed with"),
    (["--workers", "0"], "--workers"),
    (["--budget", "3,3"], "twice"),
    (["--discount", "0.5,2"], "(0, 1]"),
    (["--policies", "ata,foo"], "unknown policy 'foo'"),
    (["--resume"], "--resume needs --checkpoint"),
    (["--time-model", "nosuch"], "unknown time model"),
    (["--alpha-scale", "1..1e300:1000000000"], "at most 10000"),
    (["--eta-scale", "1..2:6000,3..4:6000"], "has 12000 values; at most 10000"),
    (["--checkpoint", "/proc/no/such/checkpoint"], "ata-jax"),
    (["--spread", "0,-1"], "spreads must be numbers in [0, 100]"),
    (["--spread", "1..1e300"], "spreads must be numbers in [0, 100], got 6.7e+299"),
    (["--alpha-scale", "1e30"], "absolute alpha"),
    (["--eta", "1e-30,1"], "absolute eta"),
    (["--memory-mb", "1e308"], "a petabyte"),
    (["--memory-mb", "1e-9"], "memory budget"),
    (["--spread", "1,1"], "twice"),
    (["--spread", "1..x"], "not a number"),
    (["--explore-samples", "2.5"], "explore samples must be integers"),
    (["--explore-samples", "0,4"], "> 0"),
    (["--explore-samples", "1..2:3"], "explore samples must be integers"),
    (["--explore-samples", "20000000"], "[1, 16777216]"),
])
def test_bad_grid_input(fails_with_one_line, arguments, needle):
    fails_with_one_line(["sweep", *arguments], needle)


def test_checkpoint_misuse(tmp_path, fails_with_one_line):
    directory = tmp_path / "kept"
    stored = config(seeds=S + 1, curve_points=0)
    open_checkpoint(str(directory), stored, {"ata-B2": CHUNK}, False, "test", 1.0)
    manifest = (directory / "manifest.json").read_bytes()
    base = ["--workers", str(N), "--budget", str(B), "--rounds", str(K), "--policies", "ata",
            "--alpha-scale", "0.5,1,2", "--checkpoint", str(directory)]
    fails_with_one_line(["sweep", *base, "--seeds", str(S), "--resume"],
                         "different configuration", "seeds")
    fails_with_one_line(["sweep", *base, "--seeds", str(S + 1)], "already holds a sweep",
                         "--resume")
    assert (directory / "manifest.json").read_bytes() == manifest
    assert os.listdir(directory) == ["manifest.json"]
    clutter = tmp_path / "clutter"
    clutter.mkdir()
    (clutter / "notes.txt").write_text("mine")
    fails_with_one_line(["sweep", *base[:-1], str(clutter)], "not empty")
    empty = tmp_path / "empty"
    empty.mkdir()
    fails_with_one_line(["sweep", *base[:-1], str(empty), "--resume"], "holds no sweep")
    fails_with_one_line(["sweep", *base[:-1], str(tmp_path / "no" / "such")], "does not exist")
    assert json.loads(manifest)["config"]["seeds"] == S + 1


@pytest.mark.slow
def test_a_killed_command_resumes_to_identical_results(tmp_path):
    """SIGKILL the real command once a chunk is on disk; --resume finishes it, the finished
    chunks are kept as they were, and the results equal an uninterrupted run's."""
    import signal
    import subprocess
    import time

    arguments = [sys.executable, "-m", "ata_jax.cli", "sweep", "--time-model", "cifar",
                 "--workers", "5", "--budget", "3", "--rounds", "2000", "--seeds", "32",
                 "--policies", "ata-empirical", "--eta-scale", "1/4..4", "--memory-mb",
                 "0.01", "--quiet"]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    subprocess.run(arguments + ["--out", str(tmp_path / "whole.npz")], check=True,
                   env=environment, capture_output=True, timeout=600)
    checkpoint = tmp_path / "checkpoint"
    running = subprocess.Popen(arguments + ["--checkpoint", str(checkpoint), "--out",
                                            str(tmp_path / "resumed.npz")], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    chunks = []
    while running.poll() is None and time.monotonic() < deadline and not chunks:
        chunks = sorted(checkpoint.glob("*.chunk*.npz")) if checkpoint.is_dir() else []
        time.sleep(0.01)
    assert running.poll() is None, "the sweep finished before it could be killed"
    running.send_signal(signal.SIGKILL)
    running.wait()
    assert not (tmp_path / "resumed.npz").exists()
    kept = {path.name: path.stat().st_mtime_ns for path in checkpoint.glob("*.chunk*.npz")}
    assert kept
    subprocess.run(arguments + ["--checkpoint", str(checkpoint), "--resume", "--out",
                                str(tmp_path / "resumed.npz")], check=True, env=environment,
                   capture_output=True, timeout=600)
    for name, modified in kept.items():
        assert (checkpoint / name).stat().st_mtime_ns == modified  # not recomputed
    whole = ata_jax.load_sweep(tmp_path / "whole.npz")
    resumed = ata_jax.load_sweep(tmp_path / "resumed.npz")
    for field in ("runtime", "worker_time", "regret"):
        np.testing.assert_array_equal(getattr(resumed, field), getattr(whole, field))


@pytest.mark.slow
def test_a_sweep_keeps_the_wasted_time_of_failing_workers():
    import dataclasses

    from ata_jax.schedules import make_schedule

    failing = dataclasses.replace(MODEL, schedule=make_schedule(
        N, num_rounds=K, fail_start=[5] + [0] * (N - 1), fail_rounds=[10] + [0] * (N - 1),
        timeout=500.0))
    settings = config(policies=("ofta",), alpha=(1.0,),
                      model_fingerprints=(model_fingerprint(failing),))
    result = run_sweep(settings, {N: failing}, memory_mb=MEMORY_MB)
    expected = simulate(failing, ["ofta"], budget=B, num_rounds=K, num_seeds=S)["ofta"]
    wasted = result.totals[0, 0, :, SUMMARY_FIELDS.index("wasted_time")]
    np.testing.assert_allclose(wasted, expected.wasted_time, rtol=1e-6)
    np.testing.assert_allclose(wasted, 10 * 500.0)  # OFTA loads worker 0 in all 10 rounds
    np.testing.assert_array_equal(
        run_sweep(config(alpha=(1.0,)), {N: MODEL}, memory_mb=MEMORY_MB).totals[
            ..., SUMMARY_FIELDS.index("wasted_time")], 0.0)
