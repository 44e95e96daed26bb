"""Sweeps over several processes: blocks of whole chunks, part files, `--merge` to exactly
the single-process result, refusals of parts that do not make one sweep, resume of a block.

Shapes as in test_sweep (policy ata, n=5, B=2, K=20, chunks of 4 runs): one compile here.
"""

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from ata_jax.cli import main
from ata_jax.modelfile import resolve_time_model
from ata_jax.sweep import (Group, SweepConfig, SweepError, block_chunks, bytes_per_run,
                           group_chunks, merge_sweeps, model_fingerprint, run_sweep)
from ata_jax.sweepfile import load_sweep_part, save_sweep, save_sweep_part

N, B, K, S = 5, 2, 20, 3
MODEL = resolve_time_model("cifar", N, K)
MEMORY_MB = 4 * bytes_per_run("ata", MODEL, budget=B, num_rounds=K, curve_points=4) / 2**20
SMALL = ["--workers", str(N), "--budget", str(B), "--rounds", str(K), "--seeds", str(S),
         "--policies", "ata", "--curves", "4", "--memory-mb", repr(MEMORY_MB), "--quiet"]


def config(**changes) -> SweepConfig:
    settings = dict(time_model="cifar", workers=(N,), budgets=(B,), policies=("ata",),
                    alpha=(0.5, 1.0, 2.0, 4.0), alpha_mode="scale", rounds=K, seeds=S,
                    curve_points=4, model_fingerprints=(model_fingerprint(MODEL),))
    settings.update(changes)
    return SweepConfig(**settings)


@pytest.fixture(scope="module")
def whole():
    return run_sweep(config(), {N: MODEL}, memory_mb=MEMORY_MB)  # 12 runs: 3 chunks of 4


@pytest.fixture(scope="module")
def part_files(whole, tmp_path_factory):
    """Blocks 0 and 1 of 2 of `whole`'s sweep and block 1 of a sweep at another seed and of
    another grid, as part files."""
    directory = tmp_path_factory.mktemp("parts")
    paths = {}
    for name, settings, index in (("0", config(), 0), ("1", config(), 1),
                                  ("seed", config(seed=7), 1),
                                  ("grid", config(alpha=(0.5, 1.0, 2.0, 8.0)), 1)):
        run = run_sweep(settings, {N: MODEL}, memory_mb=MEMORY_MB, process_count=2,
                        process_index=index)
        paths[name] = str(directory / f"part-{name}.npz")
        save_sweep_part(paths[name], run)
    paths["whole"] = str(directory / "whole.npz")
    save_sweep(paths["whole"], whole)
    return paths


def test_blocks_are_contiguous_balanced_whole_chunks():
    groups = [Group("ata", 2, "a", (0,), tuple(range(7)), (), ()),
              Group("gta", 2, "b", (0,), tuple(range(2)), (), ())]
    plan = {"a": 5, "b": 4}  # 21 runs in chunks 5,5,5,5,1 and 6 runs in 4,2
    chunks = [(group.name, index) for group in groups
              for index in range(len(group_chunks(group, plan, 3)))]
    sizes = dict(zip(chunks, [5, 5, 5, 5, 1, 4, 2]))
    for count in range(1, 9):
        blocks = [block_chunks(groups, plan, 3, count, index) for index in range(count)]
        assert sum(blocks, []) == chunks  # every chunk once, in plan order
        runs = [sum(sizes[chunk] for chunk in block) for block in blocks]
        assert max(runs) - 27 / count <= 5 and 27 / count - min(runs) <= 5  # within a chunk


def test_parts_merge_to_the_single_run_bit_for_bit(whole, tmp_path):
    parts = [run_sweep(config(), {N: MODEL}, memory_mb=MEMORY_MB, process_count=3,
                       process_index=index) for index in range(3)]
    assert [len(part.part.chunks) for part in parts] == [1, 1, 1]
    assert np.isnan(parts[0].totals[..., 0]).any() and not np.isnan(whole.totals[..., 0]).any()
    merged = merge_sweeps(parts)
    np.testing.assert_array_equal(merged.totals, whole.totals)
    np.testing.assert_array_equal(merged.curves, whole.curves)
    assert merged.points == whole.points and merged.chunks_computed == 3
    paths = []
    for index, part in enumerate(parts):  # and through the part files
        paths.append(str(tmp_path / f"part{index}.npz"))
        save_sweep_part(paths[-1], part)
    assert load_sweep_part(paths[0]).part.process_count == 3
    np.testing.assert_array_equal(merge_sweeps(paths[::-1]).totals, whole.totals)


def test_a_block_resumes_from_its_own_checkpoint(whole, tmp_path):
    directory = str(tmp_path / "block1")

    def interrupt(info):
        raise KeyboardInterrupt

    settings = dict(memory_mb=MEMORY_MB, process_count=2)  # chunk 0 in block 0, 1-2 in 1
    with pytest.raises(KeyboardInterrupt):
        run_sweep(config(), {N: MODEL}, checkpoint_dir=directory, on_chunk=interrupt,
                  process_index=1, **settings)
    with pytest.raises(SweepError, match="holds block 1 of 2, not block 0 of 2"):
        run_sweep(config(), {N: MODEL}, checkpoint_dir=directory, resume=True,
                  process_index=0, **settings)
    resumed = run_sweep(config(), {N: MODEL}, checkpoint_dir=directory, resume=True,
                        process_index=1, **settings)
    assert (resumed.chunks_loaded, resumed.chunks_computed) == (1, 1)
    first = run_sweep(config(), {N: MODEL}, process_index=0, **settings)
    merged = merge_sweeps([first, resumed])
    np.testing.assert_array_equal(merged.totals, whole.totals)
    np.testing.assert_array_equal(merged.curves, whole.curves)


