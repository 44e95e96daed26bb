"""Time models: exact means and ψ1 norms against Monte Carlo, sampling, validation, files."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ata_jax import psi1
from ata_jax.modelfile import load_model_file, resolve_time_model
from ata_jax.timemodels import (FAMILIES, ModelError, cifar, from_workers, heterogeneous,
                                sqrt, task_times, worker_row)

# one worker of every family, with the centred variable's scale of ψ1 in `tail`
EXAMPLES = [
    dict(family="constant", value=3.0),
    dict(family="exponential", shift=2.0, mean=4.0),
    dict(family="uniform", low=1.0, high=5.0),
    dict(family="half-normal", shift=1.0, scale=2.0),
    dict(family="lognormal", shift=1.0, log_mean=0.5, log_std=0.6, upper=12.0),
    dict(family="gamma", shift=0.5, shape=2.5, scale=1.5),
    dict(family="gamma", shift=0.0, shape=0.5, scale=3.0),
]
NUM_SAMPLES = 400_000


@pytest.fixture(scope="module")
def example_model():
    return from_workers(EXAMPLES)


@pytest.fixture(scope="module")
def example_samples(example_model):
    """float64 [n, NUM_SAMPLES]: task times drawn by the simulator's own sampler."""
    n = example_model.size
    slots = 16
    rounds = NUM_SAMPLES // slots

    def one_round(key):
        workers = jnp.repeat(jnp.arange(n), slots)
        slot = jnp.tile(jnp.arange(slots), n)
        return task_times(example_model, key, workers, slot, slots).reshape(n, slots)

    keys = jax.random.split(jax.random.key(7), rounds)
    draws = jax.jit(jax.vmap(one_round))(keys)  # [rounds, n, slots]
    return np.asarray(draws, np.float64).transpose(1, 0, 2).reshape(n, -1)


def test_exponential_psi1_matches_the_closed_form_equation():
    # E exp(|E − 1|/c) = e^{1/c}(1 − e^{−(1+1/c)})/(1 + 1/c) + e^{−1}/(1 − 1/c) = 2
    c = psi1.exponential_unit()
    r = 1.0 / c
    value = math.exp(r) * (1 - math.exp(-(1 + r))) / (1 + r) + math.exp(-1) / (1 - r)
    assert value == pytest.approx(2.0, abs=1e-9)
    assert c == pytest.approx(1.5313, abs=1e-4)  # the spec's value for the CIFAR model


def test_uniform_psi1_matches_the_closed_form_equation():
    c = psi1.uniform_unit()
    assert 2 * c * math.expm1(0.5 / c) == pytest.approx(2.0, abs=1e-12)


def test_untruncated_lognormal_is_not_sub_exponential():
    model = from_workers([dict(family="lognormal", log_mean=0.0, log_std=0.5)])
    assert math.isinf(model.alpha) and math.isinf(model.eta)
    assert model.mean[0] == pytest.approx(math.exp(0.125))


def test_means_match_monte_carlo(example_model, example_samples):
    mean = example_samples.mean(axis=1)
    standard_error = example_samples.std(axis=1, ddof=1) / math.sqrt(example_samples.shape[1])
    for i, description in enumerate(EXAMPLES):
        tolerance = 5 * standard_error[i] + 1e-6 * example_model.mean[i]  # float32 draws
        assert abs(mean[i] - example_model.mean[i]) < tolerance, description


def test_psi1_norms_match_monte_carlo(example_model, example_samples):
    """E exp(|X − μ|/c) by Monte Carlo against the quadrature used to find α.

    At c = α itself the expectation is 2 by definition, but for exponential tails its
    variance is infinite; checking at c = 3·α keeps the variance finite for every family
    here (exp(2|X|/c) integrable needs c > 2·scale) while the quadrature is the same code.
    """
    for i, description in enumerate(EXAMPLES):
        alpha = float(example_model.psi1[i])
        centred = example_samples[i] - example_model.mean[i]
        if alpha == 0.0:
            np.testing.assert_allclose(centred, 0.0, atol=1e-5)
            continue
        for c in (alpha, 3.0 * alpha):
            values = np.exp(np.abs(centred) / c)
            estimate = values.mean()
            standard_error = values.std(ddof=1) / math.sqrt(values.size)
            reference = _quadrature_orlicz(description, float(example_model.mean[i]), c)
            if c == alpha:
                assert reference == pytest.approx(2.0, abs=1e-7), description
            if c > alpha or description["family"] not in ("exponential", "gamma"):
                assert abs(estimate - reference) < 5 * standard_error + 1e-4, (description, c)


def _quadrature_orlicz(description, mean, c):
    """E exp(|X − μ|/c) by quadrature, through the family's standardised variable."""
    family = description["family"]
    if family == "exponential":
        scale = description["mean"]
        return psi1.orlicz_expectation(lambda x: -x, 0, math.inf, 1.0, c / scale)
    if family == "uniform":
        width = description["high"] - description["low"]
        return psi1.orlicz_expectation(lambda x: 0.0, 0, 1, 0.5, c / width)
    if family == "half-normal":
        scale = description["scale"]
        return psi1.orlicz_expectation(lambda x: 0.5 * math.log(2 / math.pi) - 0.5 * x * x,
                                       0, math.inf, math.sqrt(2 / math.pi), c / scale)
    if family == "gamma":
        shape, scale = description["shape"], description["scale"]
        log_density = lambda x: ((shape - 1) * math.log(x) - x - math.lgamma(shape)
                                 if x > 0 else -math.inf)
        return psi1.orlicz_expectation(log_density, 0, math.inf, shape, c / scale)
    from scipy import stats  # lognormal: truncated density in the original units
    m, s, upper = description["log_mean"], description["log_std"], description["upper"]
    distribution = stats.lognorm(s, scale=math.exp(m))
    mass = distribution.cdf(upper)
    return psi1.orlicz_expectation(lambda y: distribution.logpdf(y) - math.log(mass), 0,
                                   upper, mean - description["shift"], c)


