"""The benchmark's numba rival simulates the same model as ata-jax: per-seed runtime and
worker time agree in distribution (two-sample z-tests, |z| < 4 over 256 seeds), and it
refuses a policy it does not implement."""

import pathlib
import sys

import numpy as np
import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "benchmarks"))
rival_numba = pytest.importorskip("rival_numba")  # needs numba (the test and bench extras)

from ata_jax.simulate import simulate  # noqa: E402
from ata_jax.timemodels import cifar  # noqa: E402

SEEDS, ROUNDS = 256, 100


def z_score(first, second):
    return (first.mean() - second.mean()) / np.sqrt(first.var(ddof=1) / first.size
                                                    + second.var(ddof=1) / second.size)


@pytest.mark.parametrize("policy", ["ata-empirical", "gta"])
def test_the_rival_agrees_with_ata_jax_in_distribution(policy):
    model = cifar(13)
    params = np.asarray(model.params)
    runtime, worker_time = rival_numba.simulate(policy, params[:, 0], params[:, 1], budget=7,
                                                rounds=ROUNDS, seeds=SEEDS, eta=model.eta)
    ours = simulate(model, [policy], budget=7, num_rounds=ROUNDS, num_seeds=SEEDS)[policy]
    assert abs(z_score(runtime, ours.runtime)) < 4
    assert abs(z_score(worker_time, ours.worker_time)) < 4
    assert runtime.mean() == pytest.approx(ours.runtime.mean(), rel=0.05)


def test_the_rival_refuses_other_policies():
    with pytest.raises(ValueError, match="not 'uta'"):
        rival_numba.simulate("uta", np.ones(2), np.ones(2), budget=2, rounds=1, seeds=1)