def test_the_merge_command_writes_the_single_run(part_files, tmp_path, capsys):
    out = str(tmp_path / "merged.npz")
    assert main(["sweep", "--merge", out, part_files["1"], part_files["0"]]) == 0
    merged, expected = np.load(out), np.load(part_files["whole"])
    assert set(merged.files) == set(expected.files)
    for name in expected.files:
        if name != "metadata":
            assert merged[name].dtype == expected[name].dtype
            np.testing.assert_array_equal(merged[name], expected[name], err_msg=name)
    assert "merged 2 parts" in capsys.readouterr().out


@pytest.mark.parametrize("parts, needles", [
    (["0"], ("block 1 of 2 missing",)),
    (["0", "1", "1"], ("block 1 of 2 is given twice",)),
    (["0", "seed"], ("part-seed.npz is a part of another sweep", "seed")),
    (["0", "grid"], ("part-grid.npz is a part of another sweep", "alpha")),
    (["0", "whole"], ("whole.npz is not an ata-jax sweep part",)),
])
def test_the_merge_refuses_parts_of_no_one_sweep(part_files, tmp_path, fails_with_one_line,
                                                 parts, needles):
    out = tmp_path / "merged.npz"
    fails_with_one_line(["sweep", "--merge", str(out), *(part_files[p] for p in parts)],
                        *needles)
    assert not out.exists()


def test_the_merge_names_an_empty_or_broken_part(part_files, tmp_path, fails_with_one_line):
    empty, broken = tmp_path / "empty.npz", tmp_path / "broken.npz"
    empty.write_bytes(b"")
    broken.write_bytes(b"PK\x03\x04 cut short")
    for bad in (empty, broken):
        fails_with_one_line(["sweep", "--merge", str(tmp_path / "merged.npz"),
                             part_files["0"], str(bad)], f"{bad} is not an ata-jax sweep part")


@pytest.mark.parametrize("arguments, needle", [
    (["--process-count", "2", "--process-index", "2", "--out", "x.npz"], "0..1"),
    (["--process-count", "2", "--out", "x.npz"], "needs --process-index"),
    (["--process-count", "2", "--process-index", "0"], "needs --out PART.npz"),
    (["--process-count", "2", "--process-index", "0", "--out", "x.nc"], "an .npz file"),
    (["--merge", "out.npz", "a.npz", "--out", "b.npz"], "drop --out"),
    (["--merge", "out.npz"], "needs the part files"),
])
def test_bad_block_arguments(fails_with_one_line, arguments, needle):
    fails_with_one_line(["sweep", *SMALL, *arguments], needle)


def test_distributed_without_a_cluster_is_one_line(fails_with_one_line, monkeypatch):
    """--distributed where JAX finds no cluster (no SLURM, MPI or coordinator address) says
    so in one line instead of jax.distributed's traceback."""
    for name in list(os.environ):
        if name.startswith(("SLURM_", "OMPI_", "PMI_", "JAX_COORDINATOR")):
            monkeypatch.delenv(name)
    fails_with_one_line(["sweep", *SMALL, "--distributed", "--out", "x.npz"],
                        "jax.distributed.initialize() failed", "--process-index")


@pytest.mark.slow
def test_two_distributed_processes_merge_to_one_process(tmp_path):
    """Two real `ata-jax sweep --distributed` processes on localhost (a SLURM job's
    environment, coordinator 127.0.0.1): P and I come from jax.distributed, each writes its
    part, and --merge gives a one-process `ata-jax sweep --out` bit for bit."""
    with socket.socket() as probe:  # a free port for the coordinator
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "ata_jax.cli", "sweep", *SMALL, "--alpha-scale",
               "0.5,1,2,4", "--distributed"]
    plain = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=os.pathsep.join(sys.path))
    plain.pop("XLA_FLAGS", None)
    processes = [subprocess.Popen(command[:-1] + ["--out", str(tmp_path / "whole.npz")],
                                  env=plain, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)]
    for index in range(2):
        environment = dict(os.environ, JAX_PLATFORMS="cpu", SLURM_JOB_ID="18",
                           SLURM_STEP_NODELIST="localhost", SLURM_NTASKS="2",
                           SLURM_PROCID=str(index), SLURM_LOCALID="0",
                           JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
                           PYTHONPATH=os.pathsep.join(sys.path))
        environment.pop("XLA_FLAGS", None)
        processes.append(subprocess.Popen(
            command + ["--out", str(tmp_path / f"part{index}.npz")], env=environment,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        for index, process in enumerate(processes):
            stdout, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr[-2000:]
            assert index == 0 or f"block {index - 1} of 2" in stdout
    finally:
        for process in processes:
            process.kill()
    out = str(tmp_path / "merged.npz")
    assert main(["sweep", "--merge", out, str(tmp_path / "part0.npz"),
                             str(tmp_path / "part1.npz")]) == 0
    merged, expected = np.load(out), np.load(tmp_path / "whole.npz")
    assert set(merged.files) == set(expected.files)
    for name in expected.files:
        if name != "metadata":
            np.testing.assert_array_equal(merged[name], expected[name], err_msg=name)
