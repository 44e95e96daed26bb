"""The allocators, by the names users pass to `--policies`."""

from __future__ import annotations

from typing import Callable

from ata_jax.allocators import ata, ata_empirical, gta, ofta, uta
from ata_jax.allocators.base import Allocator, Hyperparameters, Policy, RoundOutcome, as_policy

POLICY_NAMES: tuple[str, ...] = ("ata", "ata-empirical", "gta", "uta", "ofta")
"""The paper's five allocators (the default set)."""
_LEARNERS: dict[str, Callable[..., Policy]] = {"ata": ata.policy,
                                               "ata-empirical": ata_empirical.policy}
_FIXED: dict[str, Callable[[int], Policy]] = {"gta": gta.policy, "uta": uta.policy,
                                              "ofta": ofta.policy,
                                              "ofta-moving": ofta.moving_policy}
ALL_POLICY_NAMES: tuple[str, ...] = POLICY_NAMES + (
    "ata-window", "ata-empirical-window", "ata-discounted", "ata-empirical-discounted",
    "ofta-moving")
"""Every valid policy name: the five, the windowed and discounted learners, the moving
oracle."""


def make_policy(name: str, budget: int, counting: str = "task",
                window_capacity: int = 0) -> Policy:
    """The `Policy` called `name` for a budget of B tasks per round.

    counting ("task" or "round") sets how ATA and ATA-Empirical count samples (spec §2);
    window_capacity (static, ≥ the traced window W) sizes the windowed variants' memory.
    """
    if name in _LEARNERS:
        return _LEARNERS[name](budget, counting)
    if name.endswith("-discounted") and name[:-len("-discounted")] in _LEARNERS:
        return _LEARNERS[name[:-len("-discounted")]](budget, counting, discounted=True)
    if name.endswith("-window") and name[:-len("-window")] in _LEARNERS:
        if window_capacity < 1:
            raise ValueError(f"{name} needs a window capacity >= 1")
        return _LEARNERS[name[:-len("-window")]](budget, counting,
                                                 window_capacity=window_capacity)
    if name in _FIXED:
        return _FIXED[name](budget)
    raise ValueError(f"unknown policy {name!r}; valid policies: {', '.join(ALL_POLICY_NAMES)}")


__all__ = ["Allocator", "Hyperparameters", "Policy", "RoundOutcome", "as_policy",
           "make_policy", "POLICY_NAMES", "ALL_POLICY_NAMES"]
