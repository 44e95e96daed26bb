"""The policy registry is the only place that knows what a policy is: every policy module is
registered, every caller asks it, and an unknown name is an error everywhere."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import ata_jax.allocators as allocators
from ata_jax.allocators import (REGISTRY, Hyperparameters, PolicySpec, default_policy_names,
                                make_policy, policy_spec, register_policy)
from ata_jax.allocators import ata
from ata_jax.cli import main
from ata_jax.simulate import simulate
from ata_jax.sweep import SweepConfig, model_fingerprint, reads, run_sweep
from ata_jax.timemodels import cifar

INTERFACE = {"ata", "ata-empirical", "gta", "uta", "ofta", "ata-window",
             "ata-empirical-window", "ata-discounted", "ata-empirical-discounted", "ofta-moving",
             "thompson", "explore-commit", "msync", "ofta-expected"}


def _builders(spec: PolicySpec):
    build = spec.build
    return getattr(build, "func", build)  # a functools.partial's function


def test_every_policy_function_of_every_allocator_module_is_registered():
    registered = {_builders(spec) for spec in REGISTRY.values()}
    helpers = {"base", "confidence", "registry"}
    for module_info in pkgutil.iter_modules(allocators.__path__):
        if module_info.name in helpers:
            continue
        module = importlib.import_module(f"ata_jax.allocators.{module_info.name}")
        builders = [function for _, function in inspect.getmembers(module, inspect.isfunction)
                    if function.__module__ == module.__name__
                    and inspect.signature(function).return_annotation in ("Policy",
                                                                          allocators.Policy)]
        assert builders, f"allocator module {module.__name__} builds no Policy"
        for function in builders:
            assert function in registered, (f"{module.__name__}.{function.__name__} builds a "
                                            "Policy but has no registry entry")


def test_entries_are_consistent_and_build():
    assert set(REGISTRY) == INTERFACE  # the names of ../shared/spec/interface.md
    assert default_policy_names() == ("ata", "ata-empirical", "gta", "uta", "ofta")
    assert set(default_policy_names(changing=True)) - set(default_policy_names()) == {
        "ata-empirical-window", "ata-empirical-discounted", "ofta-moving"}
    for name, spec in REGISTRY.items():
        assert spec.name == name and spec.summary
        assert set(spec.reads) <= set(Hyperparameters._fields), name
        policy = make_policy(name, 3, "task", window_capacity=4)
        assert callable(policy.init) and callable(policy.play_round)
        if spec.needs_window:
            with pytest.raises(ValueError, match="window capacity"):
                make_policy(name, 3)
    assert not policy_spec("gta").allocates and policy_spec("ofta").allocates


@pytest.mark.parametrize("call", [
    lambda: make_policy("greedy", 3),
    lambda: policy_spec("ATA"),
    lambda: simulate(cifar(4), ["ata", "no-such-policy"], budget=2, num_rounds=2, num_seeds=1),
    lambda: reads("ata-windowed"),
])
def test_an_unknown_policy_is_an_error(call):
    with pytest.raises(ValueError, match="unknown policy"):
        call()


def test_the_command_line_refuses_an_unknown_policy(capsys):
    for command in ("simulate", "sweep", "train"):
        assert main([command, "--policies", "ata,atta"]) == 2
        assert "unknown policy 'atta'" in capsys.readouterr().err


def test_register_policy_checks_its_entry():
    with pytest.raises(ValueError, match="registered already"):
        register_policy(REGISTRY["ata"])
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        register_policy(PolicySpec("x", ata.policy, ("alpha", "temperature")))


def test_a_new_learner_reading_alpha_is_swept_along_alpha_whatever_its_name(monkeypatch):
    """The mistake the registry makes impossible: a learner that reads α but whose name does
    not start with `ata` used to run once, its result copied along the sweep's α axis."""
    monkeypatch.setitem(REGISTRY, "lcb-learner",
                        PolicySpec("lcb-learner", ata.policy, ("alpha",), summary="test"))
    model = cifar(5)
    config = SweepConfig(time_model="cifar", workers=(5,), budgets=(2,),
                         policies=("lcb-learner", "ata"), alpha=(0.25, 4.0),
                         alpha_mode="scale", rounds=30, seeds=2,
                         model_fingerprints=(model_fingerprint(model),))
    result = run_sweep(config, {5: model})
    learner, plain = result.totals[0], result.totals[1]
    np.testing.assert_array_equal(learner, plain)  # the same algorithm under another name
    assert not np.array_equal(learner[0], learner[1])  # really run at each α

