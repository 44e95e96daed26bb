"""The training layer: gradients, optima, shared iterates, time axes, decimation, SGD's
expected progress, divergence, and the `ata-jax train` command."""

import json
import re

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree
import numpy as np
import pytest
import scipy.optimize

from ata_jax.cli import main
from ata_jax.modelfile import resolve_time_model
from ata_jax.simulate import simulate
from ata_jax.training import (PROBLEMS, TrainingDivergedError, checkpoint_schedule,
                              make_problem, train)
from ata_jax.training.logistic import logistic_objective, synthetic_logistic_data
from ata_jax.training.quadratic import quadratic_value, tridiagonal_matrix

FLOAT32_EPSILON = float(np.finfo(np.float32).eps)
WORKERS, BUDGET = 3, 3


def small_model(rounds):
    return resolve_time_model("cifar", WORKERS, rounds)


def central_differences(function, x, step):
    """∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h for every i (float64)."""
    gradient = np.empty_like(x)
    for index in range(x.size):
        offset = np.zeros_like(x)
        offset[index] = step
        gradient[index] = (function(x + offset) - function(x - offset)) / (2 * step)
    return gradient


def test_quadratic_gradient_matches_jax_grad_and_finite_differences():
    problem = make_problem("quadratic", dimension=8, noise=0.0)
    matrix = tridiagonal_matrix(8, 10.0, 1010.0)
    linear = np.ones(8)
    x = np.random.default_rng(1).standard_normal(8)
    task = np.asarray(problem.task_gradient(jnp.asarray(x, jnp.float32), jax.random.key(0)))
    automatic = np.asarray(jax.grad(lambda v: 0.5 * v @ jnp.asarray(matrix, jnp.float32) @ v
                                    - jnp.ones(8) @ v)(jnp.asarray(x, jnp.float32)))
    numeric = central_differences(lambda v: quadratic_value(matrix, linear, v), x, 1e-3)
    scale = np.abs(numeric).max()
    # float32 products of entries ≤ 1010·|x|: relative error a few ε per term, d terms
    assert np.allclose(task, automatic, atol=8 * 8 * FLOAT32_EPSILON * 1010 * np.abs(x).max())
    # central differences are exact for a quadratic up to float64 rounding
    assert np.allclose(numeric, matrix @ x - linear, atol=1e-8 * scale)
    assert np.allclose(task, numeric, atol=8 * 8 * FLOAT32_EPSILON * 1010 * np.abs(x).max())


def test_quadratic_task_noise_has_standard_deviation_sigma():
    sigma, dimension, tasks = 0.01, 100, 400
    problem = make_problem("quadratic", dimension=dimension, noise=sigma)
    x = jnp.zeros(dimension, jnp.float32)
    keys = jax.vmap(lambda slot: jax.random.fold_in(jax.random.key(3), slot))(jnp.arange(tasks))
    noise = np.asarray(jax.vmap(problem.task_gradient, in_axes=(None, 0))(x, keys)) + 1.0
    samples = noise.size  # ∇f(0) = −b = −1, so noise = task gradient + 1
    # the sample std of N Gaussians has relative standard error 1/sqrt(2N); allow 5 of them
    assert abs(noise.std() / sigma - 1) < 5 / np.sqrt(2 * samples)
    assert abs(noise.mean()) < 5 * sigma / np.sqrt(samples)
    assert not np.allclose(noise[0], noise[1])  # each task slot draws its own noise


def test_quadratic_optimum_matches_a_numerical_minimiser():
    problem = make_problem("quadratic", dimension=20, smallest_eigenvalue=2.0,
                           largest_eigenvalue=50.0)
    matrix = tridiagonal_matrix(20, 2.0, 50.0)
    eigenvalues = np.linalg.eigvalsh(matrix)
    assert 2.0 < eigenvalues.min() and eigenvalues.max() < 50.0
    linear = np.ones(20)
    result = scipy.optimize.minimize(lambda x: quadratic_value(matrix, linear, x), np.zeros(20),
                                     jac=lambda x: matrix @ x - linear, method="BFGS",
                                     options=dict(gtol=1e-12))
    assert np.allclose(problem.optimal_point, result.x, atol=1e-8)
    assert problem.optimal_value == pytest.approx(result.fun, rel=1e-12)
    at_optimum = float(problem.metric(jnp.asarray(problem.optimal_point, jnp.float32)))
    assert abs(at_optimum) < 1e-9


def test_logistic_gradient_and_optimum():
    problem = make_problem("logistic", num_examples=200, dimension=5)
    features, labels = synthetic_logistic_data(200, 5, 0)
    objective = lambda w: logistic_objective(w, features, labels, 1e-2, np)
    w = np.random.default_rng(2).standard_normal(5) * 0.3
    automatic = np.asarray(jax.grad(problem.metric)(jnp.asarray(w, jnp.float32)))
    numeric = central_differences(objective, w, 1e-5)
    # float32 gradient of a mean of O(1) terms: relative error ~ a few ε·sqrt(N)
    assert np.allclose(automatic, numeric, atol=1e-4 * np.abs(numeric).max())
    independent = scipy.optimize.minimize(objective, np.zeros(5), method="Nelder-Mead",
                                          options=dict(xatol=1e-10, fatol=1e-14, maxiter=20000))
    assert problem.optimal_value == pytest.approx(independent.fun, abs=1e-9)
    assert problem.optimal_value <= independent.fun + 1e-12
    assert np.allclose(problem.optimal_point, independent.x, atol=1e-4)


