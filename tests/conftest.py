"""Fixtures shared by the test modules."""

import os

import pytest

try:
    from hypothesis import settings
except ImportError:  # an environment installed before hypothesis joined the test extra
    settings = None
if settings is not None:
    # hypothesis profiles: "ci" (the default) keeps the property tests to a few examples
    # each, "dev" (HYPOTHESIS_PROFILE=dev) searches longer
    settings.register_profile("ci", max_examples=20, deadline=None)
    settings.register_profile("dev", max_examples=400, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def fails_with_one_line(capsys):
    """fails_with_one_line(arguments, *needles): `ata-jax ARGUMENTS` exits 2 with exactly
    one line on stderr, no traceback, holding every needle."""
    from ata_jax.cli import main

    def check(arguments, *needles):
        assert main(list(arguments)) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and "Traceback" not in error, error
        for needle in needles:
            assert needle in error, error

    return check


def run_benchmark_smoke(name: str) -> str:
    """Run `benchmarks/NAME --smoke` in a fresh process (without the caller's XLA_FLAGS, so
    the script sets its own, and without a persistent compilation cache, since benchmarks
    time compiling) and return its standard output; it must exit 0."""
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / name
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("XLA_FLAGS", "JAX_COMPILATION_CACHE_DIR")}
    result = subprocess.run([sys.executable, str(script), "--smoke"], capture_output=True,
                            text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout
