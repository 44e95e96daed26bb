"""The named problems: `PROBLEMS` and `make_problem(name, **options)`."""

from __future__ import annotations

import inspect

from ata_jax.training.digits import make_digits
from ata_jax.training.logistic import make_logistic
from ata_jax.training.mlp import make_mlp
from ata_jax.training.problem import Problem
from ata_jax.training.quadratic import make_quadratic

PROBLEMS = {
    "quadratic": make_quadratic,
    "logistic": make_logistic,
    "mlp": make_mlp,
    "digits": make_digits,
}
"""Problem name -> factory taking the problem's options as keyword arguments."""


def make_problem(name: str, **options) -> Problem:
    """The problem `name` (a key of PROBLEMS) built with `options` (its factory's keywords).

    An unknown name or option is a ValueError that lists the valid ones.
    """
    if name not in PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; valid problems: {', '.join(PROBLEMS)}")
    factory = PROBLEMS[name]
    valid = list(inspect.signature(factory).parameters)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for problem {name!r}; "
                         f"valid options: {', '.join(valid)}")
    return factory(**options)
