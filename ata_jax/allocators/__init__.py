"""The allocators, by the names users pass to `--policies` (see `registry`)."""

from __future__ import annotations

from ata_jax.allocators.base import (Allocator, Hyperparameters, Policy, PolicySettings,
                                     as_policy)
from ata_jax.allocators.registry import (REGISTRY, PolicySpec, check_confidence,
                                         default_policy_names, make_policy,
                                         needs_expected_optimum, policies_reading,
                                         policy_names, policy_spec, register_policy)
from ata_jax.metrics import RoundOutcome

POLICY_NAMES: tuple[str, ...] = default_policy_names()
"""The paper's five allocators (the default set)."""
ALL_POLICY_NAMES: tuple[str, ...] = policy_names()
"""Every policy registered when the package was imported (`policy_names()` is always
current)."""

__all__ = ["Allocator", "Hyperparameters", "Policy", "PolicySettings", "PolicySpec",
           "REGISTRY", "RoundOutcome", "as_policy", "check_confidence",
           "default_policy_names", "make_policy", "needs_expected_optimum",
           "policies_reading", "policy_names", "policy_spec", "register_policy",
           "POLICY_NAMES", "ALL_POLICY_NAMES"]
