"""One compile cache for every jitted entry point (simulate's seeds, sweep's chunks).

`compiled(function, *arguments, **static)` lowers and compiles `function` once per
(function, static settings, argument shapes and dtypes) and returns the executable with the
seconds spent compiling now (0.0 on a hit), so timings separate compiling from running.
Traced values (keys, α, η, a model's parameters) never cause a recompile. The cache is
bounded (least recently used programs are dropped), and `TRACE_COUNTS` counts traces by
label, which tests read to prove that a grid is one compile.

Dropping a program from this cache alone frees nothing: JAX's own lowering and compilation
caches hold every executable they have built, and each CPU executable keeps a few hundred
memory mappings, so a long process (a sweep over many (n, B) groups, a test session) ran
into the kernel's limit of 65 530 mappings and crashed inside XLA. An eviction therefore
also clears JAX's caches, which keeps the executables alive to those still held here.
"""

from __future__ import annotations

import collections
import time
from typing import Any, Callable, Hashable

import jax
import numpy as np

CACHE_SIZE = 32
"""Compiled programs kept (each holds its executable and its memory mappings)."""

TRACE_COUNTS: collections.Counter = collections.Counter()
"""label -> how many times a program with that label has been traced (each trace: a compile).
Labels are (entry point, policy name, n, B)."""

COMPILES = collections.Counter()
"""How many programs have been compiled (not found in the cache), by entry point name."""

_CACHE: collections.OrderedDict = collections.OrderedDict()


def count_trace(label: Hashable) -> None:
    """Call inside a traced function: it runs at trace time only."""
    TRACE_COUNTS[label] += 1


def clear() -> None:
    """Drop every compiled program, ours and JAX's own in-memory caches (benchmarks that time
    compiling call this first: without `jax.clear_caches`, lowering and compiling the same
    program again is a cache hit inside JAX)."""
    _CACHE.clear()
    jax.clear_caches()


def _signature(function: Callable, arguments: tuple, static: dict) -> tuple:
    leaves = jax.tree.leaves(arguments)
    return (function, tuple(sorted(static.items())), jax.tree.structure(arguments),
            tuple((np.shape(leaf), str(getattr(leaf, "dtype", type(leaf)))) for leaf in leaves))


def compiled(function: Any, *arguments, **static) -> tuple[Any, float]:
    """(compiled `function` (a `jax.jit` object) for these arguments' shapes and these static
    keyword settings, seconds spent compiling now)."""
    signature = _signature(function, arguments, static)
    if signature in _CACHE:
        _CACHE.move_to_end(signature)
        return _CACHE[signature], 0.0
    start = time.perf_counter()
    executable = function.lower(*arguments, **static).compile()
    seconds = time.perf_counter() - start
    COMPILES[getattr(function, "__name__", repr(function))] += 1
    _CACHE[signature] = executable
    if len(_CACHE) > CACHE_SIZE:
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
        jax.clear_caches()  # the only handle on JAX's copies of the dropped programs
    return executable, seconds