def test_network_gradient_matches_finite_differences():
    problem = make_problem("mlp", num_examples=50, dimension=4, hidden=3)
    parameters = problem.initial_parameters(jax.random.key(0))
    gradient = jax.grad(problem.metric)(parameters)
    flat, unravel = ravel_pytree(parameters)
    flat_gradient, _ = ravel_pytree(gradient)
    step = 1e-2  # float32: truncation ~h²·|f'''| and rounding ~ε|f|/h are both about 1e-4
    loss = lambda vector: float(problem.metric(unravel(jnp.asarray(vector, jnp.float32))))
    numeric = central_differences(loss, np.asarray(flat, np.float64), step)
    assert np.allclose(flat_gradient, numeric, atol=1e-3)
    assert np.abs(numeric).max() > 1e-2  # the comparison is not between zeros


def test_make_problem_rejects_unknown_names_and_options():
    with pytest.raises(ValueError, match="valid problems: quadratic, logistic, mlp, digits"):
        make_problem("cifar100")
    with pytest.raises(ValueError, match="unknown option.*dimensions.*valid options"):
        make_problem("quadratic", dimensions=3)
    assert set(PROBLEMS) == {"quadratic", "logistic", "mlp", "digits"}


@pytest.mark.parametrize("rounds,max_points", [(1, 2), (10, 1000), (10, 11), (10, 4),
                                               (1000, 1000), (10_000, 1000), (7, 3)])
def test_checkpoint_schedule_keeps_the_last_round_and_at_most_max_points(rounds, max_points):
    schedule = checkpoint_schedule(rounds, max_points)
    kept = schedule.rounds
    assert kept[0] == 0 and kept[-1] == rounds and len(kept) <= max_points
    assert np.all(np.diff(kept) >= 1) and np.all(np.diff(kept)[:-1] == schedule.segment_length)
    if rounds + 1 <= max_points:
        assert np.array_equal(kept, np.arange(rounds + 1))  # nothing dropped when it all fits
    with pytest.raises(ValueError, match="max_points"):
        checkpoint_schedule(rounds, 1)


@pytest.mark.slow
def test_allocators_share_iterates_and_time_axes_are_cumulative_round_records():
    rounds, seeds, model = 40, 2, small_model(40)
    problem = make_problem("quadratic")
    run = train(problem, model, ["ofta", "gta"], budget=BUDGET, num_rounds=rounds,
                num_seeds=seeds, seed=7, max_points=9)
    alone = train(problem, model, ["uta"], budget=BUDGET, num_rounds=rounds, num_seeds=seeds,
                  seed=7, max_points=rounds + 1)
    assert run.rounds.dtype == np.int64 and run.rounds[-1] == rounds and len(run.rounds) <= 9
    assert run.suboptimality.shape == (seeds, len(run.rounds))
    # the iterates do not depend on which allocators run, nor on the decimation
    assert np.array_equal(run.suboptimality, alone.suboptimality[:, run.rounds])
    assert not np.allclose(run.suboptimality[0], run.suboptimality[1])  # seeds differ
    records = simulate(model, ["ofta", "gta", "uta"], budget=BUDGET, num_rounds=rounds,
                       num_seeds=seeds, seed=7, record_rounds=True)
    for name, result in [*run.simulation.items(), *alone.simulation.items()]:
        source = alone if name == "uta" else run
        totals = np.cumsum(records[name].per_round.round_time, axis=1)
        workers = np.cumsum(records[name].per_round.worker_time, axis=1)
        kept = source.rounds[1:] - 1
        assert np.array_equal(source.runtime[name][:, 0], np.zeros(seeds))
        assert np.allclose(source.runtime[name][:, 1:], totals[:, kept], rtol=1e-12)
        assert np.allclose(source.worker_time[name][:, 1:], workers[:, kept], rtol=1e-12)
    # only the time axes differ between allocators: GTA's rounds are shorter than OFTA's
    assert (run.runtime["gta"][:, -1] < run.runtime["ofta"][:, -1]).all()
    assert (run.worker_time["gta"][:, -1] > run.worker_time["ofta"][:, -1]).all()