def test_samples_respect_truncation_and_shift(example_samples):
    for i, description in enumerate(EXAMPLES):
        assert example_samples[i].min() >= description.get("shift", 0.0) - 1e-5
    lognormal = EXAMPLES.index(next(d for d in EXAMPLES if d["family"] == "lognormal"))
    assert example_samples[lognormal].max() <= 1.0 + 12.0 + 1e-4


def test_cifar_preset_matches_the_spec():
    model = cifar(51)
    np.testing.assert_allclose(model.mean, 58.0 * np.arange(1, 52))
    assert model.alpha == pytest.approx(1.5313 * 29 * 51, rel=1e-4)
    assert model.eta == pytest.approx(0.766, abs=1e-3)
    np.testing.assert_allclose(sqrt(4).mean, 58.0 * np.sqrt(np.arange(1, 5)))


def test_heterogeneous_preset_mixes_five_families_with_finite_norms():
    model = heterogeneous(10)
    assert model.families == tuple(sorted(FAMILIES.index(f) for f in
                                          ("exponential", "uniform", "half-normal",
                                           "lognormal", "gamma")))
    assert np.isfinite(model.psi1).all() and model.alpha > 0
    np.testing.assert_allclose(model.mean, 58.0 * np.arange(1, 11), rtol=2e-3)


def test_task_times_are_a_function_of_worker_and_slot_only():
    model = heterogeneous(6)
    key = jax.random.key(3)
    draw = jax.jit(lambda worker, slot: task_times(model, key, worker, slot, 4))
    everything = draw(jnp.repeat(jnp.arange(6), 4), jnp.tile(jnp.arange(4), 6)).reshape(6, 4)
    picked = draw(jnp.array([4, 0, 2]), jnp.array([3, 1, 0]))
    np.testing.assert_array_equal(picked, everything[jnp.array([4, 0, 2]), jnp.array([3, 1, 0])])


@pytest.mark.parametrize("description,message", [
    (dict(family="exponential", shift=-1.0, mean=1.0), "shift must be >= 0"),
    (dict(family="exponential", mean=0.0), "mean must be > 0"),
    (dict(family="uniform", low=3.0, high=2.0), "high must be > low"),
    (dict(family="uniform", low=-1.0, high=2.0), "low must be >= 0"),
    (dict(family="half-normal", scale=-2.0), "scale must be > 0"),
    (dict(family="lognormal", log_mean=0.0, log_std=0.0), "log_std must be > 0"),
    (dict(family="lognormal", log_mean=0.0, log_std=1.0, upper=-1.0), "upper must be > 0"),
    (dict(family="gamma", shape=0.0, scale=1.0), "shape must be > 0"),
    (dict(family="constant", value=float("nan")), "value must be a finite number"),
    (dict(family="constant", value="3"), "value must be a number"),
    (dict(family="constant"), "missing field 'value'"),
    (dict(family="constant", value=1.0, mean=2.0), "unknown field"),
    (dict(family="weibull", scale=1.0), "unknown family 'weibull'; valid families"),
    (dict(family="constant", value=1.0, count=0), "count must be an integer >= 1"),
])
def test_invalid_workers_are_rejected_with_the_reason(description, message):
    with pytest.raises(ModelError, match=message):
        from_workers([description])


def test_model_files_in_json_and_toml(tmp_path):
    toml = tmp_path / "m.toml"
    toml.write_text('[[workers]]\nfamily = "exponential"\nshift = 10.0\nmean = 5.0\ncount = 3\n'
                    '[[workers]]\nfamily = "gamma"\nshape = 2.0\nscale = 3.0\n')
    as_json = tmp_path / "m.json"
    as_json.write_text(json.dumps({"workers": [
        {"family": "exponential", "shift": 10, "mean": 5, "count": 3},
        {"family": "gamma", "shape": 2, "scale": 3}]}))
    for path in (toml, as_json):
        model = load_model_file(str(path))
        np.testing.assert_allclose(model.mean, [15, 15, 15, 6])
        assert resolve_time_model(str(path), None).size == 4


@pytest.mark.parametrize("content,message", [
    ("{", "not valid JSON"),
    ('{"workers": []}', "non-empty list"),
    ('{"worker": []}', "holds 'workers'"),
    ('{"workers": [3]}', r"workers\[0\] must be a table"),
    ('{"workers": [{"family": "exponential", "mean": -1}]}', r"workers\[0\].*mean must be > 0"),
])
def test_bad_model_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ModelError, match=message) as error:
        load_model_file(str(path))
    assert str(path) in str(error.value)


def test_resolve_rejects_unknown_names_and_conflicting_sizes(tmp_path):
    with pytest.raises(ModelError, match="not a preset .*cifar, sqrt, heterogeneous"):
        resolve_time_model("cifra", None)
    path = tmp_path / "two.json"
    path.write_text(json.dumps({"workers": [{"family": "constant", "value": 1, "count": 2}]}))
    with pytest.raises(ModelError, match="defines 2 workers but --workers 3"):
        resolve_time_model(str(path), 3)
    assert resolve_time_model("cifar", 7).size == 7


def test_worker_row_layout():
    family, row = worker_row("lognormal", log_mean=1.0, log_std=0.5)
    assert FAMILIES[family] == "lognormal" and row[0] == 0.0 and math.isinf(row[3])
