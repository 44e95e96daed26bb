"""Labelled results: `to_xarray()` of simulate's and a sweep's results, and `--out FILE.nc`
round trips (the netCDF file reads back the same data and attributes)."""

import json
import sys

import numpy as np
import pytest

from ata_jax.cli import main
from ata_jax.labelled import write_netcdf
from ata_jax.metrics import METRIC_NAMES
from ata_jax.simulate import SimulationResults, simulate
from ata_jax.sweepfile import load_sweep
from ata_jax.timemodels import cifar, sqrt

xarray = pytest.importorskip("xarray")

SMALL = ["--budget", "2", "--rounds", "5", "--seeds", "3"]
SETTINGS = dict(budget=2, num_rounds=5, num_seeds=3, seed=4)


def read_back(path):
    with xarray.open_dataset(path, engine="scipy") as stored:
        return stored.load()


def assert_round_trip(dataset, path):
    """The file at path holds dataset: the same variables, coordinates and attributes."""
    stored = read_back(path)
    xarray.testing.assert_identical(stored, dataset)  # values, names, every attribute
    assert stored.attrs == dataset.attrs


def test_simulate_to_xarray_labels_the_arrays_of_one_model(tmp_path, capsys):
    results = simulate(cifar(3), ["gta", "uta"], record_rounds=True, **SETTINGS)
    assert isinstance(results, dict) and set(results) == {"gta", "uta"}  # as before
    dataset = results.to_xarray()
    assert dict(dataset.sizes) == {"policy": 2, "seed": 3, "round": 5}
    assert list(dataset.policy.values) == ["gta", "uta"]
    assert dataset.seed.values.tolist() == [0, 1, 2]
    assert dataset["round"].values.tolist() == [1, 2, 3, 4, 5]
    for name in ("gta", "uta"):
        for metric in METRIC_NAMES:
            np.testing.assert_array_equal(dataset[metric].sel(policy=name).values,
                                          getattr(results[name], metric))
        np.testing.assert_array_equal(dataset["round_time_per_round"].sel(policy=name).values,
                                      results[name].per_round.round_time)
    assert np.isnan(dataset["regret"].sel(policy="gta")).all()  # GTA has no regret
    assert dataset.attrs["budget"] == 2 and dataset.attrs["seed"] == 4
    assert dataset.attrs["alpha"] == pytest.approx(cifar(3).alpha)
    assert json.loads(dataset.attrs["config"])["policies"] == ["gta", "uta"]
    assert json.loads(dataset.attrs["provenance"])["ata_jax"]

    out = tmp_path / "one.nc"
    assert main(["simulate", "--workers", "3", "--policies", "gta,uta", "--seed", "4",
                 "--per-round", "--out", str(out), *SMALL]) == 0
    stored = read_back(out)
    assert stored.attrs["time_model"] == "cifar" and stored.attrs["per_round"] == "true"
    xarray.testing.assert_equal(stored[list(dataset.data_vars)].drop_vars(
        ["compile_s", "run_s"]), dataset.drop_vars(["compile_s", "run_s"]))
    write_netcdf(dataset, str(tmp_path / "python.nc"))
    assert_round_trip(dataset, tmp_path / "python.nc")
    assert "policy" in capsys.readouterr().out  # the table is still printed


def test_simulate_to_xarray_of_several_configurations(tmp_path):
    out = tmp_path / "several.nc"
    assert main(["simulate", "--workers", "3,4", "--time-model", "cifar,sqrt", "--policies",
                 "uta", "--seed", "4", "--per-round", "--out", str(out), *SMALL]) == 0
    stored = read_back(out)
    assert dict(stored.sizes) == {"configuration": 4, "policy": 1, "seed": 3, "round": 5}
    assert list(stored.time_model.values) == ["cifar", "cifar", "sqrt", "sqrt"]
    assert stored.workers.values.tolist() == [3, 4, 3, 4]
    assert np.isnan(stored.heterogeneity.values).all() and (stored.cluster == -1).all()
    results = simulate([cifar(3), cifar(4), sqrt(3), sqrt(4)], ["uta"], record_rounds=True,
                       **SETTINGS)
    assert isinstance(results, list) and len(results) == 4  # as before
    dataset = results.to_xarray(labels=[{"time_model": name, "workers": n}
                                        for name in ("cifar", "sqrt") for n in (3, 4)])
    for index, model in enumerate(results):
        np.testing.assert_array_equal(
            stored["worker_time_per_round"].isel(configuration=index, policy=0).values,
            model["uta"].per_round.worker_time)
        np.testing.assert_array_equal(stored["runtime"].isel(configuration=index).values[0],
                                      model["uta"].runtime)
    np.testing.assert_allclose(stored.alpha.values, [m.alpha for m in
                                                     (cifar(3), cifar(4), sqrt(3), sqrt(4))])
    xarray.testing.assert_equal(stored.drop_vars(["compile_s", "run_s"]),
                                dataset.drop_vars(["compile_s", "run_s"]))
    assert json.loads(stored.attrs["config"])["configurations"] == 4


def test_a_sweep_to_xarray_and_its_netcdf_file(tmp_path):
    npz, nc = tmp_path / "sweep.npz", tmp_path / "sweep.nc"
    sweep = ["sweep", "--workers", "3,4", "--policies", "uta", "--alpha-scale", "1,2",
             "--curves", "2", "--quiet", *SMALL]
    assert main([*sweep, "--out", str(npz)]) == 0
    results = load_sweep(str(npz))
    dataset = results.to_xarray()
    points = len(results.grid["workers"])
    assert dict(dataset.sizes) == {"policy": 1, "point": points, "seed": 3, "round": 2}
    assert dataset["round"].values.tolist() == results.curve_round_end.tolist()
    for name in ("workers", "budget", "alpha", "alpha_scale", "configuration"):
        np.testing.assert_array_equal(dataset[name].values, results.grid[name])
    for metric in results.totals:
        np.testing.assert_array_equal(dataset[metric].values, results.totals[metric])
    np.testing.assert_array_equal(dataset["curve_round_time"].values,
                                  results.curves["round_time"])
    assert json.loads(dataset.attrs["metadata"])["grid_shape"] == [2, 1, 2, 1, 1, 1, 1]
    assert json.loads(dataset.attrs["config"]) == results.config
    write_netcdf(dataset, str(tmp_path / "python.nc"))
    assert_round_trip(dataset, tmp_path / "python.nc")
    # the command writes the same Dataset (its timing and command line aside)
    assert main([*sweep, "--out", str(nc)]) == 0
    stored = read_back(nc)
    xarray.testing.assert_equal(stored, dataset)
    different = {"metadata", "provenance"}  # timing and the command as typed
    assert {key: value for key, value in stored.attrs.items() if key not in different} == \
        {key: value for key, value in dataset.attrs.items() if key not in different}


def test_without_xarray_nc_output_is_one_line_before_any_simulation(monkeypatch,
                                                                     fails_with_one_line,
                                                                     tmp_path):
    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray raises ImportError
    out = str(tmp_path / "x.nc")
    fails_with_one_line(["simulate", "--out", out], out, "needs xarray", "ata-jax[xarray]")
    fails_with_one_line(["sweep", "--out", out], out, "needs xarray")
    with pytest.raises(ImportError, match=r"pip install 'ata-jax\[xarray\]'"):
        simulate_results = SimulationResults({}, {})
        simulate_results.to_xarray()
