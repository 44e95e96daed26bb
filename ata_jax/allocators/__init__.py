"""The allocators, by the names users pass to `--policies`."""

from __future__ import annotations

from typing import Callable

from ata_jax.allocators import ata, ata_empirical, gta, ofta, uta
from ata_jax.allocators.base import Allocator, Hyperparameters, Policy, RoundOutcome, as_policy

POLICY_NAMES: tuple[str, ...] = ("ata", "ata-empirical", "gta", "uta", "ofta")
_LEARNERS: dict[str, Callable[..., Policy]] = {"ata": ata.policy,
                                               "ata-empirical": ata_empirical.policy}
_FIXED: dict[str, Callable[[int], Policy]] = {"gta": gta.policy, "uta": uta.policy,
                                              "ofta": ofta.policy}


def make_policy(name: str, budget: int, counting: str = "task") -> Policy:
    """The `Policy` called `name` for a budget of B tasks per round.

    counting ("task" or "round") sets how ATA and ATA-Empirical count samples (spec §2).
    """
    if name in _LEARNERS:
        return _LEARNERS[name](budget, counting)
    if name in _FIXED:
        return _FIXED[name](budget)
    raise ValueError(f"unknown policy {name!r}; valid policies: {', '.join(POLICY_NAMES)}")


__all__ = ["Allocator", "Hyperparameters", "Policy", "RoundOutcome", "as_policy",
           "make_policy", "POLICY_NAMES"]
