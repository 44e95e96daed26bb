"""The policies as data: one `PolicySpec` per name, the only place that knows what a policy is.

Every caller that needs to know something about a policy (how to build it, which traced
hyperparameters its results depend on, whether it has an allocation to score, whether it needs
a window capacity, whether it is run by default) asks `policy_spec(name)`. An unknown name is
an error everywhere, so a new allocator cannot be half-known: add its module and one entry to
`REGISTRY` (or call `register_policy`).
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

from ata_jax.allocators import (ata, ata_empirical, explore_commit, gta, msync, ofta,
                                ofta_expected, thompson, uta)
from ata_jax.allocators.base import Hyperparameters, Policy, PolicySettings

PRIOR = ("prior_mean", "prior_count")
"""The hyperparameters of a warm start (prior estimates of μ and their weight)."""


class PolicySpec(NamedTuple):
    """What the rest of the package may know about one policy.

    name: the name users pass to `--policies`.
    build: PolicySettings -> Policy.
    reads: the `Hyperparameters` fields its results depend on (a sweep runs it once per
      distinct value of these and repeats the result along the other axes).
    allocates: it plays an allocation each round (so it has a proxy regret); GTA races.
    needs_window: it remembers the last W rounds and must be built with a window capacity.
    follows_change: it is meant to track workers whose speed changes over rounds.
    confidences: the `PolicySettings.confidence` values it offers (ATA's "early" constant;
      empty for a policy without confidence bounds, which ignores the setting).
    needs_stationary: it is defined for a model whose task times never change (no schedule):
      it plays the expected-time optimum of the base model.
    default: "always" (the paper's five, run when no policies are named), "changing" (also
      run by default on a model whose speeds change), or None.
    summary: one line for `--help` and the docs.
    """

    name: str
    build: Callable[[PolicySettings], Policy]
    reads: tuple[str, ...]
    allocates: bool = True
    needs_window: bool = False
    follows_change: bool = False
    confidences: tuple[str, ...] = ()
    needs_stationary: bool = False
    default: str | None = None
    summary: str = ""


EARLY = ("final", "early")
FINAL = ("final",)

REGISTRY: dict[str, PolicySpec] = {spec.name: spec for spec in (
    PolicySpec("ata", ata.policy, ("alpha", *PRIOR), confidences=EARLY, default="always",
               summary="ATA: lower confidence bounds with the ψ1 parameter α (spec §2)"),
    PolicySpec("ata-empirical", ata_empirical.policy, ("eta", *PRIOR), confidences=FINAL,
               default="always",
               summary="ATA-Empirical: relative, data-dependent bounds with η (spec §3)"),
    PolicySpec("gta", gta.policy, (), allocates=False, default="always",
               summary="greedy: every worker races until B tasks are done (spec §5)"),
    PolicySpec("uta", uta.policy, (), default="always",
               summary="uniform: B distinct random workers each round (spec §5)"),
    PolicySpec("ofta", ofta.policy, (), default="always",
               summary="oracle: the proxy-optimal allocation for the true means (spec §5)"),
    PolicySpec("ata-window", ata.policy, ("alpha", "window"), needs_window=True,
               follows_change=True, confidences=EARLY,
               summary="ATA on the samples of the last W rounds"),
    PolicySpec("ata-empirical-window", ata_empirical.policy, ("eta", "window"),
               needs_window=True, follows_change=True, confidences=FINAL, default="changing",
               summary="ATA-Empirical on the samples of the last W rounds"),
    PolicySpec("ata-discounted", functools.partial(ata.policy, discounted=True),
               ("alpha", "discount", *PRIOR), follows_change=True, confidences=EARLY,
               summary="ATA with samples discounted by γ each round"),
    PolicySpec("ata-empirical-discounted",
               functools.partial(ata_empirical.policy, discounted=True),
               ("eta", "discount", *PRIOR), follows_change=True, confidences=FINAL,
               default="changing",
               summary="ATA-Empirical with samples discounted by γ each round"),
    PolicySpec("ofta-moving", ofta.moving_policy, (), follows_change=True, default="changing",
               summary="oracle that knows the current means of a changing model"),
    PolicySpec("thompson", thompson.policy, ("spread",),
               summary="Thompson sampling: a log-normal posterior draw of each mean (spec §9)"),
    PolicySpec("explore-commit", explore_commit.policy, ("explore_samples",),
               summary="explore-then-commit: round-robin until m samples each (spec §9)"),
    PolicySpec("msync", msync.policy, (), allocates=False,
               summary="m-synchronous: all start, the first B results end the round (spec §9)"),
    PolicySpec("ofta-expected", ofta_expected.policy, ("expected_optimum",),
               needs_stationary=True,
               summary="oracle of the expected round time E[C(a)], not the proxy (spec §9)"),
)}


def policy_spec(name: str) -> PolicySpec:
    """The registry entry of `name`; a ValueError naming the valid policies otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; valid policies: "
                         f"{', '.join(REGISTRY)}") from None


