"""Both solvers on whatever device JAX finds: seed-rounds per second, compile time and peak
device memory for ATA-Empirical and GTA at n = 51 and 459, B = 23, over growing seed counts.

One short script for a machine with a GPU or TPU (it should finish within about 5 minutes
on one card): it prints the versions, the device and XLA_FLAGS first, then one line per
(policy, n, solver, seeds). Each seed count is one batch (one compile: the shape changes);
a size that runs out of device memory ends its row with a line saying so.

    python benchmarks/device.py                       # S = 2^14, 2^16, 2^18, 2^20; K = 100
    python benchmarks/device.py --log2-seeds 14..20   # every power of two in between
    python benchmarks/device.py --smoke               # tiny sizes, on a CPU in well under a minute
    python benchmarks/device.py --nvidia              # with the NVIDIA settings below

Known traps on NVIDIA GPUs with jax 0.10 (docs/performance.md): float scatter-add under
contention is a slow compare-and-swap loop (the `cpu` solver's round scatters; the
`portable` one does not), `top_k` with k >= 16 becomes a sort, each while-loop iteration is
a host round trip, and JAX preallocates 75% of device memory. `--nvidia` sets, before jax
starts, XLA_FLAGS=--xla_backend_extra_options=-nvptx-allow-ftz-atomics (the documented
workaround for the scatter-add) and XLA_PYTHON_CLIENT_MEM_FRACTION=0.95 (so the largest seed
counts can use the card); without it the script runs with the environment as it finds it,
and prints what that is. The peak printed is JAX's own count either way.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

POLICIES = ("ata-empirical", "gta")
SOLVERS = ("cpu", "portable")
FULL = dict(workers=(51, 459), log2_seeds=(14, 16, 18, 20), rounds=100)
SMOKE = dict(workers=(9,), log2_seeds=(4,), rounds=5)


def powers(text: str) -> tuple[int, ...]:
    """'14,16' or '14..20' -> exponents."""
    if ".." in text:
        low, high = (int(value) for value in text.split(".."))
        return tuple(range(low, high + 1))
    return tuple(int(value) for value in text.split(","))


NVIDIA_FLAG = "--xla_backend_extra_options=-nvptx-allow-ftz-atomics"


def peak_megabytes() -> str:
    """JAX's peak bytes in use on the first device (MB), where the backend reports it."""
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return "n/a" if peak is None else f"{peak / 2**20:,.0f}"


def out_of_memory(error: Exception) -> bool:
    return "RESOURCE_EXHAUSTED" in str(error) or "out of memory" in str(error).lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for the tests)")
    parser.add_argument("--log2-seeds", type=powers, default=None, metavar="LIST",
                        help="seed counts as powers of two: 14,16 or 14..20")
    parser.add_argument("--rounds", type=int, default=None, metavar="K")
    parser.add_argument("--nvidia", action="store_true",
                        help="set the NVIDIA workarounds (module docstring) before jax starts")
    arguments = parser.parse_args()
    if arguments.nvidia:  # must precede the first import of jax
        flags = os.environ.get("XLA_FLAGS", "")
        if NVIDIA_FLAG not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {NVIDIA_FLAG}".strip()
        os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.95")
    import jax
    import jaxlib

    from ata_jax.simulate import simulate
    from ata_jax.timemodels import cifar

    sizes = dict(SMOKE if arguments.smoke else FULL)
    if arguments.log2_seeds:
        sizes["log2_seeds"] = arguments.log2_seeds
    if arguments.rounds:
        sizes["rounds"] = arguments.rounds
    device = jax.devices()[0]
    print(f"jax {jax.__version__}, jaxlib {jaxlib.__version__}, Python "
          f"{sys.version.split()[0]}, {platform.machine()}")
    print(f"device: {device.device_kind} ({jax.default_backend()}) x {jax.local_device_count()}")
    print(f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r} XLA_PYTHON_CLIENT_PREALLOCATE="
          f"{os.environ.get('XLA_PYTHON_CLIENT_PREALLOCATE', '')!r} "
          f"XLA_PYTHON_CLIENT_MEM_FRACTION="
          f"{os.environ.get('XLA_PYTHON_CLIENT_MEM_FRACTION', '')!r}")
    rounds = sizes["rounds"]
    print(f"\nB=23, K={rounds}, cifar model; one batch per seed count; compile and run timed "
          f"apart; peak: JAX's peak device memory so far (MB)")
    print(f"{'policy':<15}{'n':>5}{'solver':>10}{'seeds':>10}{'compile s':>11}{'run s':>9}"
          f"{'seed-rounds/s':>16}{'peak MB':>10}")
    began = time.perf_counter()
    for policy in POLICIES:
        for workers in sizes["workers"]:
            model = cifar(workers)
            for solver in SOLVERS:
                for power in sizes["log2_seeds"]:
                    seeds = 2 ** power
                    try:
                        result = simulate(model, [policy], budget=23, num_rounds=rounds,
                                          num_seeds=seeds, solver=solver,
                                          memory_mb=1e9)[policy]  # one batch: no chunks
                    except Exception as error:  # noqa: BLE001 - report and go on
                        if not out_of_memory(error):
                            raise
                        print(f"{policy:<15}{workers:>5}{solver:>10}{seeds:>10}  out of "
                              "device memory: larger seed counts skipped")
                        break
                    rate = seeds * rounds / result.run_s
                    print(f"{policy:<15}{workers:>5}{solver:>10}{seeds:>10}"
                          f"{result.compile_s:>11.2f}{result.run_s:>9.3f}{rate:>16,.0f}"
                          f"{peak_megabytes():>10}", flush=True)
    print(f"\ntotal {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
