"""Scale: one compile per configuration (traced hyperparameters), and seeds over devices."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from ata_jax.compilation import TRACE_COUNTS
from ata_jax.simulate import simulate
from ata_jax.timemodels import cifar, sqrt

DEVICE_SCRIPT = """
import json, sys
import jax
from ata_jax.simulate import simulate
from ata_jax.timemodels import sqrt
results = simulate(sqrt(8), budget=4, num_rounds=40, num_seeds=6, seed=3,
                   record_rounds=True)
print(json.dumps({"devices": jax.local_device_count(),
                  "results": {name: [r.runtime.tolist(), r.worker_time.tolist(),
                                     r.regret.tolist(), r.round_time_mean.tolist()]
                              for name, r in results.items()}}))
"""

PROCESS_SCRIPT = """
import json, sys
import jax
port, process_id = sys.argv[1], int(sys.argv[2])
jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2,
                           process_id=process_id)
from ata_jax.simulate import simulate
from ata_jax.timemodels import sqrt
share = 6 // jax.process_count()
results = simulate(sqrt(8), ("ata-empirical",), budget=4, num_rounds=30,
                   num_seeds=share, seed=2, first_seed=jax.process_index() * share)
print(json.dumps({"process": jax.process_index(), "processes": jax.process_count(),
                  "runtime": {name: r.runtime.tolist() for name, r in results.items()}}))
jax.distributed.shutdown()
"""


@pytest.mark.slow
def test_changing_alpha_eta_and_seeds_does_not_recompile():
    model = cifar(7)
    settings = dict(budget=3, num_rounds=17)
    before = TRACE_COUNTS.copy()
    traces = lambda policy: (TRACE_COUNTS[("simulate", policy, 7, 3)]
                             - before[("simulate", policy, 7, 3)])
    first = simulate(model, ("ata", "ata-empirical"), num_seeds=4, seed=0, **settings)
    assert traces("ata") == 1
    assert traces("ata-empirical") == 1
    again = simulate(model, ("ata", "ata-empirical"), num_seeds=4, seed=9, alpha=5.0, eta=0.1,
                     **settings)
    again = simulate(model, ("ata", "ata-empirical"), num_seeds=4, seed=1, alpha=50.0, eta=2.0,
                     **settings)
    assert traces("ata") == 1
    assert traces("ata-empirical") == 1
    assert again["ata"].compile_s == 0.0 and first["ata"].compile_s > 0.0
    assert not np.array_equal(first["ata"].runtime, again["ata"].runtime)  # really re-ran
    # a new shape (more seeds) or static setting (rounds) compiles once more
    simulate(model, ("ata",), num_seeds=5, **settings)
    assert traces("ata") == 2


@pytest.mark.slow
def test_seeds_sharded_over_four_devices_give_identical_results():
    environment = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
                       JAX_PLATFORMS="cpu")
    # the 4-device process compiles while this one runs the same seeds on its one device
    process = subprocess.Popen([sys.executable, "-c", DEVICE_SCRIPT], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        local = simulate(sqrt(8), budget=4, num_rounds=40, num_seeds=6, seed=3,
                         record_rounds=True)
        output, errors = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 0, errors[-2000:]
    sharded = json.loads(output.strip().splitlines()[-1])
    assert sharded["devices"] == 4
    for name, result in local.items():
        expected = [result.runtime, result.worker_time, result.regret, result.round_time_mean]
        for got, want in zip(sharded["results"][name], expected):
            np.testing.assert_array_equal(np.asarray(got, dtype=float), want, err_msg=name)


@pytest.mark.slow
def test_blocks_of_seeds_combine_into_the_single_run():
    """What each process of a multi-host run computes: its own block of seeds."""
    model = sqrt(8)
    whole = simulate(model, ("ata-empirical", "gta"), budget=4, num_rounds=30, num_seeds=6,
                     seed=2)
    # equal blocks: the second reuses the first's compiled programs (a block's seeds are
    # its first_seed offset, not a new shape)
    first = simulate(model, ("ata-empirical", "gta"), budget=4, num_rounds=30, num_seeds=3,
                     seed=2)
    second = simulate(model, ("ata-empirical", "gta"), budget=4, num_rounds=30, num_seeds=3,
                      seed=2, first_seed=3)
    assert all(result.compile_s == 0.0 for result in second.values())
    for name in ("ata-empirical", "gta"):
        np.testing.assert_array_equal(
            np.concatenate([first[name].runtime, second[name].runtime]), whole[name].runtime)


@pytest.mark.slow
def test_two_processes_on_localhost_give_the_single_run():
    """The README's multi-host recipe, run as two `jax.distributed` processes on this machine:
    each simulates its own block of seeds, and the blocks together are the one-process run."""
    with socket.socket() as probe:  # a free port for the coordinator
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    environment = dict(os.environ, JAX_PLATFORMS="cpu")
    environment.pop("XLA_FLAGS", None)
    processes = [subprocess.Popen([sys.executable, "-c", PROCESS_SCRIPT, port, str(index)],
                                  env=environment, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for index in range(2)]
    outputs = []
    try:
        for process in processes:
            stdout, stderr = process.communicate(timeout=300)
            assert process.returncode == 0, stderr[-2000:]
            outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for process in processes:
            process.kill()
    assert sorted(output["process"] for output in outputs) == [0, 1]
    assert all(output["processes"] == 2 for output in outputs)
    outputs.sort(key=lambda output: output["process"])
    whole = simulate(sqrt(8), ("ata-empirical",), budget=4, num_rounds=30, num_seeds=6, seed=2)
    combined = np.concatenate([output["runtime"]["ata-empirical"] for output in outputs])
    np.testing.assert_array_equal(combined, whole["ata-empirical"].runtime)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="counts Linux mappings")
def test_many_compiles_hold_a_bounded_number_of_memory_mappings(monkeypatch):
    """Each CPU executable keeps memory mappings, and JAX's caches keep every executable: a
    long process crashed at the kernel's 65 530. Dropping programs from our cache must free
    them."""
    import jax
    import jax.numpy as jnp

    from ata_jax import compilation

    def mappings():
        with open("/proc/self/maps") as maps:
            return sum(1 for _ in maps)

    monkeypatch.setattr(compilation, "CACHE_SIZE", 4)
    compilation.clear()
    program = jax.jit(lambda x: jnp.sort(jnp.sin(x) + jnp.cumsum(x)))
    start = mappings()
    for size in range(1, 5):
        compilation.compiled(program, jnp.ones(size))
    per_program = max(1, (mappings() - start) / 4)  # what one held program costs
    for size in range(5, 45):
        executable, _ = compilation.compiled(program, jnp.ones(size))
        executable(jnp.ones(size)).block_until_ready()
    # 40 more programs: without the release, about 40 * per_program more mappings
    assert mappings() - start < 10 * per_program + 20, (mappings() - start, per_program)