def register_policy(spec: PolicySpec) -> None:
    """Add a policy (a name not yet taken; `reads` must name `Hyperparameters` fields)."""
    if spec.name in REGISTRY:
        raise ValueError(f"policy {spec.name!r} is registered already")
    unknown = set(spec.reads) - set(Hyperparameters._fields)
    if unknown:
        raise ValueError(f"policy {spec.name!r} reads unknown hyperparameters "
                         f"{sorted(unknown)}; they are {', '.join(Hyperparameters._fields)}")
    if spec.default not in (None, "always", "changing"):
        raise ValueError(f"policy {spec.name!r}: default must be None, 'always' or "
                         f"'changing', got {spec.default!r}")
    REGISTRY[spec.name] = spec


def policy_names() -> tuple[str, ...]:
    """Every registered policy name, in registry order."""
    return tuple(REGISTRY)


def default_policy_names(changing: bool = False) -> tuple[str, ...]:
    """The policies run when none are named: the paper's five, plus the change-following ones
    for a model whose task times change over rounds."""
    wanted = ("always", "changing") if changing else ("always",)
    return tuple(name for name, spec in REGISTRY.items() if spec.default in wanted)


def policies_reading(hyperparameter: str, names) -> tuple[str, ...]:
    """The policies among `names` whose results depend on `hyperparameter`."""
    return tuple(name for name in names if hyperparameter in policy_spec(name).reads)


def check_confidence(names, confidence: str) -> None:
    """ValueError unless every policy in `names` that has confidence bounds offers
    `confidence` (a policy without any, such as GTA, ignores it)."""
    if confidence not in EARLY:
        raise ValueError(f"confidence must be one of {', '.join(EARLY)}, got {confidence!r}")
    lacking = [name for name in names if policy_spec(name).confidences
               and confidence not in policy_spec(name).confidences]
    if lacking:
        offering = [name for name, spec in REGISTRY.items() if confidence in spec.confidences]
        raise ValueError(f"the {confidence} confidence is for {', '.join(offering)}; "
                         f"{', '.join(lacking)} {'has' if len(lacking) == 1 else 'have'} "
                         "no such variant")


def needs_expected_optimum(names) -> bool:
    """Whether some policy in `names` plays the expected-time optimum."""
    return any("expected_optimum" in policy_spec(name).reads for name in names)


def make_policy(name: str, budget: int, counting: str = "task",
                window_capacity: int = 0, solver: str = "cpu",
                confidence: str = "final") -> Policy:
    """The `Policy` called `name` for a budget of B tasks per round.

    counting ("task" or "round") sets how the learners count samples (spec §2);
    window_capacity (static, ≥ the traced window W) sizes a windowed policy's memory and is
    ignored by the others; solver ("cpu" or "portable", `ata_jax.solvers`) how its rounds
    are allocated and played; confidence ("final" or "early", ATA's constant: spec §9) is
    ignored by a policy without confidence bounds, an error for one without that variant.
    """
    spec = policy_spec(name)
    if spec.needs_window and window_capacity < 1:
        raise ValueError(f"{name} needs a window capacity >= 1")
    check_confidence([name], confidence)
    return spec.build(PolicySettings(budget, counting,
                                     window_capacity if spec.needs_window else 0, solver,
                                     confidence))
