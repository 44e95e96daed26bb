"""The two solvers, as one record each: how a round is allocated and played.

`cpu` is the path tuned for XLA's CPU backend (`ata_jax.allocation`, GTA's pruned race,
rolled loops, batch-level conditionals); `portable` is the same algorithm written for any
backend (`ata_jax.portable`; rounds with no scatter-add, no while loop and no conditional
inside the scan over rounds). They give identical allocations and round times; `auto` picks
`cpu` on a CPU and `portable` elsewhere (nothing has been measured on an accelerator yet to
say otherwise: docs/performance.md).
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax

from ata_jax import allocation, portable, rounds

SOLVER_NAMES = ("cpu", "portable")
"""The solvers a simulation can use (`--solver`, besides `auto`)."""


class Solver(NamedTuple):
    """assign(scores, budget, key=None) -> Assignment (spec §4);
    play_assignment(model, task_key, assignment, budget, round_number) -> PlayedRound;
    greedy_round_time(model, task_key, budget, round_number) -> GTA's round time."""

    name: str
    assign: Callable
    play_assignment: Callable
    greedy_round_time: Callable


SOLVERS = {
    "cpu": Solver("cpu", allocation.assign, rounds.play_assignment, rounds.greedy_round_time),
    "portable": Solver("portable", portable.assign,
                       functools.partial(rounds.play_assignment, portable=True),
                       functools.partial(rounds.greedy_round_time, portable=True)),
}


def resolve_solver(name: str) -> str:
    """`cpu` or `portable` for `name` (`auto`: by the default backend); ValueError otherwise."""
    if name == "auto":
        return "cpu" if jax.default_backend() == "cpu" else "portable"
    if name not in SOLVERS:
        raise ValueError(f"unknown solver {name!r}: choose auto, {', '.join(SOLVER_NAMES)}")
    return name


def solver(name: str) -> Solver:
    """The `Solver` called `name` (`resolve_solver` first for `auto`)."""
    return SOLVERS[resolve_solver(name)]
