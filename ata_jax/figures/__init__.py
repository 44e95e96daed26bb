"""The figures `ata-jax reproduce NAME` regenerates, each a module with
`reproduce(out_dir, quick) -> list[pathlib.Path]` that writes NAME.png and NAME.json (every
parameter and the plotted data) into out_dir."""

from __future__ import annotations

import importlib
import pathlib

FIGURES = {
    "fig1": "ata_jax.figures.fig1",
    "heterogeneous": "ata_jax.figures.heterogeneous",
    "cifar": "ata_jax.figures.cifar",
    "prior": "ata_jax.figures.prior",
    "cifar-swap": "ata_jax.figures.cifar_swap",
    "digits": "ata_jax.figures.digits",
    "sensitivity": "ata_jax.figures.sensitivity",
    "theory": "ata_jax.figures.theory",
    "trace": "ata_jax.figures.trace",
    "clusters": "ata_jax.figures.clusters",
    "allocators": "ata_jax.figures.allocators",
}
"""Figure name -> module that draws it."""


def reproduce(name: str, out_dir: str | pathlib.Path = "figures",
              quick: bool = False) -> list[pathlib.Path]:
    """Draw figure `name` into `out_dir`; returns the paths written.

    quick: small settings that exercise every step of the figure (a smoke run; the
    committed figures come from the full settings; docs/performance.md has running times).
    """
    if name not in FIGURES:
        raise KeyError(f"unknown figure {name!r}; valid figures: {', '.join(FIGURES)}")
    from ata_jax.figures.output import QUICK

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    QUICK["quick"] = quick
    try:
        return importlib.import_module(FIGURES[name]).reproduce(out_dir, quick)
    finally:
        QUICK["quick"] = False


def full_size_figures(out_dir: str | pathlib.Path) -> list[str]:
    """The figure JSONs in out_dir that are not marked as --quick runs (file names)."""
    import json

    found = []
    for path in sorted(pathlib.Path(out_dir).glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(document, dict) and "figure" in document and not document.get("quick"):
            found.append(path.name)
    return found
