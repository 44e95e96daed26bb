"""The sweep's configuration axis: grid × configurations × seeds in one compile per policy and
B (mixed n padded), each point equal to `simulate` of its configuration alone, labelled in
the store and in `load_sweep`, resumable, and its command-line errors."""

import json

import numpy as np
import pytest

import ata_jax
from ata_jax.cli import main
from ata_jax.compilation import COMPILES
from ata_jax.configurations import configuration, random_cluster, stack_models
from ata_jax.simulate import simulate
from ata_jax.sweep import (CHECKPOINT_FORMAT, MANIFEST, SUMMARY_FIELDS, Configuration,
                           SweepConfig, SweepError, bytes_per_run, model_fingerprint,
                           run_sweep)
from ata_jax.sweepfile import save_sweep
from ata_jax.timemodels import cifar, heterogeneous, sqrt

B, K, S = 2, 20, 2
CONFIGURATIONS = [
    Configuration({"time_model": "cifar", "workers": 5}, cifar(5)),
    Configuration({"time_model": "sqrt", "workers": 4}, sqrt(4)),  # padded to 5
    Configuration({"time_model": "random-cluster", "workers": 5, "cluster": 3,
                   "heterogeneity": 1.5, "cluster_seed": 0}, random_cluster(5, 1.5, 3)),
]
EPS = np.finfo(np.float32).eps


def config(**changes) -> SweepConfig:
    settings = dict(time_model="cifar,sqrt", workers=(5, 4), budgets=(B,),
                    policies=("ata-empirical", "gta"), eta=(0.5, 2.0), eta_mode="scale",
                    rounds=K, seeds=S, curve_points=2, random_clusters=1,
                    heterogeneity=(1.5,),
                    model_fingerprints=tuple(model_fingerprint(entry.model)
                                             for entry in CONFIGURATIONS))
    settings.update(changes)
    return SweepConfig(**settings)


def memory_mb_for(runs: int) -> float:
    """Chunks of `runs` runs of the padded, per-run configuration batch."""
    one = configuration(stack_models([entry.model for entry in CONFIGURATIONS]), 0)
    return runs * bytes_per_run("ata-empirical", one, budget=B, num_rounds=K,
                                curve_points=2, per_run_model=True) / 2**20


MEMORY_MB = memory_mb_for(4)  # 3 configurations x 2 etas x 2 seeds = 12 runs: 3 chunks


@pytest.fixture(scope="module")
def swept():
    before = COMPILES["sweep_chunk"]
    chunks = []
    result = run_sweep(config(), CONFIGURATIONS, memory_mb=MEMORY_MB, on_chunk=chunks.append)
    return result, COMPILES["sweep_chunk"] - before, chunks


def test_one_compile_per_policy_and_budget(swept):
    result, compiles, chunks = swept
    assert compiles == 2  # ata-empirical and gta, every configuration and eta in each
    assert {info.group for info in chunks} == {"ata-empirical-B2", "gta-B2"}
    # ATA-Empirical: 3 configurations x 2 etas x 2 seeds in chunks of 4; GTA reads no
    # hyperparameter: 3 configurations x 2 seeds
    assert [info.count for info in chunks if info.group == "ata-empirical-B2"] == [3, 3, 3]
    assert chunks[-1].runs_total == 12 + 6
    assert [point.configuration for point in result.points] == [0, 0, 1, 1, 2, 2]
    assert [point.workers for point in result.points] == [5, 5, 4, 4, 5, 5]
    assert result.labels == [entry.label for entry in CONFIGURATIONS]


def test_each_point_equals_its_configuration_run_alone(swept):
    """To float32 rounding (2 ulps), as a configuration of `simulate`'s own batches: the
    padded batch is another XLA program (tests/test_configurations.py says why)."""
    result, *_ = swept
    for g, point in enumerate(result.points):
        model = CONFIGURATIONS[point.configuration].model
        assert point.eta == pytest.approx(point.eta_scale * model.eta)  # its own true η
        alone = simulate(model, ["ata-empirical", "gta"], budget=B, num_rounds=K,
                         num_seeds=S, eta=point.eta)
        for p, name in enumerate(result.config.policies):
            expected = alone[name]
            for position, field in enumerate(SUMMARY_FIELDS):
                atol = 2 * EPS * np.abs(expected.worker_time).max() if field == "idle_time" else 0
                np.testing.assert_allclose(result.totals[p, g, :, position],
                                           getattr(expected, field), rtol=2 * EPS, atol=atol,
                                           err_msg=f"{g} {name} {field}")
    gta = result.config.policies.index("gta")
    np.testing.assert_array_equal(result.totals[gta, 0::2], result.totals[gta, 1::2])
    learner = result.config.policies.index("ata-empirical")
    assert not np.array_equal(result.totals[learner, 0::2], result.totals[learner, 1::2])