def expected_quadratic_suboptimality(problem, learning_rate, budget, noise, rounds):
    """(mean, standard deviation) of f(x_k) − f* for SGD from x_0 = 0 with gradient noise
    N(0, σ²/B·I): along eigenvector j, e_j ← (1 − γλ_j)e_j + γ·noise, so e_j is Gaussian with
    mean m_j = r_j^k·e_j(0) and variance v_j = γ²σ²/B·(1 − r_j^{2k})/(1 − r_j²), r_j = 1 − γλ_j,
    and f − f* = ½Σλ_j e_j² has mean ½Σλ_j(m_j² + v_j), variance Σ(λ_j²/4)(2v_j² + 4m_j²v_j)."""
    settings = problem.settings
    matrix = tridiagonal_matrix(settings["dimension"], settings["smallest_eigenvalue"],
                                settings["largest_eigenvalue"])
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    start = eigenvectors.T @ (0.0 - problem.optimal_point)
    ratio = 1.0 - learning_rate * eigenvalues
    k = np.asarray(rounds, np.float64)[:, None]
    mean_error = ratio[None, :] ** k * start[None, :]
    variance = (learning_rate**2 * noise**2 / budget
                * (1 - ratio[None, :] ** (2 * k)) / (1 - ratio[None, :] ** 2))
    mean = 0.5 * (eigenvalues * (mean_error**2 + variance)).sum(axis=1)
    spread = np.sqrt((eigenvalues**2 / 4 * (2 * variance**2 + 4 * mean_error**2 * variance))
                     .sum(axis=1))
    return mean, spread


def test_sgd_on_the_quadratic_follows_its_expected_suboptimality():
    # σ = 2: the noise term (floor d·γ·σ²/(4B) ≈ 3e-3) is a sizeable part of f − f* at round K,
    # so a wrong noise model fails the test (σ = 0 does)
    rounds, seeds, learning_rate, noise = 3000, 4, 1e-4, 2.0
    problem = make_problem("quadratic", noise=noise)
    run = train(problem, small_model(rounds), ["gta"], budget=BUDGET, num_rounds=rounds,
                num_seeds=seeds, max_points=7)
    mean, spread = expected_quadratic_suboptimality(problem, learning_rate, BUDGET, noise,
                                                    run.rounds)
    observed = run.suboptimality.mean(axis=0)
    # the seed mean is within 5 standard errors (σ_f/√S) of the exact expectation, plus
    # float32 rounding of ½eᵀAe (relative few ε) and of x* (|x*|·ε per coordinate)
    rounding = 1e-5 * mean + 1e-7
    assert np.all(np.abs(observed - mean) <= 5 * spread / np.sqrt(seeds) + rounding), (
        observed, mean, spread)
    assert observed[-1] < observed[0] / 100  # it decreases: ≈ 5 → the noise floor


def test_divergence_raises_an_error_naming_round_and_setting():
    with pytest.raises(TrainingDivergedError) as caught:
        train(make_problem("quadratic"), small_model(200), ["gta"], budget=BUDGET,
              num_rounds=200, num_seeds=2, learning_rate=1.0, max_points=5)
    message = str(caught.value)
    assert "problem quadratic" in message and "optimizer sgd" in message
    assert "learning rate 1" in message
    bad_round = int(re.search(r"round (\d+)", message).group(1))
    # |1 − γλ_max| ≈ 1009: float32 overflows (3.4e38) after about 13 rounds
    assert 1 <= bad_round <= 200


TRAIN = ["train", "--rounds", "30", "--seeds", "2", "--workers", str(WORKERS), "--budget",
         str(BUDGET), "--policies", "ofta,gta", "--points", "7"]


def test_train_command_writes_the_interface_json(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main([*TRAIN, "--out", str(out), "--seed", "5"]) == 0
    document = json.loads(out.read_text())
    config = document["config"]
    assert config["problem"] == "quadratic" and config["rounds"] == 30 and config["seed"] == 5
    assert config["learning_rate"] == 1e-4 and config["optimizer"] == "sgd"
    assert config["alpha"] > 0 and config["eta"] > 0 and config["time_model"] == "cifar"
    assert config["solver"] == "cpu"  # auto, on the CPU
    assert set(document["policies"]) == {"ofta", "gta"}
    for row in document["policies"].values():
        lengths = {len(row[key]) for key in ("round", "suboptimality", "runtime", "worker_time")}
        assert lengths == {7} and row["round"][-1] == 30 and row["round"][0] == 0
        assert row["runtime"][0] == 0 and np.all(np.diff(row["runtime"]) > 0)
    assert document["policies"]["ofta"]["suboptimality"] == \
        document["policies"]["gta"]["suboptimality"]
    printed = capsys.readouterr().out
    assert "ofta" in printed and "gta" in printed and "final suboptimality" in printed


@pytest.mark.parametrize("flags,words", [
    (["--problem", "resnet"], ["resnet", "quadratic, logistic, mlp, digits"]),
    (["--optimizer", "rmsprop"], ["rmsprop", "sgd", "adam"]),
    (["--learning-rate", "-1"], ["--learning-rate", "-1"]),
    (["--points", "1"], ["--points", ">= 2"]),
    (["--policies", "ata,foo"], ["foo"]),
    (["--time-model", "nowhere.toml"], ["nowhere.toml"]),
    (["--learning-rate", "1"], ["diverged", "learning rate 1"]),
    (["--rounds", "3000000000"], ["above 268435456"]),
    (["--workers", "100000000"], ["above 8192"]),
])
def test_train_command_gives_one_line_errors(flags, words, capsys, tmp_path):
    assert main([*TRAIN, *flags]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    for word in words:
        assert word in error, (word, error)