def test_the_store_labels_the_configurations(swept, tmp_path):
    result, *_ = swept
    path = str(tmp_path / "configurations.npz")
    save_sweep(path, result, command="ata-jax sweep --test")
    loaded = ata_jax.load_sweep(path)
    np.testing.assert_array_equal(loaded.grid["configuration"], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(loaded.grid["workers"], [5, 5, 4, 4, 5, 5])
    assert list(loaded.configurations["time_model"]) == ["cifar", "sqrt", "random-cluster"]
    np.testing.assert_array_equal(loaded.configurations["workers"], [5, 4, 5])
    np.testing.assert_array_equal(loaded.configurations["heterogeneity"][:2], np.nan)
    assert loaded.configurations["heterogeneity"][2] == 1.5
    np.testing.assert_array_equal(loaded.configurations["cluster"], [-1, -1, 3])
    assert loaded.labels == [entry.label for entry in CONFIGURATIONS]
    assert loaded.metadata["grid_shape"] == [3, 1, 1, 2, 1, 1, 1]
    assert loaded.metadata["grid_axes"][0] == "configuration"
    assert SweepConfig.from_dict(loaded.config) == config()
    np.testing.assert_array_equal(loaded.runtime, result.totals[..., 0])
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    frame = loaded.to_frame()
    assert len(frame) == 2 * 6 * S
    clusters = frame[frame.time_model == "random-cluster"]
    assert (clusters.heterogeneity == 1.5).all() and (clusters.cluster == 3).all()
    assert frame[frame.time_model == "sqrt"].workers.eq(4).all()


def test_a_store_of_format_1_still_loads(swept, tmp_path):
    """Written before the configuration axis: no configuration members; its configurations
    are its worker counts."""
    result, *_ = swept
    path = str(tmp_path / "new.npz")
    save_sweep(path, result)
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files
                  if not name.startswith("configuration")}
    metadata = json.loads(str(arrays["metadata"]))
    metadata["format"] = "ata-jax-sweep/1"
    del metadata["configurations"]
    metadata["config"]["workers"] = [5, 4]
    arrays["metadata"] = np.array(json.dumps(metadata))
    old = str(tmp_path / "old.npz")
    np.savez(old, **arrays)
    loaded = ata_jax.load_sweep(old)
    np.testing.assert_array_equal(loaded.grid["configuration"], [0, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(loaded.configurations["workers"], [5, 4])
    np.testing.assert_array_equal(loaded.regret, result.totals[..., 2])


def test_resume_of_a_configuration_sweep_is_identical(swept, tmp_path):
    result, *_ = swept
    directory = str(tmp_path / "checkpoint")

    def interrupt(info):
        if info.runs_done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(config(), CONFIGURATIONS, memory_mb=MEMORY_MB, checkpoint_dir=directory,
                  on_chunk=interrupt)
    resumed = run_sweep(config(), CONFIGURATIONS, memory_mb=MEMORY_MB, checkpoint_dir=directory,
                        resume=True)
    assert resumed.chunks_loaded == 2 and resumed.chunks_computed == 3
    np.testing.assert_array_equal(resumed.totals, result.totals)
    np.testing.assert_array_equal(resumed.curves, result.curves)
    # a changed configuration (another cluster) is noticed on resume
    changed = list(CONFIGURATIONS)
    changed[2] = Configuration(changed[2].label, random_cluster(5, 1.5, 4))
    with pytest.raises(SweepError, match="model_fingerprints"):
        run_sweep(config(model_fingerprints=tuple(model_fingerprint(entry.model)
                                                  for entry in changed)),
                  changed, memory_mb=MEMORY_MB, checkpoint_dir=directory, resume=True)


def test_a_checkpoint_of_another_format_is_refused(tmp_path):
    directory = tmp_path / "old"
    directory.mkdir()
    (directory / MANIFEST).write_text(json.dumps({
        "format": "ata-jax-sweep-checkpoint/2", "config": config().to_dict(),
        "chunk_runs": {"ata-empirical-n5-B2": 4}}))
    assert CHECKPOINT_FORMAT != "ata-jax-sweep-checkpoint/2"
    with pytest.raises(SweepError, match="checkpoint format 'ata-jax-sweep-checkpoint/2'"):
        run_sweep(config(), CONFIGURATIONS, memory_mb=MEMORY_MB,
                  checkpoint_dir=str(directory), resume=True)


def test_mismatched_configurations_are_refused():
    with pytest.raises(SweepError, match="3 configurations"):
        run_sweep(config(model_fingerprints=("a", "b")), CONFIGURATIONS)
    with pytest.raises(SweepError, match="4 workers"):
        run_sweep(config(), [Configuration({"time_model": "sqrt", "workers": 5}, sqrt(4))])
    with pytest.raises(SweepError, match="workers"):
        run_sweep(config(workers=(5,)), {4: sqrt(4)})



@pytest.mark.parametrize("arguments, needle", [
    (["--heterogeneity", "1"], "--heterogeneity needs --random-clusters"),
    (["--random-clusters", "2", "--heterogeneity", "-1"], "[0, 20]"),
    (["--random-clusters", "0"], "--random-clusters"),
    (["--random-clusters", "100000", "--heterogeneity", "0,1"], "above 100000"),
    (["--time-model", "cifar,"], "comma list"),
    (["--time-model", "cifar,nosuch"], "unknown time model"),
    (["--time-model", "ata_jax/data/traces/mlp-2cpu.csv", "--workers", "5,6"],
     "not in --workers"),
])
def test_bad_configuration_input(fails_with_one_line, arguments, needle):
    fails_with_one_line(["sweep", *arguments], needle)


def test_the_command_warns_of_duplicates_and_names_an_infinite_true_value(tmp_path, capsys,
                                                                          fails_with_one_line):
    heavy = tmp_path / "heavy.json"
    heavy.write_text('{"workers": [{"family": "lognormal", "log_mean": 1, "log_std": 0.5,'
                     ' "count": 3}]}')
    fails_with_one_line(["sweep", "--time-model", f"cifar,{heavy}", "--workers", "3",
                         "--policies", "ata", "--alpha-scale", "1,2"],
                        f"true alpha of {heavy} (n = 3) is infinite")
    fails_with_one_line(["sweep", "--random-clusters", "1", "--budget", "5000"],
                        "--budget 5000 is above 1024")
    assert main(["sweep", "--time-model", "cifar,cifar", "--workers", "3,3", "--rounds", "2",
                 "--seeds", "1", "--budget", "2", "--policies", "uta", "--quiet"]) == 0
    assert "listed twice" in capsys.readouterr().err


def test_several_batches_and_budgets_fill_every_point(tmp_path):
    """heterogeneous (another family set: a batch of its own, one shared model) between two
    cifar configurations (one padded batch), at two budgets: the grid indices of a group are
    not contiguous, and every point holds its own configuration's results."""
    entries = [Configuration({"time_model": "cifar", "workers": 4}, cifar(4)),
               Configuration({"time_model": "heterogeneous", "workers": 5}, heterogeneous(5)),
               Configuration({"time_model": "cifar", "workers": 3}, cifar(3))]
    settings = config(time_model="cifar,heterogeneous", workers=(4, 5, 3), budgets=(2, 3),
                      policies=("uta",), eta=(1.0,), eta_mode="true", curve_points=0,
                      random_clusters=0, heterogeneity=(),
                      model_fingerprints=tuple(model_fingerprint(entry.model)
                                               for entry in entries))
    chunks = []
    result = run_sweep(settings, entries, on_chunk=chunks.append)
    assert {info.group for info in chunks} == {f"uta-B{budget}-batch{number}"
                                               for budget in (2, 3) for number in (0, 1)}
    assert [(point.configuration, point.budget) for point in result.points] == [
        (0, 2), (0, 3), (1, 2), (1, 3), (2, 2), (2, 3)]
    for g in (3, 4):  # one point of each batch, at different budgets
        point = result.points[g]
        alone = simulate(entries[point.configuration].model, ["uta"], budget=point.budget,
                         num_rounds=K, num_seeds=S)["uta"]
        np.testing.assert_allclose(result.totals[0, g, :, 0], alone.runtime, rtol=2 * EPS,
                                   err_msg=str(point))
    assert not np.array_equal(result.totals[0, 4], result.totals[0, 0])  # cifar(3) vs (4)


def test_separate_n_compiles_one_program_per_n():
    """--separate-n: no padding across n, one group per (policy, B, n)."""
    chunks = []
    result = run_sweep(config(separate_n=True), CONFIGURATIONS, memory_mb=MEMORY_MB,
                       on_chunk=chunks.append)
    assert {info.group for info in chunks} == {f"{policy}-B2-batch{number}"
                                               for policy in ("ata-empirical", "gta")
                                               for number in (0, 1)}
    alone = simulate(CONFIGURATIONS[1].model, ["gta"], budget=B, num_rounds=K, num_seeds=S)
    gta = result.config.policies.index("gta")
    np.testing.assert_allclose(result.totals[gta, 2, :, 0], alone["gta"].runtime, rtol=1e-6)


@pytest.mark.slow
def test_the_command_sweeps_configurations(tmp_path, capsys):
    """`--time-model cifar,sqrt --workers 4,5 --random-clusters 1`: five configurations, one
    compile per policy and budget, labelled in the store; each equal to its run alone."""
    out = tmp_path / "grid.npz"
    before = COMPILES["sweep_chunk"]
    rounds = K + 1  # a shape no other test compiles: the two programs are new
    assert main(["sweep", "--time-model", "cifar,sqrt", "--workers", "4,5",
                 "--random-clusters", "1", "--heterogeneity", "0.5", "--budget", str(B),
                 "--rounds", str(rounds), "--seeds", str(S), "--policies", "ata,uta",
                 "--alpha-scale", "1,2", "--quiet", "--out", str(out)]) == 0
    assert COMPILES["sweep_chunk"] - before == 2
    printed = capsys.readouterr().out
    assert "configuration" in printed and "cluster 0 σ=0.5" in printed
    loaded = ata_jax.load_sweep(str(out))
    assert list(loaded.configurations["time_model"]) == ["cifar", "cifar", "sqrt", "sqrt",
                                                        "random-cluster", "random-cluster"]
    np.testing.assert_array_equal(loaded.configurations["workers"], [4, 5, 4, 5, 4, 5])
    assert loaded.config["random_clusters"] == 1 and loaded.config["heterogeneity"] == [0.5]
    assert loaded.metadata["grid_shape"] == [6, 1, 2, 1, 1, 1, 1]
    cluster = random_cluster(5, 0.5, 0)
    point = (loaded.grid["configuration"] == 5) & (loaded.grid["alpha_scale"] == 2)
    g = int(np.nonzero(point)[0][0])
    alone = simulate(cluster, ["ata", "uta"], budget=B, num_rounds=rounds, num_seeds=S,
                     alpha=float(loaded.grid["alpha"][g]))
    for p, name in enumerate(loaded.policies):
        np.testing.assert_allclose(loaded.runtime[p, g], alone[name].runtime, rtol=2 * EPS)


@pytest.mark.slow
def test_the_expected_time_oracle_sweeps_budgets_and_configurations():
    """ofta-expected's a*_E is searched per (budget, configuration): each point plays its own
    and equals `simulate` of its configuration at that budget (2 ulps, a padded batch)."""
    from ata_jax.expected import expected_optimum

    budgets = (2, 3)
    grid = config(policies=("ofta-expected",), budgets=budgets, eta=(1.0,), curve_points=0)
    result = run_sweep(grid, CONFIGURATIONS, memory_mb=64.0)
    runtime = result.totals[0, :, :, SUMMARY_FIELDS.index("runtime")]
    played = set()
    for g, point in enumerate(result.points):
        model = CONFIGURATIONS[point.configuration].model
        alone = simulate(model, ["ofta-expected"], budget=point.budget, num_rounds=K,
                         num_seeds=S)["ofta-expected"]
        np.testing.assert_allclose(runtime[g], alone.runtime, rtol=2 * EPS,
                                   err_msg=f"{point}")
        played.add(tuple(np.asarray(expected_optimum(model, point.budget).allocation)))
    assert sorted({point.budget for point in result.points}) == list(budgets)
    assert len(played) > 3  # the optima differ across budgets and configurations
